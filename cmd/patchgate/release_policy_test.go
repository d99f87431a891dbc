package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// looseRelease is what a fix may write into .patchgate.yml to release itself.
const looseRelease = "suites:\n  regression:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\n" +
	"release:\n  branch: main\n  approvals: 1\n  allow_author_approval: true\n  auto_promote: true\n"

// newLoosenedWorld is the gate world whose fix #7, by Codertocat, also wrote
// looseRelease into .patchgate.yml, so the candidate's own file asks to let
// its author approve and to promote on that approval.
func newLoosenedWorld(t *testing.T, mod func(*Config)) *gateWorld {
	t.Helper()
	w := newGateWorld(t, 1, func(c *Config) {
		c.ReleaseManagers = map[string][]string{"github": {"alice", "bob", "Codertocat"}}
		if mod != nil {
			mod(c)
		}
	})
	files := map[string][]byte{".patchgate.yml": []byte(looseRelease), "fix.txt": []byte("fixed")}
	w.app.forge.AddCommit(testRepo, w.head, files, "fix", "Codertocat", w.base)
	w.app.forge.AddCommit(testRepo, w.merge, files, "Merge #7", "dev", w.base, w.head)
	return w
}

// TestRepositoryFileCannotLoosenTheServersReleasePolicy: the policy comes
// from the operator, not from the code it gates (issue 17, section 2).
func TestRepositoryFileCannotLoosenTheServersReleasePolicy(t *testing.T) {
	t.Run("the default floor keeps the author out and promotion by hand", func(t *testing.T) {
		w := newLoosenedWorld(t, nil)
		c := w.candidate(t)
		author := w.token(t, "codertocat", patchgate.RoleReleaseManager, "github:Codertocat")
		code, msg := w.call(t, author, http.MethodPost, fmt.Sprintf("/api/v1/releases/%d/approve", c.ID), nil)
		if code == http.StatusOK {
			t.Fatalf("author's approval under a file that allows it: got %d, want refused", code)
		}
		if tags := w.app.forge.Tags(testRepo); len(tags) != 0 {
			t.Fatalf("got tags %v, want none: the file must not auto-promote", tags)
		}
		if !strings.Contains(msg, "`.patchgate.yml` asks allow_author_approval: true; the server does not let authors approve") {
			t.Errorf("refusal: got %q, want it to name the loosened key", msg)
		}
		var out struct {
			Evaluation patchgate.Evaluation
		}
		w.app.api(t, http.MethodGet, fmt.Sprintf("/api/v1/releases/%d", c.ID), nil, &out)
		ev := out.Evaluation
		if ev.Releasable || ev.Policy == nil {
			t.Fatalf("evaluation: got releasable %v, policy %+v; want blocked with its policy", ev.Releasable, ev.Policy)
		}
		if ev.Policy.AllowAuthorApproval || ev.Policy.AutoPromote || ev.Policy.Sources["auto_promote"] != patchgate.SourceServer {
			t.Errorf("effective policy: got %+v, want the server's: no author approval, no auto-promotion", ev.Policy)
		}
		want := "`.patchgate.yml` asks auto_promote: true; the server does not allow automatic promotion"
		if !strings.Contains(strings.Join(ev.Blockers, "\n"), want) {
			t.Errorf("blockers: got %q, want %q", ev.Blockers, want)
		}
	})
	t.Run("a server floor of 2 approvals holds against a file's 1", func(t *testing.T) {
		two := 2
		w := newLoosenedWorld(t, func(c *Config) {
			c.Release = ReleaseConfig{Approvals: 1, AllowAuthorApproval: true, AutoPromote: true}
			c.Repos[0].Release = &RepoReleaseConfig{Approvals: &two}
		})
		c := w.candidate(t)
		var out struct {
			Evaluation patchgate.Evaluation
		}
		w.app.api(t, http.MethodGet, fmt.Sprintf("/api/v1/releases/%d", c.ID), nil, &out)
		want := []string{"`.patchgate.yml` asks approvals: 1; the server requires at least 2"}
		if got := out.Evaluation.Blockers; strings.Join(got, "\n") != want[0] || out.Evaluation.Needed != 2 {
			t.Fatalf("got blockers %q needing %d, want %q needing 2", got, out.Evaluation.Needed, want)
		}
	})
	t.Run("a server that allows it lets the file ask for it", func(t *testing.T) {
		w := newLoosenedWorld(t, func(c *Config) {
			yes := true
			c.Repos[0].Release = &RepoReleaseConfig{AllowAuthorApproval: &yes, AutoPromote: &yes}
		})
		c := w.candidate(t)
		author := w.token(t, "codertocat", patchgate.RoleReleaseManager, "github:Codertocat")
		if code, msg := w.call(t, author, http.MethodPost, fmt.Sprintf("/api/v1/releases/%d/approve", c.ID), nil); code != http.StatusOK {
			t.Fatalf("author's approval the server allows: got %d %s, want 200", code, msg)
		}
		if tags := w.app.forge.Tags(testRepo); tags[c.Name] != w.merge {
			t.Fatalf("got tags %v, want %s auto-promoted at the merge", tags, c.Name)
		}
	})
}
