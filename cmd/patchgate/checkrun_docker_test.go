package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
)

// roundTest's TestRoundUp fails twice, on lines 9 and 12 of
// calc/round_test.go; TestRoundDown passes.
const roundTest = `package calc

import "testing"

func Round(x float64) int { return int(x) }

func TestRoundUp(t *testing.T) {
	if got := Round(2.5); got != 3 {
		t.Errorf("got %d, want 3", got)
	}
	if got := Round(3.5); got != 4 {
		t.Errorf("Round(3.5): got %d, want 4", got)
	}
}

func TestRoundDown(t *testing.T) {
	if got := Round(2.4); got != 2 {
		t.Errorf("got %d, want 2", got)
	}
}
`

// TestCheckRunsOfARealRun: in App mode a real failing go test suite, run in
// Docker, ends as check runs on the exact head (no statuses): the suite's
// run annotated on the failing test's file and line as go test printed
// them, the verdict with its reason, link and Re-run button; a maintainer's
// press runs the head again under new check runs.
func TestCheckRunsOfARealRun(t *testing.T) {
	requireDocker(t)
	owner := "checks-" + randomID()
	app, _ := startAppMode(t, func(c *Config) {
		c.Runners.Owner = owner
		c.Runners.Workers = 1
		c.Runners.Heartbeat = time.Second
	})
	repo := newGitRepo(t, app.forge, testRepo)
	head := repo.commit("calc: round", map[string][]byte{
		"go.mod":             []byte("module example.com/hello\n\ngo 1.26\n"),
		"calc/round_test.go": []byte(roundTest),
		".patchgate.yml":     []byte("suites:\n  unit:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\n    timeout: 10m\n"),
	})
	app.openPR(t, "opened", 4, "HW-1: round", "Fixes HW-1", "fix/round", head, "", time.Now())
	v := app.waitVerification(t, head, final, 10*time.Minute)
	if v.State != patchgate.RunFailure {
		t.Fatalf("verification: got %s (%s), want failure", v.State, v.Reason)
	}
	app.main.Reporter.Wait()

	if st := app.forge.Statuses(testRepo, head); len(st) != 0 {
		t.Errorf("statuses in App mode: got %+v, want none", st)
	}
	runs := map[string]fakeforge.RecordedCheckRun{}
	for _, r := range app.forge.CheckRuns(testRepo, head) {
		if r.ExternalID == strconv.FormatInt(v.ID, 10) {
			runs[r.Name] = r
		}
	}
	unit, verdict := runs["patchgate/unit"], runs["patchgate/verdict"]
	if unit.Conclusion != "failure" || verdict.Conclusion != "failure" {
		t.Fatalf("check runs of verification %d: got %+v, want unit and verdict failed", v.ID, runs)
	}
	got := map[string]string{}
	for _, a := range unit.Annotations {
		got[fmt.Sprintf("%s:%d", a.Path, a.StartLine)] = a.Message
	}
	if got["calc/round_test.go:9"] != "got 2, want 3" || len(got) != 1 {
		// TestRoundDown passes (Round(2.4) is 2); TestRoundUp's first
		// failure line is its annotation.
		t.Errorf("unit annotations: got %v, want one on calc/round_test.go:9", got)
	}
	if !strings.Contains(verdict.Summary, v.Reason) || !strings.Contains(verdict.Summary, fmt.Sprintf("/ui/verifications/%d", v.ID)) {
		t.Errorf("verdict summary: got %q, want the reason %q and the dashboard link", verdict.Summary, v.Reason)
	}
	if len(verdict.Actions) != 1 || verdict.Actions[0].Identifier != patchgate.CheckActionRerun {
		t.Errorf("verdict actions: got %+v, want Re-run", verdict.Actions)
	}

	alice := app.forge.AddUser("alice")
	app.forge.SetPermission(testRepo, "alice", "admin")
	pressRerun(t, app, "rerun-real", verdict.ID, head, "alice", alice)
	if outcome, reason := app.delivery(t, "rerun-real"); outcome != patchgate.OutcomeProcessed {
		t.Fatalf("re-run: got %s %q, want processed", outcome, reason)
	}
	again := app.waitVerification(t, head, func(x patchgate.Verification) bool { return x.ID != v.ID && x.State.Final() }, 10*time.Minute)
	app.main.Reporter.Wait()
	n := 0
	for _, r := range app.forge.CheckRuns(testRepo, head) {
		if r.ExternalID == strconv.FormatInt(again.ID, 10) && r.Status == "completed" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("check runs of the re-run %d: got %d completed, want 2 (unit and verdict)", again.ID, n)
	}
	if left := leftovers(t, owner); left != "" {
		t.Fatalf("containers or networks left behind: %s", left)
	}
}
