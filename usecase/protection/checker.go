// Package protection answers whether a repository's forge enforces
// patchgate's gate: it reads the forge's settings through the forge's own
// API and has patchgate.DecideEnforcement name each gap. It never changes
// forge settings; the CLI (`patchgate forge check`) and the dashboard both
// ask it, so they say the same thing.
package protection

import (
	"context"
	"fmt"

	"github.com/patchgate/patchgate"
)

// DefaultBranch is the release branch checked when none is named: the one
// `patchgate release create` takes without .patchgate.yml's release.branch.
const DefaultBranch = "main"

// Repos finds the configured repository a request names.
type Repos interface {
	Resolve(forge patchgate.Forge, name string) (*patchgate.Repository, error)
}

// Checker checks repositories' forge settings. Set the fields, then use it
// from any number of goroutines.
type Checker struct {
	// Readers read each forge's settings; a forge without one (no token)
	// cannot be checked.
	Readers map[patchgate.Forge]patchgate.EnforcementReader
	Repos   Repos
	// CheckContext is the name of patchgate's verdict status or check run.
	CheckContext string
	// GitHubAppID is patchgate's GitHub App id; 0 is token mode.
	GitHubAppID int64
	// StatusCheckURL is where GitLab's external status check must point.
	StatusCheckURL string
}

// Check reads the settings of the configured repository forge:name (forge
// may be empty when the name is unambiguous) for its release branch (""
// for DefaultBranch) and decides whether they enforce the gate. ENOTFOUND for
// a repository that is not configured, EINVALID for a forge without API
// access; the forge's own errors keep their codes (EFORBIDDEN when the token
// may not read a setting).
func (c *Checker) Check(ctx context.Context, forge patchgate.Forge, name, branch string) (*patchgate.Enforcement, error) {
	repo, err := c.Repos.Resolve(forge, name)
	if err != nil {
		return nil, err
	}
	reader := c.Readers[repo.Forge]
	if reader == nil {
		return nil, patchgate.Errorf(patchgate.EINVALID, "no %s token is configured, so %s's settings cannot be read: set %s.token",
			repo.Forge, repo.Name, repo.Forge)
	}
	if branch == "" {
		branch = DefaultBranch
	}
	want := c.Expectation(repo, branch)
	got, err := reader.ReadEnforcement(ctx, repo.Ref(), branch, want.Environments)
	if err != nil {
		return nil, fmt.Errorf("read the protection settings of %s: %w", repo.Ref(), err)
	}
	e := patchgate.DecideEnforcement(want, *got)
	return &e, nil
}

// Expectation is what patchgate's configuration expects of repo's forge.
func (c *Checker) Expectation(repo *patchgate.Repository, branch string) patchgate.EnforcementExpectation {
	want := patchgate.EnforcementExpectation{Forge: repo.Forge, Repo: repo.Name, Branch: branch,
		CheckContext: c.CheckContext, TagPattern: patchgate.DefaultTagPattern, Environments: repo.Environments}
	switch repo.Forge {
	case patchgate.GitHub:
		want.AppID = c.GitHubAppID
	case patchgate.GitLab:
		want.StatusCheckURL = c.StatusCheckURL
	}
	return want
}
