package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
)

// VerificationService stores verifications, their suite runs, test results and
// logs.
type VerificationService struct{ db *DB }

var _ patchgate.VerificationService = (*VerificationService)(nil)

// NewVerificationService returns the verification service of db.
func NewVerificationService(db *DB) *VerificationService { return &VerificationService{db: db} }

// liveStates is the SQL list of live run states. It must read exactly as in the
// predicate of the partial index verifications_live, which ON CONFLICT repeats.
const liveStates = `('queued', 'running')`

// createTries bounds how often CreateVerification looks for a live duplicate
// after losing an insert race to one that was finished before it could be read.
const createTries = 3

const verificationColumns = `id, forge, repo, sha, change_id, config_ref, config_digest, require_proof, state, stale, reason,
	trigger, attempt, worker, heartbeat_at, created_at, started_at, finished_at`

func verificationDest(v *patchgate.Verification) []any {
	return []any{&v.ID, &v.Forge, &v.Repo, &v.SHA, zeroIntCol{&v.ChangeID}, &v.ConfigRef, &v.ConfigDigest,
		&v.RequireProof, &v.State, &v.Stale, &v.Reason, &v.Trigger, &v.Attempt, &v.Worker, optTimeCol{&v.HeartbeatAt},
		timeCol{&v.CreatedAt}, optTimeCol{&v.StartedAt}, optTimeCol{&v.FinishedAt}}
}

// zeroIntCol scans a nullable id, NULL as 0.
type zeroIntCol struct{ p *int64 }

func (c zeroIntCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.p = 0
	case int64:
		*c.p = v
	default:
		return fmt.Errorf("scan id: unexpected %T", src)
	}
	return nil
}

// nullID binds an optional reference: 0 is NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// idList adds ids to w's arguments and returns their placeholders for an IN list.
func idList(w *where, ids []int64) string {
	ph := make([]string, len(ids))
	for i, id := range ids {
		ph[i] = w.arg(id)
	}
	return strings.Join(ph, ", ")
}

// validRunState reports whether s is one of the run states.
func validRunState(s patchgate.RunState) bool {
	switch s {
	case patchgate.RunQueued, patchgate.RunRunning, patchgate.RunSuccess, patchgate.RunFailure,
		patchgate.RunError, patchgate.RunCanceled:
		return true
	}
	return false
}

// findVerification returns a verification without its suites; lock is "" or
// forUpdate().
func findVerification(ctx context.Context, tx *txn, id int64, lock string) (*patchgate.Verification, error) {
	var v patchgate.Verification
	if err := tx.QueryRow(ctx, `SELECT `+verificationColumns+` FROM verifications WHERE id = $1`+lock,
		id).Scan(verificationDest(&v)...); err != nil {
		return nil, notFound(err, "verification %d", id)
	}
	return &v, nil
}

// verificationsWithSuites reads the verifications ids, in id order, with
// their suite runs, as a transaction that just changed them sees them.
func verificationsWithSuites(ctx context.Context, tx *txn, ids []int64) ([]*patchgate.Verification, error) {
	var w where
	vs, err := queryVerifications(ctx, tx, `SELECT `+verificationColumns+` FROM verifications
		WHERE id IN (`+idList(&w, ids)+`) ORDER BY id`, w.args...)
	if err != nil {
		return nil, err
	}
	return vs, loadSuites(ctx, tx, vs...)
}

