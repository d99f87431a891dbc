package patchgate

import (
	"fmt"
	"strings"
)

// A proof shows that a fix works alone: its tests failed without it and
// passed with it on its own change. A release combines every fix; another
// fix can undo it. So before a candidate ships, each proving test must pass
// again in the candidate's own run, on the combination itself.

// ProvingTests returns the tests of proof that prove its fix: those that
// failed (or did not build) without the fix and passed with it. None when the
// proof does not hold: ProofBlocker says why then.
func ProvingTests(proof *Proof) []ProofTest {
	if proof == nil || proof.State != ProofHolds {
		return nil
	}
	var out []ProofTest
	for _, r := range proof.Tests {
		if r.Head == ProofPassed && (r.Base == ProofFailed || r.Base == ProofNotBuilt) {
			out = append(out, r.ProofTest)
		}
	}
	return out
}

// ReleaseProofBlockers says which of f's proving tests (ProvingTests) do not
// pass in the release: releaseTests are the results of every suite of the
// candidate's own run on sha. A proving test that fails, does not build, is
// skipped or is absent there is a proof_broken_in_release blocker naming the
// ticket and the test. A run that reports no passing test at all (a plain log
// that names only failures) cannot show that a test passed: when a proving
// test is absent from it, the blocker is proof_unlisted_in_release instead,
// one for the fix. nil when every proving test passes in the release.
func ReleaseProofBlockers(f Fix, proof *Proof, sha string, releaseTests []TestResult) []Blocker {
	tests := ProvingTests(proof)
	if len(tests) == 0 {
		return nil
	}
	// A failed attempt of a test that passed on a retry of the same commit
	// (flaky) is not its outcome in the release: the retry is.
	var results []TestResult
	listed := false
	for _, r := range releaseTests {
		if r.Flaky && (r.Status == TestFailed || r.Status == TestErrored) {
			continue
		}
		listed = listed || (r.Status == TestPassed && !r.aboutPackage())
		results = append(results, r)
	}
	who, short := strings.TrimSuffix(f.prefix(), " "), ShortSHA(sha)
	var out []Blocker
	var absent []string
	for _, t := range tests {
		got, msg := outcome(t, results)
		var what string
		switch got {
		case ProofPassed:
			continue
		case ProofFailed:
			what = "fails"
		case ProofNotBuilt:
			what = "does not build"
		case ProofSkipped:
			what = "is skipped"
		default:
			if !listed {
				absent = append(absent, t.String())
				continue
			}
			what = "did not run"
		}
		m := fmt.Sprintf("%s: proof test %s %s in the release on %s", who, t, what, short)
		if msg != "" {
			m += ": " + msg
		}
		out = append(out, f.blocker(ReasonProofBrokenInRelease, m))
	}
	if len(absent) > 0 {
		out = append(out, f.blocker(ReasonProofUnlistedInRelease, fmt.Sprintf(
			"%s: the candidate's run on %s lists no passing tests, so its proof tests (%s) cannot be checked in the release",
			who, short, strings.Join(absent, ", "))))
	}
	return out
}
