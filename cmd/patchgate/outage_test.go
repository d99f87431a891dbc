package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// TestForgeOutageDoesNotStallDeliveries: while the forge answers every comment
// call with 502, a pull request delivery is still applied and its links are
// there; the link comment is written once the forge is back. Before comments
// went through the background outbox, the delivery waited for the comment's
// retries (32 s with the forge down).
func TestForgeOutageDoesNotStallDeliveries(t *testing.T) {
	app := startApp(t, func(c *Config) { c.Runners.Workers = 0 })
	app.forge.FailNextOn("/issues/2/comments", 1_000_000, http.StatusBadGateway, nil)

	received := time.Now()
	body := fixture(t, "github/pull_request/opened.api.github.com.13.json", func(p map[string]any) {
		obj(p, "pull_request")["title"] = "HW-1: fix the greeting"
	})
	if code, ack := app.sendGitHub(t, "pull_request", "outage-1", body, testSecret); code != 202 || ack.Status != "accepted" {
		t.Fatalf("got %d %+v", code, ack)
	}
	for {
		var out struct{ Total int }
		app.api(t, http.MethodGet, "/api/v1/deliveries?outcome=pending&limit=1", nil, &out)
		if out.Total == 0 {
			break
		}
		if time.Since(received) > 20*time.Second {
			t.Fatal("the delivery is still pending with the forge down")
		}
		time.Sleep(5 * time.Millisecond)
	}
	applied := time.Since(received)
	_, links := app.change(t, 2)
	if len(links) != 1 || links[0].Ticket == nil || links[0].Ticket.Key != "HW-1" {
		t.Fatalf("with the forge down: got links %+v, want HW-1", links)
	}
	if got := app.forge.Comments(testRepo, 2); len(got) != 0 {
		t.Fatalf("the forge is down, yet %d comments are there", len(got))
	}
	t.Logf("delivery applied %v after receipt with the forge's comment API down", applied.Round(time.Millisecond))

	app.forge.ClearFailures()
	for _, c := range app.main.commenters {
		c.Wait()
	}
	if got := app.linkComments(t, 2); len(got) != 1 {
		t.Fatalf("after the forge came back: got %d link comments, want 1", len(got))
	}
	var d struct{ Deliveries []patchgate.Delivery }
	app.api(t, http.MethodGet, "/api/v1/deliveries?limit=5", nil, &d)
	for _, x := range d.Deliveries {
		if x.ID == "outage-1" && (x.Outcome != patchgate.OutcomeProcessed || x.Attempts != 1) {
			t.Fatalf("delivery: %s after %d attempts, want processed at the first", x.Outcome, x.Attempts)
		}
	}
}

// TestUnreachableForgeIsNamed: an API call that needs the forge, while the
// forge answers 503 or cannot be reached at all, answers 503 "unavailable"
// naming the forge and the cause, and the CLI prints it; never "internal
// error".
func TestUnreachableForgeIsNamed(t *testing.T) {
	app := startApp(t, func(c *Config) { c.Runners.Workers = 0 })
	sha := strings.Repeat("ab", 20)
	req := map[string]any{"forge": "github", "repo": testRepo, "sha": sha}

	app.forge.FailNextOn("/compare/", 1_000_000, http.StatusServiceUnavailable, nil)
	var out struct {
		Error struct{ Code, Message string }
	}
	code := app.api(t, http.MethodPost, "/api/v1/releases", req, &out)
	if code != http.StatusServiceUnavailable || out.Error.Code != patchgate.EUNAVAILABLE ||
		!strings.Contains(out.Error.Message, "github answered 503 Service Unavailable; retry later") {
		t.Errorf("forge answering 503: got %d %+v, want 503 unavailable naming github and its answer", code, out.Error)
	}

	app.forge.Close()
	err := runCLIErr(t, "release", "create", "--repo", testRepo, "--sha", sha, "--server", app.url, "--token", app.token)
	if msg := err.Error(); !strings.Contains(msg, "github is unreachable: dial tcp") || !strings.Contains(msg, "connection refused") ||
		strings.Contains(msg, "internal error") {
		t.Errorf("forge down, CLI: got %q, want github named as unreachable, connection refused", msg)
	}
}

// pushTo sends a push of sha to branch of testRepo, whose commit message is
// message.
func (a *testApp) pushTo(t *testing.T, id, branch, sha, message string) {
	t.Helper()
	a.pushToRepo(t, testRepo, id, branch, sha, message)
}

// pushToRepo sends a push of sha to branch of repo ("owner/name").
func (a *testApp) pushToRepo(t *testing.T, repo, id, branch, sha, message string) {
	t.Helper()
	body := fixture(t, "github/push/none.api.github.com.5.json", func(p map[string]any) {
		owner, name, _ := strings.Cut(repo, "/")
		r := obj(p, "repository")
		r["full_name"], r["name"] = repo, name
		obj(r, "owner")["login"], obj(r, "owner")["name"] = owner, owner
		p["ref"], p["before"], p["after"] = "refs/heads/"+branch, "0000000000000000000000000000000000000000", sha
		commit := p["commits"].([]any)[0].(map[string]any)
		commit["id"], commit["message"] = sha, message
		obj(p, "head_commit")["id"] = sha
	})
	if code, ack := a.sendGitHub(t, "push", id, body, testSecret); code != 202 || ack.Status != "accepted" {
		t.Fatalf("push %s: got %d %+v", id, code, ack)
	}
}

