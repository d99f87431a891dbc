package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
)

// postgresSchema returns the URL of a fresh schema on the test PostgreSQL
// server, dropped after the test; it skips (fails under
// PATCHGATE_REQUIRE_POSTGRES=1) when there is no server.
func postgresSchema(t *testing.T) string {
	t.Helper()
	base := os.Getenv("PATCHGATE_TEST_POSTGRES_URL")
	if base == "" {
		if os.Getenv("PATCHGATE_REQUIRE_POSTGRES") == "1" {
			t.Fatal("PATCHGATE_REQUIRE_POSTGRES=1 but PATCHGATE_TEST_POSTGRES_URL is empty: run scripts/postgres.sh")
		}
		t.Skip("PATCHGATE_TEST_POSTGRES_URL not set: run eval \"$(scripts/postgres.sh)\"")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	schema := "patchgate_cmd_" + randomID()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// The shared-database tests send 500 pull request deliveries: ten
// repositories of ten pull requests each get five. A repository's deliveries
// are applied one at a time, different repositories in parallel.
const sharedRepos, sharedPRs, sharedPerPR = 10, 100, 5

func sharedRepo(n int) string { return fmt.Sprintf("acme/svc-%d", n%sharedRepos) }

// sharedConfig points a process at the shared database with the shared
// repositories and extra ones.
func sharedConfig(dsn string, extra ...string) func(c *Config) {
	return func(c *Config) {
		c.Database = dsn
		c.Runners.Workers = 0
		c.Workers.Deliveries = 4
		c.Repos = nil
		for i := range sharedRepos {
			c.Repos = append(c.Repos, RepoConfig{Forge: "github", Name: sharedRepo(i), TicketKeys: []string{"HW"}})
		}
		for _, name := range extra {
			c.Repos = append(c.Repos, RepoConfig{Forge: "github", Name: name, TicketKeys: []string{"HW"}})
		}
	}
}

// sendSharedDeliveries puts the pull requests on the forge and sends their 500
// deliveries at once, half to each server, as a load balancer would.
func sendSharedDeliveries(t *testing.T, forge *fakeforge.Forge, apps []*testApp) {
	t.Helper()
	for n := 1; n <= sharedPRs; n++ {
		forge.AddPullRequest(sharedRepo(n), fakeforge.PullRequest{Number: n, Title: fmt.Sprintf("HW-%d: fix", n), Author: "dev"})
	}
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	head := func(n, i int) string { return fmt.Sprintf("%08x%032x", n, i) }
	var wg sync.WaitGroup
	for n := 1; n <= sharedPRs; n++ {
		wg.Go(func() {
			for i := range sharedPerPR {
				action, before := "synchronize", head(n, i-1)
				if i == 0 {
					action, before = "opened", ""
				}
				body := fixture(t, "github/pull_request/opened.api.github.com.13.json", func(p map[string]any) {
					p["action"], p["number"] = action, n
					repo := obj(p, "repository")
					repo["full_name"], repo["name"] = sharedRepo(n), strings.TrimPrefix(sharedRepo(n), "acme/")
					obj(repo, "owner")["login"] = "acme"
					pr := obj(p, "pull_request")
					pr["number"], pr["title"], pr["body"] = n, fmt.Sprintf("HW-%d: fix", n), "Fixes the rounding."
					pr["updated_at"] = t0.Add(time.Duration(i) * time.Minute).UTC().Format(time.RFC3339)
					obj(pr, "head")["sha"], obj(pr, "head")["ref"] = head(n, i), fmt.Sprint("fix-", n)
					if before != "" {
						p["before"], p["after"] = before, head(n, i)
					}
				})
				app := apps[(n+i)%len(apps)]
				if code, ack := app.sendGitHub(t, "pull_request", fmt.Sprintf("d-%d-%d", n, i), body, testSecret); code != 202 || ack.Status != "accepted" {
					t.Errorf("PR %d delivery %d: got %d %+v", n, i, code, ack)
				}
			}
		})
	}
	wg.Wait()
}

// checkSharedDeliveries waits until the servers have no pending delivery and
// checks that every one of the 500 deliveries and of extra others was applied
// once, that every pull request got one link comment and that no repository
// lease is left.
func checkSharedDeliveries(t *testing.T, forge *fakeforge.Forge, apps []*testApp, extra int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for _, app := range apps {
		for {
			var pending struct{ Total int }
			app.api(t, http.MethodGet, "/api/v1/deliveries?outcome=pending&limit=1", nil, &pending)
			if pending.Total == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d deliveries still pending after 2 minutes", pending.Total)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	var out struct {
		Deliveries []patchgate.Delivery
		Total      int
	}
	apps[0].api(t, http.MethodGet, "/api/v1/deliveries?limit=1000", nil, &out)
	if want := sharedPRs*sharedPerPR + extra; out.Total != want {
		t.Fatalf("got %d deliveries, want %d", out.Total, want)
	}
	twice := 0
	for _, d := range out.Deliveries {
		if d.Outcome != patchgate.OutcomeProcessed || d.Attempts != 1 {
			twice++
			if twice <= 5 {
				t.Errorf("delivery %s: outcome %s after %d attempts, want processed once", d.ID, d.Outcome, d.Attempts)
			}
		}
	}
	comments := 0
	for n := 1; n <= sharedPRs; n++ {
		got := 0
		for _, c := range forge.Comments(sharedRepo(n), n) {
			if strings.Contains(c.Body, "<!-- patchgate:links -->") {
				got++
			}
		}
		comments += got
		if got != 1 {
			t.Errorf("%s#%d: got %d link comments, want 1", sharedRepo(n), n, got)
		}
	}
	t.Logf("%d deliveries, %d not applied exactly once; %d link comments on %d pull requests", out.Total, twice, comments, sharedPRs)
	if held := queryInt(t, apps[0], `SELECT count(*) FROM delivery_leases`); held != 0 {
		t.Errorf("%d repository leases still held after the work was done", held)
	}
}

// queryInt runs a query that returns one number on app's database.
func queryInt(t *testing.T, app *testApp, query string, args ...any) int {
	t.Helper()
	var n int
	if err := app.main.DB.SQL().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestInstancesShareOnePostgres runs two patchgate servers on one PostgreSQL
// database and sends each half of 500 pull request deliveries at once: every
// delivery is applied once, by one of them, and every pull request gets one
// link comment. Before repositories were leased, both processors picked the
// same pending deliveries, applied some twice and posted duplicate comments.
func TestInstancesShareOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("two servers and 500 deliveries")
	}
	dsn := postgresSchema(t)
	forge := fakeforge.New()
	t.Cleanup(forge.Close)
	forge.SetToken("forge-token")
	mod := sharedConfig(dsn)
	apps := []*testApp{startAppOn(t, forge, mod), startAppOn(t, forge, mod)}
	sendSharedDeliveries(t, forge, apps)
	checkSharedDeliveries(t, forge, apps, 0)
}

// startWorkerOn starts `patchgate worker` in this process: verification
// workers only, no HTTP server, no delivery processor.
func startWorkerOn(t *testing.T, forge *fakeforge.Forge, mod func(*Config)) *Main {
	t.Helper()
	return startMain(t, forge, mod, true)
}

// TestInstancesShareVerifications is issue 9's test of many instances on one
// PostgreSQL: two `serve` processes and one `worker` share one database and
// one Docker daemon; 500 pull request deliveries and 20 pushes that each
// plan a verification (a real suite in a real container) arrive half at
// each server. Every delivery is applied once; every verification runs its
// suite once, at its first attempt, and finishes once (one verdict in the
// audit log, one terminal status per commit and context, at most two posts
// of each); the verifications are spread over the processes (each runs
// runners.workers = 1: the servers too, as `serve` does by default); and
// nothing of this instance is left on the daemon.
func TestInstancesShareVerifications(t *testing.T) {
	if testing.Short() {
		t.Skip("three processes, 500 deliveries and 20 verifications in containers")
	}
	requireDocker(t)
	dsn := postgresSchema(t)
	forge := fakeforge.New()
	t.Cleanup(forge.Close)
	forge.SetToken("forge-token")

	const gitRepos, pushesPerRepo = 4, 5
	owner := "instances-" + randomID()
	var names []string
	for i := range gitRepos {
		names = append(names, fmt.Sprintf("acme/app-%d", i))
	}
	shared := sharedConfig(dsn, names...)
	mod := func(c *Config) {
		shared(c)
		c.Runners.Workers, c.Runners.Owner = 1, owner
		// Generous for a loaded machine: a run is orphaned after three
		// missed heartbeats, and this test wants every run at attempt 1.
		c.Runners.Heartbeat = 3 * time.Second
	}
	apps := []*testApp{startAppOn(t, forge, mod), startAppOn(t, forge, mod)}
	worker := startWorkerOn(t, forge, mod)

	// Each push is a new branch whose head is a real commit with a trivial
	// suite, so each plans one verification.
	type push struct{ repo, branch, sha string }
	var pushes []push
	for i, name := range names {
		repo := newGitRepo(t, forge, name)
		repo.commit("init", map[string][]byte{".patchgate.yml": []byte(trivialSuite)})
		for j := range pushesPerRepo {
			branch := fmt.Sprintf("fix-%d-%d", i, j)
			repo.git("checkout", "-q", "-b", branch, "main")
			n := i*pushesPerRepo + j + 1
			sha := repo.commit(fmt.Sprintf("Fixes HW-%d", 1000+n), map[string][]byte{"fix.txt": []byte(branch)})
			pushes = append(pushes, push{repo: name, branch: branch, sha: sha})
		}
	}

	start := time.Now()
	var wg sync.WaitGroup
	wg.Go(func() { sendSharedDeliveries(t, forge, apps) })
	for i, p := range pushes {
		wg.Go(func() {
			msg := fmt.Sprintf("Fixes HW-%d", 1000+i+1)
			apps[i%2].pushToRepo(t, p.repo, fmt.Sprintf("push-%d", i), p.branch, p.sha, msg)
		})
	}
	wg.Wait()
	checkSharedDeliveries(t, forge, apps, len(pushes))

	ranBy := map[string]int{}
	for _, p := range pushes {
		v := apps[0].waitVerification(t, p.sha, final, 4*time.Minute)
		if v.State != patchgate.RunSuccess || v.Attempt != 1 {
			t.Errorf("%s@%s: got %s at attempt %d (%s), want success at attempt 1", p.repo, p.branch, v.State, v.Attempt, v.Reason)
		}
		ranBy[v.Worker]++
		if n := queryInt(t, apps[0], `SELECT count(*) FROM verifications WHERE sha = $1`, p.sha); n != 1 {
			t.Errorf("%s: %d verifications, want 1", p.sha[:8], n)
		}
		if n := queryInt(t, apps[0], `SELECT count(*) FROM suite_runs WHERE verification_id = $1 AND name = 'smoke' AND state = 'success'`, v.ID); n != 1 {
			t.Errorf("verification %d: %d passed smoke suite runs, want 1", v.ID, n)
		}
		if n := queryInt(t, apps[0], `SELECT count(*) FROM audit_log WHERE action = $1 AND subject = $2`, patchgate.AuditVerdict, fmt.Sprintf("verification:%d", v.ID)); n != 1 {
			t.Errorf("verification %d: %d verdicts in the audit log, want 1", v.ID, n)
		}
	}
	elapsed := time.Since(start)
	for _, m := range []*Main{apps[0].main, apps[1].main, worker} {
		m.Reporter.Wait()
	}
	for _, p := range pushes {
		for _, ctx := range []string{"patchgate/smoke", "patchgate/verdict"} {
			terminal := 0
			for _, st := range forge.Statuses(p.repo, p.sha) {
				if st.Context == ctx && st.State != "pending" {
					terminal++
				}
			}
			if terminal != 1 || lastStatus(forge.Statuses(p.repo, p.sha), ctx) != "success" {
				t.Errorf("%s@%s %s: %d terminal statuses, last %q; want one, success", p.repo, p.sha[:8], ctx, terminal, lastStatus(forge.Statuses(p.repo, p.sha), ctx))
			}
			if n := forge.StatusPosts(p.repo, p.sha, ctx); n > 2 {
				t.Errorf("%s@%s %s posted %d times, want at most 2", p.repo, p.sha[:8], ctx, n)
			}
		}
	}
	t.Logf("%d verifications finished %v after the first delivery; run by %d processes: %v", len(pushes), elapsed.Round(time.Second), len(ranBy), ranBy)
	if len(ranBy) < 2 {
		t.Errorf("every verification ran on one process (%v): the queue is not shared", ranBy)
	}
	workerRan := 0
	for w, n := range ranBy {
		if w == worker.Executor.Worker {
			workerRan = n
		}
	}
	if workerRan == 0 {
		t.Errorf("the worker process ran none of the verifications: %v", ranBy)
	}
	if left := leftovers(t, owner); left != "" {
		t.Errorf("containers or networks left on the daemon: %s", left)
	}
	if vols, _ := exec.Command("docker", "volume", "ls", "-q", "--filter", "label=dev.patchgate.owner="+owner).Output(); strings.TrimSpace(string(vols)) != "" {
		t.Errorf("volumes left on the daemon: %s", vols)
	}
}
