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

// TestEveryoneWhoWroteTheChangeIsAnAuthor: PR #7 is Codertocat's, but alice
// (a release manager) wrote a commit of it, dave pushed its branch and carol
// is its co-author by trailer; none may approve. bob, who only pressed
// "merge", may.
func TestEveryoneWhoWroteTheChangeIsAnAuthor(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Repos[0].TicketKeys = []string{"PAY"}
		c.ReleaseManagers = map[string][]string{"github": {"alice", "bob", "carol", "dave"}}
	})
	w := &gateWorld{app: app, t0: time.Now().Add(-time.Hour).Truncate(time.Second)}
	sha := func(s string) string { return fmt.Sprintf("%040x", s) }
	base, own, pushed, merge := sha("base"), sha("own"), sha("pushed"), sha("merge")
	cfg := "suites:\n  regression:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\nrelease:\n  branch: main\n  approvals: 1\n"
	app.forge.AddCommit(testRepo, base, map[string][]byte{".patchgate.yml": []byte(cfg)}, "config", "dev")
	app.forge.AddCommit(testRepo, own, map[string][]byte{"fix.txt": []byte("fixed")}, "fix\n\nCo-authored-by: carol <carol@users.noreply.github.com>", "Codertocat", base)
	app.forge.AddCommit(testRepo, pushed, map[string][]byte{"fix.txt": []byte("fixed better")}, "tidy", "alice", own)
	app.forge.AddCommit(testRepo, merge, map[string][]byte{"fix.txt": []byte("fixed better")}, "Merge #7", "bob", base, pushed)
	app.forge.SetBranch(testRepo, "main", merge)
	app.forge.AddPullRequest(testRepo, fakeforge.PullRequest{Number: 7, Title: "PAY-7: fix", Author: "Codertocat", HeadSHA: pushed})
	pr := func(name, action string, edit func(pr map[string]any)) {
		app.sendGitHub(t, "pull_request", "pr-7-"+action, fixture(t, name, func(p map[string]any) {
			p["action"], p["number"] = action, 7
			pr := obj(p, "pull_request")
			pr["number"], pr["title"], pr["body"] = 7, "PAY-7: fix", "Fixes PAY-7"
			obj(pr, "head")["sha"], obj(pr, "head")["ref"], obj(pr, "base")["ref"], obj(pr, "base")["sha"] = pushed, "fix/PAY-7", "main", base
			edit(pr)
		}), testSecret)
	}
	pr("github/pull_request/opened.api.github.com.13.json", "opened", func(p map[string]any) {
		p["updated_at"] = w.t0.UTC().Format(time.RFC3339)
	})
	pr("github/pull_request/closed.api.github.com.3.json", "closed", func(p map[string]any) {
		p["merged"], p["merge_commit_sha"], p["updated_at"] = true, merge, w.t0.Add(time.Minute).UTC().Format(time.RFC3339)
	})
	app.waitProcessed(t)
	app.pushBy(t, "push-fix", "fix/PAY-7", pushed, "dave")
	for _, s := range []string{pushed, merge} {
		app.passUnderItsConfig(t, patchgate.RepoRef{Forge: patchgate.GitHub, Name: testRepo}, s)
	}
	c := w.candidateAt(t, merge)
	approve := fmt.Sprintf("/api/v1/releases/%d/approve", c.ID)
	for _, who := range []string{"alice", "carol", "dave"} {
		tok := w.token(t, who, patchgate.RoleReleaseManager, "github:"+who)
		if code, msg := w.call(t, tok, http.MethodPost, approve, nil); code != http.StatusForbidden || !strings.Contains(msg, "an author may not approve") {
			t.Errorf("%s approves a change they wrote part of: got %d %q, want 403: an author may not approve", who, code, msg)
		}
	}
	bob := w.token(t, "bob", patchgate.RoleReleaseManager, "github:bob")
	if code, msg := w.call(t, bob, http.MethodPost, approve, nil); code != http.StatusOK {
		t.Errorf("bob, who only merged, approves: got %d %q, want 200", code, msg)
	}
}

// candidateAt proposes sha and fails the test unless a candidate is created.
func (w *gateWorld) candidateAt(t *testing.T, sha string) patchgate.Candidate {
	t.Helper()
	code, c, msg := w.propose(t, sha)
	if code != http.StatusCreated || len(c.Items) != 1 {
		t.Fatalf("create candidate: got %d %s %+v", code, msg, c)
	}
	return c
}
