package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/patchgate/patchgate"
)

// EnforcementService keeps the forges' questions patchgate answers so that
// they enforce the gate: deployment reviews and GitLab's external status
// checks. Answers are audited with the state change that records them.
type EnforcementService struct{ db *DB }

// NewEnforcementService returns the enforcement records of db.
func NewEnforcementService(db *DB) *EnforcementService { return &EnforcementService{db: db} }

const deploymentReviewColumns = `id, forge, repo, environment, sha, run_id, deployment_id, callback_url, state, reason, comment, requested_at, answered_at`

func deploymentReviewDest(r *patchgate.DeploymentReview) []any {
	return []any{&r.ID, &r.Forge, &r.Repo, &r.Environment, &r.SHA, &r.RunID, &r.DeploymentID, &r.CallbackURL,
		&r.State, &r.Reason, &r.Comment, timeCol{&r.RequestedAt}, optTimeCol{&r.AnsweredAt}}
}

// RecordDeploymentReview stores r, pending, and returns the stored review: the
// one already stored when the forge asked the same question before (a
// redelivery), whatever its state.
func (s *EnforcementService) RecordDeploymentReview(ctx context.Context, r *patchgate.DeploymentReview) (*patchgate.DeploymentReview, error) {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if r.RequestedAt.IsZero() {
		r.RequestedAt = s.db.now()
	}
	if _, err := tx.Exec(ctx, `INSERT INTO deployment_reviews (forge, repo, environment, sha, run_id, deployment_id,
		callback_url, state, requested_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (forge, repo, environment, run_id, deployment_id) DO NOTHING`,
		r.Forge, r.Repo, r.Environment, r.SHA, r.RunID, r.DeploymentID, r.CallbackURL, patchgate.DeployWait, r.RequestedAt); err != nil {
		return nil, fmt.Errorf("record the review of a deployment of %s to %s: %w", r.Repo, r.Environment, err)
	}
	out := &patchgate.DeploymentReview{}
	if err := tx.QueryRow(ctx, `SELECT `+deploymentReviewColumns+` FROM deployment_reviews
		WHERE forge = $1 AND repo = $2 AND environment = $3 AND run_id = $4 AND deployment_id = $5`,
		r.Forge, r.Repo, r.Environment, r.RunID, r.DeploymentID).Scan(deploymentReviewDest(out)...); err != nil {
		return nil, fmt.Errorf("read the review of a deployment of %s to %s: %w", r.Repo, r.Environment, err)
	}
	return out, tx.Commit()
}