func queryVerifications(ctx context.Context, tx *txn, query string, args ...any) ([]*patchgate.Verification, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("find verifications: %w", err)
	}
	defer rows.Close()
	vs := []*patchgate.Verification{}
	for rows.Next() {
		v := &patchgate.Verification{}
		if err := rows.Scan(verificationDest(v)...); err != nil {
			return nil, fmt.Errorf("find verifications: %w", err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find verifications: %w", err)
	}
	return vs, nil
}

// CreateVerification stores v with its suites, each queued, at attempt 1, or
// returns the live verification of the same commit and configuration ref with
// created false (planned or not: the content at a ref is fixed). v itself is not modified. Concurrent creators meet in the
// partial unique index verifications_live: on PostgreSQL the loser's ON CONFLICT
// waits for the winner's commit and then looks again; on SQLite write
// transactions run one at a time anyway.
func (s *VerificationService) CreateVerification(ctx context.Context, v *patchgate.Verification) (*patchgate.Verification, bool, error) {
	if err := v.Validate(); err != nil {
		return nil, false, err
	}
	ref := fmt.Sprintf("%s:%s@%s", v.Forge, v.Repo, v.SHA)
	names := map[string]bool{}
	for _, sr := range v.Suites {
		if sr == nil || sr.Name == "" {
			return nil, false, patchgate.Errorf(patchgate.EINVALID, "verification of %s: every suite needs a name", ref)
		}
		if names[sr.Name] {
			return nil, false, patchgate.Errorf(patchgate.EINVALID, "verification of %s: suite %q appears twice", ref, sr.Name)
		}
		names[sr.Name] = true
	}

	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, false, err
	}
	defer tx.Rollback()
	now := s.db.now()
	for range createTries {
		// Look first, so that PostgreSQL spends no identity value on duplicates. The
		// lock keeps the duplicate live until this transaction ends.
		live, err := queryVerifications(ctx, tx, `SELECT `+verificationColumns+` FROM verifications
			WHERE forge = $1 AND repo = $2 AND sha = $3 AND config_ref = $4 AND state IN `+liveStates+
			s.db.forUpdate(), v.Forge, v.Repo, v.SHA, v.ConfigRef)
		if err != nil {
			return nil, false, fmt.Errorf("create verification of %s: %w", ref, err)
		}
		if len(live) > 0 {
			if err := loadSuites(ctx, tx, live[0]); err != nil {
				return nil, false, err
			}
			return live[0], false, tx.Commit()
		}
		var id int64
		err = tx.QueryRow(ctx, `INSERT INTO verifications (forge, repo, sha, change_id, config_ref, config_digest,
			state, trigger, attempt, created_at, require_proof)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10)
			ON CONFLICT (forge, repo, sha, config_ref) WHERE state IN `+liveStates+` DO NOTHING RETURNING id`,
			v.Forge, v.Repo, v.SHA, nullID(v.ChangeID), v.ConfigRef, v.ConfigDigest, patchgate.RunQueued, v.Trigger,
			now, v.RequireProof).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			continue // a concurrent creator committed first: look again
		}
		if err != nil {
			return nil, false, fmt.Errorf("create verification of %s: %w", ref, err)
		}
		for _, sr := range v.Suites {
			if _, err := tx.Exec(ctx, `INSERT INTO suite_runs (verification_id, name, required, state, image)
				VALUES ($1, $2, $3, $4, $5)`, id, sr.Name, sr.Required, patchgate.RunQueued, sr.Image); err != nil {
				return nil, false, fmt.Errorf("create suite run %q of %s: %w", sr.Name, ref, err)
			}
		}
		stored, err := findVerification(ctx, tx, id, "")
		if err != nil {
			return nil, false, err
		}
		if err := loadSuites(ctx, tx, stored); err != nil {
			return nil, false, err
		}
		return stored, true, tx.Commit()
	}
	return nil, false, fmt.Errorf("create verification of %s: the live duplicate changed %d times while looking", ref, createTries)
}

