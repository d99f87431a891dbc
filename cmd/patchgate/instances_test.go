package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"os"
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
	// Ten repositories of ten pull requests: a repository's deliveries are
	// applied one at a time, different repositories in parallel.
	const repos, prs, perPR = 10, 100, 5
	repoOf := func(n int) string { return fmt.Sprintf("acme/svc-%d", n%repos) }
	for n := 1; n <= prs; n++ {
		forge.AddPullRequest(repoOf(n), fakeforge.PullRequest{Number: n, Title: fmt.Sprintf("HW-%d: fix", n), Author: "dev"})
	}
	mod := func(c *Config) {
		c.Database = dsn
		c.Runners.Workers = 0
		c.Workers.Deliveries = 4
		c.Repos = nil
		for i := range repos {
			c.Repos = append(c.Repos, RepoConfig{Forge: "github", Name: repoOf(i), TicketKeys: []string{"HW"}})
		}
	}
	apps := []*testApp{startAppOn(t, forge, mod), startAppOn(t, forge, mod)}

	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	head := func(n, i int) string { return fmt.Sprintf("%08x%032x", n, i) }
	var wg sync.WaitGroup
	for n := 1; n <= prs; n++ {
		wg.Go(func() {
			for i := range perPR {
				action, before := "synchronize", head(n, i-1)
				if i == 0 {
					action, before = "opened", ""
				}
				body := fixture(t, "github/pull_request/opened.api.github.com.13.json", func(p map[string]any) {
					p["action"], p["number"] = action, n
					repo := obj(p, "repository")
					repo["full_name"], repo["name"] = repoOf(n), strings.TrimPrefix(repoOf(n), "acme/")
					obj(repo, "owner")["login"] = "acme"
					pr := obj(p, "pull_request")
					pr["number"], pr["title"], pr["body"] = n, fmt.Sprintf("HW-%d: fix", n), "Fixes the rounding."
					pr["updated_at"] = t0.Add(time.Duration(i) * time.Minute).UTC().Format(time.RFC3339)
					obj(pr, "head")["sha"], obj(pr, "head")["ref"] = head(n, i), fmt.Sprint("fix-", n)
					if before != "" {
						p["before"], p["after"] = before, head(n, i)
					}
				})
				// Half to each server, as a load balancer would.
				app := apps[(n+i)%2]
				if code, ack := app.sendGitHub(t, "pull_request", fmt.Sprintf("d-%d-%d", n, i), body, testSecret); code != 202 || ack.Status != "accepted" {
					t.Errorf("PR %d delivery %d: got %d %+v", n, i, code, ack)
				}
			}
		})
	}
	wg.Wait()
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
	if out.Total != prs*perPR {
		t.Fatalf("got %d deliveries, want %d", out.Total, prs*perPR)
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
	for n := 1; n <= prs; n++ {
		got := 0
		for _, c := range forge.Comments(repoOf(n), n) {
			if strings.Contains(c.Body, "<!-- patchgate:links -->") {
				got++
			}
		}
		comments += got
		if got != 1 {
			t.Errorf("%s#%d: got %d link comments, want 1", repoOf(n), n, got)
		}
	}
	t.Logf("%d deliveries, %d not applied exactly once; %d link comments on %d pull requests", out.Total, twice, comments, prs)
	ctx := context.Background()
	leases, err := apps[0].main.DB.SQL().QueryContext(ctx, `SELECT count(*) FROM delivery_leases`)
	if err != nil {
		t.Fatal(err)
	}
	defer leases.Close()
	var held int
	for leases.Next() {
		if err := leases.Scan(&held); err != nil {
			t.Fatal(err)
		}
	}
	if held != 0 {
		t.Errorf("%d repository leases still held after the work was done", held)
	}
}
