package patchgate

import (
	"context"
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
