package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// pushBy sends a push of sha to branch of testRepo by pusher, whose account
// the fake forge registers when new.
func (a *testApp) pushBy(t *testing.T, id, branch, sha, pusher string) {
	t.Helper()
	body := fixture(t, "github/push/none.api.github.com.5.json", func(p map[string]any) {
		p["ref"], p["before"], p["after"] = "refs/heads/"+branch, "0000000000000000000000000000000000000000", sha
		commit := p["commits"].([]any)[0].(map[string]any)
		commit["id"], commit["message"] = sha, "work"
		obj(p, "head_commit")["id"] = sha
		obj(p, "pusher")["name"] = pusher
		// The sender is the pusher, named by login and by the id their
		// account has on the forge now.
		obj(p, "sender")["login"], obj(p, "sender")["id"] = pusher, a.forge.AddUser(pusher)
	})
	if code, ack := a.sendGitHub(t, "push", id, body, testSecret); code != 202 || ack.Status != "accepted" {
		t.Fatalf("push %s: got %d %+v", id, code, ack)
	}
	a.waitProcessed(t)
}

// TestUntrustedPushWaitsForOkToTest checks that trust follows the pusher, not
// the event kind: a push by someone outside trusted_users queues nothing (so
// no run gets the suite secrets) and waits for a maintainer; a trusted
// pusher's push runs with them.
func TestUntrustedPushWaitsForOkToTest(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0 // nothing runs; the test looks at what is queued and planned
		c.ReleaseManagers = map[string][]string{"github": {"alice"}}
		c.Repos[0].TrustedUsers = []string{"bob"}
		c.Repos[0].Secrets = map[string]string{"DEPLOY_KEY": "dk-push-secret"}
	})
	repo := newGitRepo(t, app.forge, testRepo)
	yml := []byte("suites:\n  unit:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\n    cache: [/root/go/pkg/mod]\n")
	untrusted := repo.commit("mallory's work", map[string][]byte{".patchgate.yml": yml})
	app.pushBy(t, "push-mallory", "feature", untrusted, "mallory")

	var list struct{ Verifications []patchgate.Verification }
	app.api(t, http.MethodGet, "/api/v1/verifications?sha="+untrusted, nil, &list)
	if len(list.Verifications) != 0 {
		t.Fatalf("an untrusted pusher's head: got %d verifications, want 0 before a maintainer's %s", len(list.Verifications), patchgate.OkToTestComment)
	}
	waitStatus(t, app, untrusted, "waiting for a maintainer")

	for _, pusher := range []string{"bob", "alice"} {
		head := repo.commit(pusher+"'s work", map[string][]byte{"f-" + pusher: []byte(pusher)})
		app.pushBy(t, "push-"+pusher, "feature-"+pusher, head, pusher)
		app.api(t, http.MethodGet, "/api/v1/verifications?sha="+head, nil, &list)
		if len(list.Verifications) != 1 {
			t.Fatalf("%s's push: got %d verifications, want 1", pusher, len(list.Verifications))
		}
		plans, err := app.main.Planner.Plan(context.Background(), &list.Verifications[0])
		if err != nil {
			t.Fatal(err)
		}
		if len(plans) != 1 || plans[0].Spec.Env["DEPLOY_KEY"] != "dk-push-secret" || plans[0].Spec.Cache == nil {
			t.Errorf("%s's push: got plans %+v, want the suite with its secret and cache", pusher, plans)
		}
	}

	// A maintainer's word lets the untrusted head run, without secrets or cache.
	admin := app.createToken(t, "alice-token", patchgate.RoleReleaseManager, "github:alice")
	app.token = admin
	var out struct{ Verification patchgate.Verification }
	if code := app.api(t, http.MethodPost, "/api/v1/verifications", map[string]any{"forge": "github", "repo": testRepo, "sha": untrusted}, &out); code/100 != 2 {
		t.Fatalf("alice re-runs the untrusted head: got %d", code)
	}
	plans, err := app.main.Planner.Plan(context.Background(), &out.Verification)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plans {
		if _, ok := p.Spec.Env["DEPLOY_KEY"]; ok || p.Spec.Cache != nil || strings.Contains(strings.Join(p.Spec.Secrets, ","), "dk-push-secret") {
			t.Errorf("vouched untrusted push: got %+v, want no secret and no cache", p.Spec)
		}
	}
}
