package runners

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/patchgate/patchgate"
)

// recordingVerifications is a VerificationService that records the suite runs
// and log chunks it is given; its other methods are not used here.
type recordingVerifications struct {
	patchgate.VerificationService
	mu     sync.Mutex
	suites map[int64]patchgate.SuiteRun
	log    strings.Builder
}

func (f *recordingVerifications) UpdateSuiteRun(_ context.Context, s *patchgate.SuiteRun) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.suites == nil {
		f.suites = map[int64]patchgate.SuiteRun{}
	}
	f.suites[s.ID] = *s
	return nil
}

func (f *recordingVerifications) AppendLog(_ context.Context, _ int64, chunk []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log.Write(chunk)
	return nil
}

// goTestLog is `go test -v` output with TestStable passing and the named
// tests failing.
func goTestLog(failing ...string) string {
	var b strings.Builder
	b.WriteString("=== RUN   TestStable\n--- PASS: TestStable (0.00s)\n")
	for _, name := range []string{"TestFlaky", "TestBroken"} {
		fmt.Fprintf(&b, "=== RUN   %s\n", name)
		if strings.Contains(strings.Join(failing, ","), name) {
			fmt.Fprintf(&b, "    x_test.go:9: boom\n--- FAIL: %s (0.00s)\n", name)
		} else {
			fmt.Fprintf(&b, "--- PASS: %s (0.00s)\n", name)
		}
	}
	if len(failing) > 0 {
		b.WriteString("FAIL\nFAIL\tacme/x\t0.01s\n")
	} else {
		b.WriteString("PASS\nok  \tacme/x\t0.01s\n")
	}
	return b.String()
}

