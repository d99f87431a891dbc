package linking

import (
	"context"
	"fmt"
	"slices"

	"github.com/patchgate/patchgate"
)

// ApplyIssue records an issue event on its ticket and re-derives its state: a
// reopen after a fix landed or was released makes it "reopened", so a release
// manager sees that the fix did not hold.
func (l *Linker) ApplyIssue(ctx context.Context, repo *patchgate.Repository, ev *patchgate.Event) error {
	i := ev.Issue
	sev := i.Severity
	if sev == "" {
		sev = patchgate.SeverityFromLabels(i.Labels)
	}
	t, err := l.Tickets.ApplyIssueUpdate(ctx, patchgate.IssueUpdate{
		Tracker:   patchgate.TrackerOf(ev.Forge),
		Repo:      repo.Name,
		Number:    i.Number,
		Title:     i.Title,
		URL:       i.URL,
		State:     i.State,
		Labels:    i.Labels,
		Severity:  sev,
		Author:    i.Author,
		UpdatedAt: i.UpdatedAt,
		CreatedAt: i.CreatedAt,
		Reopened:  ev.Action == "reopened",
	})
	if err != nil {
		return fmt.Errorf("apply issue %s#%d: %w", repo.Name, i.Number, err)
	}
	return l.reconciler().Reconcile(ctx, t.ID)
}

// TicketReconciler re-derives a ticket's state from its evidence.
type TicketReconciler interface {
	ReconcileTicket(ctx context.Context, id int64) (*patchgate.Ticket, error)
}

// LinkFinder reads links.
type LinkFinder interface {
	FindLinks(ctx context.Context, filter patchgate.LinkFilter) ([]*patchgate.Link, error)
}

// Reconciler re-derives the states of tickets after their links or changes
// moved: the linker uses it, and so does verification after a verdict. Set
// the fields, then use it from any number of goroutines.
type Reconciler struct {
	Tickets TicketReconciler
	Links   LinkFinder
}

// ReconcileChange re-derives the state of every ticket ch is linked to, and of
// the tickets in also (those whose links to ch just went away). Whatever
// happened to ch — a new head, a verdict, a merge, a close, a link made or
// taken back — its tickets' states follow from the evidence.
func (r *Reconciler) ReconcileChange(ctx context.Context, ch *patchgate.Change, also ...int64) error {
	links, err := r.Links.FindLinks(ctx, patchgate.LinkFilter{ChangeID: &ch.ID, Limit: 500})
	if err != nil {
		return fmt.Errorf("find links of %s: %w", ch.Ref(), err)
	}
	ids := slices.Clone(also)
	for _, link := range links {
		ids = append(ids, link.TicketID)
	}
	return r.Reconcile(ctx, ids...)
}

// Reconcile re-derives the states of the tickets ids, each once.
func (r *Reconciler) Reconcile(ctx context.Context, ids ...int64) error {
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		if _, err := r.Tickets.ReconcileTicket(ctx, id); err != nil {
			return fmt.Errorf("reconcile ticket %d: %w", id, err)
		}
	}
	return nil
}
