package patchgate_test

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/patchgate/patchgate"
)

// slaByID gives ticket n the state states[n % len(states)].
func slaByID(states ...patchgate.SLAState) func(*patchgate.Ticket) patchgate.SLAStatus {
	return func(t *patchgate.Ticket) patchgate.SLAStatus {
		return patchgate.SLAStatus{State: states[int(t.ID)%len(states)]}
	}
}

func ticketIDs(n ...int64) []*patchgate.Ticket {
	ts := make([]*patchgate.Ticket, len(n))
	for i, id := range n {
		ts[i] = &patchgate.Ticket{ID: id}
	}
	return ts
}

func matchIDs(ms []patchgate.TicketSLA) []int64 {
	ids := []int64{}
	for _, m := range ms {
		ids = append(ids, m.Ticket.ID)
	}
	return ids
}

func TestSLATally(t *testing.T) {
	// Even ids are breached, odd ones on track.
	sla := slaByID(patchgate.SLABreached, patchgate.SLAOnTrack)
	tests := []struct {
		name          string
		want          patchgate.SLAState
		offset, limit int
		pages         [][]*patchgate.Ticket
		counts        map[patchgate.SLAState]int
		matches       []int64
		full          bool
	}{
		{name: "no tickets", counts: map[patchgate.SLAState]int{}, matches: []int64{}},
		{name: "counting only", pages: [][]*patchgate.Ticket{ticketIDs(9, 8, 7)},
			counts: map[patchgate.SLAState]int{patchgate.SLABreached: 1, patchgate.SLAOnTrack: 2}, matches: []int64{}},
		{name: "the first page of matches", want: patchgate.SLABreached, limit: 2, pages: [][]*patchgate.Ticket{ticketIDs(9, 8, 7, 6, 5, 4)},
			counts: map[patchgate.SLAState]int{patchgate.SLABreached: 3, patchgate.SLAOnTrack: 3}, matches: []int64{8, 6}, full: true},
		{name: "an offset skips matches", want: patchgate.SLABreached, offset: 1, limit: 5, pages: [][]*patchgate.Ticket{ticketIDs(9, 8, 7, 6), ticketIDs(5, 4)},
			counts: map[patchgate.SLAState]int{patchgate.SLABreached: 3, patchgate.SLAOnTrack: 3}, matches: []int64{6, 4}},
		{name: "a ticket read twice counts once", want: patchgate.SLABreached, limit: 5, pages: [][]*patchgate.Ticket{ticketIDs(9, 8), ticketIDs(8, 7, 6)},
			counts: map[patchgate.SLAState]int{patchgate.SLABreached: 2, patchgate.SLAOnTrack: 2}, matches: []int64{8, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tally := patchgate.SLATally{Want: tt.want, Offset: tt.offset, Limit: tt.limit, Counts: map[patchgate.SLAState]int{}}
			full := false
			for _, p := range tt.pages {
				full = tally.Add(p, sla)
			}
			if !maps.Equal(tally.Counts, tt.counts) || !slices.Equal(matchIDs(tally.Matches), tt.matches) || full != tt.full {
				t.Fatalf("got counts %v, matches %v, full %v; want %v, %v, %v", tally.Counts, matchIDs(tally.Matches), full, tt.counts, tt.matches, tt.full)
			}
		})
	}
}

// TestSLATallyAnyPages: however a listing is cut into pages, and however the
// pages overlap (tickets created between reads shift them), the tally is that
// of the listing read at once.
func TestSLATallyAnyPages(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 6))
	sla := slaByID(patchgate.SLABreached, patchgate.SLAOnTrack, patchgate.SLAAtRisk, patchgate.SLABreached, patchgate.SLANone)
	for i := range 2000 {
		var listing []*patchgate.Ticket
		for id := 50 + rng.IntN(50); id > 0; id -= 1 + rng.IntN(3) {
			listing = append(listing, &patchgate.Ticket{ID: int64(id)})
		}
		want, offset, limit := patchgate.SLABreached, rng.IntN(5), 1+rng.IntN(10)
		once := patchgate.SLATally{Want: want, Offset: offset, Limit: limit}
		once.Add(listing, sla)

		paged := patchgate.SLATally{Want: want, Offset: offset, Limit: limit}
		for from := 0; from < len(listing); {
			to := min(len(listing), from+1+rng.IntN(10))
			back := min(from, rng.IntN(3)) // a shifted page repeats what was read
			paged.Add(listing[from-back:to], sla)
			from = to
		}
		if !maps.Equal(paged.Counts, once.Counts) || !slices.Equal(matchIDs(paged.Matches), matchIDs(once.Matches)) {
			t.Fatalf("listing %d: got counts %v, matches %v in pages; want %v, %v", i,
				paged.Counts, matchIDs(paged.Matches), once.Counts, matchIDs(once.Matches))
		}
	}
}
