package patchgate_test

import (
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

func TestAdmitQuarantine(t *testing.T) {
	const a, b = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	q := &patchgate.Quarantine{Forge: patchgate.GitHub, Repo: "acme/pay", Test: "TestX", Owner: "alice", Ticket: "PAY-9"}
	failed := func(v int64, sha string) patchgate.TestOutcome {
		return patchgate.TestOutcome{VerificationID: v, SHA: sha, Status: patchgate.TestFailed}
	}
	tests := []struct {
		name     string
		outcomes []patchgate.TestOutcome
		want     string // error code
	}{
		{"no history: flaky as said", nil, ""},
		{"failed on two commits: maybe flaky", []patchgate.TestOutcome{failed(4, a), failed(5, b)}, ""},
		{"passed on a re-run: flaky", []patchgate.TestOutcome{failed(4, a), {VerificationID: 4, SHA: a, Status: patchgate.TestPassed, Flaky: true}}, ""},
		{"failed every time on a commit: broken", []patchgate.TestOutcome{failed(4, a), failed(4, a)}, patchgate.EUNPROCESSABLE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := patchgate.AdmitQuarantine(q, tt.outcomes)
			if got := patchgate.ErrorCode(err); got != tt.want {
				t.Fatalf("got %v, want code %q", err, tt.want)
			}
			if err != nil && !strings.Contains(patchgate.ErrorMessage(err), "cannot quarantine TestX as flaky: TestX failed every time on aaaaaaa") {
				t.Errorf("got %q, want it to name the test and the commit", patchgate.ErrorMessage(err))
			}
		})
	}
}
