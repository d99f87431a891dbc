package patchgate

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// CommentCommand records a patchgate command given in a forge comment
// ("/patchgate approve", "/patchgate ok-to-test") that acted. A comment acts
// at most once: replaying its delivery, or sending it again under a fresh
// delivery id, finds it recorded.
type CommentCommand struct {
	Forge     Forge  `json:"forge"`
	Repo      string `json:"repo"`
	CommentID int64  `json:"comment_id"`
	// Command is the command's name: "approve" or "ok-to-test".
	Command string `json:"command"`
	// Author is the forge login that wrote the comment.
	Author string `json:"author"`
	// Change is the PR/MR number the comment is on.
	Change int `json:"change"`
	// SHA is the commit the command is bound to: the head an ok-to-test vouches
	// for, the candidate's commit for an approval.
	SHA       string    `json:"sha"`
	CreatedAt time.Time `json:"created_at"`
}

// Command names, as CommentCommand.Command records them.
const (
	CommandApprove  = "approve"
	CommandOkToTest = "ok-to-test"
)

// The comment lines that give the commands.
const (
	// ApproveComment is the comment by which a configured release manager
	// approves the open candidate that contains the commented change.
	ApproveComment = "/patchgate approve"
	// OkToTestComment is the comment by which a maintainer approves verifying
	// a change's current head when it comes from a fork or an untrusted author.
	OkToTestComment = "/patchgate ok-to-test"
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

// CommentReader reads comments on pull and merge requests back through the
// forge's API.
type CommentReader interface {
	// ReadComment returns comment id on change number of repo as the forge
	// has it. ENOTFOUND when the forge has no such comment on that change.
	ReadComment(ctx context.Context, repo RepoRef, number int, id int64) (*ForgeComment, error)
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
