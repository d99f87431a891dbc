package store

import (
	"context"
	"fmt"

	"github.com/patchgate/patchgate"
)

var _ patchgate.FlakyTestService = (*VerificationService)(nil)

// FindFlakyTests returns the tests that passed on a re-run after failing on
// the same commit, in the repository's last verifications: one row per test
// and suite run (its passing result), newest verification first.
func (s *VerificationService) FindFlakyTests(ctx context.Context, repo patchgate.RepoRef, last int) ([]patchgate.FlakyTest, error) {
	if last <= 0 {
		last = patchgate.DefaultFlakyWindow
	}
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.Query(ctx, `SELECT v.id, v.sha, sr.name, t.class, t.name, t.attempt
		FROM test_results t
		JOIN suite_runs sr ON sr.id = t.suite_run_id
		JOIN verifications v ON v.id = sr.verification_id
		WHERE t.flaky = $1 AND t.status = $2 AND v.id IN (
			SELECT id FROM verifications WHERE forge = $3 AND repo = $4 ORDER BY id DESC LIMIT $5)
		ORDER BY v.id DESC, sr.id, t.seq`,
		true, patchgate.TestPassed, repo.Forge, repo.Name, last)
	if err != nil {
		return nil, fmt.Errorf("find flaky tests of %s: %w", repo, err)
	}
	defer rows.Close()
	out := []patchgate.FlakyTest{}
	for rows.Next() {
		var f patchgate.FlakyTest
		if err := rows.Scan(&f.VerificationID, &f.SHA, &f.Suite, &f.Class, &f.Name, &f.Attempt); err != nil {
			return nil, fmt.Errorf("find flaky tests of %s: %w", repo, err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find flaky tests of %s: %w", repo, err)
	}
	return out, nil
}
