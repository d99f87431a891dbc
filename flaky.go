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
