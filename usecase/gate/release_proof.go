package gate

import (
	"context"
	"fmt"

	"github.com/patchgate/patchgate"
)

// releaseRun is the candidate's own verification on its SHA, whose test
// results every fix's proving tests must pass in (proof on the
// combination). It reads them once per evaluation, on first need.
type releaseRun struct {
	v     *patchgate.Verification
	sha   string
	read  bool
	tests []patchgate.TestResult
}

// blockers says which of fix's proving tests do not pass in the candidate's
// own run (patchgate.ReleaseProofBlockers). None while that run has not
// ended with a verdict: the suite blockers (suite_running, candidate_unverified,
// verification_error) already hold the candidate then, and an unfinished run's
// results would read as tests that did not run.
func (r *releaseRun) blockers(ctx context.Context, runs Evidence, fix patchgate.Fix, proof *patchgate.Proof) ([]patchgate.Blocker, error) {
	if r.v == nil || (r.v.State != patchgate.RunSuccess && r.v.State != patchgate.RunFailure) || len(patchgate.ProvingTests(proof)) == 0 {
		return nil, nil
	}
	if !r.read {
		for _, s := range r.v.Suites {
			ts, err := runs.FindTests(ctx, s.ID)
			if err != nil {
				return nil, fmt.Errorf("read the tests of suite %s of verification %d to check the fixes' proofs in the release: %w", s.Name, r.v.ID, err)
			}
			r.tests = append(r.tests, ts...)
		}
		r.read = true
	}
	return patchgate.ReleaseProofBlockers(fix, proof, r.sha, r.tests), nil
}
