package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/patchgate/patchgate"
)

// BisectionService stores candidates' culprit bisections, one per candidate;
// each start and end commits with its audit entry.
type BisectionService struct{ db *DB }

var _ patchgate.BisectionService = (*BisectionService)(nil)

// NewBisectionService returns the bisection service of db.
func NewBisectionService(db *DB) *BisectionService { return &BisectionService{db: db} }

const bisectionColumns = `candidate_id, state, points, culprit_sha, culprit_change, culprit_ticket, tests, verification_id, reason, started_by, started_at, finished_at`

// bisectionRow scans a row of bisections.
type bisectionRow struct {
	b                       patchgate.Bisection
	sha, change, ticket, ts string
}

func (r *bisectionRow) dest() []any {
	return []any{&r.b.CandidateID, &r.b.State, &r.b.Points, &r.sha, &r.change, &r.ticket, &r.ts, &r.b.VerificationID,
		&r.b.Reason, &r.b.StartedBy, timeCol{&r.b.StartedAt}, optTimeCol{&r.b.FinishedAt}}
}

func (r *bisectionRow) bisection() *patchgate.Bisection {
	b := r.b
	if r.sha != "" {
		b.Culprit = &patchgate.BisectPoint{SHA: r.sha, Change: r.change, Ticket: r.ticket}
	}
	if r.ts != "" {
		b.Tests = strings.Split(r.ts, "\n")
	}
	return &b
}

// lockCandidate reads candidate id's audit subject, locking its row.
func (s *BisectionService) lockCandidate(ctx context.Context, tx *txn, id int64) (*patchgate.Candidate, error) {
	var c patchgate.Candidate
	if err := tx.QueryRow(ctx, `SELECT id, forge, repo, sha, name FROM candidates WHERE id = $1`+s.db.forUpdate(), id).
		Scan(&c.ID, &c.Forge, &c.Repo, &c.SHA, &c.Name); err != nil {
		return nil, notFound(err, "candidate %d", id)
	}
	return &c, nil
}

func (s *BisectionService) find(ctx context.Context, tx *txn, id int64) (*patchgate.Bisection, error) {
	var r bisectionRow
	if err := tx.QueryRow(ctx, `SELECT `+bisectionColumns+` FROM bisections WHERE candidate_id = $1`, id).Scan(r.dest()...); err != nil {
		return nil, notFound(err, "bisection of candidate %d", id)
	}
	return r.bisection(), nil
}

// StartBisection starts b's candidate's bisection (audited
// bisection.started), or restarts one that ended without a culprit; a
// running or found one is returned as is. ENOTFOUND for an unknown candidate.
func (s *BisectionService) StartBisection(ctx context.Context, b *patchgate.Bisection) (*patchgate.Bisection, bool, error) {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, false, err
	}
	defer tx.Rollback()
	c, err := s.lockCandidate(ctx, tx, b.CandidateID)
	if err != nil {
		return nil, false, err
	}
	held, err := s.find(ctx, tx, b.CandidateID)
	switch {
	case err == nil && (held.State == patchgate.BisectionRunning || held.State == patchgate.BisectionFound):
		return held, false, nil
	case err != nil && patchgate.ErrorCode(err) != patchgate.ENOTFOUND:
		return nil, false, err
	}
	now := s.db.now()
	if held == nil {
		_, err = tx.Exec(ctx, `INSERT INTO bisections (candidate_id, state, points, reason, started_by, started_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			b.CandidateID, patchgate.BisectionRunning, b.Points, b.Reason, b.StartedBy, now)
	} else {
		_, err = tx.Exec(ctx, `UPDATE bisections SET state = $1, points = $2, reason = $3, started_by = $4, started_at = $5,
			culprit_sha = '', culprit_change = '', culprit_ticket = '', tests = '', verification_id = 0, finished_at = NULL
			WHERE candidate_id = $6`, patchgate.BisectionRunning, b.Points, b.Reason, b.StartedBy, now, b.CandidateID)
	}
	if err != nil {
		return nil, false, fmt.Errorf("start the bisection of candidate %d: %w", b.CandidateID, err)
	}
	if err := s.db.appendAudit(ctx, tx, candidateEntry(actorOr(ctx, b.StartedBy), patchgate.AuditBisectionStarted, c,
		map[string]string{"points": strconv.Itoa(b.Points)})); err != nil {
		return nil, false, err
	}
	out, err := s.find(ctx, tx, b.CandidateID)
	if err != nil {
		return nil, false, err
	}
	return out, true, tx.Commit()
}

// FindBisection returns a candidate's bisection; ENOTFOUND when none.
func (s *BisectionService) FindBisection(ctx context.Context, candidateID int64) (*patchgate.Bisection, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return s.find(ctx, tx, candidateID)
}

// FinishBisection records how a running bisection ended, with its culprit
// when found (audited bisection.finished). ECONFLICT when it is not running
// (say, canceled meanwhile), ENOTFOUND when there is none.
func (s *BisectionService) FinishBisection(ctx context.Context, b *patchgate.Bisection) error {
	if b.State == patchgate.BisectionRunning || (b.State == patchgate.BisectionFound) != (b.Culprit != nil) {
		return patchgate.Errorf(patchgate.EINVALID, "bisection of candidate %d: a final state, and a culprit exactly when found", b.CandidateID)
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	c, err := s.lockCandidate(ctx, tx, b.CandidateID)
	if err != nil {
		return err
	}
	held, err := s.find(ctx, tx, b.CandidateID)
	if err != nil {
		return err
	}
	if held.State != patchgate.BisectionRunning {
		return patchgate.Errorf(patchgate.ECONFLICT, "the bisection of candidate %s already ended %s", c.Name, held.State)
	}
	var culprit patchgate.BisectPoint
	if b.Culprit != nil {
		culprit = *b.Culprit
	}
	now := s.db.now()
	if _, err := tx.Exec(ctx, `UPDATE bisections SET state = $1, culprit_sha = $2, culprit_change = $3, culprit_ticket = $4,
		tests = $5, verification_id = $6, reason = $7, finished_at = $8 WHERE candidate_id = $9`,
		b.State, culprit.SHA, culprit.Change, culprit.Ticket, strings.Join(b.Tests, "\n"), b.VerificationID, b.Reason, now, b.CandidateID); err != nil {
		return fmt.Errorf("finish the bisection of candidate %d: %w", b.CandidateID, err)
	}
	detail := map[string]string{"state": string(b.State), "reason": b.Reason}
	if b.Culprit != nil {
		detail["culprit"] = culprit.String()
		detail["culprit_sha"] = culprit.SHA
		detail["tests"] = strings.Join(b.Tests, ", ")
		detail["verification_id"] = strconv.FormatInt(b.VerificationID, 10)
	}
	if err := s.db.appendAudit(ctx, tx, candidateEntry(actorOr(ctx, patchgate.SystemActor), patchgate.AuditBisectionFinished, c, detail)); err != nil {
		return err
	}
	return tx.Commit()
}

// RunningBisections lists the running bisections, oldest first.
func (s *BisectionService) RunningBisections(ctx context.Context) ([]*patchgate.Bisection, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.Query(ctx, `SELECT `+bisectionColumns+` FROM bisections WHERE state = $1 ORDER BY started_at, candidate_id`, patchgate.BisectionRunning)
	if err != nil {
		return nil, fmt.Errorf("list running bisections: %w", err)
	}
	defer rows.Close()
	var out []*patchgate.Bisection
	for rows.Next() {
		var r bisectionRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, fmt.Errorf("scan a bisection: %w", err)
		}
		out = append(out, r.bisection())
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return out, nil
}
