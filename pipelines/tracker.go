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

// HandleEvent applies a tracker's issue event (Forge patchgate.SourceJira,
// Kind issue, Repo the project key, Sender the tracker): the ticket
// PROJECT-NUMBER gets the issue's title, URL, severity, opening time and
// open, closed or deleted state.
func (tr *Trackers) HandleEvent(ctx context.Context, ev *patchgate.Event) (patchgate.DeliveryOutcome, string, error) {
	if ev.Kind != patchgate.EventIssue || ev.Issue == nil {
		return patchgate.OutcomeIgnored, fmt.Sprintf("event kind %q is not used", ev.Kind), nil
	}
	i := ev.Issue
	u := patchgate.TicketUpdate{Key: fmt.Sprintf("%s-%d", ev.Repo, i.Number), State: patchgate.TrackerState(i.State),
		UpdatedAt: i.UpdatedAt, Source: ev.Sender}
	if u.State != patchgate.TrackerDeleted {
		title, url, sev := i.Title, i.URL, i.Severity
		u.Title, u.URL, u.Severity, u.OpenedAt = &title, &url, &sev, i.CreatedAt
	}
	if _, err := tr.UpdateTicket(ctx, u); err != nil {
		if patchgate.ErrorCode(err) == patchgate.EINVALID {
			return patchgate.OutcomeFailed, err.Error(), nil // retrying cannot help
		}
		return "", "", err
	}
	return patchgate.OutcomeProcessed, "", nil
}
