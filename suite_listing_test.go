package patchgate_test

import (
	"testing"

	"github.com/patchgate/patchgate"
)

func TestSuiteRunListsNoTests(t *testing.T) {
	tests := []struct {
		name string
		s    patchgate.SuiteRun
		want bool
	}{
		{"passed without naming a test", patchgate.SuiteRun{State: patchgate.RunSuccess}, true},
		{"failed without naming a test", patchgate.SuiteRun{State: patchgate.RunFailure}, true},
		{"counted tests", patchgate.SuiteRun{State: patchgate.RunSuccess, Passed: 3}, false},
		{"only skipped", patchgate.SuiteRun{State: patchgate.RunSuccess, Skipped: 1}, false},
		{"listed results", patchgate.SuiteRun{State: patchgate.RunFailure, Tests: []patchgate.TestResult{{Name: "TestX"}}}, false},
		{"still running", patchgate.SuiteRun{State: patchgate.RunRunning}, false},
		{"broken infrastructure", patchgate.SuiteRun{State: patchgate.RunError}, false},
		{"canceled", patchgate.SuiteRun{State: patchgate.RunCanceled}, false},
	}
	for _, tc := range tests {
		if got := tc.s.ListsNoTests(); got != tc.want {
			t.Errorf("%s: ListsNoTests() = %v, want %v", tc.name, got, tc.want)
		}
	}
}
