package patchgate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// CandidateState is where a release candidate stands.
type CandidateState string

// Candidate states. Open candidates can be approved and promoted; a newer
// candidate of the same repository supersedes an older open one.
const (
	CandidateOpen       CandidateState = "open"
	CandidateSuperseded CandidateState = "superseded"
	CandidatePromoting  CandidateState = "promoting" // tag/release being created; retried after a crash
	CandidatePromoted   CandidateState = "promoted"
)

// Validate reports whether s is a known candidate state.
func (s CandidateState) Validate() error {
	switch s {
	case CandidateOpen, CandidateSuperseded, CandidatePromoting, CandidatePromoted:
		return nil
	}
	return Errorf(EINVALID, "unknown release state %q: want open, superseded, promoting or promoted", string(s))
}

// Candidate is a commit on a release branch proposed for production, with what
// it newly contains since the last promoted release.
type Candidate struct {
	ID     int64          `json:"id"`
	Forge  Forge          `json:"forge"`
	Repo   string         `json:"repo"`
	Branch string         `json:"branch"`
	SHA    string         `json:"sha"`
	Name   string         `json:"name"` // the tag to create, e.g. v1.4.2
	State  CandidateState `json:"state"`
	// BaseSHA is the last promoted release's commit ("" for the first release).
	BaseSHA string `json:"base_sha,omitempty"`
	// Items are the changes it newly contains and the tickets they fix.
	Items     []*CandidateItem `json:"items"`
	Approvals []*Approval      `json:"approvals"`
	CreatedBy string           `json:"created_by"`
	CreatedAt time.Time        `json:"created_at"`
	// Promotion record.
	PromotedBy string     `json:"promoted_by,omitempty"`
	PromotedAt *time.Time `json:"promoted_at,omitempty"`
	ReleaseURL string     `json:"release_url,omitempty"`
}

// Validate checks a candidate before it is stored.
func (c *Candidate) Validate() error {
	if err := (RepoRef{Forge: c.Forge, Name: c.Repo}).Validate(); err != nil {
		return err
	}
	if !ValidSHA(c.SHA) {
		return Errorf(EINVALID, "candidate: %q is not a commit SHA", c.SHA)
	}
	if c.BaseSHA != "" && !ValidSHA(c.BaseSHA) {
		return Errorf(EINVALID, "candidate: base %q is not a commit SHA", c.BaseSHA)
	}
	if c.Name == "" || len(c.Name) > 200 {
		return Errorf(EINVALID, "candidate: a name (the tag) is required")
	}
	return nil
}

// CandidateItem is one change a candidate newly contains, with a ticket it
// fixes (TicketID 0 when it fixes none).
type CandidateItem struct {
	ChangeID int64   `json:"change_id"`
	TicketID int64   `json:"ticket_id,omitempty"`
	Change   *Change `json:"change,omitempty"`
	Ticket   *Ticket `json:"ticket,omitempty"`
}

// Approval is a release manager's approval of one candidate at one SHA.
type Approval struct {
	ID          int64  `json:"id"`
	CandidateID int64  `json:"candidate_id"`
	SHA         string `json:"sha"`
	// Approver is the person: their login on the candidate's forge, lower
	// case, whichever token or comment the approval came through.
	Approver string `json:"approver"`
	// ApproverID is the approver's forge user id (the token's pinned id, or
	// the comment author's as the forge reported it): approvals are counted
	// per id. 0 for approvals stored before patchgate pinned people, which
	// are then told apart by login (SameUser).
	ApproverID int64 `json:"approver_id,omitempty"`
	// Token is the API token the approval came through, "" for a comment.
	Token       string     `json:"token,omitempty"`
	Via         string     `json:"via"` // api, cli, comment
	CreatedAt   time.Time  `json:"created_at"`
	WithdrawnAt *time.Time `json:"withdrawn_at,omitempty"`
}

// CandidateFilter selects candidates; nil fields do not filter.
type CandidateFilter struct {
	Forge  *Forge
	Repo   *string
	State  *CandidateState
	SHA    *string // the candidates at one commit
	Offset int
	Limit  int
}

