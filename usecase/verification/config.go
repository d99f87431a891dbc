package verification

import (
	"context"
	"fmt"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/config"
)

// QuarantineFinder reads the quarantines created through the API.
type QuarantineFinder interface {
	FindQuarantines(ctx context.Context, repo patchgate.RepoRef) ([]patchgate.Quarantine, error)
}

// Configs reads repositories' .patchgate.yml through each forge's API, within
// the operator's ceilings, and the quarantines in force with it. The planner
// and the release gate read through it. Set the fields, then use it from any
// number of goroutines.
type Configs struct {
	// Sources read files through each forge's API; a forge without one has
	// no configuration to read.
	Sources map[patchgate.Forge]patchgate.SourceFetcher
	// Ceilings bound what any repository's suites may ask for.
	Ceilings config.Ceilings
	// APIQuarantines are the quarantines created through the API; nil means
	// only those of .patchgate.yml.
	APIQuarantines QuarantineFinder
}

// Read reads and parses .patchgate.yml at ref. A missing file is ENOTFOUND
// with a message that tells the user what to do.
func (c *Configs) Read(ctx context.Context, repo patchgate.RepoRef, ref string) (*config.RepoFile, error) {
	src := c.Sources[repo.Forge]
	if src == nil {
		return nil, patchgate.Errorf(patchgate.EINVALID, "no API access to %s is configured", repo.Forge)
	}
	data, err := src.FileAt(ctx, repo, config.RepoFileName, ref)
	switch code := patchgate.ErrorCode(err); {
	case err == nil:
	case code == patchgate.ENOTFOUND:
		return nil, patchgate.Errorf(patchgate.ENOTFOUND, "no %s at %s: add one to have fixes verified", config.RepoFileName, patchgate.ShortSHA(ref))
	case code == patchgate.EUNAVAILABLE && ctx.Err() == nil:
		// No answer, or 5xx after the client's retries: the forge is down, not
		// the configuration wrong, so the worker tries again later; in words,
		// for the verdict if it stays down.
		return nil, &patchgate.ForgeUnreachableError{Forge: repo.Forge, Err: fmt.Errorf("read %s at %s: %w", config.RepoFileName, patchgate.ShortSHA(ref), err)}
	default:
		return nil, fmt.Errorf("read %s at %s: %w", config.RepoFileName, ref, err)
	}
	return config.ParseRepoFileWithin(config.RepoFileName, data, c.Ceilings)
}

// Quarantines returns the quarantines of repo in force at now: those of cfg
// (its .patchgate.yml at the ref in question) and those created through the
// API. An entry of cfg written for more than 30 days is an error naming the
// limit and its line.
func (c *Configs) Quarantines(ctx context.Context, repo patchgate.RepoRef, cfg *config.RepoFile, now time.Time) ([]patchgate.Quarantine, error) {
	out, err := cfg.Quarantines(repo, now)
	if err != nil {
		return nil, err
	}
	if c.APIQuarantines == nil {
		return out, nil
	}
	stored, err := c.APIQuarantines.FindQuarantines(ctx, repo)
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
func (c *Configs) QuarantinedTests(ctx context.Context, repo patchgate.RepoRef, ref, suite string) ([]string, error) {
	cfg, err := c.Read(ctx, repo, ref)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	qs, err := c.Quarantines(ctx, repo, cfg, now)
	if err != nil {
		return nil, err
	}
	return patchgate.QuarantinedTests(qs, suite, now), nil
}
