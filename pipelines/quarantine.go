package pipelines

import (
	"context"
	"fmt"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/config"
)

// quarantines returns the quarantines of repo in force at now: those of cfg
// (its .patchgate.yml at the ref in question) and those created through the
// API. An entry of cfg written for more than 30 days is an error naming the
// limit and its line.
func (s *Service) quarantines(ctx context.Context, repo patchgate.RepoRef, cfg *config.RepoFile, now time.Time) ([]patchgate.Quarantine, error) {
	out, err := cfg.Quarantines(repo, now)
	if err != nil {
		return nil, err
	}
	if s.Quarantines == nil {
		return out, nil
	}
	stored, err := s.Quarantines.FindQuarantines(ctx, repo)
	if err != nil {
		return nil, fmt.Errorf("find quarantines of %s: %w", repo, err)
	}
	return append(out, stored...), nil
}

// QuarantinedTests returns the names of the tests quarantined now in suite of
// repo, by its .patchgate.yml at ref or through the API, sorted. A
// quarantined test never serves as proof: a check that a test failed before
// a fix and passes after it must leave these out (results a quarantine
// excused also carry TestResult.Quarantined).
func (s *Service) QuarantinedTests(ctx context.Context, repo patchgate.RepoRef, ref, suite string) ([]string, error) {
	cfg, err := s.readConfig(ctx, repo, ref)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	qs, err := s.quarantines(ctx, repo, cfg, now)
	if err != nil {
		return nil, err
	}
	return patchgate.QuarantinedTests(qs, suite, now), nil
}

// expiredQuarantines are the release blockers of repo's ended quarantines
// (cfg's and the API's): each must be fixed and removed, or renewed.
func (s *Service) expiredQuarantines(ctx context.Context, repo patchgate.RepoRef, cfg *config.RepoFile, now time.Time) ([]string, error) {
	qs, err := s.quarantines(ctx, repo, cfg, now)
	if err != nil {
		return nil, err
	}
	return patchgate.QuarantineBlockers(qs, now), nil
}