// ReleaseService stores candidates, approvals and promotions. Implementations
// are safe for concurrent use.
type ReleaseService interface {
	// CreateCandidate stores c (state open) with its items and marks every other
	// open candidate of the repository superseded, in one transaction.
	CreateCandidate(ctx context.Context, c *Candidate) error
	// FindCandidateByID returns the candidate with items (changes and tickets
	// filled) and approvals (withdrawn ones included); ENOTFOUND when absent.
	FindCandidateByID(ctx context.Context, id int64) (*Candidate, error)
	// FindCandidates returns matching candidates, newest first, without items.
	FindCandidates(ctx context.Context, filter CandidateFilter) ([]*Candidate, int, error)
	// LastPromoted returns the repository's newest promoted candidate;
	// ENOTFOUND when nothing was promoted yet.
	LastPromoted(ctx context.Context, forge Forge, repo string) (*Candidate, error)
	// AddApproval records a's approval and returns the number of distinct live
	// approvals of the candidate at a.SHA after it, in one transaction (so two
	// racing approvals both see a count that includes the other or come after
	// it). ECONFLICT when the approver (SameUser) already approved, when the candidate is
	// not open, or when a.SHA is not the candidate's SHA.
	AddApproval(ctx context.Context, a *Approval) (approvals int, err error)
	// WithdrawApproval withdraws approver's live approval; ECONFLICT once the
	// candidate is promoted, ENOTFOUND when there is none.
	// approver is compared as SameUser compares people.
	WithdrawApproval(ctx context.Context, candidateID int64, approver ForgeUser) error
	// BeginPromotion moves an open candidate to promoting (or finds it already
	// promoting, for a retry) and returns it. ECONFLICT when it is superseded,
	// or when it is open and its approvals, counted in the same transaction,
	// are not EnoughApprovals for needed; a promoted candidate is returned as
	// is.
	BeginPromotion(ctx context.Context, id int64, by string, needed int) (*Candidate, error)
	// FinishPromotion records a completed promotion; idempotent.
	FinishPromotion(ctx context.Context, id int64, releaseURL string) error
}

// CandidateRequest asks for a release candidate (API, `patchgate release create`).
type CandidateRequest struct {
	Forge  Forge  `json:"forge,omitempty"`
	Repo   string `json:"repo"`
	Branch string `json:"branch,omitempty"` // default: the release branch, else main
	SHA    string `json:"sha,omitempty"`    // default: the branch's head
	Name   string `json:"name,omitempty"`   // the tag; default release-<short SHA>
}

// Evaluation says whether a candidate may be released and, if not, why, in
// words a release manager understands.
type Evaluation struct {
	Releasable bool `json:"releasable"`
	// Blockers say why it cannot ship, each with its code and next action;
	// empty when Releasable.
	Blockers []Blocker `json:"blockers"`
	// Approvals counts distinct live approvals at the candidate's SHA; Needed
	// is the policy's number.
	Approvals int `json:"approvals"`
	Needed    int `json:"needed"`
	// Evidence maps each ticket key to the verification that verified its fix.
	Evidence map[string]*Verification `json:"evidence"`
	// Verification is the candidate's own.
	Verification *Verification `json:"verification,omitempty"`
	// ConfigDigest identifies the .patchgate.yml the candidate's commit holds:
	// only verifications run under it count as its evidence.
	ConfigDigest string `json:"config_digest,omitempty"`
	// Policy is the release policy the candidate is held to, with where each
	// value came from; nil when its .patchgate.yml could not be read.
	Policy *EffectivePolicy `json:"policy,omitempty"`
	// Bisection is the search for the merge the candidate fails from, when
	// its own run failed although every fix passed alone.
	Bisection *Bisection `json:"bisection,omitempty"`
}

// NamesPerson reports whether the approval names a person: it came through a
// token that names one, or by a comment its author wrote, and it carries the
// approver's forge user id. Approvals stored before approvals named persons
// (no token, not by comment) name a token, not a person, and count for nobody.
// Approvals stored before ids were pinned (ApproverID 0) name a login only,
// which another account may have held since: they count for nobody either,
// and the approver withdraws it and approves again with a token that pins
// their id.
func (a *Approval) NamesPerson() bool {
	return (a.Token != "" || a.Via == "comment") && a.ApproverID != 0
}

// Person is who approved, as SameUser compares people.
func (a *Approval) Person() ForgeUser { return ForgeUser{Login: a.Approver, UserID: a.ApproverID} }

// LiveApprovalBy returns p's live approval of c at its SHA, nil when none:
// the same person (SameUser: by id, by login only when an id is unknown)
// under any login or token.
func (c *Candidate) LiveApprovalBy(p ForgeUser) *Approval {
	for _, a := range c.Approvals {
		if a.WithdrawnAt == nil && a.SHA == c.SHA && SameUser(a.Person(), p) {
			return a
		}
	}
	return nil
}

// Counts reports whether the approval counts for a candidate at sha: live
// (not withdrawn), at that SHA, and naming a person.
func (a *Approval) Counts(sha string) bool {
	return a.WithdrawnAt == nil && a.SHA == sha && a.NamesPerson()
}

