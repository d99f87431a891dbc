package patchgate

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// CommentCommand records a patchgate command given in a forge comment
// ("/patchgate approve", "/patchgate withdraw", "/patchgate ok-to-test",
// "/patchgate retest") that acted. A comment acts
// at most once: replaying its delivery, or sending it again under a fresh
// delivery id, finds it recorded.
type CommentCommand struct {
	Forge     Forge  `json:"forge"`
	Repo      string `json:"repo"`
	CommentID int64  `json:"comment_id"`
	// Command is the command's name: "approve", "withdraw", "ok-to-test" or
	// "retest".
	Command string `json:"command"`
	// Author is the forge login that wrote the comment.
	Author string `json:"author"`
	// Change is the PR/MR number the comment is on.
	Change int `json:"change"`
	// SHA is the commit the command is bound to: the head an ok-to-test vouches
	// for (as the forge reported it) or a retest re-ran, the candidate's commit
	// for an approval or a withdrawal.
	SHA       string    `json:"sha"`
	CreatedAt time.Time `json:"created_at"`
}

// Command names, as CommentCommand.Command records them.
const (
	CommandApprove  = "approve"
	CommandOkToTest = "ok-to-test"
	CommandWithdraw = "withdraw"
	CommandRetest   = "retest"
)

// The comment lines that give the commands.
const (
	// ApproveComment is the comment by which a configured release manager
	// approves the open candidate that contains the commented change.
	ApproveComment = "/patchgate approve"
	// OkToTestComment is the comment by which a maintainer approves verifying
	// a change's current head when it comes from a fork or an untrusted author.
	OkToTestComment = "/patchgate ok-to-test"
	// WithdrawComment is the comment by which a release manager withdraws
	// their own approval of the candidate that was open when they wrote it.
	WithdrawComment = "/patchgate withdraw"
	// RetestComment is the comment by which a maintainer, or the trusted
	// author of the change, verifies the change's current head again.
	RetestComment = "/patchgate retest"
)

// CommandService remembers which comments acted. Implementations are safe for
// concurrent use.
type CommandService interface {
	// ClaimCommand records that c's comment acts now; ECONFLICT when the same
	// comment (forge, repository, comment id) already did. Two racing claims of
	// one comment: one wins.
	ClaimCommand(ctx context.Context, c *CommentCommand) error
	// ReleaseCommand forgets a claim whose action did not happen (a transient
	// failure that will be retried); forgetting an unknown claim is no error.
	ReleaseCommand(ctx context.Context, forge Forge, repo string, commentID int64) error
	// VouchedFor reports whether an ok-to-test acted on exactly commit sha of
	// the repository.
	VouchedFor(ctx context.Context, forge Forge, repo, sha string) (bool, error)
}

