package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/patchgate/patchgate"
)

// ChangeService stores changes and the heads they replaced.
type ChangeService struct{ db *DB }

var _ patchgate.ChangeService = (*ChangeService)(nil)

// NewChangeService returns the change service of db.
func NewChangeService(db *DB) *ChangeService { return &ChangeService{db: db} }

const changeColumns = `id, forge, repo, kind, number, title, body, source_branch, target_branch,
	head_sha, base_sha, author, author_id, state, from_fork, merge_commit_sha, url,
	forge_updated_at, head_updated_at, merged_at, created_at, updated_at`

// changeDest returns the scan destinations of changeColumns.
func changeDest(c *patchgate.Change) []any {
	return []any{&c.ID, &c.Forge, &c.Repo, &c.Kind, &c.Number, &c.Title, &c.Body, &c.SourceBranch,
		&c.TargetBranch, &c.HeadSHA, &c.BaseSHA, &c.Author, &c.AuthorID, &c.State, &c.FromFork, &c.MergeCommitSHA, &c.URL,
		timeCol{&c.ForgeUpdatedAt}, timeCol{&c.HeadUpdatedAt}, timeCol{&c.MergedAt}, timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt}}
}

// scanChange reads the changeColumns of one row.
func scanChange(sc interface{ Scan(...any) error }) (*patchgate.Change, error) {
	var c patchgate.Change
	if err := sc.Scan(changeDest(&c)...); err != nil {
		return nil, err
	}
	return &c, nil
}

// FindChangeByID returns ENOTFOUND when there is no such change.
func (s *ChangeService) FindChangeByID(ctx context.Context, id int64) (*patchgate.Change, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findChangeByID(ctx, tx, id)
}

