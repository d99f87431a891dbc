package patchgate

import (
	"context"
	"strconv"
	"time"
)

// ChangeKind distinguishes pull requests, merge requests and direct pushes.
type ChangeKind string

// Change kinds.
const (
	ChangePullRequest  ChangeKind = "pull_request"
	ChangeMergeRequest ChangeKind = "merge_request"
	ChangePush         ChangeKind = "push" // a branch that receives direct pushes
)

// ChangeState is a change's state on its forge.
type ChangeState string

// Change states. Merged is final: nothing moves a merged change back.
const (
	ChangeOpen   ChangeState = "open"
	ChangeClosed ChangeState = "closed"
	ChangeMerged ChangeState = "merged"
)

// Change is a pull/merge request, or a branch receiving direct pushes, with its
// current head commit. Its identity is (Forge, Repo, Key).
type Change struct {
	ID    int64      `json:"id"`
	Forge Forge      `json:"forge"`
	Repo  string     `json:"repo"`
	Kind  ChangeKind `json:"kind"`
	// Number is the PR number or the MR iid; 0 for a branch.
	Number int `json:"number,omitempty"`

	Title        string `json:"title"`
	Body         string `json:"body"`
	SourceBranch string `json:"source_branch"`
	TargetBranch string `json:"target_branch,omitempty"`
	HeadSHA      string `json:"head_sha"`
	BaseSHA      string `json:"base_sha,omitempty"`
	Author       string `json:"author"`
	// AuthorID is Author's forge user id (the opener's; for a branch, the
	// last pusher's); 0 when no event named it. The author rule and trust
	// compare people by it.
	AuthorID int64       `json:"author_id,omitempty"`
	State    ChangeState `json:"state"`
	// FromFork is true when the head lives in another repository; such changes
	// never get secrets and take their config from the base branch.
	FromFork       bool   `json:"from_fork"`
	MergeCommitSHA string `json:"merge_commit_sha,omitempty"`
	// MergedAt is the earliest forge time an event reported the change merged.
	MergedAt time.Time `json:"merged_at,omitzero"`
	URL      string    `json:"url,omitempty"`

	// ForgeUpdatedAt is the newest forge timestamp applied to the descriptive
	// fields (title, body, state); HeadUpdatedAt the newest applied to HeadSHA.
	ForgeUpdatedAt time.Time `json:"forge_updated_at,omitzero"`
	HeadUpdatedAt  time.Time `json:"head_updated_at,omitzero"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Key is the change's identity within its repository: "pr/42", "mr/42" or
// "branch/main".
func (c *Change) Key() string { return ChangeKey(c.Kind, c.Number, c.SourceBranch) }

// ChangeKey builds the identity of a change within its repository.
func ChangeKey(kind ChangeKind, number int, branch string) string {
	switch kind {
	case ChangePullRequest:
		return "pr/" + strconv.Itoa(number)
	case ChangeMergeRequest:
		return "mr/" + strconv.Itoa(number)
	}
	return "branch/" + branch
}

// Ref renders the change the way its forge does: "acme/payments#42",
// "acme/api!42", or "acme/api@main" for a branch.
func (c *Change) Ref() string {
	switch c.Kind {
	case ChangePullRequest:
		return c.Repo + "#" + strconv.Itoa(c.Number)
	case ChangeMergeRequest:
		return c.Repo + "!" + strconv.Itoa(c.Number)
	}
	return c.Repo + "@" + c.SourceBranch
}

// Validate checks a change before it is stored.
func (c *Change) Validate() error {
	if err := c.Forge.Validate(); err != nil {
		return err
	}
	if err := ValidateRepoName(c.Repo); err != nil {
		return err
	}
	switch c.Kind {
	case ChangePullRequest, ChangeMergeRequest:
		if c.Number <= 0 {
			return Errorf(EINVALID, "change %s: needs a positive number", c.Ref())
		}
	case ChangePush:
		if c.SourceBranch == "" {
			return Errorf(EINVALID, "change in %s: branch required", c.Repo)
		}
	default:
		return Errorf(EINVALID, "change: unknown kind %q", string(c.Kind))
	}
	if c.HeadSHA != "" && !ValidSHA(c.HeadSHA) {
		return Errorf(EINVALID, "change %s: head %q is not a commit SHA", c.Ref(), c.HeadSHA)
	}
	switch c.State {
	case ChangeOpen, ChangeClosed, ChangeMerged:
	default:
		return Errorf(EINVALID, "change %s: unknown state %q", c.Ref(), string(c.State))
	}
	return nil
}

// ValidSHA reports whether s is a full hex commit id (40 for SHA-1, 64 for SHA-256).
func ValidSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// ChangeUpdate is what one event says about a change. Zero fields say nothing.
type ChangeUpdate struct {
	Forge        Forge
	Repo         string
	Kind         ChangeKind
	Number       int
	Title        string
	Body         string
	SourceBranch string
	TargetBranch string
	// HeadSHA is the head the event reports; PreviousHeadSHA, when set, is the
	// head the event says it replaced (GitHub synchronize "before", GitLab
	// "oldrev", push "before").
	HeadSHA         string
	PreviousHeadSHA string
	BaseSHA         string
	Author          string
	AuthorID        int64
	State           ChangeState
	FromFork        bool
	MergeCommitSHA  string
	URL             string
	// UpdatedAt is the forge's own timestamp of the event's object.
	UpdatedAt time.Time
	// PusherUnknown says the update moves a branch's head without naming who
	// pushed it (a reconciliation read the head from the forge): the branch's
	// last pusher did not push this head, so the change forgets them until
	// the push's own delivery names its pusher.
	PusherUnknown bool
}

// ApplyResult says what applying an update changed.
type ApplyResult struct {
	Created     bool
	HeadChanged bool
	OldHead     string
	Changed     bool
	// PusherNamed says the update named who pushed a head whose pusher was
	// unknown: trust in the head can be decided now.
	PusherNamed bool
}

// Apply merges u into c so that the final state does not depend on the order in
// which updates arrive (gate invariant 6):
//   - the head is derived from heads, every HeadEvent stored for the change
//     including u's own (see DeriveHead): a move whose Before is the current
//     head always advances it, and revisiting an earlier head is legal;
//   - descriptive fields and state follow the newest forge timestamp, with ties
//     broken towards the later state (open < closed < merged);
//   - merged is final.
func (c *Change) Apply(u ChangeUpdate, heads []HeadEvent) ApplyResult {
	var r ApplyResult
	if u.HeadSHA != "" {
		head, at := DeriveHead(heads)
		if at.After(c.HeadUpdatedAt) {
			c.HeadUpdatedAt = at
		}
		if head != "" && head != c.HeadSHA {
			r.OldHead, c.HeadSHA = c.HeadSHA, head
			if u.BaseSHA != "" && head == u.HeadSHA {
				c.BaseSHA = u.BaseSHA
			}
			r.HeadChanged, r.Changed = true, true
		}
	}
	if u.PusherUnknown && r.HeadChanged {
		c.Author, c.AuthorID = "", 0
	}

	newer := u.UpdatedAt.After(c.ForgeUpdatedAt) ||
		(u.UpdatedAt.Equal(c.ForgeUpdatedAt) && stateRank(u.State) > stateRank(c.State))
	if c.State == ChangeMerged && u.State != ChangeMerged {
		// Merged is final; a late "closed" or "reopened" says nothing new about state,
		// but a genuinely newer edit may still change the title or body.
		u.State = ""
	}
	if newer || c.ForgeUpdatedAt.IsZero() {
		set := func(dst *string, v string) {
			if v != "" && *dst != v {
				*dst, r.Changed = v, true
			}
		}
		set(&c.Title, u.Title)
		set(&c.Body, u.Body)
		set(&c.TargetBranch, u.TargetBranch)
		set(&c.Author, u.Author)
		if u.Author != "" && u.AuthorID != c.AuthorID {
			// The id travels with the login it names: a newer event naming
			// the author without an id leaves the author's id unknown.
			c.AuthorID, r.Changed = u.AuthorID, true
		}
		set(&c.URL, u.URL)
		set(&c.MergeCommitSHA, u.MergeCommitSHA)
		if u.State != "" && u.State != c.State {
			c.State, r.Changed = u.State, true
		}
		if u.UpdatedAt.After(c.ForgeUpdatedAt) {
			c.ForgeUpdatedAt = u.UpdatedAt
		}
	}
	if c.Kind == ChangePush && c.Author == "" && u.Author != "" && u.HeadSHA == c.HeadSHA && !u.PusherUnknown {
		// The delivery of the push a reconciliation found first names its
		// pusher, however old its timestamp.
		c.Author, c.AuthorID = u.Author, u.AuthorID
		r.Changed, r.PusherNamed = true, true
	}
	if c.State == "" {
		c.State = ChangeOpen
	}
	if c.SourceBranch == "" && u.SourceBranch != "" {
		c.SourceBranch, r.Changed = u.SourceBranch, true
	}
	if u.FromFork && !c.FromFork {
		c.FromFork, r.Changed = true, true
	}
	if u.State == ChangeMerged && u.MergeCommitSHA != "" && c.MergeCommitSHA == "" {
		c.MergeCommitSHA, r.Changed = u.MergeCommitSHA, true
	}
	// The earliest report of the merge dates it: later events about a merged
	// change (a label, an edit) carry later times.
	if u.State == ChangeMerged && !u.UpdatedAt.IsZero() && (c.MergedAt.IsZero() || u.UpdatedAt.Before(c.MergedAt)) {
		c.MergedAt, r.Changed = u.UpdatedAt, true
	}
	return r
}

func stateRank(s ChangeState) int {
	switch s {
	case ChangeOpen:
		return 1
	case ChangeClosed:
		return 2
	case ChangeMerged:
		return 3
	}
	return 0
}

// ChangeFilter selects changes; nil fields do not filter.
type ChangeFilter struct {
	Forge        *Forge
	Repo         *string
	Kind         *ChangeKind
	Number       *int
	State        *ChangeState
	SourceBranch *string
	HeadSHA      *string
	// MergeCommitSHA selects the changes merged as that commit.
	MergeCommitSHA *string
	TicketID       *int64
	Offset         int
	Limit          int
}

// ChangeService stores changes. Implementations are safe for concurrent use.
type ChangeService interface {
	// FindChangeByID returns ENOTFOUND when there is no such change.
	FindChangeByID(ctx context.Context, id int64) (*Change, error)
	// FindChange finds a change by identity (forge, repo, key); ENOTFOUND if absent.
	FindChange(ctx context.Context, forge Forge, repo, key string) (*Change, error)
	// FindChanges returns matching changes, most recently updated first, and the
	// total count.
	FindChanges(ctx context.Context, filter ChangeFilter) ([]*Change, int, error)
	// ApplyChangeUpdate creates or updates a change in one transaction: it records
	// u's HeadEvent (PreviousHeadSHA → HeadSHA at UpdatedAt) with the change's
	// others, then calls Change.Apply with all of them. It returns the stored
	// change and what changed.
	ApplyChangeUpdate(ctx context.Context, u ChangeUpdate) (*Change, ApplyResult, error)
}

// HeadEvent is the evidence u gives about the change's head.
func (u ChangeUpdate) HeadEvent() HeadEvent {
	return HeadEvent{Before: u.PreviousHeadSHA, After: u.HeadSHA, At: u.UpdatedAt}
}
