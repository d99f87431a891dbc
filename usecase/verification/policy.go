package verification

import (
	"context"
	"maps"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/config"
)

// runPolicy is what the server's configuration and the trust in a change
// allow the environments of one verification.
type runPolicy struct {
	// egress: the repository is allowed to reach beyond the host.
	egress bool
	// secrets are the repository's suite secrets, given to trusted heads.
	secrets map[string]string
	// trusted: the head is not from a fork nor by an untrusted author, so it
	// may write the caches that later runs read.
	trusted bool
	// cacheScope keeps the release branch's caches apart from every other
	// run's (patchgate.CacheScope).
	cacheScope string
}

// runPolicy decides the policy of v under a configuration whose release
// branch is releaseBranch. A head whose change cannot be read is not trusted:
// a cache is easier to lose than to clean.
func (pl *Planner) runPolicy(ctx context.Context, v *patchgate.Verification, releaseBranch string) runPolicy {
	repo, err := pl.Repos.Find(v.Forge, v.Repo)
	if err != nil {
		return runPolicy{}
	}
	p := runPolicy{egress: repo.Egress, secrets: repo.SuiteSecrets}
	if v.ChangeID == 0 {
		return p
	}
	ch, err := pl.Changes.FindChangeByID(ctx, v.ChangeID)
	if err != nil {
		pl.Logger.Warn("read change for the run policy", "verification_id", v.ID, "change_id", v.ChangeID, "err", err)
		return p
	}
	trusted, err := pl.Trust.TrustedChange(ctx, repo, ch)
	if err != nil {
		pl.Logger.Warn("decide whether a head is trusted; it runs untrusted", "verification_id", v.ID, "change_id", v.ChangeID, "err", err)
	}
	p.trusted = trusted && err == nil && ch.HeadSHA == v.SHA
	p.cacheScope = patchgate.CacheScope(ch.Kind, ch.TargetBranch, releaseBranch)
	return p
}

// apply turns a suite into its plan under p: egress as allowed, and the
// suite's cache and the repository's suite secrets only for a trusted head.
// An untrusted head runs without the cache rather than with a copy it could
// poison, and never sees a secret.
func (p runPolicy) apply(v *patchgate.Verification, suite config.Suite) patchgate.SuitePlan {
	plan := suite.Plan()
	plan.Spec.Egress = p.egress
	if p.trusted && len(p.secrets) > 0 {
		env := maps.Clone(plan.Spec.Env)
		if env == nil {
			env = map[string]string{}
		}
		for k, val := range p.secrets {
			env[k] = val
			plan.Spec.Secrets = append(plan.Spec.Secrets, val)
		}
		plan.Spec.Env = env
	}
	if p.trusted && len(suite.Cache) > 0 {
		plan.Spec.Cache = &patchgate.CacheSpec{
			Repo:  string(v.Forge) + ":" + v.Repo,
			Suite: suite.Name,
			Scope: p.cacheScope,
			Paths: suite.Cache,
		}
	}
	return plan
}
