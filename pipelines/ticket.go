package pipelines

import (
	"context"
	"fmt"
	"slices"

	"github.com/patchgate/patchgate"
)

// applyIssue records an issue event on its ticket and re-derives its state: a
// reopen after a fix landed or was released makes it "reopened", so a release
// manager sees that the fix did not hold.
func (s *Service) applyIssue(ctx context.Context, repo *patchgate.Repository, ev *patchgate.Event) error {
	i := ev.Issue
	sev := i.Severity
	if sev == "" {
		sev = patchgate.SeverityFromLabels(i.Labels)
	}
	t, err := s.Tickets.ApplyIssueUpdate(ctx, patchgate.IssueUpdate{
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
	return s.reconcile(ctx, t.ID)
}

// reconcileChange re-derives the state of every ticket ch is linked to, and of
// the tickets in also (those whose links to ch just went away). Whatever
// happened to ch — a new head, a verdict, a merge, a close, a link made or
// taken back — its tickets' states follow from the evidence.
func (s *Service) reconcileChange(ctx context.Context, ch *patchgate.Change, also ...int64) error {
	links, err := s.Links.FindLinks(ctx, patchgate.LinkFilter{ChangeID: &ch.ID, Limit: 500})
	if err != nil {
		return fmt.Errorf("find links of %s: %w", ch.Ref(), err)
	}
	ids := slices.Clone(also)
	for _, l := range links {
		ids = append(ids, l.TicketID)
	}
	return s.reconcile(ctx, ids...)
}

// reconcile re-derives the states of the tickets ids, each once.
func (s *Service) reconcile(ctx context.Context, ids ...int64) error {
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		if _, err := s.Tickets.ReconcileTicket(ctx, id); err != nil {
			return fmt.Errorf("reconcile ticket %d: %w", id, err)
		}
	}
	return nil
}