// PlanVerification records the plan of a verification created unplanned: the
// digest of the .patchgate.yml it runs and its suites, each queued. Planning
// again with the same digest returns the stored plan (a worker that died
// after planning); another digest is ECONFLICT, as is a final verification.
// It returns the verification with its suites.
func (s *VerificationService) PlanVerification(ctx context.Context, id int64, digest string, requireProof bool, suites []*patchgate.SuiteRun) (*patchgate.Verification, error) {
	if digest == "" {
		return nil, patchgate.Errorf(patchgate.EINVALID, "plan verification %d: config digest required", id)
	}
	names := map[string]bool{}
	for _, sr := range suites {
		if sr == nil || sr.Name == "" || names[sr.Name] {
			return nil, patchgate.Errorf(patchgate.EINVALID, "plan verification %d: every suite needs a name of its own", id)
		}
		names[sr.Name] = true
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	v, err := findVerification(ctx, tx, id, s.db.forUpdate())
	if err != nil {
		return nil, err
	}
	switch {
	case v.State.Final():
		return nil, patchgate.Errorf(patchgate.ECONFLICT, "verification %d is final (%s): it is not planned any more", id, v.State)
	case v.ConfigDigest == digest:
		// Planned already, by an earlier attempt.
	case v.ConfigDigest != "":
		return nil, patchgate.Errorf(patchgate.ECONFLICT, "verification %d was planned with another %s (digest %s)", id, ".patchgate.yml", v.ConfigDigest)
	default:
		if _, err := tx.Exec(ctx, `UPDATE verifications SET config_digest = $1, require_proof = $2 WHERE id = $3`, digest, requireProof, id); err != nil {
			return nil, fmt.Errorf("plan verification %d: %w", id, err)
		}
		for _, sr := range suites {
			if _, err := tx.Exec(ctx, `INSERT INTO suite_runs (verification_id, name, required, state, image)
				VALUES ($1, $2, $3, $4, $5)`, id, sr.Name, sr.Required, patchgate.RunQueued, sr.Image); err != nil {
				return nil, fmt.Errorf("plan suite run %q of verification %d: %w", sr.Name, id, err)
			}
		}
		v.ConfigDigest, v.RequireProof = digest, requireProof
	}
	if err := loadSuites(ctx, tx, v); err != nil {
		return nil, err
	}
	return v, tx.Commit()
}

// FindVerificationByID returns the verification with its suites (without
// tests); ENOTFOUND when absent.
func (s *VerificationService) FindVerificationByID(ctx context.Context, id int64) (*patchgate.Verification, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	v, err := findVerification(ctx, tx, id, "")
	if err != nil {
		return nil, err
	}
	return v, loadSuites(ctx, tx, v)
}

// FindVerifications returns matching verifications, newest (highest id) first,
// with suites, and the total count. A ChangeID filter of 0 selects the runs of
// bare commits.
func (s *VerificationService) FindVerifications(ctx context.Context, f patchgate.VerificationFilter) ([]*patchgate.Verification, int, error) {
	var w where
	if f.Forge != nil {
		w.add("forge = $?", *f.Forge)
	}
	if f.Repo != nil {
		w.add("repo = $?", *f.Repo)
	}
	if f.SHA != nil {
		w.add("sha = $?", *f.SHA)
	}
	if f.ChangeID != nil && *f.ChangeID == 0 {
		w.conds = append(w.conds, "change_id IS NULL")
	} else if f.ChangeID != nil {
		w.add("change_id = $?", *f.ChangeID)
	}
	if f.State != nil {
		w.add("state = $?", *f.State)
	}

	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM verifications`+w.String(), w.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count verifications: %w", err)
	}
	vs, err := queryVerifications(ctx, tx, `SELECT `+verificationColumns+` FROM verifications`+w.String()+
		` ORDER BY id DESC`+w.page(f.Offset, f.Limit), w.args...)
	if err != nil {
		return nil, 0, err
	}
	return vs, total, loadSuites(ctx, tx, vs...)
}

// ClaimVerification marks a queued verification running by worker at attempt,
// with its heartbeat and start time now. ECONFLICT, saying why, when it is final,
// at another attempt or already running; ENOTFOUND when absent.
func (s *VerificationService) ClaimVerification(ctx context.Context, id int64, attempt int, worker string) error {
	if worker == "" {
		return patchgate.Errorf(patchgate.EINVALID, "claim verification %d: worker required", id)
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	v, err := findVerification(ctx, tx, id, s.db.forUpdate())
	if err != nil {
		return err
	}
	switch {
	case v.State.Final():
		return patchgate.Errorf(patchgate.ECONFLICT, "verification %d is final (%s): it must not start", id, v.State)
	case v.Attempt != attempt:
		return patchgate.Errorf(patchgate.ECONFLICT, "verification %d is at attempt %d, not %d", id, v.Attempt, attempt)
	case v.State != patchgate.RunQueued:
		return patchgate.Errorf(patchgate.ECONFLICT, "verification %d is already running on %q", id, v.Worker)
	}
	now := s.db.now()
	if _, err := tx.Exec(ctx, `UPDATE verifications SET state = $1, worker = $2, heartbeat_at = $3, started_at = $3
		WHERE id = $4`, patchgate.RunRunning, worker, now, id); err != nil {
		return fmt.Errorf("claim verification %d: %w", id, err)
	}
	return tx.Commit()
}

// Heartbeat records that worker is still running the verification. ECONFLICT
// when it is not running by that worker; ENOTFOUND when absent.
func (s *VerificationService) Heartbeat(ctx context.Context, id int64, worker string) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	v, err := findVerification(ctx, tx, id, s.db.forUpdate())
	if err != nil {
		return err
	}
	if v.State != patchgate.RunRunning || v.Worker != worker {
		return patchgate.Errorf(patchgate.ECONFLICT, "verification %d is not running on %q (state %s, worker %q)",
			id, worker, v.State, v.Worker)
	}
	if _, err := tx.Exec(ctx, `UPDATE verifications SET heartbeat_at = $1 WHERE id = $2`, s.db.now(), id); err != nil {
		return fmt.Errorf("heartbeat of verification %d: %w", id, err)
	}
	return tx.Commit()
}

// RequeueOrphans puts running verifications whose heartbeat is older than
// staleBefore back to queued at the next attempt, resets their suite runs
// (results, tests and logs deleted) and their proofs, and returns them with
// their suites.
func (s *VerificationService) RequeueOrphans(ctx context.Context, staleBefore time.Time) ([]*patchgate.Verification, error) {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	// queued_at restarts the wait for a runner (runners.max_queue_wait).
	ids, err := queryIDs(ctx, tx, `UPDATE verifications SET state = $1, attempt = attempt + 1, worker = '',
		heartbeat_at = NULL, started_at = NULL, queued_at = $4
		WHERE state = $2 AND heartbeat_at < $3 RETURNING id`, patchgate.RunQueued, patchgate.RunRunning, staleBefore, s.db.now())
	if err != nil {
		return nil, fmt.Errorf("requeue orphans: %w", err)
	}
	if len(ids) == 0 {
		return []*patchgate.Verification{}, tx.Commit()
	}
	var w where
	in := idList(&w, ids)
	suites := `SELECT id FROM suite_runs WHERE verification_id IN (` + in + `)`
	if _, err := tx.Exec(ctx, `DELETE FROM test_results WHERE suite_run_id IN (`+suites+`)`, w.args...); err != nil {
		return nil, fmt.Errorf("requeue orphans: delete tests: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM suite_logs WHERE suite_run_id IN (`+suites+`)`, w.args...); err != nil {
		return nil, fmt.Errorf("requeue orphans: delete logs: %w", err)
	}
	// A proof saved just before the worker died belongs to the old attempt.
	if _, err := tx.Exec(ctx, `DELETE FROM proofs WHERE verification_id IN (`+in+`)`, w.args...); err != nil {
		return nil, fmt.Errorf("requeue orphans: delete proofs: %w", err)
	}
	queued := w.arg(patchgate.RunQueued)
	if _, err := tx.Exec(ctx, `UPDATE suite_runs SET state = `+queued+`, exit_code = NULL, oom_killed = FALSE,
		timed_out = FALSE, description = '', passed = 0, failed = 0, skipped = 0, image_digests = '{}',
		timings = '{}', log_bytes = 0, started_at = NULL, finished_at = NULL
		WHERE verification_id IN (`+in+`)`, w.args...); err != nil {
		return nil, fmt.Errorf("requeue orphans: reset suite runs: %w", err)
	}
	vs, err := verificationsWithSuites(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		if err := s.db.appendAudit(ctx, tx, patchgate.AuditEntry{Actor: patchgate.AuditActor(ctx),
			Action: patchgate.AuditVerificationRequeued, Subject: fmt.Sprintf("verification:%d", v.ID), SHA: v.SHA,
			Detail: map[string]string{"attempt": strconv.Itoa(v.Attempt), "reason": "its worker stopped sending heartbeats",
				"repo": patchgate.RepoRef{Forge: v.Forge, Name: v.Repo}.String()}}); err != nil {
			return nil, err
		}
	}
	return vs, tx.Commit()
}

