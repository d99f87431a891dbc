package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/patchgate/patchgate"
)

// QuarantineService stores the quarantines created through the API.
type QuarantineService struct{ db *DB }

var _ patchgate.QuarantineService = (*QuarantineService)(nil)

// NewQuarantineService returns a QuarantineService on db.
func NewQuarantineService(db *DB) *QuarantineService { return &QuarantineService{db: db} }

const quarantineColumns = `id, forge, repo, suite, test, owner, ticket, reason, expires_at, created_by, created_at`

func quarantineDest(q *patchgate.Quarantine) []any {
	return []any{&q.ID, &q.Forge, &q.Repo, &q.Suite, &q.Test, &q.Owner, &q.Ticket, &q.Reason,
		timeCol{&q.ExpiresAt}, &q.CreatedBy, timeCol{&q.CreatedAt}}
}

// brokenWindow is how many of the repository's latest verifications the
// broken-test check reads.
const brokenWindow = patchgate.DefaultFlakyWindow

// CreateQuarantine stores q as of now, created by the actor in ctx, when
// patchgate.AdmitQuarantine admits it on its test's results in the last
// verifications (a broken test is not flaky: EUNPROCESSABLE), and audits it in
// the same transaction.
func (s *QuarantineService) CreateQuarantine(ctx context.Context, q *patchgate.Quarantine) error {
	q.Source, q.CreatedBy, q.CreatedAt = patchgate.QuarantineAPI, patchgate.AuditActor(ctx), s.db.now()
	if err := q.Validate(); err != nil {
		return err
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	outcomes, err := testOutcomes(ctx, tx, patchgate.RepoRef{Forge: q.Forge, Name: q.Repo}, q.Suite, q.Test, brokenWindow)
	if err != nil {
		return err
	}
	if err := patchgate.AdmitQuarantine(q, outcomes); err != nil {
		return err
	}
	err = tx.QueryRow(ctx, `INSERT INTO quarantines (forge, repo, suite, test, owner, ticket, reason, expires_at, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		q.Forge, q.Repo, q.Suite, q.Test, q.Owner, q.Ticket, q.Reason, q.ExpiresAt.UTC(), q.CreatedBy, q.CreatedAt).Scan(&q.ID)
	if patchgate.ErrorCode(err) == patchgate.ECONFLICT {
		return patchgate.Errorf(patchgate.ECONFLICT, "%s is already quarantined in %s%s: remove that quarantine to renew it", q.Test, q.Repo, suiteSuffix(q.Suite))
	} else if err != nil {
		return fmt.Errorf("quarantine %s in %s: %w", q.Test, q.Repo, err)
	}
	detail := map[string]string{"test": q.Test, "owner": q.Owner, "ticket": q.Ticket,
		"expires_at": q.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z")}
	if q.Suite != "" {
		detail["suite"] = q.Suite
	}
	if q.Reason != "" {
		detail["reason"] = q.Reason
	}
	if err := s.db.appendAudit(ctx, tx, patchgate.AuditEntry{Actor: q.CreatedBy, Action: patchgate.AuditQuarantineCreated,
		Subject: quarantineSubject(q), Detail: detail}); err != nil {
		return err
	}
	return tx.Commit()
}

func suiteSuffix(suite string) string {
	if suite == "" {
		return ""
	}
	return " (suite " + suite + ")"
}

func quarantineSubject(q *patchgate.Quarantine) string {
	return "quarantine:" + strconv.FormatInt(q.ID, 10) + " repo:" + string(q.Forge) + ":" + q.Repo
}

// FindQuarantines returns the repository's quarantines, oldest first.
func (s *QuarantineService) FindQuarantines(ctx context.Context, repo patchgate.RepoRef) ([]patchgate.Quarantine, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.Query(ctx, `SELECT `+quarantineColumns+` FROM quarantines WHERE forge = $1 AND repo = $2 ORDER BY id`,
		repo.Forge, repo.Name)
	if err != nil {
		return nil, fmt.Errorf("find quarantines of %s: %w", repo, err)
	}
	defer rows.Close()
	out := []patchgate.Quarantine{}
	for rows.Next() {
		q := patchgate.Quarantine{Source: patchgate.QuarantineAPI}
		if err := rows.Scan(quarantineDest(&q)...); err != nil {
			return nil, fmt.Errorf("find quarantines of %s: %w", repo, err)
		}
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find quarantines of %s: %w", repo, err)
	}
	return out, nil
}

// DeleteQuarantine removes quarantine id of repo, audited with what it was.
func (s *QuarantineService) DeleteQuarantine(ctx context.Context, repo patchgate.RepoRef, id int64) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	q := patchgate.Quarantine{}
	if err := tx.QueryRow(ctx, `SELECT `+quarantineColumns+` FROM quarantines WHERE id = $1 AND forge = $2 AND repo = $3`+s.db.forUpdate(),
		id, repo.Forge, repo.Name).Scan(quarantineDest(&q)...); err != nil {
		return notFound(err, "quarantine %d of %s", id, repo)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM quarantines WHERE id = $1`, id); err != nil {
		return fmt.Errorf("remove quarantine %d: %w", id, err)
	}
	if err := s.db.appendAudit(ctx, tx, patchgate.AuditEntry{Actor: patchgate.AuditActor(ctx), Action: patchgate.AuditQuarantineRemoved,
		Subject: quarantineSubject(&q), Detail: map[string]string{"test": q.Test, "owner": q.Owner, "ticket": q.Ticket,
			"expires_at": q.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z")}}); err != nil {
		return err
	}
	return tx.Commit()
}

// testOutcomes returns the results of test (in suite, or any suite for "") in
// the repository's last verifications, as evidence of flaky or broken.
func testOutcomes(ctx context.Context, tx *txn, repo patchgate.RepoRef, suite, test string, last int) ([]patchgate.TestOutcome, error) {
	var w where
	w.add("t.name = $?", test)
	if suite != "" {
		w.add("sr.name = $?", suite)
	}
	fa, ra, la := w.arg(repo.Forge), w.arg(repo.Name), w.arg(last)
	rows, err := tx.Query(ctx, `SELECT v.id, v.sha, t.status, t.flaky
		FROM test_results t
		JOIN suite_runs sr ON sr.id = t.suite_run_id
		JOIN verifications v ON v.id = sr.verification_id
		`+w.String()+` AND v.id IN (SELECT id FROM verifications WHERE forge = `+fa+` AND repo = `+ra+` ORDER BY id DESC LIMIT `+la+`)
		ORDER BY v.id DESC, sr.id, t.seq`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("read results of %s in %s: %w", test, repo, err)
	}
	defer rows.Close()
	var out []patchgate.TestOutcome
	for rows.Next() {
		var o patchgate.TestOutcome
		if err := rows.Scan(&o.VerificationID, &o.SHA, &o.Status, &o.Flaky); err != nil {
			return nil, fmt.Errorf("read results of %s in %s: %w", test, repo, err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read results of %s in %s: %w", test, repo, err)
	}
	return out, nil
}
