package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
)

// TestRerunOfAnUnvouchedForkHeadIsAMaintainersDecision: a developer cannot
// verify a fork's head that waits for ok-to-test through the API; a
// maintainer's token can.
func TestRerunOfAnUnvouchedForkHeadIsAMaintainersDecision(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.ReleaseManagers = map[string][]string{"github": {"alice"}}
	})
	repo := newGitRepo(t, app.forge, testRepo)
	base := repo.commit("config", map[string][]byte{".patchgate.yml": []byte("suites:\n  unit:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\n")})
	head := repo.commit("fix", map[string][]byte{"fix.txt": []byte("one")})
	app.forge.AddPullRequest(testRepo, fakeforge.PullRequest{Number: 9, Title: "fix from a fork", Author: "stranger"})
	app.sendGitHub(t, "pull_request", "fork-opened", fixture(t, "github/pull_request/opened.api.github.com.13.json", func(p map[string]any) {
		p["number"] = 9
		pr := obj(p, "pull_request")
		pr["number"] = 9
		obj(pr, "head")["sha"], obj(pr, "base")["sha"] = head, base
		headRepo := obj(pr, "head", "repo")
		headRepo["id"], headRepo["full_name"] = 99, "stranger/Hello-World"
	}), testSecret)
	app.waitProcessed(t)
	w := &gateWorld{app: app}
	rerun := map[string]string{"repo": testRepo, "sha": head}
	dev := w.token(t, "dev", patchgate.RoleDeveloper, "github:dev")
	if code, msg := w.call(t, dev, http.MethodPost, "/api/v1/verifications", rerun); code != http.StatusForbidden || !strings.Contains(msg, "maintainer's decision") {
		t.Fatalf("developer verifies a fork's head: got %d %q, want 403: a maintainer's decision", code, msg)
	}
	alice := w.token(t, "alice", patchgate.RoleDeveloper, "github:alice")
	if code, msg := w.call(t, alice, http.MethodPost, "/api/v1/verifications", rerun); code != http.StatusAccepted {
		t.Fatalf("maintainer verifies a fork's head: got %d %q, want 202", code, msg)
	}
}