// UnpinnedApprovers returns the logins, lower case and each once, whose live
// approval of c at its SHA came through a token or a comment but was stored
// before ids were pinned (ApproverID 0): it counts for nobody (NamesPerson)
// until its approver withdraws it and approves again.
func (c *Candidate) UnpinnedApprovers() []string {
	out := []string{}
	for _, a := range c.Approvals {
		l := strings.ToLower(a.Approver)
		if a.WithdrawnAt == nil && a.SHA == c.SHA && a.ApproverID == 0 && (a.Token != "" || a.Via == "comment") && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// Approvers returns the people whose approval of c counts (Approval.Counts),
// each once, lower case, in the order they approved. One person is one
// forge user id (SameUser): approvals under two logins of one account count
// once, and two accounts that held one login in turn count twice.
func (c *Candidate) Approvers() []string {
	out := []string{}
	for _, p := range c.ApproverPeople() {
		out = append(out, p.Login)
	}
	return out
}

// ApproverPeople is Approvers with each person's user id (0 when unknown),
// under the login of their first approval.
func (c *Candidate) ApproverPeople() []ForgeUser {
	out := []ForgeUser{}
	for _, a := range c.Approvals {
		p := ForgeUser{Forge: c.Forge, Login: strings.ToLower(a.Approver), UserID: a.ApproverID}
		if a.Counts(c.SHA) && !slices.ContainsFunc(out, func(o ForgeUser) bool { return SameUser(o, p) }) {
			out = append(out, p)
		}
	}
	return out
}

// EnoughApprovals reports whether c's approvals that count (Approvers: live,
// at its SHA, one per person) reach needed, the policy's number. The gate
// applies it when it evaluates and again inside the promotion's transaction,
// so that a withdrawal racing a promotion cannot ship a release one approval
// short.
func EnoughApprovals(c *Candidate, needed int) bool {
	return len(c.Approvers()) >= needed
}

// CandidateSummary is what a list of candidates shows of each, so that one
// call serves a release manager's overview: can it ship, what stops it, and
// who approved it.
type CandidateSummary struct {
	Releasable bool `json:"releasable"`
	// Blockers say why it cannot ship, each with its code and next action;
	// empty when Releasable.
	Blockers []Blocker `json:"blockers"`
	// Approvals of Needed counted live approvals at the candidate's SHA, by
	// Approvers.
	Approvals int      `json:"approvals"`
	Needed    int      `json:"needed"`
	Approvers []string `json:"approvers"`
}

// SummarizeCandidate sums c up from its evaluation ev. Only an open or
// promoting candidate is evaluated (ev nil otherwise): a superseded or
// promoted one cannot ship again, and its one blocker says why.
func SummarizeCandidate(c *Candidate, ev *Evaluation) CandidateSummary {
	s := CandidateSummary{Blockers: []Blocker{}, Approvers: c.Approvers()}
	s.Approvals = len(s.Approvers)
	closed, isClosed := ClosedBlocker(c)
	switch {
	case isClosed:
		s.Blockers = append(s.Blockers, closed)
	case ev != nil:
		s.Releasable, s.Needed = ev.Releasable, ev.Needed
		s.Blockers = append(s.Blockers, ev.Blockers...)
	default:
		s.Blockers = append(s.Blockers, NewBlocker(ReasonNotEvaluated, "not evaluated"))
	}
	return s
}

// ClosedBlocker is the one blocker of a candidate that cannot ship again:
// superseded or promoted; ok is false for an open or promoting one.
func ClosedBlocker(c *Candidate) (b Blocker, ok bool) {
	switch c.State {
	case CandidateSuperseded:
		return SupersededBlocker(c.Repo), true
	case CandidatePromoted:
		return PromotedBlocker(c.PromotedAt, c.ReleaseURL), true
	}
	return Blocker{}, false
}

// NotOpen is the refusal of an act that needs c open (approve, withdraw,
// promote): ECONFLICT, carrying c's ClosedBlocker, with its code and next
// action, when c is superseded or promoted.
func NotOpen(c *Candidate) *Error {
	if b, ok := ClosedBlocker(c); ok {
		return &Error{Code: ECONFLICT, Message: fmt.Sprintf("candidate %s is %s: %s", c.Name, c.State, b.Message), Blockers: []Blocker{b}}
	}
	return &Error{Code: ECONFLICT, Message: fmt.Sprintf("candidate %s is %s", c.Name, c.State)}
}

// CommentTarget decides which candidate an approval comment written at
// written approves: CommandTarget for "/patchgate approve".
func CommentTarget(cands []*Candidate, written time.Time) (*Candidate, string) {
	return CommandTarget(cands, written, ApproveComment)
}
