package runners

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// flakyHistory is a FlakyTestService answering from a list.
type flakyHistory struct {
	tests []patchgate.FlakyTest
	err   error
}

func (f flakyHistory) FindFlakyTests(context.Context, patchgate.RepoRef, int) ([]patchgate.FlakyTest, error) {
	return f.tests, f.err
}

func TestQuarantinedFailures(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	until := time.Now().Add(10 * 24 * time.Hour)
	quarantine := func(test string, expires time.Time) patchgate.Quarantine {
		return patchgate.Quarantine{Forge: patchgate.GitHub, Repo: "acme/pay", Test: test, Owner: "alice", Ticket: "PAY-9",
			ExpiresAt: expires, Source: patchgate.QuarantineConfig}
	}
	seenFlaky := flakyHistory{tests: []patchgate.FlakyTest{{Suite: "unit", Name: "TestFlaky"}}}
	tests := []struct {
		name        string
		failing     []string // on every attempt
		quarantines []patchgate.Quarantine
		history     flakyHistory
		wantState   patchgate.RunState
		wantDesc    string // prefix
		wantReason  string
		wantMarked  bool // TestFlaky's results marked quarantined
	}{
		{name: "a flaky test's failure is excused", failing: []string{"TestFlaky"},
			quarantines: []patchgate.Quarantine{quarantine("TestFlaky", until)}, history: seenFlaky,
			wantState: patchgate.RunSuccess, wantDesc: "passed with quarantined failures; quarantined: TestFlaky (owner alice, PAY-9, until " + until.UTC().Format(time.DateOnly) + ")",
			wantReason: "every required suite passed; quarantined failures: unit (TestFlaky)", wantMarked: true},
		{name: "a broken test is not excused", failing: []string{"TestBroken"},
			quarantines: []patchgate.Quarantine{quarantine("TestBroken", until)}, history: seenFlaky,
			wantState: patchgate.RunFailure, wantDesc: "TestBroken fails every time on 0123456: broken, not flaky; quarantine does not apply; 2 attempts;",
			wantReason: "unit failed"},
		{name: "an expired quarantine excuses nothing", failing: []string{"TestFlaky"},
			quarantines: []patchgate.Quarantine{quarantine("TestFlaky", time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC))}, history: seenFlaky,
			wantState: patchgate.RunFailure, wantDesc: "quarantine of TestFlaky expired 2026-11-30; fix it or renew it (owner alice, PAY-9); 2 attempts;",
			wantReason: "unit failed"},
		{name: "another failure still fails the suite", failing: []string{"TestFlaky", "TestBroken"},
			quarantines: []patchgate.Quarantine{quarantine("TestFlaky", until)}, history: seenFlaky,
			wantState: patchgate.RunFailure, wantDesc: "not quarantined: TestBroken; 2 attempts; failed: TestFlaky, TestBroken", wantReason: "unit failed", wantMarked: true},
		{name: "no history read: nothing excused", failing: []string{"TestFlaky"},
			quarantines: []patchgate.Quarantine{quarantine("TestFlaky", until)}, history: flakyHistory{err: errors.New("database down")},
			wantState: patchgate.RunFailure, wantDesc: "quarantines not applied: flakiness history unreadable; 2 attempts;", wantReason: "unit failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &recordingVerifications{}
			r := &Executor{
				Verifications: store,
				FlakyTests:    tt.history,
				Reporter:      &Reporter{},
				Logger:        slog.New(slog.DiscardHandler),
				Planner: planFunc(func(context.Context, *patchgate.Verification) ([]patchgate.SuitePlan, error) {
					return []patchgate.SuitePlan{{Name: "unit", Required: true, FlakyRetries: 1, Quarantines: tt.quarantines}}, nil
				}),
				Environments: envFunc(func(_ context.Context, _ patchgate.EnvironmentSpec, log io.Writer) (*patchgate.EnvironmentResult, error) {
					io.WriteString(log, goTestLog(tt.failing...))
					return &patchgate.EnvironmentResult{ExitCode: 1}, nil
				}),
			}
			v := &patchgate.Verification{ID: 1, Forge: patchgate.GitHub, Repo: "acme/pay", SHA: sha,
				Suites: []*patchgate.SuiteRun{{ID: 7, Name: "unit", Required: true}}}
			state, reason := r.runSuites(context.Background(), v, r.Logger)
			s := store.suites[7]
			if s.State != tt.wantState || !strings.HasPrefix(s.Description, tt.wantDesc) {
				t.Errorf("got suite %s %q, want %s %q…", s.State, s.Description, tt.wantState, tt.wantDesc)
			}
			if !strings.Contains(reason, tt.wantReason) {
				t.Errorf("got verdict %s %q, want it to contain %q", state, reason, tt.wantReason)
			}
			var marked, flakyResults int
			for _, tr := range s.Tests {
				if tr.Name == "TestFlaky" {
					flakyResults++
					if tr.Quarantined {
						marked++
					}
				} else if tr.Quarantined {
					t.Errorf("%s (attempt %d) marked quarantined, want only TestFlaky", tr.Name, tr.Attempt)
				}
			}
			if tt.wantMarked && (marked == 0 || marked != flakyResults) {
				t.Errorf("got %d of %d TestFlaky results marked quarantined, want all", marked, flakyResults)
			}
			if !tt.wantMarked && marked > 0 {
				t.Errorf("got %d TestFlaky results marked quarantined, want none", marked)
			}
		})
	}
}
