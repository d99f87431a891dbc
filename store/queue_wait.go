package store

import (
	"context"
	"fmt"
	"time"

	"github.com/patchgate/patchgate"
)

// ExpireUnstarted ends the verifications that have waited in the queue since
// before queuedBefore without a worker claiming them (runners.max_queue_wait):
// each becomes an error with reason, its queued suite runs errors with
// description, audited like any verdict and suite-run state, in one
// transaction. A worker that picks up the job later finds the verification
// final and does not start it. It returns them with their suites, ascending;
// a verification claimed meanwhile is not touched.
func (s *VerificationService) ExpireUnstarted(ctx context.Context, queuedBefore time.Time, reason, description string) ([]*patchgate.Verification, error) {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := s.db.now()
	// queued_at is NULL until an orphan is queued again: till then the wait
	// began when the verification was created.
	ids, err := queryIDs(ctx, tx, `UPDATE verifications SET state = $1, reason = $2, finished_at = $3
		WHERE state = $4 AND COALESCE(queued_at, created_at) < $5 RETURNING id`,
		patchgate.RunError, reason, now, patchgate.RunQueued, queuedBefore)
	if err != nil {
		return nil, fmt.Errorf("expire unstarted verifications: %w", err)
	}
	if len(ids) == 0 {
		return []*patchgate.Verification{}, tx.Commit()
	}
	var w where
	in := idList(&w, ids)
	var expiredRuns []*patchgate.SuiteRun
	if err := scanEach(ctx, tx, `SELECT id, verification_id, name, required FROM suite_runs WHERE verification_id IN (`+in+
		`) AND state IN `+liveStates+` ORDER BY id`, w.args, func(sc interface{ Scan(...any) error }) error {
		sr := &patchgate.SuiteRun{}
		if err := sc.Scan(&sr.ID, &sr.VerificationID, &sr.Name, &sr.Required); err != nil {
			return err
		}
		expiredRuns = append(expiredRuns, sr)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("expire unstarted verifications: find suite runs: %w", err)
	}
	w = where{}
	in = idList(&w, ids)
	if _, err := tx.Exec(ctx, `UPDATE suite_runs SET state = `+w.arg(patchgate.RunError)+`, description = `+w.arg(description)+
		`, finished_at = `+w.arg(now)+` WHERE verification_id IN (`+in+`) AND state IN `+liveStates, w.args...); err != nil {
		return nil, fmt.Errorf("expire unstarted verifications: end suite runs: %w", err)
	}
	vs, err := verificationsWithSuites(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	// Verdicts and suite-run states decide the gate: audit verify compares
	// the rows with these entries.
	for _, v := range vs {
		detail := patchgate.AuditVerificationRecord(v)
		detail["reason"] = reason
		if err := s.db.appendAudit(ctx, tx, patchgate.AuditEntry{Actor: patchgate.AuditActor(ctx),
			Action: patchgate.AuditVerdict, Subject: fmt.Sprintf("verification:%d", v.ID), SHA: v.SHA,
			Detail: detail}); err != nil {
			return nil, err
		}
	}
	for _, sr := range expiredRuns {
		sr.State = patchgate.RunError
		if err := s.db.appendAudit(ctx, tx, suiteRunEntry(ctx, sr)); err != nil {
			return nil, err
		}
	}
	return vs, tx.Commit()
}
