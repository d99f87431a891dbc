package verification

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/config"
)

// ConfigReader reads a repository's .patchgate.yml and the quarantines in
// force with it (Configs).
type ConfigReader interface {
	Read(ctx context.Context, repo patchgate.RepoRef, ref string) (*config.RepoFile, error)
	Quarantines(ctx context.Context, repo patchgate.RepoRef, cfg *config.RepoFile, now time.Time) ([]patchgate.Quarantine, error)
}

// PlanRecorder records what a verification runs, once, when a worker first
// plans it.
type PlanRecorder interface {
	PlanVerification(ctx context.Context, id int64, digest string, requireProof bool, suites []*patchgate.SuiteRun) (*patchgate.Verification, error)
}

// LinkFinder reads the links of a change.
type LinkFinder interface {
	FindLinks(ctx context.Context, filter patchgate.LinkFilter) ([]*patchgate.Link, error)
}

// Planner is the runner's view of a verification: the suites to run, each as
// an environment under the run policy with its quarantines, and the
// fail-to-pass proof of a fix. It implements runners.Planner. Set the fields,
// then use it from any number of goroutines.
type Planner struct {
	Configs       ConfigReader
	Verifications PlanRecorder
	Changes       ChangeFinder
	Links         LinkFinder
	Repos         Repos
	// Forges compare a change's base and head and read its test files, for
	// the proof; one per forge.
	Forges map[patchgate.Forge]ProofSource
	Trust  Trust
	Logger *slog.Logger
}

// Plan reads .patchgate.yml at the verification's ref and turns each suite
// into an environment. An unplanned verification (Verify records none of
// this) gets its digest and suites recorded now, and set on v; a planned one
// (an attempt after its worker died) checks that the file is the content it
// was planned with. A forge that does not answer is a
// *patchgate.ForgeUnreachableError, worth trying again; any other error is
// final.
func (pl *Planner) Plan(ctx context.Context, v *patchgate.Verification) ([]patchgate.SuitePlan, error) {
	repo := patchgate.RepoRef{Forge: v.Forge, Name: v.Repo}
	cfg, err := pl.Configs.Read(ctx, repo, v.ConfigRef)
	if err != nil {
		return nil, err
	}
	if v.ConfigDigest == "" {
		suites := make([]*patchgate.SuiteRun, 0, len(cfg.Suites))
		for _, suite := range cfg.Suites {
			suites = append(suites, &patchgate.SuiteRun{Name: suite.Name, Required: suite.Required, Image: suite.Image})
		}
		planned, err := pl.Verifications.PlanVerification(ctx, v.ID, cfg.Digest, pl.requireProof(v, cfg), suites)
		if err != nil {
			return nil, fmt.Errorf("record the plan of verification %d: %w", v.ID, err)
		}
		v.ConfigDigest, v.RequireProof, v.Suites = planned.ConfigDigest, planned.RequireProof, planned.Suites
	}
	if cfg.Digest != v.ConfigDigest {
		return nil, patchgate.Errorf(patchgate.ECONFLICT, "%s at %s changed since the verification was planned", config.RepoFileName, v.ConfigRef)
	}
	quarantines, err := pl.Configs.Quarantines(ctx, repo, cfg, time.Now())
	if err != nil {
		return nil, err
	}
	policy := pl.runPolicy(ctx, v, cfg.Release.Branch)
	plans := make([]patchgate.SuitePlan, 0, len(cfg.Suites))
	for _, suite := range cfg.Suites {
		plan := policy.apply(v, suite)
		for _, q := range quarantines {
			if q.Suite == "" || q.Suite == suite.Name {
				plan.Quarantines = append(plan.Quarantines, q)
			}
		}
		plans = append(plans, plan)
	}
	return plans, nil
}

// requireProof is release.require_proof as the gate will hold v's fixes to
// it: the operator's floor for the repository, which .patchgate.yml may
// tighten but never loosen (patchgate.MergeReleasePolicy). A repository the
// directory does not know is held to patchgate.DefaultReleaseFloor, as the
// gate holds it.
func (pl *Planner) requireProof(v *patchgate.Verification, cfg *config.RepoFile) bool {
	floor := patchgate.DefaultReleaseFloor()
	if pl.Repos != nil {
		if repo, err := pl.Repos.Find(v.Forge, v.Repo); err == nil {
			floor = repo.Release
		}
	}
	eff, _ := patchgate.MergeReleasePolicy(floor, cfg.Release.Request())
	return eff.RequireProof
}
