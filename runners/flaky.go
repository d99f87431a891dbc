package runners

import (
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/patchgate/patchgate"
)

// AttemptEnv is the environment variable that tells a suite which run of it
// this is on the commit: "1", then "2" and on when a failed suite is re-run
// (flaky_retries). A suite may use it, for instance to keep more output on a
// re-run.
const AttemptEnv = "PATCHGATE_ATTEMPT"

// withAttempt returns env with AttemptEnv set, leaving env itself alone: the
// plan's map is shared.
func withAttempt(env map[string]string, attempt int) map[string]string {
	out := maps.Clone(env)
	if out == nil {
		out = map[string]string{}
	}
	out[AttemptEnv] = strconv.Itoa(attempt)
	return out
}

// stampAttempt sets the attempt of each test result in place.
func stampAttempt(tests []patchgate.TestResult, attempt int) []patchgate.TestResult {
	for i := range tests {
		tests[i].Attempt = attempt
	}
	return tests
}

func failedStatus(st patchgate.TestStatus) bool {
	return st == patchgate.TestFailed || st == patchgate.TestErrored
}

// mergeAttempts puts the failed and errored results of the earlier attempts
// (each already stamped with its attempt) before the last attempt's results,
// so both outcomes of a test stay visible, and marks as flaky every result of
// a test that failed on one attempt and passed on a later one. It returns the
// flaky tests' names in order, leaving out a Go subtest whose parent is flaky
// too.
func mergeAttempts(earlier [][]patchgate.TestResult, last []patchgate.TestResult) ([]patchgate.TestResult, []string) {
	key := func(t patchgate.TestResult) string { return t.Class + "\x00" + t.Name }
	var all []patchgate.TestResult
	for _, tests := range earlier {
		for _, t := range tests {
			if failedStatus(t.Status) {
				all = append(all, t)
			}
		}
	}
	all = append(all, last...)
	flaky := map[string]bool{}
	failedBefore := map[string]bool{}
	for _, tests := range append(earlier, last) {
		for _, t := range tests {
			switch {
			case failedStatus(t.Status):
				failedBefore[key(t)] = true
			case t.Status == patchgate.TestPassed && failedBefore[key(t)]:
				flaky[key(t)] = true
			}
		}
	}
	var names []string
	seen := map[string]bool{}
	for i := range all {
		t := &all[i]
		if !flaky[key(*t)] {
			continue
		}
		t.Flaky = true
		if seen[t.Name] {
			continue
		}
		seen[t.Name] = true
		if parent, _, ok := strings.Cut(t.Name, "/"); ok && flaky[t.Class+"\x00"+parent] {
			continue
		}
		names = append(names, t.Name)
	}
	return all, names
}

// describeRetry says how a suite that was re-run after a failure ended:
// "passed on retry; flaky: TestX", or "2 attempts; " and its last failure.
func describeRetry(s *patchgate.SuiteRun, attempts int, flaky []string, first string) string {
	if s.State == patchgate.RunSuccess {
		if len(flaky) == 0 {
			// No test names (no report, a log we cannot read): say what failed.
			return patchgate.TruncateStatusDescription(fmt.Sprintf("passed on retry (attempt %d); attempt 1: %s", attempts, first))
		}
		return describeNames("passed on retry; flaky: ", flaky, "")
	}
	return patchgate.TruncateStatusDescription(fmt.Sprintf("%d attempts; %s", attempts, s.Description))
}
