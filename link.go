package patchgate

import (
	"context"
	"time"
)

// Link ties a ticket to a change (and, for links found in commit messages, to the
// commit), with the provenance the UI shows to say why they are linked.
type Link struct {
	ID       int64 `json:"id"`
	TicketID int64 `json:"ticket_id"`
	ChangeID int64 `json:"change_id"`
	// CommitSHA is set for links found in a commit message.
	CommitSHA string     `json:"commit_sha,omitempty"`
	Kind      LinkKind   `json:"kind"`
	Source    LinkSource `json:"source"`
	// Provenance is the text that made the link ("Fixes #45" in the body) or, for
	// manual links, who made it and why.
	Provenance string `json:"provenance"`
	// CreatedBy is "patchgate" for extracted links, else the token name or forge
	// user who linked by hand.
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`

	// Ticket and Change are filled by finders that join them.
	Ticket *Ticket `json:"ticket,omitempty"`
	Change *Change `json:"change,omitempty"`
}

// Validate checks a link before it is stored.
func (l *Link) Validate() error {
	if l.TicketID <= 0 || l.ChangeID <= 0 {
		return Errorf(EINVALID, "link needs a ticket and a change")
	}
	if err := l.Kind.Validate(); err != nil {
		return err
	}
	switch l.Source {
	case SourceTitle, SourceBody, SourceBranch, SourceCommitMessage, SourceManual:
	default:
		return Errorf(EINVALID, "unknown link source %q", string(l.Source))
	}
	if l.Source == SourceCommitMessage && !ValidSHA(l.CommitSHA) {
		return Errorf(EINVALID, "commit-message link needs the commit SHA")
	}
	return nil
}

// LinkFilter selects links; nil fields do not filter.
type LinkFilter struct {
	TicketID *int64
	ChangeID *int64
	Source   *LinkSource
	Offset   int
	Limit    int
}

// LinkService stores links. Implementations are safe for concurrent use.
type LinkService interface {
	// FindLinks returns matching links with Ticket and Change filled.
	FindLinks(ctx context.Context, filter LinkFilter) ([]*Link, error)
	// SyncExtractedLinks makes the extracted links of one change from one set of
	// sources equal to want: it adds the missing ones and removes those of the
	// given sources that are no longer found (a title edited to drop a key). Links
	// a user removed by hand are not re-created. Commit-message links are only ever
	// added. It returns the links added and removed.
	SyncExtractedLinks(ctx context.Context, changeID int64, sources []LinkSource, want []*Link) (added, removed []*Link, err error)
	// CreateManualLink links a ticket and a change by hand (and lifts an earlier
	// manual unlink of the pair). ECONFLICT if the same manual link exists.
	CreateManualLink(ctx context.Context, l *Link) error
	// DeleteLinks removes every link between a ticket and a change and remembers
	// that a user did so, so extraction does not bring them back. ENOTFOUND if
	// there was none.
	DeleteLinks(ctx context.Context, ticketID, changeID int64, by string) error
}

// ManualLinkRequest asks to link a ticket to a change by hand, from the API or
// `patchgate link`.
type ManualLinkRequest struct {
	// Ticket is a reference as a developer writes it: "PAY-123", "#45",
	// "acme/api#45" or an issue URL.
	Ticket string `json:"ticket"`
	// Forge may be left empty when only one configured repository has that name.
	Forge Forge  `json:"forge,omitempty"`
	Repo  string `json:"repo"`
	// Exactly one of Number (the PR/MR) and Commit (a head SHA) is set.
	Number int      `json:"number,omitempty"`
	Commit string   `json:"commit,omitempty"`
	Kind   LinkKind `json:"kind,omitempty"` // default fixes
	Reason string   `json:"reason,omitempty"`
	// By is who asks, filled from the authenticated principal.
	By string `json:"-"`
}

// Validate checks the request's shape; resolving names happens in the use case.
func (r *ManualLinkRequest) Validate() error {
	if r.Ticket == "" {
		return Errorf(EINVALID, "ticket required (PAY-123, #45, owner/repo#45 or an issue URL)")
	}
	if r.Repo == "" {
		return Errorf(EINVALID, "repo required")
	}
	if (r.Number > 0) == (r.Commit != "") {
		return Errorf(EINVALID, "give exactly one of a pull/merge request number and a commit")
	}
	if r.Commit != "" && !ValidSHA(r.Commit) {
		return Errorf(EINVALID, "commit %q: want a full 40-character SHA", r.Commit)
	}
	if r.Kind == "" {
		r.Kind = LinkFixes
	}
	if r.Forge != "" {
		if err := r.Forge.Validate(); err != nil {
			return err
		}
	}
	if len(r.Reason) > 1000 {
		return Errorf(EINVALID, "reason: at most 1000 characters")
	}
	return r.Kind.Validate()
}
