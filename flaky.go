package patchgate

import "context"

// FlakyTest is a test that failed and then passed when its suite was re-run
// on the same commit (flaky_retries): flaky, not broken.
type FlakyTest struct {
	VerificationID int64  `json:"verification_id"`
	SHA            string `json:"sha"`
	Suite          string `json:"suite"`
	Class          string `json:"class"`
	Name           string `json:"name"`
	// Attempt is the run of the suite on which it passed.
	Attempt int `json:"attempt"`
}

// DefaultFlakyWindow is how many of a repository's latest verifications a
// flaky-test listing looks at when not told.
const DefaultFlakyWindow = 50

// FlakyTestService lists flaky tests from the stored test results.
// Implementations are safe for concurrent use.
type FlakyTestService interface {
	// FindFlakyTests returns the flaky tests of the repository's last
	// verifications (at most last of them), newest verification first; an
	// empty list when there are none.
	FindFlakyTests(ctx context.Context, repo RepoRef, last int) ([]FlakyTest, error)
}

// FlakeRate is how often a test was flaky in its repository's last
// verifications: in Flaky of the Runs of its suites there it failed and then
// passed on a re-run.
type FlakeRate struct {
	Repo  RepoRef `json:"repo"`
	Test  string  `json:"test"`
	Flaky int     `json:"flaky"`
	Runs  int     `json:"runs"`
}

// Rate is Flaky / Runs, 0 without runs.
func (r FlakeRate) Rate() float64 {
	if r.Runs == 0 {
		return 0
	}
	return float64(r.Flaky) / float64(r.Runs)
}
