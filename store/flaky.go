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

// FindFlakeRates returns, for each test with a flaky result in its
// repository's last verifications (at most last of them per repository), the
// share of its suite runs there in which it was flaky; the highest rates
// first, at most limit of them.
func (s *VerificationService) FindFlakeRates(ctx context.Context, last, limit int) ([]patchgate.FlakeRate, error) {
	if last <= 0 {
		last = patchgate.DefaultFlakyWindow
	}
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	// Only the tests that were flaky in the window are counted: the rest have
	// rate 0 and are not exported, which keeps the scan to those tests.
	rows, err := tx.Query(ctx, `WITH recent AS (
			SELECT id, forge, repo FROM (
				SELECT id, forge, repo, ROW_NUMBER() OVER (PARTITION BY forge, repo ORDER BY id DESC) AS rn FROM verifications
			) r WHERE rn <= $1
		), flaky AS (
			SELECT DISTINCT recent.forge, recent.repo, t.name
			FROM test_results t
			JOIN suite_runs sr ON sr.id = t.suite_run_id
			JOIN recent ON recent.id = sr.verification_id
			WHERE t.flaky = $2
		), runs AS (
			SELECT recent.forge, recent.repo, t.name, t.suite_run_id,
				MAX(CASE WHEN t.flaky = $2 THEN 1 ELSE 0 END) AS was_flaky
			FROM test_results t
			JOIN suite_runs sr ON sr.id = t.suite_run_id
			JOIN recent ON recent.id = sr.verification_id
			JOIN flaky f ON f.forge = recent.forge AND f.repo = recent.repo AND f.name = t.name
			GROUP BY recent.forge, recent.repo, t.name, t.suite_run_id
		)
		SELECT forge, repo, name, SUM(was_flaky), COUNT(*) FROM runs
		GROUP BY forge, repo, name
		ORDER BY SUM(was_flaky) * 1.0 / COUNT(*) DESC, forge, repo, name
		LIMIT $3`, last, true, limit)
	if err != nil {
		return nil, fmt.Errorf("find flake rates: %w", err)
	}
	defer rows.Close()
	out := []patchgate.FlakeRate{}
	for rows.Next() {
		var r patchgate.FlakeRate
		if err := rows.Scan(&r.Repo.Forge, &r.Repo.Name, &r.Test, &r.Flaky, &r.Runs); err != nil {
			return nil, fmt.Errorf("find flake rates: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find flake rates: %w", err)
	}
	return out, nil
}
