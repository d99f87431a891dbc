package patchgate

// TicketSLA is a ticket with its SLA status at one moment.
type TicketSLA struct {
	Ticket *Ticket
	SLA    SLAStatus
}

// SLATally classifies tickets by SLA state as the pages of a listing arrive,
// newest first, for a report (how many in each state) and for a list filtered
// on the state (which the store cannot do: the state depends on each
// repository's policy and on the time). Each ticket counts once, however the
// pages overlap: a ticket created between two reads shifts the later pages.
// The zero value counts without keeping any ticket.
type SLATally struct {
	// Want is the state whose tickets Matches keeps.
	Want SLAState
	// Offset and Limit select which of Want's tickets Matches keeps, in the
	// order added; Limit 0 keeps none.
	Offset, Limit int

	// Counts is how many of the tickets added are in each state; made on the
	// first Add when nil.
	Counts map[SLAState]int
	// Matches are the tickets kept, at most Limit.
	Matches []TicketSLA

	seen map[int64]bool
}

// Add classifies the tickets of one page with sla (their status now) and
// reports whether Matches is full. It classifies the whole page even then, so
// that Counts[Want] counts every match read.
func (t *SLATally) Add(tickets []*Ticket, sla func(*Ticket) SLAStatus) (full bool) {
	if t.Counts == nil {
		t.Counts = map[SLAState]int{}
	}
	if t.seen == nil {
		t.seen = map[int64]bool{}
	}
	for _, tk := range tickets {
		if t.seen[tk.ID] {
			continue
		}
		t.seen[tk.ID] = true
		st := sla(tk)
		t.Counts[st.State]++
		if st.State == t.Want && t.Counts[st.State] > t.Offset && len(t.Matches) < t.Limit {
			t.Matches = append(t.Matches, TicketSLA{Ticket: tk, SLA: st})
		}
	}
	return t.Limit > 0 && len(t.Matches) >= t.Limit
}
