package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/usecase/reconcile"
)

// reconcileConfig writes a configuration for `patchgate reconcile` that names
// app's database, forge and repository, as an operator's would.
func reconcileConfig(t *testing.T, app *testApp) string {
	t.Helper()
	return reconcileConfigAt(t, app, app.main.Config.PublicURL)
}

// reconcileConfigAt is reconcileConfig with public_url, where the forges'
// hooks point.
func reconcileConfigAt(t *testing.T, app *testApp, publicURL string) string {
	t.Helper()
	c := app.main.Config
	yaml := fmt.Sprintf("public_url: %q\ndatabase: %q\ngithub:\n  api_url: %q\n  token: forge-token\n  webhook_secrets: [%q]\n"+
		"repos:\n  - forge: github\n    name: %q\n    ticket_keys: [PAY]\naudit:\n  key_file: %q\n",
		publicURL, c.Database, c.GitHub.APIURL, testSecret, testRepo, c.Audit.KeyFile)
	path := filepath.Join(t.TempDir(), "patchgate.yml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReconcileCorrectsAMissedPush: PR #7 fixes PAY-7 and passed at its head,
// so PAY-7 is fix_verified. A new head is pushed on the forge and its webhook
// never reaches patchgate. `reconcile --dry-run` names the difference and
// changes nothing; reconciliation then makes the forge's head the change's
// head, plans a verification of it, and the old pass no longer makes PAY-7
// fix_verified. Another run (another instance) corrects nothing twice, and
// /metrics shows the run.
func TestReconcileCorrectsAMissedPush(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Repos[0].TicketKeys = []string{"PAY"}
		c.Reconcile.Interval = 0 // the test runs it
	})
	ctx := context.Background()
	repo := patchgate.RepoRef{Forge: patchgate.GitHub, Name: testRepo}
	config := "suites:\n  regression:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\n"
	old, pushed := strings.Repeat("a1", 20), strings.Repeat("b2", 20)
	app.forge.AddCommit(testRepo, old, map[string][]byte{".patchgate.yml": []byte(config)}, "fix PAY-7", "dev")
	app.forge.AddCommit(testRepo, pushed, map[string][]byte{"more.txt": []byte("more")}, "more", "dev", old)
	pr := fakeforge.PullRequest{Number: 7, Title: "PAY-7: fix", Author: "Codertocat", HeadSHA: old, HeadRef: "fix/PAY-7", BaseRef: "main"}
	app.forge.AddPullRequest(testRepo, pr)

	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	app.openPR(t, "opened", 7, "PAY-7: fix", "Fixes PAY-7", "fix/PAY-7", old, "", t0)
	app.waitProcessed(t)
	app.passUnderItsConfig(t, repo, old)
	// An edit re-derives the ticket from the pass.
	app.openPR(t, "edited", 7, "PAY-7: fix", "Fixes PAY-7", "fix/PAY-7", old, "", t0.Add(time.Minute))
	app.waitProcessed(t)
	if got := app.ticket(t, "PAY-7").Ticket.State; got != patchgate.TicketFixVerified {
		t.Fatalf("before the push: PAY-7 is %s, want fix_verified", got)
	}

	// The push happens on the forge; its webhook is lost.
	pr.HeadSHA = pushed
	app.forge.AddPullRequest(testRepo, pr)
	cfgPath := reconcileConfig(t, app)

	out := runCLI(t, "reconcile", "--config", cfgPath, "--dry-run")
	if !strings.Contains(out, testRepo+"#7") || !strings.Contains(out, pushed[:7]) || !strings.Contains(out, "no (dry run)") {
		t.Fatalf("reconcile --dry-run: got\n%s\nwant #7 with the forge's head, not stored", out)
	}
	if ch, _ := app.change(t, 7); ch.HeadSHA != old {
		t.Fatalf("after a dry run: head %s, want %s unchanged", ch.HeadSHA, old)
	}
	if n := countReconcileDeliveries(t, app); n != 0 {
		t.Fatalf("after a dry run: %d reconcile deliveries, want 0", n)
	}

	get := dashboardSession(t, app, app.createToken(t, "viewer", patchgate.RoleViewer))
	if _, page := get(t, "/ui/repos"); strings.Contains(page, `id="reconcile"`) {
		t.Fatalf("repositories page names a reconciliation before any ran:\n%s", page)
	}

	// The serving process's run (at start, or every reconcile.interval).
	app.main.reconcile.runOnce(ctx)
	app.waitProcessed(t)
	ch, _ := app.change(t, 7)
	if ch.HeadSHA != pushed {
		t.Fatalf("after reconciliation: head %s, want the forge's %s", ch.HeadSHA, pushed)
	}
	vs, _, err := store.NewVerificationService(app.main.DB).FindVerifications(ctx, patchgate.VerificationFilter{SHA: &pushed, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || vs[0].Trigger != "reconcile" || vs[0].State.Final() {
		t.Fatalf("verifications of the new head: got %+v, want one planned by reconcile", vs)
	}
	if got := app.ticket(t, "PAY-7").Ticket.State; got != patchgate.TicketFixProposed {
		t.Fatalf("after reconciliation: PAY-7 is %s, want fix_proposed (the pass was of the old head)", got)
	}

	// A second instance's run, and the CLI's, correct nothing again.
	second := app.main.newReconciler(store.NewChangeService(app.main.DB), store.NewDeliveryService(app.main.DB), app.main.repositories().dir, mustClients(t, app), nil)
	rep, err := second.Run(ctx, reconcile.Options{})
	if err != nil || rep.Corrected() != 0 || rep.Checked == 0 {
		t.Fatalf("second run: got %+v, %v; want changes checked, none corrected", rep, err)
	}
	if out := runCLI(t, "reconcile", "--config", cfgPath, "--json"); !strings.Contains(out, `"corrections": []`) {
		t.Fatalf("reconcile after the correction: got\n%s\nwant no corrections", out)
	}
	if n := countReconcileDeliveries(t, app); n != 1 {
		t.Fatalf("reconcile deliveries: got %d, want 1", n)
	}

	if _, page := get(t, "/ui/repos"); !regexp.MustCompile(`id="reconcile">Last reconciliation with the forges: [^<]*, 1 open change\(s\) checked, 1 head\(s\) corrected\.`).MatchString(page) {
		t.Errorf("repositories page: want the last reconciliation with its correction:\n%s", page)
	}

	metrics := scrape(t, app)
	if v := metricValue(t, metrics, "patchgate_reconcile_heads_corrected_total"); v != 1 {
		t.Errorf("patchgate_reconcile_heads_corrected_total: got %v, want 1", v)
	}
	if v := metricValue(t, metrics, "patchgate_reconcile_last_run_timestamp_seconds"); v < float64(t0.Unix()) {
		t.Errorf("patchgate_reconcile_last_run_timestamp_seconds: got %v, want the run's time", v)
	}
}

// TestReconcileSameCorrectionOnce: two instances that find the same stale
// head before either correction is applied store it once (the delivery id
// names the change and the head), so it is applied once.
func TestReconcileSameCorrectionOnce(t *testing.T) {
	app := startApp(t, func(c *Config) { c.Runners.Workers = 0; c.Reconcile.Interval = 0 })
	ctx := context.Background()
	old, pushed := strings.Repeat("c3", 20), strings.Repeat("d4", 20)
	pr := fakeforge.PullRequest{Number: 9, Title: "HW-1: fix", Author: "Codertocat", HeadSHA: old, HeadRef: "fix", BaseRef: "main"}
	app.forge.AddPullRequest(testRepo, pr)
	app.openPR(t, "opened", 9, "HW-1: fix", "", "fix", old, "", time.Now().Add(-time.Hour))
	app.waitProcessed(t)
	pr.HeadSHA = pushed
	app.forge.AddPullRequest(testRepo, pr)

	deliveries := store.NewDeliveryService(app.main.DB)
	changes := store.NewChangeService(app.main.DB)
	var applied int
	snapshot := frozen{changes: changes, seen: map[string][]*patchgate.Change{}}
	for range 2 {
		// No wake and the same stored change for both: neither sees the
		// other's correction applied.
		r := app.main.newReconciler(snapshot, deliveries, app.main.repositories().dir, mustClients(t, app), nil)
		rep, err := r.Run(ctx, reconcile.Options{Repo: testRepo})
		if err != nil || len(rep.Corrections) != 1 {
			t.Fatalf("run: got %+v, %v; want one correction", rep, err)
		}
		applied += rep.Corrected()
	}
	if applied != 1 {
		t.Fatalf("two runs stored %d corrections, want 1", applied)
	}
	app.waitProcessed(t)
	if ch, _ := app.change(t, 9); ch.HeadSHA != pushed {
		t.Fatalf("head %s, want %s", ch.HeadSHA, pushed)
	}
	if n := countReconcileDeliveries(t, app); n != 1 {
		t.Fatalf("reconcile deliveries: got %d, want 1", n)
	}
}

// TestReconcileReportsAnUnreachableForge: a forge that answers 503 is a
// problem in the report, not a crash, and nothing is corrected.
func TestReconcileReportsAnUnreachableForge(t *testing.T) {
	app := startApp(t, func(c *Config) { c.Runners.Workers = 0; c.Reconcile.Interval = 0 })
	app.openPR(t, "opened", 2, "Update the README", "", "readme", strings.Repeat("e5", 20), "", time.Now().Add(-time.Hour))
	app.waitProcessed(t)
	app.forge.FailNextOn("/pulls/", 1_000_000, http.StatusServiceUnavailable, nil)
	out, err := execCLI("reconcile", "--config", reconcileConfig(t, app))
	if err != nil || !strings.Contains(out, "1 could not be checked") || !strings.Contains(out, "503") {
		t.Fatalf("reconcile with the forge down: got %v\n%s\nwant the change reported as not checked", err, out)
	}
	if n := countReconcileDeliveries(t, app); n != 0 {
		t.Fatalf("reconcile deliveries: got %d, want 0", n)
	}
}

// frozen serves the changes as they were at its first read, as two
// instances reading at the same moment see them.
type frozen struct {
	changes *store.ChangeService
	seen    map[string][]*patchgate.Change
}

func (f frozen) FindChanges(ctx context.Context, filter patchgate.ChangeFilter) ([]*patchgate.Change, int, error) {
	key := fmt.Sprint(*filter.Kind, filter.Offset)
	if got, ok := f.seen[key]; ok {
		return got, len(got), nil
	}
	got, n, err := f.changes.FindChanges(ctx, filter)
	f.seen[key] = got
	return got, n, err
}

func mustClients(t *testing.T, app *testApp) forgeAPIs {
	t.Helper()
	c, err := app.main.forgeClients()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// countReconcileDeliveries counts the stored deliveries of source reconcile.
func countReconcileDeliveries(t *testing.T, app *testApp) int {
	t.Helper()
	var out struct{ Total int }
	app.api(t, http.MethodGet, "/api/v1/deliveries?forge=reconcile&limit=1", nil, &out)
	return out.Total
}

func scrape(t *testing.T, app *testApp) string {
	t.Helper()
	resp, err := http.Get(app.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func metricValue(t *testing.T, metrics, name string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindStringSubmatch(metrics)
	if m == nil {
		t.Fatalf("/metrics has no %s", name)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestReconcileAtStart: patchgate is stopped, meanwhile PR #7 gets a new head,
// PR #8 is merged and the release branch moves on the forge. Started again on
// the same database, patchgate reconciles at once: each change is what the
// forge says, the new heads are to be verified.
func TestReconcileAtStart(t *testing.T) {
	forge := fakeforge.New()
	t.Cleanup(forge.Close)
	forge.SetToken("forge-token")
	db := "sqlite://" + filepath.Join(t.TempDir(), "patchgate.db")
	keep := func(c *Config) { c.Runners.Workers = 0; c.Database = db; c.Reconcile.Interval = 0 }
	first := startAppOn(t, forge, keep)
	sha := func(s string) string { return strings.Repeat(s, 40/len(s)) }
	at := time.Now().Add(-time.Hour)
	first.openPR(t, "opened", 7, "HW-1: fix", "", "fix", sha("a1"), "", at)
	first.openPR(t, "opened", 8, "HW-2: fix", "", "fix2", sha("c3"), "", at)
	push := fixture(t, "github/push/none.api.github.com.1.json", func(p map[string]any) {
		p["ref"], p["before"], p["after"], p["created"], p["deleted"] = "refs/heads/main", sha("00"), sha("e5"), false, false
		p["commits"], p["head_commit"] = []any{}, nil
	})
	if code, ack := first.sendGitHub(t, "push", "push-main-1", push, testSecret); code != 202 || ack.Status != "accepted" {
		t.Fatalf("push: got %d %+v", code, ack)
	}
	gone := fixture(t, "github/push/none.api.github.com.1.json", func(p map[string]any) {
		p["ref"], p["before"], p["after"], p["created"], p["deleted"] = "refs/heads/feature-gone", sha("00"), sha("a7"), true, false
		p["commits"], p["head_commit"] = []any{}, nil
	})
	if code, ack := first.sendGitHub(t, "push", "push-gone-1", gone, testSecret); code != 202 || ack.Status != "accepted" {
		t.Fatalf("push: got %d %+v", code, ack)
	}
	first.waitProcessed(t)
	if err := first.main.Close(); err != nil {
		t.Fatal(err)
	}

	// While patchgate is down: none of this is delivered.
	forge.AddPullRequest(testRepo, fakeforge.PullRequest{Number: 7, Title: "HW-1: fix", HeadSHA: sha("b2"), HeadRef: "fix", BaseRef: "main"})
	forge.AddPullRequest(testRepo, fakeforge.PullRequest{Number: 8, Title: "HW-2: fix", HeadSHA: sha("c3"), HeadRef: "fix2", BaseRef: "main",
		State: "merged", MergeCommitSHA: sha("d4")})
	forge.SetBranch(testRepo, "main", sha("f6"))

	app := startAppOn(t, forge, func(c *Config) { keep(c); c.Reconcile.Interval = time.Hour })
	deadline := time.Now().Add(20 * time.Second)
	for {
		app.waitProcessed(t)
		c7, _ := app.change(t, 7)
		c8, _ := app.change(t, 8)
		main := branchHead(t, app, "main")
		if c7.HeadSHA == sha("b2") && c8.State == patchgate.ChangeMerged && c8.MergeCommitSHA == sha("d4") && main == sha("f6") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after restart: #7 head %s (want %s), #8 %s merged as %s (want merged as %s), main at %s (want %s)",
				c7.HeadSHA, sha("b2"), c8.State, c8.MergeCommitSHA, sha("d4"), main, sha("f6"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	vs := store.NewVerificationService(app.main.DB)
	for _, head := range []string{sha("b2"), sha("f6")} {
		got, _, err := vs.FindVerifications(context.Background(), patchgate.VerificationFilter{SHA: &head, Limit: 5})
		if err != nil || len(got) != 1 || got[0].Trigger != "reconcile" {
			t.Errorf("verifications of %s: got %+v, %v; want one triggered by reconcile", head[:7], got, err)
		}
	}
	// The branch deleted meanwhile is no problem: a deletion is not verified.
	if run, ok := app.main.reconcile.Last(); !ok || run.Corrected != 3 || run.Problems != 0 {
		t.Errorf("last run: got %+v, %v; want 3 corrections and no problem", run, ok)
	}
}

// branchHead is the head patchgate derived for a tracked branch.
func branchHead(t *testing.T, app *testApp, branch string) string {
	t.Helper()
	var list struct{ Changes []patchgate.Change }
	app.api(t, http.MethodGet, "/api/v1/changes?kind=push&repo="+testRepo, nil, &list)
	for _, c := range list.Changes {
		if c.SourceBranch == branch {
			return c.HeadSHA
		}
	}
	return ""
}
