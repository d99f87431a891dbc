package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/usecase/reconcile"
)

// TestReconcileTwoInstancesPostgres: two patchgates on one PostgreSQL
// database reconcile at the same moment after five pushes were missed; each
// head is corrected once (one correction stored, one verification planned),
// whichever instance found it.
func TestReconcileTwoInstancesPostgres(t *testing.T) {
	dsn := postgresSchema(t)
	forge := fakeforge.New()
	t.Cleanup(forge.Close)
	forge.SetToken("forge-token")
	mod := func(c *Config) { c.Database = dsn; c.Runners.Workers = 0; c.Reconcile.Interval = 0 }
	a := startAppOn(t, forge, mod)
	b := startAppOn(t, forge, mod)
	const prs = 5
	sha := func(n int, s string) string { return fmt.Sprintf("%s%038d", s, n) }
	for n := 1; n <= prs; n++ {
		a.openPR(t, "opened", n, fmt.Sprintf("HW-%d: fix", n), "", fmt.Sprintf("fix-%d", n), sha(n, "aa"), "", time.Now().Add(-time.Hour))
		forge.AddPullRequest(testRepo, fakeforge.PullRequest{Number: n, HeadSHA: sha(n, "bb"), HeadRef: fmt.Sprintf("fix-%d", n), BaseRef: "main"})
	}
	a.waitProcessed(t)

	ctx := context.Background()
	done := make(chan struct{})
	for _, app := range []*testApp{a, b} {
		go func() { app.main.reconcile.runOnce(ctx); done <- struct{}{} }()
	}
	<-done
	<-done
	a.waitProcessed(t)
	b.waitProcessed(t)
	ra, _ := a.main.reconcile.Last()
	rb, _ := b.main.reconcile.Last()
	if ra.Corrected+rb.Corrected != prs {
		t.Errorf("corrections stored: %d by one instance, %d by the other, want %d in all", ra.Corrected, rb.Corrected, prs)
	}
	if n := countReconcileDeliveries(t, a); n != prs {
		t.Errorf("reconcile deliveries: got %d, want %d", n, prs)
	}
	vs := store.NewVerificationService(a.main.DB)
	for n := 1; n <= prs; n++ {
		if ch, _ := a.change(t, n); ch.HeadSHA != sha(n, "bb") {
			t.Errorf("#%d: head %s, want %s", n, ch.HeadSHA, sha(n, "bb"))
		}
		head := sha(n, "bb")
		got, _, err := vs.FindVerifications(ctx, patchgate.VerificationFilter{SHA: &head, Limit: 5})
		if err != nil || len(got) != 1 {
			t.Errorf("verifications of #%d's new head: got %d, %v; want 1", n, len(got), err)
		}
	}
	t.Logf("instance a corrected %d, instance b %d", ra.Corrected, rb.Corrected)
}

// TestReconcileIsBounded: a run reads the stored changes a page at a time and
// asks the forge about MaxChanges of them at most, saying it stopped; the
// next runs get to the rest.
func TestReconcileIsBounded(t *testing.T) {
	app := startApp(t, func(c *Config) { c.Runners.Workers = 0; c.Reconcile.Interval = 0 })
	for n := 1; n <= 5; n++ {
		head := fmt.Sprintf("%040d", n)
		app.forge.AddPullRequest(testRepo, fakeforge.PullRequest{Number: n, HeadSHA: head, HeadRef: fmt.Sprint("b", n), BaseRef: "main"})
		app.openPR(t, "opened", n, fmt.Sprint("HW-", n), "", fmt.Sprint("b", n), head, "", time.Now().Add(-time.Hour))
	}
	app.waitProcessed(t)
	r := app.main.newReconciler(store.NewChangeService(app.main.DB), store.NewDeliveryService(app.main.DB), app.main.repositories().dir, mustClients(t, app), nil)
	r.Settings = reconcile.Settings{PageSize: 2, MaxChanges: 3}
	before := len(app.forge.Requests())
	rep, err := r.Run(context.Background(), reconcile.Options{})
	if err != nil || rep.Checked != 3 || !rep.Truncated || len(rep.Corrections) != 0 {
		t.Fatalf("bounded run: got %+v, %v; want 3 checked, truncated, nothing to correct", rep, err)
	}
	var pulls int
	for _, req := range app.forge.Requests()[before:] {
		if strings.Contains(req, "/pulls/") {
			pulls++
		}
	}
	if pulls != 3 {
		t.Errorf("forge calls for pull requests: got %d, want 3", pulls)
	}
	r.Settings = reconcile.Settings{PageSize: 2}
	if rep, err := r.Run(context.Background(), reconcile.Options{}); err != nil || rep.Checked != 5 || rep.Truncated {
		t.Fatalf("run with the default bound: got %+v, %v; want all 5 checked", rep, err)
	}
	r.Settings = reconcile.Settings{PageSize: 2, MaxChanges: 5}
	if rep, err := r.Run(context.Background(), reconcile.Options{}); err != nil || rep.Checked != 5 || rep.Truncated {
		t.Fatalf("run bounded at exactly the number of changes: got %+v, %v; want all 5 checked, not truncated", rep, err)
	}
}

// TestReconcileGitLabMergeRequest: a push to a GitLab MR whose hook was lost
// is corrected from GET /projects/:id/merge_requests/:iid, and its new head is
// to be verified.
func TestReconcileGitLabMergeRequest(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Reconcile.Interval = 0
		c.Repos = append(c.Repos, RepoConfig{Forge: "gitlab", Name: glTestRepo, TicketKeys: []string{"OPS"}})
	})
	old, pushed := strings.Repeat("1a", 20), strings.Repeat("2b", 20)
	body := fixture(t, "gitlab/merge_request.json", func(p map[string]any) {
		oa := obj(p, "object_attributes")
		oa["iid"], oa["action"], oa["state"], oa["title"], oa["description"] = 3, "open", "opened", "OPS-1: fix", ""
		oa["source_branch"], oa["target_branch"], oa["updated_at"] = "fix", "main", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		obj(oa, "last_commit")["id"] = old
	})
	req, _ := http.NewRequest(http.MethodPost, app.url+"/webhooks/gitlab", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Gitlab-Event", "Merge Request Hook")
	req.Header.Set("X-Gitlab-Token", testSecret)
	req.Header.Set("X-Gitlab-Event-UUID", "mr-3-open")
	if code, ack := do(t, req); code != http.StatusAccepted {
		t.Fatalf("merge request hook: got %d %+v", code, ack)
	}
	app.waitProcessed(t)
	app.forge.AddPullRequest(glTestRepo, fakeforge.PullRequest{Number: 3, Title: "OPS-1: fix", HeadSHA: pushed, HeadRef: "fix", BaseRef: "main"})

	app.main.reconcile.runOnce(context.Background())
	app.waitProcessed(t)
	var list struct{ Changes []patchgate.Change }
	app.api(t, http.MethodGet, "/api/v1/changes?kind=merge_request&repo="+url.QueryEscape(glTestRepo), nil, &list)
	if len(list.Changes) != 1 || list.Changes[0].HeadSHA != pushed {
		t.Fatalf("after reconciliation: got %+v, want !3 at %s", list.Changes, pushed)
	}
	got, _, err := store.NewVerificationService(app.main.DB).FindVerifications(context.Background(), patchgate.VerificationFilter{SHA: &pushed, Limit: 5})
	if err != nil || len(got) != 1 || got[0].Trigger != "reconcile" {
		t.Fatalf("verifications of the new head: got %+v, %v; want one triggered by reconcile", got, err)
	}
}
