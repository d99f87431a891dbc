package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// runningSuite records a verification whose one suite is running, with two
// log lines so far.
func runningSuite(t *testing.T, vs *store.VerificationService, sha string) (*patchgate.Verification, *patchgate.SuiteRun) {
	t.Helper()
	ctx := context.Background()
	v, _, err := vs.CreateVerification(ctx, &patchgate.Verification{
		Forge: patchgate.GitHub, Repo: testRepo, SHA: sha, ConfigRef: sha, ConfigDigest: "manual", Trigger: "test",
		Suites: []*patchgate.SuiteRun{{Name: "regression", Required: true, Image: "patchgate-test/runner:go1.26"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := vs.ClaimVerification(ctx, v.ID, v.Attempt, "test"); err != nil {
		t.Fatal(err)
	}
	sr := v.Suites[0]
	now := time.Now()
	sr.State, sr.StartedAt = patchgate.RunRunning, &now
	if err := vs.UpdateSuiteRun(ctx, sr); err != nil {
		t.Fatal(err)
	}
	appendLog(t, vs, sr.ID, "=== RUN   TestRound\nline 2\n")
	return v, sr
}

func appendLog(t *testing.T, vs *store.VerificationService, suiteRunID int64, s string) {
	t.Helper()
	if err := vs.AppendLog(context.Background(), suiteRunID, []byte(s)); err != nil {
		t.Fatal(err)
	}
}

// waitLog waits until the page's log holds want.
func waitLog(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	run(t, ctx, "log shows "+want, chromedp.Steps(func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](fmt.Sprintf(`document.getElementById("log-0").textContent.includes(%q)`, want),
			chromedp.WithPollingTimeout(20*time.Second))(ctx, tg)
		return chromedp.Void{}, err
	}))
}

// TestDashboardLiveLog opens a running suite's page and watches its log grow
// as chunks are appended through the store, a line split across two chunks
// included, until the suite ends and the stream says so.
func TestDashboardLiveLog(t *testing.T) {
	ctx := newTab(t)
	app := startApp(t, func(c *Config) { c.Runners.Workers = 0 })
	vs := store.NewVerificationService(app.main.DB)
	sha := strings.Repeat("ab", 20)
	v, sr := runningSuite(t, vs, sha)
	signIn(t, ctx, app.url, app.createToken(t, "watcher", patchgate.RoleViewer))

	run(t, ctx, "verification page",
		chromedp.Navigate(fmt.Sprintf("%s/ui/verifications/%d", app.url, v.ID)),
		chromedp.WaitVisible(chromedp.ID("log-0")))
	waitLog(t, ctx, "line 2")
	appendLog(t, vs, sr.ID, "line 3\n")
	waitLog(t, ctx, "line 3")
	appendLog(t, vs, sr.ID, "--- FAIL: TestRo")
	appendLog(t, vs, sr.ID, "und (0.00s)\n")
	waitLog(t, ctx, "--- FAIL: TestRound (0.00s)\n")
	screenshot(t, ctx, "verification-running")

	// The suite ends: the stream sends its end, and the page says so.
	sr.State, sr.Failed, sr.Passed = patchgate.RunFailure, 1, 1
	code := 1
	done := time.Now()
	sr.ExitCode, sr.FinishedAt = &code, &done
	sr.Tests = []patchgate.TestResult{
		{Class: "calc", Name: "TestAdd", Status: patchgate.TestPassed, Duration: 2 * time.Millisecond},
		{Class: "calc", Name: "TestRound", Status: patchgate.TestFailed, Duration: time.Millisecond, Message: "got 2, want 3"},
	}
	appendLog(t, vs, sr.ID, "FAIL\n")
	if err := vs.UpdateSuiteRun(context.Background(), sr); err != nil {
		t.Fatal(err)
	}
	if err := vs.FinishVerification(context.Background(), v.ID, patchgate.RunFailure, "regression failed"); err != nil {
		t.Fatal(err)
	}
	waitLog(t, ctx, "FAIL\n")
	run(t, ctx, "stream ends", chromedp.Steps(func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](`document.getElementById("log-0").dataset.done === "true"`, chromedp.WithPollingTimeout(20*time.Second))(ctx, tg)
		return chromedp.Void{}, err
	}))
	if got := text(t, ctx, "#log-0"); strings.Count(got, "line 2") != 1 || strings.Count(got, "line 3") != 1 {
		t.Errorf("log: got %q, want each line once", got)
	}
	if got := text(t, ctx, "#log-0-status"); !strings.Contains(got, "finished: failure") {
		t.Errorf("status: got %q, want finished: failure", got)
	}

	// Reloaded, the finished page lists the failing test first.
	run(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("table.tests")))
	if got := text(t, ctx, "table.tests tbody tr"); !strings.Contains(got, "TestRound") || !strings.Contains(got, "failed") {
		t.Errorf("first test row: got %q, want the failure", got)
	}
	screenshot(t, ctx, "verification")
	checkNarrow(t, ctx, fmt.Sprintf("%s/ui/verifications/%d", app.url, v.ID), "")

	// The stream resumes after Last-Event-ID without repeating a line, and a
	// finished log read to its end answers 204 so EventSource stops.
	ck := sessionCookie(t, ctx)
	events := fmt.Sprintf("%s/ui/verifications/%d/suites/regression/events", app.url, v.ID)
	get := func(lastID string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, events, nil)
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		req.Header.Set("Accept", "text/event-stream")
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	first := len("=== RUN   TestRound\n")
	resp := get(fmt.Sprint(first))
	var data []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			data = append(data, d)
		}
	}
	want := []string{"line 2", "line 3", "--- FAIL: TestRound (0.00s)", "FAIL", "failure"}
	if strings.Join(data, "|") != strings.Join(want, "|") {
		t.Errorf("events after Last-Event-ID %d: got %q, want %q", first, data, want)
	}
	total := len("=== RUN   TestRound\nline 2\nline 3\n--- FAIL: TestRound (0.00s)\nFAIL\n")
	if resp := get(fmt.Sprint(total)); resp.StatusCode != http.StatusNoContent {
		t.Errorf("events of a finished log from its end: got %d, want 204", resp.StatusCode)
	}
}
