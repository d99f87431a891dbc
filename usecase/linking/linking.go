// Package linking orchestrates what forge events and people do to changes,
// tickets and links: it records PR/MR and push events as changes, derives
// their links from titles, bodies, branches and commit messages (and by hand),
// keeps patchgate's link comment on each PR/MR up to date, records issue
// events on tickets, and has the tickets' states re-derived whenever their
// links or changes move. A change's new head is handed to verification
// through HeadVerifier.
package linking

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/tickets"
)

// Tickets stores tickets and re-derives their states.
type Tickets interface {
	EnsureTicket(ctx context.Context, t *patchgate.Ticket) (*patchgate.Ticket, error)
	FindTicket(ctx context.Context, tracker patchgate.Tracker, key string) (*patchgate.Ticket, error)
	ApplyIssueUpdate(ctx context.Context, u patchgate.IssueUpdate) (*patchgate.Ticket, error)
	ReconcileTicket(ctx context.Context, id int64) (*patchgate.Ticket, error)
}

// Changes stores changes.
type Changes interface {
	ApplyChangeUpdate(ctx context.Context, u patchgate.ChangeUpdate) (*patchgate.Change, patchgate.ApplyResult, error)
	FindChangeByID(ctx context.Context, id int64) (*patchgate.Change, error)
	FindChange(ctx context.Context, forge patchgate.Forge, repo, key string) (*patchgate.Change, error)
	FindChanges(ctx context.Context, filter patchgate.ChangeFilter) ([]*patchgate.Change, int, error)
}

// Links stores links.
type Links interface {
	FindLinks(ctx context.Context, filter patchgate.LinkFilter) ([]*patchgate.Link, error)
	SyncExtractedLinks(ctx context.Context, changeID int64, sources []patchgate.LinkSource, want []*patchgate.Link) (added, removed []*patchgate.Link, err error)
	CreateManualLink(ctx context.Context, l *patchgate.Link) error
	DeleteLinks(ctx context.Context, ticketID, changeID int64, by string) error
}

// Repos finds configured repositories (patchgate.RepositoryDirectory).
type Repos interface {
	Resolve(forge patchgate.Forge, name string) (*patchgate.Repository, error)
}

// HeadVerifier verifies a change's new head (verification.Verifier).
type HeadVerifier interface {
	VerifyHead(ctx context.Context, ch *patchgate.Change, trigger string) error
}

// Linker applies forge events and manual link requests to changes, tickets
// and links. Set the fields, then use it from any number of goroutines.
type Linker struct {
	Tickets Tickets
	Changes Changes
	Links   Links
	Repos   Repos
	// Commenters post the link comment on PRs/MRs, one per forge; a forge
	// without one gets no comment.
	Commenters map[patchgate.Forge]patchgate.Commenter
	// Heads verifies changes' new heads; nil, patchgate only links.
	Heads HeadVerifier
	// Hosts are the web hosts whose issue URLs count as references.
	Hosts  []string
	Logger *slog.Logger
}

// reconciler re-derives ticket states from the linker's own stores.
func (l *Linker) reconciler() *Reconciler {
	return &Reconciler{Tickets: l.Tickets, Links: l.Links}
}

// referenceContext tells the extractor how to read text in repo.
func (l *Linker) referenceContext(repo *patchgate.Repository) patchgate.ReferenceContext {
	return patchgate.ReferenceContext{Forge: repo.Forge, Repo: repo.Name, Keys: repo.TicketKeys, Hosts: l.Hosts,
		TitlePrefixFixes: repo.TitlePrefixFixes}
}

// ensureTickets turns references into stored tickets, creating the ones patchgate
// has not seen (an external key, or an issue whose event has not arrived yet).
func (l *Linker) ensureTickets(ctx context.Context, refs []patchgate.Reference) ([]*patchgate.Ticket, error) {
	out := make([]*patchgate.Ticket, 0, len(refs))
	for _, r := range refs {
		t, err := l.Tickets.EnsureTicket(ctx, &patchgate.Ticket{
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
		out = append(out, t)
	}
	return out, nil
}

// extractLinks finds references in text and returns them with the source they came from.
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