func TestFlakyRetries(t *testing.T) {
	killed := errors.New("the runner container was removed while the suite ran")
	tests := []struct {
		name     string
		required bool
		retries  int
		// failing lists, per attempt, the tests that fail; nil entries pass.
		attempts [][]string
		errs     []error // per attempt: an infrastructure error instead
		// want: runs made, suite state, description and verdict fragments,
		// the flaky results as "attempt:status:name".
		wantRuns   int
		wantState  patchgate.RunState
		wantDesc   string
		wantReason string
		wantFlaky  []string
	}{
		{name: "passes at once", required: true, retries: 1, attempts: [][]string{nil},
			wantRuns: 1, wantState: patchgate.RunSuccess, wantReason: "every required suite passed"},
		{name: "fails then passes: flaky", required: true, retries: 1, attempts: [][]string{{"TestFlaky"}, nil},
			wantRuns: 2, wantState: patchgate.RunSuccess, wantDesc: "passed on retry; flaky: TestFlaky",
			wantReason: "passed on retry; flaky: unit (TestFlaky)",
			wantFlaky:  []string{"1:failed:TestFlaky", "2:passed:TestFlaky"}},
		{name: "fails every attempt: broken", required: true, retries: 1, attempts: [][]string{{"TestBroken"}, {"TestBroken"}},
			wantRuns: 2, wantState: patchgate.RunFailure, wantDesc: "2 attempts; failed: TestBroken (exit 1)",
			wantReason: "unit failed"},
		{name: "one flaky one broken", required: true, retries: 1, attempts: [][]string{{"TestFlaky", "TestBroken"}, {"TestBroken"}},
			wantRuns: 2, wantState: patchgate.RunFailure, wantDesc: "2 attempts; failed: TestBroken (exit 1)",
			wantReason: "unit failed", wantFlaky: []string{"1:failed:TestFlaky", "2:passed:TestFlaky"}},
		{name: "disabled", required: true, retries: 0, attempts: [][]string{{"TestFlaky"}},
			wantRuns: 1, wantState: patchgate.RunFailure, wantDesc: "failed: TestFlaky (exit 1)", wantReason: "unit failed"},
		{name: "optional suites are not re-run", required: false, retries: 1, attempts: [][]string{{"TestFlaky"}},
			wantRuns: 1, wantState: patchgate.RunFailure, wantDesc: "failed: TestFlaky (exit 1)", wantReason: "every required suite passed"},
		{name: "three retries, passes on the third run", required: true, retries: 3,
			attempts: [][]string{{"TestFlaky"}, {"TestFlaky"}, nil},
			wantRuns: 3, wantState: patchgate.RunSuccess, wantDesc: "passed on retry; flaky: TestFlaky",
			wantFlaky: []string{"1:failed:TestFlaky", "2:failed:TestFlaky", "3:passed:TestFlaky"}},
		{name: "an infrastructure error is not a flaky retry", required: true, retries: 1,
			attempts: [][]string{nil}, errs: []error{killed},
			wantRuns: 1, wantState: patchgate.RunError, wantDesc: "the runner container was removed", wantReason: "could not run unit"},
		{name: "re-run that cannot run leaves the failure", required: true, retries: 1,
			attempts: [][]string{{"TestFlaky"}, nil}, errs: []error{nil, killed},
			wantRuns: 2, wantState: patchgate.RunFailure, wantDesc: "failed: TestFlaky (exit 1); its re-run could not run",
			wantReason: "unit failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &recordingVerifications{}
			var runs int
			var seen, observed []string
			r := &Executor{
				OnFlaky: func(repo patchgate.RepoRef, tests []string) {
					observed = append(observed, tests...)
				},
				Verifications: store,
				Reporter:      &Reporter{},
				Logger:        slog.New(slog.DiscardHandler),
				Planner: planFunc(func(context.Context, *patchgate.Verification) ([]patchgate.SuitePlan, error) {
					return []patchgate.SuitePlan{{Name: "unit", Required: tt.required, FlakyRetries: tt.retries,
						Spec: patchgate.EnvironmentSpec{Env: map[string]string{"KEEP": "1"}}}}, nil
				}),
				Environments: envFunc(func(_ context.Context, spec patchgate.EnvironmentSpec, log io.Writer) (*patchgate.EnvironmentResult, error) {
					i := runs
					runs++
					seen = append(seen, spec.Env[AttemptEnv]+"/"+spec.Env["KEEP"])
					if i < len(tt.errs) && tt.errs[i] != nil {
						return nil, tt.errs[i]
					}
					io.WriteString(log, goTestLog(tt.attempts[i]...))
					code := 0
					if len(tt.attempts[i]) > 0 {
						code = 1
					}
					return &patchgate.EnvironmentResult{ExitCode: code}, nil
				}),
			}
			v := &patchgate.Verification{ID: 1, Suites: []*patchgate.SuiteRun{{ID: 7, Name: "unit", Required: tt.required}}}
			state, reason := r.runSuites(context.Background(), v, r.Logger)
			if runs != tt.wantRuns {
				t.Fatalf("got %d runs, want %d", runs, tt.wantRuns)
			}
			for i, got := range seen {
				if want := fmt.Sprintf("%d/1", i+1); got != want {
					t.Errorf("run %d: got %s/KEEP %q, want %q", i+1, AttemptEnv, got, want)
				}
			}
			s := store.suites[7]
			if s.State != tt.wantState || !strings.Contains(s.Description, tt.wantDesc) {
				t.Errorf("got suite %s %q, want %s %q", s.State, s.Description, tt.wantState, tt.wantDesc)
			}
			if tt.wantReason != "" && !strings.Contains(reason, tt.wantReason) {
				t.Errorf("got verdict %s %q, want it to contain %q", state, reason, tt.wantReason)
			}
			var flaky []string
			for _, tr := range s.Tests {
				if tr.Flaky {
					flaky = append(flaky, fmt.Sprintf("%d:%s:%s", tr.Attempt, tr.Status, tr.Name))
				}
				if tr.Name == "TestBroken" && tr.Flaky {
					t.Errorf("got TestBroken flaky, want it broken: it never passed after failing")
				}
			}
			if got, want := strings.Join(flaky, " "), strings.Join(tt.wantFlaky, " "); got != want {
				t.Errorf("got flaky results %q, want %q", got, want)
			}
			if wantObserved := len(tt.wantFlaky) > 0; (strings.Join(observed, ",") == "TestFlaky") != wantObserved {
				t.Errorf("OnFlaky told %q, want TestFlaky told: %v", observed, wantObserved)
			}
			if tt.wantRuns > 1 && tt.errs == nil && !strings.Contains(store.log.String(), "[patchgate: attempt 1 of") {
				t.Errorf("got log %q, want it to say the suite was re-run", store.log.String())
			}
		})
	}
}
