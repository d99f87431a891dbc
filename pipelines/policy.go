package pipelines

import (
	"context"

	"github.com/patchgate/patchgate"
)

// runPolicy is what the server's configuration and the trust in a change
// allow the environments of one verification.
type runPolicy struct {
	// egress: the repository is allowed to reach beyond the host.
	egress bool
	// trusted: the head is not from a fork nor by an untrusted author, so it
	// may write the caches that later runs read.
	trusted bool
}

// runPolicy decides the policy of v. A head whose change cannot be read is
// not trusted: a cache is easier to lose than to clean.
func (s *Service) runPolicy(ctx context.Context, v *patchgate.Verification) runPolicy {
	repo, err := s.Repos.Find(v.Forge, v.Repo)
	if err != nil {
		return runPolicy{}
	}
	p := runPolicy{egress: repo.Egress}
	if v.ChangeID == 0 {
		return p
	}
	ch, err := s.Changes.FindChangeByID(ctx, v.ChangeID)
	if err != nil {
		s.Logger.Warn("read change for the run policy", "verification_id", v.ID, "change_id", v.ChangeID, "err", err)
		return p
	}
	p.trusted = s.trustedChange(repo, ch) && ch.HeadSHA == v.SHA
	return p
}

// apply turns a suite into its plan under p: egress as allowed, and the
// suite's cache only for a trusted head. An untrusted head runs without the
// cache rather than with a copy it could poison or read secrets from.
func (p runPolicy) apply(v *patchgate.Verification, suite Suite) patchgate.SuitePlan {
	plan := suite.Plan()
	plan.Spec.Egress = p.egress
	if p.trusted && len(suite.Cache) > 0 {
		plan.Spec.Cache = &patchgate.CacheSpec{
			Repo:  string(v.Forge) + ":" + v.Repo,
			Suite: suite.Name,
			Paths: suite.Cache,
		}
	}
	return plan
}