func findChangeByID(ctx context.Context, tx *txn, id int64) (*patchgate.Change, error) {
	c, err := scanChange(tx.QueryRow(ctx, `SELECT `+changeColumns+` FROM changes WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "change %d", id)
	}
	return c, nil
}

// FindChange finds a change by identity (forge, repo as stored, key such as
// "pr/42"); ENOTFOUND if absent.
func (s *ChangeService) FindChange(ctx context.Context, forge patchgate.Forge, repo, key string) (*patchgate.Change, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return findChange(ctx, tx, forge, repo, key, "")
}

// findChange finds a change by identity; lock is "" or forUpdate().
func findChange(ctx context.Context, tx *txn, forge patchgate.Forge, repo, key, lock string) (*patchgate.Change, error) {
	c, err := scanChange(tx.QueryRow(ctx, `SELECT `+changeColumns+` FROM changes
		WHERE forge = $1 AND repo = $2 AND key = $3`+lock, forge, repo, key))
	if err != nil {
		return nil, notFound(err, "change %s:%s %s", forge, repo, key)
	}
	return c, nil
}

// FindChanges returns matching changes, most recently updated first, and the
// total count.
func (s *ChangeService) FindChanges(ctx context.Context, f patchgate.ChangeFilter) ([]*patchgate.Change, int, error) {
	var w where
	if f.Forge != nil {
		w.add("forge = $?", *f.Forge)
	}
	if f.Repo != nil {
		w.add("repo = $?", *f.Repo)
	}
	if f.Kind != nil {
		w.add("kind = $?", *f.Kind)
	}
	if f.Number != nil {
		w.add("number = $?", *f.Number)
	}
	if f.State != nil {
		w.add("state = $?", *f.State)
	}
	if f.SourceBranch != nil {
		w.add("source_branch = $?", *f.SourceBranch)
	}
	if f.HeadSHA != nil {
		w.add("head_sha = $?", *f.HeadSHA)
	}
	if f.MergeCommitSHA != nil {
		w.add("merge_commit_sha = $?", *f.MergeCommitSHA)
	}
	if f.TicketID != nil {
		w.add("EXISTS (SELECT 1 FROM links WHERE links.change_id = changes.id AND links.ticket_id = $?)", *f.TicketID)
	}

	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM changes`+w.String(), w.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count changes: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT `+changeColumns+` FROM changes`+w.String()+
		` ORDER BY updated_at DESC, id DESC`+w.page(f.Offset, f.Limit), w.args...)
	if err != nil {
		return nil, 0, fmt.Errorf("find changes: %w", err)
	}
	defer rows.Close()
	cs := []*patchgate.Change{}
	for rows.Next() {
		c, err := scanChange(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("find changes: %w", err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("find changes: %w", err)
	}
	return cs, total, nil
}

// ApplyChangeUpdate creates or updates a change in one transaction: it locks (or
// creates) the change's row, records u's head event, calls Change.Apply with all
// the change's head events, and saves. Concurrent updates of one
// change run one after the other: on SQLite every write transaction holds the
// write lock from BEGIN, on PostgreSQL the row is locked with FOR UPDATE.
func (s *ChangeService) ApplyChangeUpdate(ctx context.Context, u patchgate.ChangeUpdate) (*patchgate.Change, patchgate.ApplyResult, error) {
	var none patchgate.ApplyResult
	// The identity is checked before anything is written; the result of Apply is
	// validated again below.
	c := &patchgate.Change{Forge: u.Forge, Repo: u.Repo, Kind: u.Kind, Number: u.Number,
		SourceBranch: u.SourceBranch, State: patchgate.ChangeOpen}
	if u.Kind != patchgate.ChangePush {
		c.SourceBranch = ""
	}
	if err := c.Validate(); err != nil {
		return nil, none, err
	}
	if u.PreviousHeadSHA != "" && !patchgate.ValidSHA(u.PreviousHeadSHA) {
		return nil, none, patchgate.Errorf(patchgate.EINVALID, "change %s: previous head %q is not a commit SHA", c.Ref(), u.PreviousHeadSHA)
	}
	// Stored times have microsecond precision; compare like with like.
	u.UpdatedAt = u.UpdatedAt.UTC().Truncate(time.Microsecond)
	key := c.Key()

	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, none, err
	}
	defer tx.Rollback()
	now := s.db.now()

	// Look first, insert only when absent, so that PostgreSQL spends no identity
	// value on updates. A concurrent creator makes ON CONFLICT wait for its commit;
	// the second look then finds and locks its row.
	stored, err := findChange(ctx, tx, u.Forge, u.Repo, key, s.db.forUpdate())
	created := false
	if patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
		var id int64
		err = tx.QueryRow(ctx, `INSERT INTO changes (forge, repo, key, kind, number, source_branch, state,
			created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
			ON CONFLICT (forge, repo, key) DO NOTHING RETURNING id`,
			c.Forge, c.Repo, key, c.Kind, c.Number, c.SourceBranch, "", now).Scan(&id)
		switch {
		case err == nil:
			created = true
			c.ID, c.State, c.CreatedAt = id, "", now
			stored = c
		case errors.Is(err, sql.ErrNoRows):
			stored, err = findChange(ctx, tx, u.Forge, u.Repo, key, s.db.forUpdate())
		default:
			err = fmt.Errorf("create change %s: %w", c.Ref(), err)
		}
	}
	if err != nil {
		return nil, none, err
	}
	c = stored

	heads, err := recordHeadEvent(ctx, tx, c, u)
	if err != nil {
		return nil, none, err
	}
	author, authorID := c.Author, c.AuthorID
	r := c.Apply(u, heads)
	r.Created = created
	if err := c.Validate(); err != nil {
		return nil, none, err
	}
	if r.Changed || created {
		c.UpdatedAt = now
	}
	if _, err := tx.Exec(ctx, `UPDATE changes SET title = $1, body = $2, source_branch = $3,
		target_branch = $4, head_sha = $5, base_sha = $6, author = $7, state = $8, from_fork = $9,
		merge_commit_sha = $10, url = $11, forge_updated_at = $12, head_updated_at = $13, merged_at = $14,
		updated_at = $15, author_id = $16 WHERE id = $17`,
		c.Title, c.Body, c.SourceBranch, c.TargetBranch, c.HeadSHA, c.BaseSHA, c.Author, c.State, c.FromFork,
		c.MergeCommitSHA, c.URL, c.ForgeUpdatedAt, c.HeadUpdatedAt, c.MergedAt, c.UpdatedAt, c.AuthorID, c.ID); err != nil {
		return nil, none, fmt.Errorf("save change %s: %w", c.Ref(), err)
	}
	// The author decides who may not approve: audit verify compares the row
	// with the latest of these entries.
	if c.Author != author || c.AuthorID != authorID {
		detail := map[string]string{"author": c.Author, "was": author, "change": c.Ref()}
		if c.AuthorID != 0 {
			detail["author_id"] = strconv.FormatInt(c.AuthorID, 10)
		}
		if err := s.db.appendAudit(ctx, tx, patchgate.AuditEntry{Actor: patchgate.AuditActor(ctx),
			Action: patchgate.AuditChangeAuthor, Subject: fmt.Sprintf("change:%d", c.ID), SHA: c.HeadSHA,
			Detail: detail}); err != nil {
			return nil, none, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, none, err
	}
	return c, r, nil
}

// recordHeadEvent stores u's evidence about c's head (once: a replayed event adds
// nothing) and returns all of c's head events. Reading them all keeps the head a
// function of the whole evidence; a branch with thousands of pushes costs one
// indexed range scan of that many short rows per push.
func recordHeadEvent(ctx context.Context, tx *txn, c *patchgate.Change, u patchgate.ChangeUpdate) ([]patchgate.HeadEvent, error) {
	if u.HeadSHA == "" {
		return nil, nil
	}
	e := u.HeadEvent()
	if e.At.IsZero() {
		e.At = time.Unix(0, 0).UTC() // unknown: sorts before every known time
	}
	if _, err := tx.Exec(ctx, `INSERT INTO change_head_events (change_id, before_sha, after_sha, at)
		VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, c.ID, e.Before, e.After, e.At); err != nil {
		return nil, fmt.Errorf("record head event of %s: %w", c.Ref(), err)
	}
	rows, err := tx.Query(ctx, `SELECT before_sha, after_sha, at FROM change_head_events WHERE change_id = $1`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("read head events of %s: %w", c.Ref(), err)
	}
	defer rows.Close()
	var heads []patchgate.HeadEvent
	for rows.Next() {
		var h patchgate.HeadEvent
		if err := rows.Scan(&h.Before, &h.After, timeCol{&h.At}); err != nil {
			return nil, fmt.Errorf("read head events of %s: %w", c.Ref(), err)
		}
		heads = append(heads, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read head events of %s: %w", c.Ref(), err)
	}
	return heads, nil
}
