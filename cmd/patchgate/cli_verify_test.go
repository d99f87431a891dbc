package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// TestVerifyWaitsForTheVerdict: `patchgate verify` waits for the verdict,
// prints it with the reason, and exits non-zero unless it is success.
func TestVerifyWaitsForTheVerdict(t *testing.T) {
	app := startApp(t, func(c *Config) { c.Runners.Workers = 0 })
	dev := app.createToken(t, "dev", patchgate.RoleDeveloper)
	t0 := time.Now().Add(-time.Hour)

	// No .patchgate.yml at the head: an error, said in words, exit non-zero.
	bare := strings.Repeat("e", 40)
	app.forge.AddCommit(testRepo, bare, map[string][]byte{"README": []byte("hi")}, "no config", "dev")
	app.openPR(t, "opened", 2, "Update the README", "", "readme", bare, "", t0)
	app.waitProcessed(t)
	// No worker runs here: this process's verifier takes the queued job, as a
	// worker would, and finds no file to plan from.
	stop := make(chan struct{})
	worked := make(chan struct{})
	go func() {
		defer close(worked)
		workQueued(app, bare, stop)
	}()
	out, err := execCLI("verify", "--repo", testRepo, "--sha", bare, "--server", app.url, "--token", dev)
	close(stop)
	<-worked
	if err == nil || !strings.Contains(out, "verdict: error") || !strings.Contains(err.Error(), ".patchgate.yml") {
		t.Fatalf("verify without a config: %q, %v; want a non-zero exit naming .patchgate.yml", out, err)
	}

	// A configured head: the command waits until a worker records success.
	head := strings.Repeat("f", 40)
	app.forge.AddCommit(testRepo, head, map[string][]byte{".patchgate.yml": []byte("suites:\n  regression:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\n")}, "config", "dev")
	app.openPR(t, "synchronize", 2, "Update the README", "", "readme", head, bare, t0.Add(time.Minute))
	app.waitProcessed(t)
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := execCLI("verify", "--repo", testRepo, "--sha", head, "--server", app.url, "--token", dev)
		done <- result{out, err}
	}()
	vs := store.NewVerificationService(app.main.DB)
	ctx := context.Background()
	var v *patchgate.Verification
	for deadline := time.Now().Add(10 * time.Second); v == nil; {
		got, _, err := vs.FindVerifications(ctx, patchgate.VerificationFilter{SHA: &head, Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range got {
			if !x.State.Final() {
				v = x
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no live verification of the head")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case r := <-done:
		t.Fatalf("verify returned before the verdict: %q, %v", r.out, r.err)
	case <-time.After(2500 * time.Millisecond):
	}
	if _, err := app.main.Planner.Plan(ctx, v); err != nil { // as the worker would
		t.Fatal(err)
	}
	if err := vs.ClaimVerification(ctx, v.ID, v.Attempt, "test"); err != nil {
		t.Fatal(err)
	}
	for _, s := range v.Suites {
		s.State, s.Description = patchgate.RunSuccess, "passed"
		if err := vs.UpdateSuiteRun(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := vs.FinishVerification(ctx, v.ID, patchgate.RunSuccess, "every required suite passed"); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || !strings.Contains(r.out, "verdict: success") || !strings.Contains(r.out, "regression") {
		t.Fatalf("verify: %q, %v; want the suites and success, exit 0", r.out, r.err)
	}
}

// workQueued runs every queued verification of sha with app's verifier, as
// a worker would take them, until stop is closed.
func workQueued(app *testApp, sha string, stop <-chan struct{}) {
	vs := store.NewVerificationService(app.main.DB)
	queued := patchgate.RunQueued
	for {
		select {
		case <-stop:
			return
		case <-time.After(20 * time.Millisecond):
		}
		got, _, err := vs.FindVerifications(context.Background(), patchgate.VerificationFilter{SHA: &sha, State: &queued, Limit: 5})
		if err != nil {
			continue
		}
		for _, v := range got {
			_ = app.main.Executor.Run(context.Background(), v.ID, v.Attempt)
		}
	}
}