// queryIDs runs a query returning one id column, such as an UPDATE … RETURNING
// id, and returns the ids in ascending order.
func queryIDs(ctx context.Context, tx *txn, query string, args ...any) ([]int64, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Sort(ids)
	return ids, nil
}

// FinishVerification records a final state, reason and finish time, and audits
// the verdict; suite runs are left as they are. ECONFLICT when it is final already (a late finish never
// overwrites a cancellation), EINVALID for a live state, ENOTFOUND when absent.
func (s *VerificationService) FinishVerification(ctx context.Context, id int64, state patchgate.RunState, reason string) error {
	if !validRunState(state) || !state.Final() {
		return patchgate.Errorf(patchgate.EINVALID, "finish verification %d: %q is not a final state", id, string(state))
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	v, err := findVerification(ctx, tx, id, s.db.forUpdate())
	if err != nil {
		return err
	}
	if v.State.Final() {
		return patchgate.Errorf(patchgate.ECONFLICT, "verification %d is already %s", id, v.State)
	}
	if _, err := tx.Exec(ctx, `UPDATE verifications SET state = $1, reason = $2, finished_at = $3 WHERE id = $4`,
		state, reason, s.db.now(), id); err != nil {
		return fmt.Errorf("finish verification %d: %w", id, err)
	}
	// What the verdict is evidence for is recorded with it: audit verify
	// compares the row with this entry.
	v.State = state
	detail := patchgate.AuditVerificationRecord(v)
	detail["reason"] = reason
	if err := s.db.appendAudit(ctx, tx, patchgate.AuditEntry{Actor: patchgate.AuditActor(ctx),
		Action: patchgate.AuditVerdict, Subject: fmt.Sprintf("verification:%d", id), SHA: v.SHA,
		Detail: detail}); err != nil {
		return err
	}
	return tx.Commit()
}

// SupersedeVerifications marks every verification of the change at another SHA
// than head stale, cancels the live ones and their live suite runs with reason
// (audited: a verdict per verification, a suite_run.state per suite run),
// and returns the ids cancelled, ascending.
func (s *VerificationService) SupersedeVerifications(ctx context.Context, changeID int64, head, reason string) ([]int64, error) {
	if !patchgate.ValidSHA(head) {
		return nil, patchgate.Errorf(patchgate.EINVALID, "supersede verifications of change %d: %q is not a commit SHA", changeID, head)
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := s.db.now()
	ids, err := queryIDs(ctx, tx, `UPDATE verifications SET state = $1, reason = $2, stale = TRUE, finished_at = $3
		WHERE change_id = $4 AND sha <> $5 AND state IN `+liveStates+` RETURNING id`,
		patchgate.RunCanceled, reason, now, changeID, head)
	if err != nil {
		return nil, fmt.Errorf("cancel superseded verifications of change %d: %w", changeID, err)
	}
	var cancelledRuns []*patchgate.SuiteRun
	if len(ids) > 0 {
		var w where
		in := idList(&w, ids)
		if err := scanEach(ctx, tx, `SELECT id, verification_id, name, required FROM suite_runs WHERE verification_id IN (`+in+
			`) AND state IN `+liveStates+` ORDER BY id`, w.args, func(sc interface{ Scan(...any) error }) error {
			sr := &patchgate.SuiteRun{}
			if err := sc.Scan(&sr.ID, &sr.VerificationID, &sr.Name, &sr.Required); err != nil {
				return err
			}
			cancelledRuns = append(cancelledRuns, sr)
			return nil
		}); err != nil {
			return nil, fmt.Errorf("find suite runs of superseded verifications of change %d: %w", changeID, err)
		}
		w = where{}
		in = idList(&w, ids)
		if _, err := tx.Exec(ctx, `UPDATE suite_runs SET state = `+w.arg(patchgate.RunCanceled)+`, finished_at = `+
			w.arg(now)+` WHERE verification_id IN (`+in+`) AND state IN `+liveStates, w.args...); err != nil {
			return nil, fmt.Errorf("cancel suite runs of superseded verifications of change %d: %w", changeID, err)
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE verifications SET stale = TRUE WHERE change_id = $1 AND sha <> $2 AND NOT stale`,
		changeID, head); err != nil {
		return nil, fmt.Errorf("mark verifications of change %d stale: %w", changeID, err)
	}
	if len(ids) > 0 {
		var w where
		cancelled, err := queryVerifications(ctx, tx, `SELECT `+verificationColumns+` FROM verifications
			WHERE id IN (`+idList(&w, ids)+`) ORDER BY id`, w.args...)
		if err != nil {
			return nil, err
		}
		for _, v := range cancelled {
			detail := patchgate.AuditVerificationRecord(v)
			detail["reason"], detail["superseded_by"] = reason, head
			if err := s.db.appendAudit(ctx, tx, patchgate.AuditEntry{Actor: patchgate.AuditActor(ctx),
				Action: patchgate.AuditVerdict, Subject: fmt.Sprintf("verification:%d", v.ID), SHA: v.SHA,
				Detail: detail}); err != nil {
				return nil, err
			}
		}
		for _, sr := range cancelledRuns {
			sr.State = patchgate.RunCanceled
			if err := s.db.appendAudit(ctx, tx, suiteRunEntry(ctx, sr)); err != nil {
				return nil, err
			}
		}
	}
	return ids, tx.Commit()
}
