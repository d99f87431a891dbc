// Package tracking orchestrates tickets and their trackers: what external
// trackers (Jira, a helpdesk, a script) say about tickets, the sync that reads
// new tickets from their tracker and reports state and evidence back, and the
// watch that sends SLA events as the clocks run.
package tracking

import (
	"context"
	"fmt"
	"time"

	"github.com/patchgate/patchgate"
)

// Reopener records a ticket's reopen and re-derives its state.
type Reopener interface {
	RecordReopen(ctx context.Context, id int64, at time.Time) error
	ReconcileTicket(ctx context.Context, id int64) (*patchgate.Ticket, error)
}

// Trackers applies what external trackers (Jira, a helpdesk, a script) say
// about tickets. Set the fields, then use it from any number of goroutines.
type Trackers struct {
	Tickets Reopener
	Updates patchgate.TrackerTicketService
	// ManagedBy returns the name of the Jira tracker whose projects include
	// a ticket key's (PAY-7 → "acme"), "" when none does; nil: none ever.
	ManagedBy func(key string) string
	// Now is patchgate's clock (default time.Now): a tracker's time too far
	// ahead of it is refused.
	Now func() time.Time
}

func (tr *Trackers) now() time.Time {
	if tr.Now != nil {
		return tr.Now()
	}
	return time.Now()
}

// UpdateTicket applies u, unless it is dated too far in the future
// (EUNPROCESSABLE, patchgate.TicketUpdate.CheckTimes), and, when it moved the ticket from closed back to
// open, records the reopen at the tracker's time and re-derives the state: a
// reopen after a fix landed or was released makes the ticket reopened and
// restarts its SLA clock (patchgate.DeriveTicketState, Ticket.Settle).
func (tr *Trackers) UpdateTicket(ctx context.Context, u patchgate.TicketUpdate) (*patchgate.Ticket, error) {
	if err := u.CheckTimes(tr.now()); err != nil {
		return nil, err
	}
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
	return t, nil
}

// PutTicket applies u as told through the API by the principal in ctx:
// EFORBIDDEN unless patchgate.MayUpdateTicket lets it change u.Key (a token
// limited to other projects, a ticket of a Jira-managed project and not
// that tracker's token); then as UpdateTicket.
func (tr *Trackers) PutTicket(ctx context.Context, u patchgate.TicketUpdate) (*patchgate.Ticket, error) {
	p, ok := patchgate.PrincipalFromContext(ctx)
	if !ok {
		return nil, patchgate.Errorf(patchgate.EUNAUTHORIZED, "update ticket %s: nobody is signed in", u.Key)
	}
	managedBy := ""
	if tr.ManagedBy != nil {
		managedBy = tr.ManagedBy(u.Key)
	}
	if err := patchgate.MayUpdateTicket(p, u.Key, managedBy); err != nil {
		return nil, err
	}
	return tr.UpdateTicket(ctx, u)
}

// HandleEvent applies a tracker's issue event (Source patchgate.SourceJira,
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
		if i.SupportLevel != "" {
			level := i.SupportLevel
			u.SupportLevel = &level
		}
	}
	if _, err := tr.UpdateTicket(ctx, u); err != nil {
		if code := patchgate.ErrorCode(err); code == patchgate.EINVALID || code == patchgate.EUNPROCESSABLE {
			return patchgate.OutcomeFailed, err.Error(), nil // retrying cannot help
		}
		return "", "", err
	}
	return patchgate.OutcomeProcessed, "", nil
}
