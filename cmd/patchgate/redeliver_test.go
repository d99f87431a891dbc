package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
	"github.com/patchgate/patchgate/store"
)

// TestRedeliveryAfterAnOutage: the fake forge delivers to patchgate's hook
// through a front that can fail. A delivery patchgate never got (answered
// 503) is redelivered by the next reconciliation and applied; one it stored
// although the forge saw a failure (the answer was lost) and one that arrived
// are not asked for; --dry-run only lists; a second run asks for nothing.
func TestRedeliveryAfterAnOutage(t *testing.T) {
	var mode atomic.Value // "up", "down" (503, nothing stored), "lost" (stored, answer lost)
	mode.Store("up")
	var backend atomic.Pointer[url.URL]
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch mode.Load() {
		case "down":
			http.Error(w, "database unreachable", http.StatusServiceUnavailable)
			return
		case "lost":
			httputil.NewSingleHostReverseProxy(backend.Load()).ServeHTTP(httptest.NewRecorder(), r)
			http.Error(w, "gateway timeout", http.StatusGatewayTimeout)
			return
		}
		httputil.NewSingleHostReverseProxy(backend.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	app := startApp(t, func(c *Config) { c.Runners.Workers = 0; c.Reconcile.Interval = 0; c.PublicURL = front.URL })
	u, _ := url.Parse(app.url)
	backend.Store(u)
	app.forge.AddHook(testRepo, front.URL+"/webhooks/github", testSecret)

	opened := func(number int, title string) []byte {
		return fixture(t, "github/pull_request/opened.api.github.com.13.json", func(p map[string]any) {
			p["number"] = number
			pr := obj(p, "pull_request")
			pr["number"], pr["title"] = number, title
		})
	}
	if got := app.forge.Deliver(testRepo, "pull_request", "guid-arrived", opened(3, "HW-3: fix")); len(got) != 1 || got[0] != 202 {
		t.Fatalf("delivery while up: got %v, want 202", got)
	}
	mode.Store("lost")
	if got := app.forge.Deliver(testRepo, "pull_request", "guid-stored", opened(4, "HW-4: fix")); got[0] != http.StatusGatewayTimeout {
		t.Fatalf("delivery whose answer is lost: got %v", got)
	}
	mode.Store("down")
	if got := app.forge.Deliver(testRepo, "pull_request", "guid-lost", opened(5, "HW-5: fix")); got[0] != http.StatusServiceUnavailable {
		t.Fatalf("delivery while down: got %v", got)
	}
	mode.Store("up")
	app.waitProcessed(t)

	out := runCLI(t, "reconcile", "--config", reconcileConfigAt(t, app, front.URL), "--dry-run")
	if !strings.Contains(out, "would ask the forge to redeliver (dry run) 1") || !strings.Contains(out, "guid-lost") ||
		strings.Contains(out, "guid-stored") || strings.Contains(out, "guid-arrived") {
		t.Fatalf("reconcile --dry-run: got\n%s\nwant guid-lost only, not redelivered", out)
	}
	if n := app.forge.Redeliveries("guid-lost"); n != 0 {
		t.Fatalf("a dry run asked for %d redeliveries", n)
	}

	app.main.reconcile.runOnce(context.Background())
	app.waitProcessed(t)
	if ch, _ := app.change(t, 5); ch.Title != "HW-5: fix" {
		t.Fatalf("after redelivery: #5 is %+v, want the lost delivery applied", ch)
	}
	app.main.reconcile.runOnce(context.Background())
	for guid, want := range map[string]int{"guid-lost": 1, "guid-stored": 0, "guid-arrived": 0} {
		if n := app.forge.Redeliveries(guid); n != want {
			t.Errorf("%s: redelivered %d times, want %d", guid, n, want)
		}
	}
	if run, _ := app.main.reconcile.Last(); run.Redelivered != 0 {
		t.Errorf("second run: redelivered %d, want 0", run.Redelivered)
	}
	if v := metricValue(t, scrape(t, app), "patchgate_reconcile_redelivered_total"); v != 1 {
		t.Errorf("patchgate_reconcile_redelivered_total: got %v, want 1", v)
	}
}

// TestRefusedDeliveryIsRedeliveredSoon: while the database refuses to store
// deliveries, the intake answers 5xx; once it stores again, reconciliation
// runs within its retry period (not an interval later), and the refused
// delivery is redelivered and applied.
func TestRefusedDeliveryIsRedeliveredSoon(t *testing.T) {
	var backend atomic.Pointer[url.URL]
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httputil.NewSingleHostReverseProxy(backend.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Reconcile.Interval = time.Hour
		c.Reconcile.Retry = 50 * time.Millisecond
		c.PublicURL = front.URL
	})
	u, _ := url.Parse(app.url)
	backend.Store(u)
	app.forge.AddHook(testRepo, front.URL+"/webhooks/github", testSecret)

	app.main.DB.SetDeliveryCommitHook(func([]string) error { return errors.New("database unreachable (injected)") })
	body := fixture(t, "github/pull_request/opened.api.github.com.13.json", func(p map[string]any) {
		p["number"] = 6
		pr := obj(p, "pull_request")
		pr["number"], pr["title"] = 6, "HW-6: fix"
	})
	if got := app.forge.Deliver(testRepo, "pull_request", "guid-refused", body); got[0] < 500 {
		t.Fatalf("delivery while the database refuses: got %v, want 5xx", got)
	}
	app.main.DB.SetDeliveryCommitHook(nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var list struct{ Changes []struct{ Number int } }
		app.api(t, http.MethodGet, "/api/v1/changes?kind=pull_request&repo="+testRepo, nil, &list)
		if len(list.Changes) == 1 && list.Changes[0].Number == 6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the refused delivery was not redelivered and applied within 10 s of the database storing again (redelivery attempts: %d)",
				app.forge.Redeliveries("guid-refused"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	app.waitProcessed(t)
	var d struct{ Total int }
	app.api(t, http.MethodGet, "/api/v1/deliveries?forge=github&limit=1", nil, &d)
	if d.Total != 1 {
		t.Errorf("stored deliveries: got %d, want the refused one, once", d.Total)
	}
	t.Logf("redelivery attempts: %d", app.forge.Redeliveries("guid-refused"))
}

// webhookFront stands where the forges' hooks point (public_url): it passes
// each delivery to one of the serving instances in turn, as a load balancer
// would, after delay; with no instance it drops the connection, as a stopped
// patchgate does (the forge logs no answer).
type webhookFront struct {
	*httptest.Server
	backends atomic.Pointer[[]*url.URL]
	next     atomic.Int64
	delay    atomic.Int64
}

func newWebhookFront(t *testing.T) *webhookFront {
	f := &webhookFront{}
	f.backends.Store(&[]*url.URL{})
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		backends := *f.backends.Load()
		if len(backends) == 0 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		time.Sleep(time.Duration(f.delay.Load()))
		httputil.NewSingleHostReverseProxy(backends[int(f.next.Add(1))%len(backends)]).ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

// serve sends deliveries to apps from now on; none stops them.
func (f *webhookFront) serve(apps ...*testApp) {
	var us []*url.URL
	for _, a := range apps {
		u, _ := url.Parse(a.url)
		us = append(us, u)
	}
	f.backends.Store(&us)
}

// prDelivery is a real-shaped pull_request delivery of testRepo.
func prDelivery(t *testing.T, action string, number int, title, branch, head, before string, at time.Time) []byte {
	t.Helper()
	return fixture(t, "github/pull_request/opened.api.github.com.13.json", func(p map[string]any) {
		p["action"], p["number"] = action, number
		pr := obj(p, "pull_request")
		pr["number"], pr["title"], pr["body"], pr["updated_at"] = number, title, "", at.UTC().Format(time.RFC3339)
		obj(pr, "head")["sha"], obj(pr, "head")["ref"] = head, branch
		obj(pr, "base")["ref"] = "main"
		if before != "" {
			p["before"], p["after"] = before, head
		}
	})
}

// TestRedeliveryTwoInstancesAfterRestart is issue 22's proof on PostgreSQL
// with two `serve` processes behind one webhook URL: PR #7 fixes PAY-7 and
// passed, so PAY-7 is fix_verified. Both processes are stopped; meanwhile #7
// gets a new head, #8 is opened, main moves on GitHub, and a GitLab MR is
// opened: the forges log those deliveries as failed. Both are started again
// and reconcile at once, each delivery going to either: every failed
// delivery is redelivered once (the forges count the attempts per delivery
// id), stored and applied once, #7's new head is to be verified, and the old
// pass no longer makes PAY-7 fix_verified.
func TestRedeliveryTwoInstancesAfterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("four servers on PostgreSQL")
	}
	dsn := postgresSchema(t)
	forge := fakeforge.New()
	t.Cleanup(forge.Close)
	forge.SetToken("forge-token")
	front := newWebhookFront(t)
	mod := func(c *Config) {
		c.Database, c.PublicURL = dsn, front.URL
		c.Runners.Workers = 0
		c.Repos = []RepoConfig{{Forge: "github", Name: testRepo, TicketKeys: []string{"PAY"}},
			{Forge: "gitlab", Name: glTestRepo, TicketKeys: []string{"OPS"}}}
		c.Reconcile.Interval = 0 // the test starts both runs at once, as the processes' start does
	}
	forge.AddHook(testRepo, front.URL+"/webhooks/github", testSecret)
	forge.AddGitLabHook(glTestRepo, front.URL+"/webhooks/gitlab", testSecret)
	ctx := context.Background()
	repo := patchgate.RepoRef{Forge: patchgate.GitHub, Name: testRepo}
	sha := func(s string) string { return strings.Repeat(s, 40/len(s)) }
	old, pushed := sha("a1"), sha("b2")
	config := "suites:\n  regression:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\n"
	forge.AddCommit(testRepo, old, map[string][]byte{".patchgate.yml": []byte(config)}, "fix PAY-7", "dev")
	forge.AddCommit(testRepo, pushed, map[string][]byte{"more.txt": []byte("more")}, "more", "dev", old)
	pr7 := fakeforge.PullRequest{Number: 7, Title: "PAY-7: fix", Author: "Codertocat", HeadSHA: old, HeadRef: "fix/PAY-7", BaseRef: "main"}
	forge.AddPullRequest(testRepo, pr7)
	forge.SetBranch(testRepo, "main", sha("c3"))

	first := []*testApp{startAppOn(t, forge, mod), startAppOn(t, forge, mod)}
	front.serve(first...)
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	deliver := func(event, guid string, body []byte, want int) {
		t.Helper()
		if got := forge.Deliver(testRepo, event, guid, body); len(got) != 1 || got[0] != want {
			t.Fatalf("%s %s: the forge got %v, want [%d]", event, guid, got, want)
		}
	}
	deliver("pull_request", "open-7", prDelivery(t, "opened", 7, "PAY-7: fix", "fix/PAY-7", old, "", t0), http.StatusAccepted)
	first[0].waitProcessed(t)
	first[0].passUnderItsConfig(t, repo, old)
	deliver("pull_request", "edit-7", prDelivery(t, "edited", 7, "PAY-7: fix", "fix/PAY-7", old, "", t0.Add(time.Minute)), http.StatusAccepted)
	first[1].waitProcessed(t)
	if got := first[0].ticket(t, "PAY-7").Ticket.State; got != patchgate.TicketFixVerified {
		t.Fatalf("before the outage: PAY-7 is %s, want fix_verified", got)
	}

	// Both processes stop; what happens meanwhile is not delivered.
	front.serve()
	for _, a := range first {
		if err := a.main.Close(); err != nil {
			t.Fatal(err)
		}
	}
	pr7.HeadSHA = pushed
	forge.AddPullRequest(testRepo, pr7)
	deliver("pull_request", "sync-7", prDelivery(t, "synchronize", 7, "PAY-7: fix", "fix/PAY-7", pushed, old, t0.Add(2*time.Minute)), 0)
	forge.AddPullRequest(testRepo, fakeforge.PullRequest{Number: 8, Title: "PAY-8: fix", Author: "Codertocat", HeadSHA: sha("d4"), HeadRef: "fix/PAY-8", BaseRef: "main"})
	deliver("pull_request", "open-8", prDelivery(t, "opened", 8, "PAY-8: fix", "fix/PAY-8", sha("d4"), "", t0.Add(3*time.Minute)), 0)
	forge.SetBranch(testRepo, "main", sha("e5"))
	deliver("push", "push-main", fixture(t, "github/push/none.api.github.com.1.json", func(p map[string]any) {
		p["ref"], p["before"], p["after"], p["created"], p["deleted"] = "refs/heads/main", sha("c3"), sha("e5"), false, false
		p["commits"], p["head_commit"] = []any{}, nil
	}), 0)
	forge.AddPullRequest(glTestRepo, fakeforge.PullRequest{Number: 3, Title: "OPS-3: fix", HeadSHA: sha("f6"), HeadRef: "fix", BaseRef: "main"})
	mr := fixture(t, "gitlab/merge_request.json", func(p map[string]any) {
		obj(p, "project")["path_with_namespace"] = glTestRepo
		oa := obj(p, "object_attributes")
		oa["iid"], oa["action"], oa["state"], oa["title"], oa["description"] = 3, "open", "opened", "OPS-3: fix", ""
		oa["source_branch"], oa["target_branch"], oa["updated_at"] = "fix", "main", t0.Add(4*time.Minute).UTC().Format(time.RFC3339)
		obj(oa, "last_commit")["id"] = sha("f6")
	})
	if got := forge.DeliverGitLab(glTestRepo, "Merge Request Hook", "mr-3-open", mr); len(got) != 1 || got[0] != 0 {
		t.Fatalf("GitLab delivery while stopped: got %v, want [0]", got)
	}
	lost := []string{"sync-7", "open-8", "push-main", "mr-3-open"}

	// Both start again and reconcile at once; a delivery takes a while to
	// arrive, so that each process reads the logs while the other's
	// redeliveries are under way.
	second := []*testApp{startAppOn(t, forge, mod), startAppOn(t, forge, mod)}
	front.delay.Store(int64(200 * time.Millisecond))
	front.serve(second...)
	start := time.Now()
	var wg sync.WaitGroup
	for _, a := range second {
		wg.Go(func() { a.main.reconcile.runOnce(ctx) })
	}
	wg.Wait()
	for _, a := range second {
		a.waitProcessed(t)
	}
	t.Logf("redelivered and applied %v after the restart", time.Since(start).Round(time.Millisecond))
	for _, guid := range lost {
		if n := forge.Redeliveries(guid); n != 1 {
			t.Errorf("%s: redelivered %d times, want 1", guid, n)
		}
	}
	for _, guid := range []string{"open-7", "edit-7"} {
		if n := forge.Redeliveries(guid); n != 0 {
			t.Errorf("%s arrived, yet was redelivered %d times", guid, n)
		}
	}
	var out struct {
		Deliveries []patchgate.Delivery
		Total      int
	}
	second[0].api(t, http.MethodGet, "/api/v1/deliveries?limit=100", nil, &out)
	stored := map[string]int{}
	for _, d := range out.Deliveries {
		stored[d.ID]++
		if d.Source != patchgate.SourceReconcile && (d.Outcome != patchgate.OutcomeProcessed || d.Attempts != 1) {
			t.Errorf("delivery %s: %s after %d attempts, want processed at the first", d.ID, d.Outcome, d.Attempts)
		}
	}
	for _, guid := range lost {
		if stored[guid] != 1 {
			t.Errorf("%s stored %d times, want once", guid, stored[guid])
		}
	}
	if ch, _ := second[0].change(t, 7); ch.HeadSHA != pushed {
		t.Errorf("#7: head %s, want the pushed %s", ch.HeadSHA, pushed)
	}
	if ch, _ := second[1].change(t, 8); ch.HeadSHA != sha("d4") {
		t.Errorf("#8: got %+v, want opened at %s", ch, sha("d4"))
	}
	if got := branchHead(t, second[0], "main"); got != sha("e5") {
		t.Errorf("main: head %s, want %s", got, sha("e5"))
	}
	var mrs struct{ Changes []patchgate.Change }
	second[1].api(t, http.MethodGet, "/api/v1/changes?kind=merge_request&repo="+url.QueryEscape(glTestRepo), nil, &mrs)
	if len(mrs.Changes) != 1 || mrs.Changes[0].HeadSHA != sha("f6") {
		t.Errorf("GitLab: got %+v, want !3 at %s", mrs.Changes, sha("f6"))
	}
	vs, _, err := store.NewVerificationService(second[0].main.DB).FindVerifications(ctx, patchgate.VerificationFilter{SHA: &pushed, Limit: 5})
	if err != nil || len(vs) != 1 || vs[0].State.Final() {
		t.Errorf("verifications of #7's new head: got %+v, %v; want one to run", vs, err)
	}
	if got := second[0].ticket(t, "PAY-7").Ticket.State; got != patchgate.TicketFixProposed {
		t.Errorf("after the restart: PAY-7 is %s, want fix_proposed (the pass was of the old head)", got)
	}
	if n := queryInt(t, second[0], `SELECT count(*) FROM redelivery_requests`); n != len(lost) {
		t.Errorf("redeliveries recorded: %d, want %d", n, len(lost))
	}
	redelivered := 0
	for _, a := range second {
		run, _ := a.main.reconcile.Last()
		redelivered += run.Redelivered
		t.Logf("instance run: %+v", run)
	}
	if redelivered != len(lost) {
		t.Errorf("the two runs redelivered %d, want %d between them", redelivered, len(lost))
	}

	// Later runs ask for nothing again.
	for _, a := range second {
		a.main.reconcile.runOnce(ctx)
	}
	for _, guid := range lost {
		if n := forge.Redeliveries(guid); n != 1 {
			t.Errorf("%s after more runs: redelivered %d times, want 1", guid, n)
		}
	}
}

// TestRedeliveryThroughTheAppHook: in GitHub App mode the deliveries come
// through the App's hook; one that failed while patchgate was stopped is
// found in the App's delivery log and redelivered through the App's route
// (with the App's JWT), once, and applied.
func TestRedeliveryThroughTheAppHook(t *testing.T) {
	front := newWebhookFront(t)
	app, _ := startAppMode(t, func(c *Config) { c.Runners.Workers = 0; c.Reconcile.Interval = 0; c.PublicURL = front.URL })
	app.forge.AddAppHook(front.URL+"/webhooks/github", testSecret)
	body := prDelivery(t, "opened", 5, "HW-5: fix", "fix", strings.Repeat("a5", 20), "", time.Now().Add(-time.Hour))
	if got := app.forge.Deliver(testRepo, "pull_request", "app-lost", body); len(got) != 1 || got[0] != 0 {
		t.Fatalf("delivery while stopped: got %v, want [0] through the App's hook", got)
	}
	front.serve(app)
	app.forge.ResetRequests()
	app.main.reconcile.runOnce(context.Background())
	app.waitProcessed(t)
	if ch, _ := app.change(t, 5); ch.Title != "HW-5: fix" {
		t.Fatalf("after redelivery: #5 is %+v, want the lost delivery applied", ch)
	}
	app.main.reconcile.runOnce(context.Background())
	if n := app.forge.Redeliveries("app-lost"); n != 1 {
		t.Errorf("app-lost: redelivered %d times, want 1", n)
	}
	viaApp := 0
	for _, r := range app.forge.Requests() {
		viaApp += strings.Count(r, "/api/v3/app/hook/deliveries/") // the attempts route
		if strings.Contains(r, "/repos/") && strings.Contains(r, "/hooks") {
			t.Errorf("App mode read a repository hook: %s", r)
		}
	}
	if viaApp != 1 {
		t.Errorf("redeliveries through the App's route: %d, want 1 (requests %q)", viaApp, app.forge.Requests())
	}
}

// TestGitLabWithoutHookEvents: a GitLab before 17.x answers 404 on a project
// hook's events; the serving process says so once and does not ask again
// every run, and reconciliation still runs.
func TestGitLabWithoutHookEvents(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers, c.Reconcile.Interval = 0, 0
		c.Repos = append(c.Repos, RepoConfig{Forge: "gitlab", Name: glTestRepo, TicketKeys: []string{"OPS"}})
	})
	app.forge.AddGitLabHook(glTestRepo, app.main.Config.PublicURL+"/webhooks/gitlab", testSecret)
	app.forge.SetGitLabHookEvents(false)
	events := func() int {
		n := 0
		for _, r := range app.forge.Requests() {
			if strings.HasPrefix(r, "GET /api/v4/projects/") && strings.HasSuffix(r, "/events") {
				n++
			}
		}
		return n
	}
	for i, want := range []int{1, 0, 0} {
		app.main.reconcile.runOnce(context.Background())
		run, _ := app.main.reconcile.Last()
		if run.Problems != want {
			t.Errorf("run %d: %d problem(s), want %d", i+1, run.Problems, want)
		}
	}
	if n := events(); n != 1 {
		t.Errorf("asked for the hook's events %d times in 3 runs, want once", n)
	}
}