// waitApplied waits until no delivery is pending and returns how long that took
// from since; it fails after limit.
func (a *testApp) waitApplied(t *testing.T, since time.Time, limit time.Duration) time.Duration {
	t.Helper()
	for {
		var out struct{ Total int }
		a.api(t, http.MethodGet, "/api/v1/deliveries?outcome=pending&limit=1", nil, &out)
		if out.Total == 0 {
			return time.Since(since)
		}
		if time.Since(since) > limit {
			t.Fatalf("a delivery is still pending %v after receipt", limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// trivialSuite is a .patchgate.yml whose one suite only says ok.
const trivialSuite = "suites:\n  smoke:\n    image: patchgate-test/runner:go1.26\n    run: echo ok\n    timeout: 1m\n"

// TestForgeOutageDoesNotStallPlanning: a push gives a branch a new head while
// the forge's contents API answers 502, so .patchgate.yml cannot be read. The
// delivery is still applied, its head and links visible, within a second; the
// verification waits, and runs and passes once the forge is back. Before
// planning left the delivery path, the delivery waited for the config read's
// retries (about 8 s) and the verification ended as error at once.
func TestForgeOutageDoesNotStallPlanning(t *testing.T) {
	requireDocker(t)
	owner := "plan-" + randomID()
	app := startApp(t, func(c *Config) {
		c.Runners.Owner, c.Runners.Workers, c.Runners.Heartbeat = owner, 1, time.Second
		c.Runners.Retries, c.Runners.RetryBackoff = 2, 2*time.Second
	})
	repo := newGitRepo(t, app.forge, testRepo)
	sha := repo.commit("Fix the greeting\n\nFixes HW-3", map[string][]byte{".patchgate.yml": []byte(trivialSuite)})
	app.forge.FailNextOn("/contents/", 1_000_000, http.StatusBadGateway, nil)

	received := time.Now()
	app.pushTo(t, "plan-outage-1", "fix-3", sha, "Fix the greeting\n\nFixes HW-3")
	applied := app.waitApplied(t, received, 20*time.Second)
	t.Logf("push applied %v after receipt with the forge's contents API down", applied.Round(time.Millisecond))
	if applied > time.Second {
		t.Errorf("push applied %v after receipt, want within 1 s whatever the forge does", applied.Round(time.Millisecond))
	}
	var changes struct{ Changes []patchgate.Change }
	app.api(t, http.MethodGet, "/api/v1/changes?kind=push&limit=10", nil, &changes)
	found := false
	for _, ch := range changes.Changes {
		found = found || ch.HeadSHA == sha
	}
	if !found {
		t.Fatalf("the branch's head %s is not visible: %+v", sha[:8], changes.Changes)
	}
	if tk := app.ticket(t, "HW-3"); len(tk.Links) != 1 {
		t.Fatalf("HW-3 links: got %+v, want the push", tk.Links)
	}
	if v := app.waitVerification(t, sha, func(patchgate.Verification) bool { return true }, 10*time.Second); v.State.Final() {
		t.Fatalf("with the forge down: verification %s (%s), want it waiting for the forge", v.State, v.Reason)
	}

	time.Sleep(3 * time.Second) // at least one planning attempt fails
	app.forge.ClearFailures()
	v := app.waitVerification(t, sha, final, 3*time.Minute)
	if v.State != patchgate.RunSuccess {
		t.Fatalf("after the forge came back: got %s (%s), want success", v.State, v.Reason)
	}
	app.main.Reporter.Wait()
	for _, ctx := range []string{"patchgate/smoke", "patchgate/verdict"} {
		if last := lastStatus(app.forge.Statuses(testRepo, sha), ctx); last != "success" {
			t.Errorf("status %s: got %q, want success", ctx, last)
		}
		if n := app.forge.StatusPosts(testRepo, sha, ctx); n > 2 {
			t.Errorf("status %s posted %d times, want at most 2", ctx, n)
		}
	}
	if left := leftovers(t, owner); left != "" {
		t.Errorf("containers or networks left behind: %s", left)
	}
}

// TestForgeDownPlanningEndsInError: a forge whose contents API stays down never
// turns a verification into a failure: after its bounded retries it ends as
// error, saying the forge is unreachable.
func TestForgeDownPlanningEndsInError(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Owner, c.Runners.Workers, c.Runners.Heartbeat = "down-"+randomID(), 1, time.Second
		c.Runners.Retries, c.Runners.RetryBackoff = 1, 200*time.Millisecond
	})
	sha := newGitRepo(t, app.forge, testRepo).commit("Fixes HW-4", map[string][]byte{".patchgate.yml": []byte(trivialSuite)})
	app.forge.FailNextOn("/contents/", 1_000_000, http.StatusBadGateway, nil)
	received := time.Now()
	app.pushTo(t, "plan-down-1", "fix-4", sha, "Fixes HW-4")
	if applied := app.waitApplied(t, received, 20*time.Second); applied > time.Second {
		t.Errorf("push applied %v after receipt, want within 1 s", applied.Round(time.Millisecond))
	}
	v := app.waitVerification(t, sha, final, 2*time.Minute)
	if v.State != patchgate.RunError || !strings.Contains(v.Reason, "forge github unreachable") {
		t.Fatalf("got %s (%s), want error saying the forge github is unreachable", v.State, v.Reason)
	}
	t.Logf("verification ended %v after receipt: %s", time.Since(received).Round(time.Millisecond), v.Reason)
	app.main.Reporter.Wait()
	if last := lastStatus(app.forge.Statuses(testRepo, sha), "patchgate/verdict"); last != "error" {
		t.Errorf("verdict status: got %q, want error", last)
	}
}
