package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

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

// TestFirstReleaseCountsOnlyWhatItsCommitContains: the first release of a
// repository (no previous tag) contains only the changes merged into its own
// commit; PR #8, merged into main after it, is not in it and its ticket is not
// marked released.
func TestFirstReleaseCountsOnlyWhatItsCommitContains(t *testing.T) {
	w := newGateWorld(t, 1, nil)
	head8, merge8 := strings.Repeat("8", 40), strings.Repeat("9", 40)
	w.app.forge.AddCommit(testRepo, head8, map[string][]byte{"fix8.txt": []byte("fixed")}, "fix 8", "dev", w.merge)
	w.app.forge.AddCommit(testRepo, merge8, map[string][]byte{"fix8.txt": []byte("fixed")}, "Merge #8", "dev", w.merge, head8)
	w.app.forge.SetBranch(testRepo, "main", merge8)
	w.app.openPR(t, "opened", 8, "PAY-8: fix", "Fixes PAY-8", "fix/PAY-8", head8, "", w.t0.Add(2*time.Minute))
	w.app.sendGitHub(t, "pull_request", "merged-8", fixture(t, "github/pull_request/closed.api.github.com.3.json", func(p map[string]any) {
		p["number"] = 8
		pr := obj(p, "pull_request")
		pr["number"], pr["title"], pr["body"], pr["merged"], pr["merge_commit_sha"] = 8, "PAY-8: fix", "Fixes PAY-8", true, merge8
		pr["updated_at"] = w.t0.Add(3 * time.Minute).UTC().Format(time.RFC3339)
		obj(pr, "head")["sha"], obj(pr, "head")["ref"], obj(pr, "base")["ref"] = head8, "fix/PAY-8", "main"
	}), testSecret)
	w.app.waitProcessed(t)

	code, c, msg := w.propose(t, w.merge)
	if code != http.StatusCreated {
		t.Fatalf("propose the first release at #7's merge: got %d %q", code, msg)
	}
	var keys []string
	for _, it := range c.Items {
		if it.Ticket != nil {
			keys = append(keys, it.Ticket.Key)
		}
	}
	if len(c.Items) != 1 || strings.Join(keys, ",") != "PAY-7" {
		t.Fatalf("first release at #7's merge: got %d items with tickets %v, want #7 with PAY-7 only", len(c.Items), keys)
	}
	alice := w.token(t, "alice", patchgate.RoleReleaseManager, "github:alice")
	if code, msg := w.call(t, alice, http.MethodPost, fmt.Sprintf("/api/v1/releases/%d/approve", c.ID), nil); code != http.StatusOK {
		t.Fatalf("approve: got %d %q", code, msg)
	}
	if code, msg := w.call(t, alice, http.MethodPost, fmt.Sprintf("/api/v1/releases/%d/promote", c.ID), nil); code != http.StatusOK {
		t.Fatalf("promote: got %d %q", code, msg)
	}
	if st := w.app.ticket(t, "PAY-8").Ticket.State; st == "released" {
		t.Fatalf("PAY-8 after promoting a release without #8: got %s, want not released", st)
	}
}
