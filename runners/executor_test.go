package runners

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// envFunc is an EnvironmentRunner made of a function.
type envFunc func(ctx context.Context, spec patchgate.EnvironmentSpec, log io.Writer) (*patchgate.EnvironmentResult, error)

func (f envFunc) Run(ctx context.Context, spec patchgate.EnvironmentSpec, log io.Writer) (*patchgate.EnvironmentResult, error) {
	return f(ctx, spec, log)
}

func TestRunWithRetries(t *testing.T) {
	killed := errors.New("the runner container was removed while the suite ran")
	tests := []struct {
		name     string
		retries  int
		outcomes []error // one per attempt; nil is a result with exitCode
		exitCode int
		// want: attempts made, whether an error is the outcome, log lines.
		wantTries int
		wantErr   bool
		wantLog   []string
	}{
		{name: "passes at once", retries: 2, outcomes: []error{nil}, wantTries: 1},
		{name: "own failure is not retried", retries: 2, outcomes: []error{nil}, exitCode: 1, wantTries: 1},
		{name: "error then pass", retries: 2, outcomes: []error{killed, nil}, wantTries: 2,
			wantLog: []string{"[patchgate: attempt 1 of 3 could not run: the runner container was removed while the suite ran]"}},
		{name: "error on every attempt", retries: 2, outcomes: []error{killed, killed, killed}, wantTries: 3, wantErr: true,
			wantLog: []string{"attempt 1 of 3 could not run", "attempt 2 of 3 could not run"}},
		{name: "no retries", retries: 0, outcomes: []error{killed}, wantTries: 1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			r := &Executor{
				Retries:      tt.retries,
				RetryBackoff: time.Millisecond,
				Environments: envFunc(func(context.Context, patchgate.EnvironmentSpec, io.Writer) (*patchgate.EnvironmentResult, error) {
					err := tt.outcomes[calls]
					calls++
					if err != nil {
						return nil, err
					}
					return &patchgate.EnvironmentResult{ExitCode: tt.exitCode}, nil
				}),
			}
			var log bytes.Buffer
			res, tries, err := r.runWithRetries(context.Background(), patchgate.EnvironmentSpec{}, &log, slog.New(slog.DiscardHandler))
			if tries != tt.wantTries || calls != tt.wantTries {
				t.Errorf("got %d attempts (%d runs), want %d", tries, calls, tt.wantTries)
			}
			if (err != nil) != tt.wantErr {
				t.Errorf("got error %v, want error %v", err, tt.wantErr)
			}
			if err == nil && res.ExitCode != tt.exitCode {
				t.Errorf("got exit code %d, want %d", res.ExitCode, tt.exitCode)
			}
			for _, want := range tt.wantLog {
				if !strings.Contains(log.String(), want) {
					t.Errorf("got log %q, want it to contain %q", log.String(), want)
				}
			}
			if len(tt.wantLog) == 0 && log.Len() > 0 {
				t.Errorf("got log %q, want nothing written", log.String())
			}
		})
	}
}

// verificationsFunc is a VerificationService whose FindVerificationByID is a
// function; its other methods are not used here.
type verificationsFunc struct {
	patchgate.VerificationService
	find func(id int64) (*patchgate.Verification, error)
}

func (f verificationsFunc) FindVerificationByID(_ context.Context, id int64) (*patchgate.Verification, error) {
	return f.find(id)
}

func TestAliveSweepsOnlyRunsKnownToBeOver(t *testing.T) {
	now := time.Now()
	stale := now.Add(-time.Minute)
	known := map[int64]*patchgate.Verification{
		1: {ID: 1, State: patchgate.RunRunning, Attempt: 2, HeartbeatAt: &now},
		2: {ID: 2, State: patchgate.RunSuccess, Attempt: 1, HeartbeatAt: &now},
		3: {ID: 3, State: patchgate.RunRunning, Attempt: 1, HeartbeatAt: &stale},
	}
	tests := []struct {
		run  string
		want bool
	}{
		{"1-2-regression", true},  // running, fresh
		{"1-1-regression", false}, // an earlier attempt, re-run since
		{"1-3-regression", true},  // an attempt this database never made
		{"2-1-regression", false}, // finished
		{"3-1-regression", false}, // silent for three heartbeats
		{"9-1-regression", true},  // a verification this database does not have
		{"42-1-db", true},         // nor this one, even if it once had
		{"not-a-run-id", true},    // not one of ours
		{"8-1-down", true},        // database down: never sweep on doubt
	}
	r := &Executor{Verifications: verificationsFunc{find: func(id int64) (*patchgate.Verification, error) {
		if id == 8 {
			return nil, errors.New("database is down")
		}
		if v, ok := known[id]; ok {
			return v, nil
		}
		return nil, patchgate.Errorf(patchgate.ENOTFOUND, "verification %d not found", id)
	}}}
	for _, tt := range tests {
		if got := r.Alive(context.Background(), tt.run, 30*time.Second); got != tt.want {
			t.Errorf("Alive(%q): got %v, want %v", tt.run, got, tt.want)
		}
	}
}

// TestPlanRetriesOnlyAnUnreachableForge: reading .patchgate.yml is tried
// again while the forge does not answer, up to the retries, and never when
// the file is missing or wrong (retrying cannot change those).
func TestPlanRetriesOnlyAnUnreachableForge(t *testing.T) {
	down := &patchgate.ForgeUnreachableError{Forge: patchgate.GitHub, Err: errors.New("read .patchgate.yml at abc1234: 502 Bad Gateway")}
	bad := patchgate.Errorf(patchgate.EINVALID, ".patchgate.yml:3: suites.x.image: required")
	tests := []struct {
		name      string
		outcomes  []error // one per call; nil plans
		wantCalls int
		wantErr   string
	}{
		{"forge back at the second try", []error{down, nil}, 2, ""},
		{"forge down every time", []error{down, down, down}, 3, "forge github unreachable: read .patchgate.yml at abc1234: 502 Bad Gateway (after 3 attempts)"},
		{"bad file: the verdict at once", []error{bad}, 1, ".patchgate.yml:3: suites.x.image: required"},
		{"plain error: not retried", []error{errors.New("record the plan: database is locked")}, 1, "database is locked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			r := &Executor{Retries: 2, RetryBackoff: time.Millisecond,
				Planner: planFunc(func(context.Context, *patchgate.Verification) ([]patchgate.SuitePlan, error) {
					err := tt.outcomes[calls]
					calls++
					if err != nil {
						return nil, err
					}
					return []patchgate.SuitePlan{{Name: "smoke"}}, nil
				})}
			plans, err := r.plan(context.Background(), &patchgate.Verification{ID: 1}, slog.New(slog.DiscardHandler))
			if calls != tt.wantCalls {
				t.Errorf("got %d calls, want %d", calls, tt.wantCalls)
			}
			switch {
			case tt.wantErr == "" && (err != nil || len(plans) != 1):
				t.Errorf("got %v, %v; want the plan", plans, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("got error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// planFunc is a Planner whose Plan is the function and whose proofs have
// nothing to prove.
type planFunc func(ctx context.Context, v *patchgate.Verification) ([]patchgate.SuitePlan, error)

func (f planFunc) Plan(ctx context.Context, v *patchgate.Verification) ([]patchgate.SuitePlan, error) {
	return f(ctx, v)
}

func (planFunc) ProofPlan(context.Context, *patchgate.Verification) (*patchgate.ProofPlan, error) {
	return nil, patchgate.Errorf(patchgate.ENOTFOUND, "nothing to prove")
}