// PendingDeploymentReviews returns the unanswered reviews, oldest first; of
// one repository when repo is not "".
func (s *EnforcementService) PendingDeploymentReviews(ctx context.Context, forge patchgate.Forge, repo string) ([]*patchgate.DeploymentReview, error) {
	var w where
	w.add("state = $?", patchgate.DeployWait)
	if forge != "" {
		w.add("forge = $?", forge)
	}
	if repo != "" {
		w.add("repo = $?", repo)
	}
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.Query(ctx, `SELECT `+deploymentReviewColumns+` FROM deployment_reviews`+w.String()+` ORDER BY id LIMIT 500`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("find pending deployment reviews: %w", err)
	}
	defer rows.Close()
	var out []*patchgate.DeploymentReview
	for rows.Next() {
		r := &patchgate.DeploymentReview{}
		if err := rows.Scan(deploymentReviewDest(r)...); err != nil {
			return nil, fmt.Errorf("find pending deployment reviews: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// FindDeploymentReviews returns the reviews of repo, newest first (at most 100).
func (s *EnforcementService) FindDeploymentReviews(ctx context.Context, forge patchgate.Forge, repo string) ([]*patchgate.DeploymentReview, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.Query(ctx, `SELECT `+deploymentReviewColumns+` FROM deployment_reviews WHERE forge = $1 AND repo = $2
		ORDER BY id DESC LIMIT 100`, forge, repo)
	if err != nil {
		return nil, fmt.Errorf("find deployment reviews of %s: %w", repo, err)
	}
	defer rows.Close()
	var out []*patchgate.DeploymentReview
	for rows.Next() {
		r := &patchgate.DeploymentReview{}
		if err := rows.Scan(deploymentReviewDest(r)...); err != nil {
			return nil, fmt.Errorf("find deployment reviews of %s: %w", repo, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// FindDeploymentReview returns review id; ENOTFOUND when there is none.
func (s *EnforcementService) FindDeploymentReview(ctx context.Context, id int64) (*patchgate.DeploymentReview, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	r := &patchgate.DeploymentReview{}
	if err := tx.QueryRow(ctx, `SELECT `+deploymentReviewColumns+` FROM deployment_reviews WHERE id = $1`, id).Scan(deploymentReviewDest(r)...); err != nil {
		return nil, notFound(err, "deployment review %d", id)
	}
	return r, nil
}

// AnswerDeploymentReview records the answer the forge was given and audits
// it, in one transaction. It reports false, changing nothing, when the review
// was answered already (by another process), so each review is answered once.
func (s *EnforcementService) AnswerDeploymentReview(ctx context.Context, id int64, state patchgate.DeployVerdict, reason patchgate.DeployReason, comment string) (bool, error) {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	r := &patchgate.DeploymentReview{}
	if err := tx.QueryRow(ctx, `SELECT `+deploymentReviewColumns+` FROM deployment_reviews WHERE id = $1`+s.db.forUpdate(), id).Scan(deploymentReviewDest(r)...); err != nil {
		return false, notFound(err, "deployment review %d", id)
	}
	if r.State != patchgate.DeployWait {
		return false, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE deployment_reviews SET state = $1, reason = $2, comment = $3, answered_at = $4 WHERE id = $5`,
		state, reason, comment, s.db.now(), id); err != nil {
		return false, fmt.Errorf("answer deployment review %d: %w", id, err)
	}
	if err := s.db.appendAudit(ctx, tx, patchgate.AuditEntry{
		Actor: patchgate.SystemActor, Action: patchgate.AuditDeploymentReviewed,
		Subject: fmt.Sprintf("repo:%s:%s environment:%s", r.Forge, r.Repo, r.Environment), SHA: r.SHA,
		Detail: map[string]string{"state": string(state), "reason": string(reason), "run_id": fmt.Sprint(r.RunID), "deployment_id": fmt.Sprint(r.DeploymentID)},
	}); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

const statusCheckColumns = `id, repo, project_id, mr_iid, sha, check_id, answered, final, requested_at, answered_at`

func statusCheckDest(c *patchgate.StatusCheck) []any {
	return []any{&c.ID, &c.Repo, &c.ProjectID, &c.MRIID, &c.SHA, &c.CheckID, &c.Answered, &c.Final,
		timeCol{&c.RequestedAt}, optTimeCol{&c.AnsweredAt}}
}

// RecordStatusCheck stores GitLab's request for check c on a merge request's
// head and returns the stored one, with what was answered already when GitLab
// asked about the same head before; the check's open questions about other
// heads of the merge request are closed.
func (s *EnforcementService) RecordStatusCheck(ctx context.Context, c *patchgate.StatusCheck) (*patchgate.StatusCheck, error) {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	// GitLab asks about a merge request's head only: a new head closes the
	// questions about the old ones, so sweeps stop answering them.
	if _, err := tx.Exec(ctx, `UPDATE status_checks SET final = $1 WHERE repo = $2 AND mr_iid = $3 AND check_id = $4 AND sha <> $5 AND final = $6`,
		true, c.Repo, c.MRIID, c.CheckID, c.SHA, false); err != nil {
		return nil, fmt.Errorf("close the older heads' status checks of %s!%d: %w", c.Repo, c.MRIID, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO status_checks (repo, project_id, mr_iid, sha, check_id, requested_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (repo, mr_iid, sha, check_id) DO NOTHING`,
		c.Repo, c.ProjectID, c.MRIID, c.SHA, c.CheckID, s.db.now()); err != nil {
		return nil, fmt.Errorf("record status check %d of %s!%d: %w", c.CheckID, c.Repo, c.MRIID, err)
	}
	out := &patchgate.StatusCheck{}
	if err := tx.QueryRow(ctx, `SELECT `+statusCheckColumns+` FROM status_checks
		WHERE repo = $1 AND mr_iid = $2 AND sha = $3 AND check_id = $4`, c.Repo, c.MRIID, c.SHA, c.CheckID).Scan(statusCheckDest(out)...); err != nil {
		return nil, fmt.Errorf("read status check %d of %s!%d: %w", c.CheckID, c.Repo, c.MRIID, err)
	}
	return out, tx.Commit()
}

// FindStatusCheck returns status check id as it is stored now; ENOTFOUND
// when there is none.
func (s *EnforcementService) FindStatusCheck(ctx context.Context, id int64) (*patchgate.StatusCheck, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	out := &patchgate.StatusCheck{}
	err = tx.QueryRow(ctx, `SELECT `+statusCheckColumns+` FROM status_checks WHERE id = $1`, id).Scan(statusCheckDest(out)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, patchgate.Errorf(patchgate.ENOTFOUND, "status check %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read status check %d: %w", id, err)
	}
	return out, nil
}

// OpenStatusChecks returns the status checks without a final answer, oldest
// first.
func (s *EnforcementService) OpenStatusChecks(ctx context.Context) ([]*patchgate.StatusCheck, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.Query(ctx, `SELECT `+statusCheckColumns+` FROM status_checks WHERE final = $1 ORDER BY id LIMIT 500`, false)
	if err != nil {
		return nil, fmt.Errorf("find open status checks: %w", err)
	}
	defer rows.Close()
	var out []*patchgate.StatusCheck
	for rows.Next() {
		c := &patchgate.StatusCheck{}
		if err := rows.Scan(statusCheckDest(c)...); err != nil {
			return nil, fmt.Errorf("find open status checks: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// AnswerStatusCheck records what GitLab was told about status check id.
func (s *EnforcementService) AnswerStatusCheck(ctx context.Context, id int64, answered patchgate.StatusCheckStatus, final bool) error {
	if _, err := s.db.exec(ctx, `UPDATE status_checks SET answered = $1, final = $2, answered_at = $3 WHERE id = $4`,
		answered, final, s.db.now(), id); err != nil {
		return fmt.Errorf("record the answer to status check %d: %w", id, err)
	}
	return nil
}
