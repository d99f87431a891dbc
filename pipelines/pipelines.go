// Package pipelines holds patchgate's use cases: what an event from a forge does
// to changes, tickets and links, and what a developer's manual link does. It
// talks to storage and forges only through the root package's interfaces.
package pipelines

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/config"
	"github.com/patchgate/patchgate/tickets"
)

// Service applies forge events and manual requests. Set the fields, then use it
// from any number of goroutines.
type Service struct {
	Tickets patchgate.TicketService
	Changes patchgate.ChangeService
	Links   patchgate.LinkService
	Repos   *patchgate.RepositoryDirectory
	// Commenters post the link comment on PRs/MRs, one per forge; a forge
	// without one gets no comment.
	Commenters map[patchgate.Forge]patchgate.Commenter
	// ReleaseManagers are, per forge, the users who approve releases; they may
	// also vouch for changes from forks and untrusted authors.
	ReleaseManagers map[patchgate.Forge][]string
	// Hosts are the web hosts whose issue URLs count as references.
	Hosts  []string
	Logger *slog.Logger

	// Verifications, Queue, Sources and Reporter verify changes' heads; without
	// Verifications patchgate only links.
	Verifications patchgate.VerificationService
	Queue         patchgate.VerificationQueue
	// Sources read .patchgate.yml through each forge's API.
	Sources  map[patchgate.Forge]patchgate.SourceFetcher
	Reporter Reporter
	// Ceilings bound what any repository's suites may ask for.
	Ceilings config.Ceilings
	// Quarantines are the quarantines created through the API; nil means
	// only those of .patchgate.yml.
	Quarantines patchgate.QuarantineService

	// Releases, Comparers and Releasers run the release gate; Announce, when
	// set, is told every promotion (the outbound webhook).
	Releases  patchgate.ReleaseService
	Comparers map[patchgate.Forge]patchgate.Comparer
	// Proofs reads fixes' fail-to-pass proofs for release.require_proof.
	Proofs    patchgate.ProofService
	Releasers map[patchgate.Forge]patchgate.Releaser
	// Authors look up the authors of changes whose webhooks did not name them,
	// for the author rule.
	Authors map[patchgate.Forge]patchgate.AuthorFinder
	// Commands remembers which comments' commands acted, so each acts once;
	// without it comment commands are refused.
	Commands patchgate.CommandService
	Announce func(ctx context.Context, c *patchgate.Candidate, r *patchgate.ForgeRelease)
	// Referenced, when set, is told every ticket a forge event references
	// (TrackerSync reads the ones new to patchgate from their tracker); it
	// must not block.
	Referenced func(t *patchgate.Ticket)
}

// HandleEvent applies one parsed, verified event. It returns the delivery's
// outcome: processed, or ignored with a reason when the event changes nothing
// patchgate tracks. Applying the same event twice, or events out of order,
// leaves the same final state.
func (s *Service) HandleEvent(ctx context.Context, ev *patchgate.Event) (patchgate.DeliveryOutcome, string, error) {
	repo, err := s.Repos.Find(ev.Forge, ev.Repo)
	if err != nil {
		return patchgate.OutcomeIgnored, fmt.Sprintf("repository %s is not configured", ev.Repo), nil
	}
	switch ev.Kind {
	case patchgate.EventChange:
		return patchgate.OutcomeProcessed, "", s.applyChange(ctx, repo, ev)
	case patchgate.EventPush:
		if ev.Push.Deleted || ev.Push.Branch == "" {
			return patchgate.OutcomeIgnored, "branch deleted or not a branch", nil
		}
		return patchgate.OutcomeProcessed, "", s.applyPush(ctx, repo, ev)
	case patchgate.EventIssue:
		return patchgate.OutcomeProcessed, "", s.applyIssue(ctx, repo, ev)
	case patchgate.EventComment:
		return s.applyComment(ctx, repo, ev)
	}
	return patchgate.OutcomeIgnored, fmt.Sprintf("event kind %q is not used", ev.Kind), nil
}

// referenceContext tells the extractor how to read text in repo.
func (s *Service) referenceContext(repo *patchgate.Repository) patchgate.ReferenceContext {
	return patchgate.ReferenceContext{Forge: repo.Forge, Repo: repo.Name, Keys: repo.TicketKeys, Hosts: s.Hosts,
		TitlePrefixFixes: repo.TitlePrefixFixes}
}

// changeKind is the kind of a forge's reviewable change.
func changeKind(f patchgate.Forge) patchgate.ChangeKind {
	if f == patchgate.GitLab {
		return patchgate.ChangeMergeRequest
	}
	return patchgate.ChangePullRequest
}

// ensureTickets turns references into stored tickets, creating the ones patchgate
// has not seen (an external key, or an issue whose event has not arrived yet).
func (s *Service) ensureTickets(ctx context.Context, refs []patchgate.Reference) ([]*patchgate.Ticket, error) {
	out := make([]*patchgate.Ticket, 0, len(refs))
	for _, r := range refs {
		t, err := s.Tickets.EnsureTicket(ctx, &patchgate.Ticket{
			Tracker:  r.Tracker,
			Key:      r.Key,
			Repo:     r.Repo,
			Number:   r.Number,
			Labels:   []string{},
			Severity: patchgate.SeverityUnknown,
			State:    patchgate.TicketOpen,
		})
		if err != nil {
			return nil, fmt.Errorf("ensure ticket %s: %w", r.Key, err)
		}
		if s.Referenced != nil {
			s.Referenced(t)
		}
		out = append(out, t)
	}
	return out, nil
}

// extract finds references in text and returns them with the source they came from.
func extractLinks(rc patchgate.ReferenceContext, source patchgate.LinkSource, text string) []patchgate.Reference {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	if source == patchgate.SourceBranch {
		return tickets.ExtractBranch(rc, text)
	}
	refs := tickets.Extract(rc, text)
	if source == patchgate.SourceTitle && rc.TitlePrefixFixes {
		// "PAY-7: fix rounding" (or "[PAY-7] …"): the title is about fixing PAY-7.
		lead := strings.TrimLeft(strings.TrimSpace(text), "[(")
		for i, r := range refs {
			if r.Kind == patchgate.LinkRelates && r.Text != "" && strings.HasPrefix(strings.ToUpper(lead), strings.ToUpper(r.Text)) {
				refs[i].Kind = patchgate.LinkFixes
			}
		}
	}
	return refs
}
