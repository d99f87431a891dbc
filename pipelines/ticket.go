package pipelines

import (
	"context"
	"fmt"

	"github.com/patchgate/patchgate"
)

// applyIssue records an issue event on its ticket. A closed ticket that comes back
// after its fix was merged or released is "reopened", so a release manager sees
// that the fix did not hold.
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
	})
	if err != nil {
		return fmt.Errorf("apply issue %s#%d: %w", repo.Name, i.Number, err)
	}
	if ev.Action == "reopened" && (t.State == patchgate.TicketFixMerged || t.State == patchgate.TicketReleased) {
		if err := s.Tickets.SetTicketState(ctx, t.ID, patchgate.TicketReopened); err != nil {
			return fmt.Errorf("reopen ticket %s: %w", t.Key, err)
		}
	}
	return nil
}

// proposeFixes moves the tickets an open change claims to fix from open (or
// reopened) to fix_proposed. Later states are owned by verification and release.
func (s *Service) proposeFixes(ctx context.Context, ch *patchgate.Change) error {
	if ch.State != patchgate.ChangeOpen {
		return nil
	}
	links, err := s.Links.FindLinks(ctx, patchgate.LinkFilter{ChangeID: &ch.ID, Limit: 500})
	if err != nil {
		return fmt.Errorf("find links of %s: %w", ch.Ref(), err)
	}
	for _, l := range links {
		if l.Kind != patchgate.LinkFixes || l.Ticket == nil {
			continue
		}
		if l.Ticket.State == patchgate.TicketOpen || l.Ticket.State == patchgate.TicketReopened {
			if err := s.Tickets.SetTicketState(ctx, l.TicketID, patchgate.TicketFixProposed); err != nil {
				return fmt.Errorf("propose fix for %s: %w", l.Ticket.Key, err)
			}
		}
	}
	return nil
}
