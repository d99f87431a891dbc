package store

import (
	"context"
	"fmt"

	"github.com/patchgate/patchgate"
)

// CommandService records the comments whose patchgate command acted, one row
// per comment; the unique key (forge, repo, comment_id) settles races.
type CommandService struct{ db *DB }

var _ patchgate.CommandService = (*CommandService)(nil)

// NewCommandService returns the comment command service of db.
func NewCommandService(db *DB) *CommandService { return &CommandService{db: db} }

// ClaimCommand records that c's comment acts and sets c.CreatedAt; ECONFLICT
// when the comment already acted.
func (s *CommandService) ClaimCommand(ctx context.Context, c *patchgate.CommentCommand) error {
	if err := (patchgate.RepoRef{Forge: c.Forge, Name: c.Repo}).Validate(); err != nil {
		return err
	}
	if c.CommentID <= 0 || c.Command == "" {
		return patchgate.Errorf(patchgate.EINVALID, "comment command: comment id and command required")
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := s.db.now()
	_, err = tx.Exec(ctx, `INSERT INTO comment_commands (forge, repo, comment_id, command, author, change_number, sha, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, c.Forge, c.Repo, c.CommentID, c.Command, c.Author, c.Change, c.SHA, now)
	if patchgate.ErrorCode(err) == patchgate.ECONFLICT {
		return patchgate.Errorf(patchgate.ECONFLICT, "comment %d already acted: a comment's command acts once", c.CommentID)
	} else if err != nil {
		return fmt.Errorf("record command of comment %d in %s: %w", c.CommentID, c.Repo, err)
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	c.CreatedAt = now
	return nil
}

// ReleaseCommand forgets a claim whose action did not happen.
func (s *CommandService) ReleaseCommand(ctx context.Context, forge patchgate.Forge, repo string, commentID int64) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(ctx, `DELETE FROM comment_commands WHERE forge = $1 AND repo = $2 AND comment_id = $3`,
		forge, repo, commentID); err != nil {
		return fmt.Errorf("forget command of comment %d in %s: %w", commentID, repo, err)
	}
	return tx.Commit()
}

// VouchedFor reports whether an ok-to-test acted on exactly sha.
func (s *CommandService) VouchedFor(ctx context.Context, forge patchgate.Forge, repo, sha string) (bool, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM comment_commands WHERE forge = $1 AND repo = $2 AND sha = $3 AND command = $4`,
		forge, repo, sha, patchgate.CommandOkToTest).Scan(&n); err != nil {
		return false, fmt.Errorf("find ok-to-test of %s in %s: %w", sha, repo, err)
	}
	return n > 0, nil
}
