package pipelines

import (
	"context"
	"fmt"
	"time"

	"github.com/patchgate/patchgate"
)

// Trackers applies what external trackers (Jira, a helpdesk, a script) say
// about tickets. Set the fields, then use it from any number of goroutines.
type Trackers struct {
	Tickets patchgate.TicketService
	Updates patchgate.TrackerTicketService
	// Changed, when set, is told every ticket whose state a tracker's news
	// may have moved (a reopen), for the outbound reporters.
	Changed func(t *patchgate.Ticket)
}

// UpdateTicket applies u and, when it moved the ticket from closed back to
// open, records the reopen at the tracker's time and re-derives the state: a
// reopen after a fix landed or was released makes the ticket reopened and
// restarts its SLA clock (patchgate.DeriveTicketState, Ticket.Settle).
func (tr *Trackers) UpdateTicket(ctx context.Context, u patchgate.TicketUpdate) (*patchgate.Ticket, error) {
	res, err := tr.Updates.ApplyTicketUpdate(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("update ticket %s: %w", u.Key, err)
	}
	t := res.Ticket
	if !res.Reopened {
		return t, nil
	}
	at := u.UpdatedAt
	if at.IsZero() {
		at = time.Now()
	}
	if err := tr.Tickets.RecordReopen(ctx, t.ID, at); err != nil {
		return nil, fmt.Errorf("record reopen of %s: %w", t.Key, err)
	}
	if t, err = tr.Tickets.ReconcileTicket(ctx, t.ID); err != nil {
		return nil, fmt.Errorf("reconcile %s: %w", u.Key, err)
	}
	if tr.Changed != nil {
		tr.Changed(t)
	}
	return t, nil
}