// ForgeComment is a comment as the forge's own API reports it, read back by
// its id: what a comment command acts on, since a signed webhook payload only
// claims who wrote what (whoever holds the webhook secret can sign anything).
type ForgeComment struct {
	ID int64
	// Number is the PR/MR the comment is on.
	Number int
	// AuthorID is the forge's numeric id of the comment's author; Author is
	// their login now.
	AuthorID  int64
	Author    string
	Body      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ForgeChange is a pull or merge request as the forge's own API reports it
// now: what ok-to-test and retest bind to, since a webhook only claims a head.
type ForgeChange struct {
	Number int
	// HeadSHA is the commit the forge says the change's head is.
	HeadSHA string
	// AuthorID is the forge's numeric id of who opened it; Author their login.
	AuthorID int64
	Author   string
	// Open is false once the forge has it closed or merged.
	Open bool
}

// CommentReader reads comments on pull and merge requests, and the changes
// they are on, back through the forge's API.
type CommentReader interface {
	// ReadComment returns comment id on change number of repo as the forge
	// has it. ENOTFOUND when the forge has no such comment on that change.
	ReadComment(ctx context.Context, repo RepoRef, number int, id int64) (*ForgeComment, error)
	// ReadChange returns PR/MR number of repo as the forge has it now.
	// ENOTFOUND when the forge has no such change.
	ReadChange(ctx context.Context, repo RepoRef, number int) (*ForgeChange, error)
}

// CommentVouches decides whether the forge's own record of a comment (read
// nil when the forge has none) vouches for what a webhook payload claims about
// it: the same comment, on the same change, by the same author, with the same
// text, written at the same second. It returns "" when it does, else the
// reason, in words, why the claim is refused.
func CommentVouches(claim *CommentEvent, read *ForgeComment) string {
	switch {
	case read == nil:
		return fmt.Sprintf("the forge has no comment %d on #%d", claim.ID, claim.Number)
	case read.ID != claim.ID:
		return fmt.Sprintf("the forge answered comment %d for comment %d", read.ID, claim.ID)
	case read.Number != claim.Number:
		return fmt.Sprintf("the forge says comment %d is on #%d, not #%d", claim.ID, read.Number, claim.Number)
	case read.Author == "" || !SameLogin(read.Author, claim.Author):
		return fmt.Sprintf("the forge says comment %d was written by %s, not %s", claim.ID, orSomeone(read.Author), orSomeone(claim.Author))
	case normalizeNewlines(read.Body) != normalizeNewlines(claim.Body):
		return fmt.Sprintf("the forge's text of comment %d is not the text the delivery carries", claim.ID)
	case !read.CreatedAt.Truncate(time.Second).Equal(claim.CreatedAt.Truncate(time.Second)):
		return fmt.Sprintf("the forge says comment %d was written at %s, not %s", claim.ID,
			read.CreatedAt.UTC().Format(time.RFC3339), claim.CreatedAt.UTC().Format(time.RFC3339))
	case read.UpdatedAt.Sub(read.CreatedAt) > time.Second:
		// The forge's own word that the text changed after it was written:
		// whoever edited it (a repository admin may edit anyone's comment) is
		// not its author, so an edited comment commands nothing, whatever
		// the delivery claims.
		return fmt.Sprintf("the forge says comment %d was edited at %s, after it was written: an edited comment commands nothing; write a new one", claim.ID,
			read.UpdatedAt.UTC().Format(time.RFC3339))
	}
	return ""
}

// normalizeNewlines makes CRLF and LF bodies compare equal: forges store what
// the browser sent and some payloads carry the other.
func normalizeNewlines(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// orSomeone names a login, or says nobody was named.
func orSomeone(login string) string {
	if login == "" {
		return "nobody named"
	}
	return login
}

// CommandTarget decides which candidate a comment command written at written
// acts on ("/patchgate approve", "/patchgate withdraw"). The comment names no
// candidate: it applies to the candidate that was open when it was written,
// the newest of cands (those containing the commented change, in any state)
// proposed no later than the comment (forges stamp comments to the second).
// It returns that candidate when it is still open; otherwise nil and the
// refusal, in words, with what to comment instead ("" when no candidate
// contains the change).
func CommandTarget(cands []*Candidate, written time.Time, command string) (*Candidate, string) {
	var target, open *Candidate
	for _, c := range cands {
		if c.State == CandidateOpen && (open == nil || c.CreatedAt.After(open.CreatedAt)) {
			open = c
		}
		if !c.CreatedAt.Truncate(time.Second).After(written) && (target == nil || c.CreatedAt.After(target.CreatedAt)) {
			target = c
		}
	}
	stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	verb := strings.TrimPrefix(command, "/patchgate ")
	again := func(c *Candidate) string {
		if c == nil {
			return ""
		}
		return fmt.Sprintf(": comment %s again to %s %s", command, verb, c.Name)
	}
	switch {
	case target == nil && open == nil:
		return nil, ""
	case target == nil:
		return nil, fmt.Sprintf("comment was written at %s, before %s was proposed at %s: comment %s again to %s it",
			stamp(written), open.Name, stamp(open.CreatedAt.Truncate(time.Second)), command, verb)
	case target.State == CandidateOpen:
		return target, ""
	case target.State == CandidateSuperseded:
		return nil, fmt.Sprintf("comment was written for %s, which a newer candidate superseded%s", target.Name, again(open))
	}
	return nil, fmt.Sprintf("comment was written for %s, which is already %s%s", target.Name, target.State, again(open))
}

// MayRetest decides whether the forge user commenterID may re-run the
// verification of change ch of repo by "/patchgate retest": a maintainer of
// the repository always (running code is their decision, as for ok-to-test);
// the change's own author (authorID, as the forge reports who opened it) only
// when their change runs without a maintainer's word anyway: not from a fork,
// and the repository trusts every writer (it lists no trusted users; an author
// it lists is a maintainer). It returns "" when allowed, else the refusal in
// words.
func MayRetest(repo *Repository, ch *Change, commenter string, commenterID, authorID int64, maintainer bool) string {
	switch {
	case maintainer:
		return ""
	case commenterID == 0 || commenterID != authorID:
		return fmt.Sprintf("%s (forge user id %d) is neither a maintainer of %s nor the author of %s", commenter, commenterID, repo.Name, ch.Ref())
	case ch.FromFork:
		return fmt.Sprintf("%s comes from a fork: its author may not re-run it; a maintainer may comment %s", ch.Ref(), RetestComment)
	case len(repo.TrustedUsers) > 0:
		return fmt.Sprintf("%s is not a trusted user of %s: a maintainer may comment %s", commenter, repo.Name, RetestComment)
	}
	return ""
}

// MaxVouchAge is how long after a comment was written (by the forge's clock)
// patchgate still lets an ok-to-test or a retest run code on its word: the
// head it runs is the one the forge reports when patchgate reads the comment,
// which is the head at the comment's time only while the two are close. A
// comment delivered later (patchgate was down, a redelivery) may meet a push
// made after it was written.
const MaxVouchAge = 10 * time.Minute

// StaleVouch decides whether a comment that would run code (ok-to-test,
// retest), written at written by the forge's clock, is read too late at now
// to stand for the head the forge reports now. It returns "" when it is fresh,
// else the refusal in words with what to do.
func StaleVouch(command string, written, now time.Time) string {
	age := now.Sub(written)
	if age <= MaxVouchAge {
		return ""
	}
	return fmt.Sprintf("comment was written at %s, %s before patchgate read it: a push may have come since, so it no longer says which head to run; comment %s again",
		written.UTC().Format(time.RFC3339), age.Truncate(time.Second), command)
}
