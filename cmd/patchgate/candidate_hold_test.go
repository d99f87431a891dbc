package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// TestNamedCandidateHoldsAutomaticProposals: a release manager's
// `release create --name v1.6.0` is the candidate until a person promotes it
// or cuts another. The release branch passing again, at the same commit or at
// a newer one, does not supersede it with an automatic release-<sha>
// candidate (which could be promoted under a name nobody chose); each
// automatic proposal is recorded in the audit against the candidate that
// held it. Once v1.6.0 is promoted, the next pass proposes again.
func TestNamedCandidateHoldsAutomaticProposals(t *testing.T) {
	w := newGateWorld(t, 1, nil)
	var created struct {
		Release patchgate.Candidate
		Error   struct{ Message string }
	}
	if code := w.app.api(t, http.MethodPost, "/api/v1/releases", map[string]string{"repo": testRepo, "sha": w.merge, "name": "v1.6.0"}, &created); code != http.StatusCreated {
		t.Fatalf("release create --name v1.6.0: got %d %q", code, created.Error.Message)
	}
	named := created.Release
	open := func(step string) {
		t.Helper()
		var list struct{ Releases []patchgate.Candidate }
		w.app.api(t, http.MethodGet, "/api/v1/releases?state=open&repo="+testRepo, nil, &list)
		if len(list.Releases) != 1 || list.Releases[0].ID != named.ID || list.Releases[0].Name != "v1.6.0" {
			var names []string
			for _, c := range list.Releases {
				names = append(names, fmt.Sprintf("%d %s at %s", c.ID, c.Name, c.SHA[:7]))
			}
			t.Fatalf("after %s: got open candidates %q, want only v1.6.0 (%d)", step, names, named.ID)
		}
	}

	// The release branch's push at the named commit passes (the automatic
	// proposal comes moments after release create).
	pushMain(t, w.app, "push-main-merge", w.merge, time.Now().Add(-time.Minute))
	w.app.pass(t, w.merge)
	open("the automatic proposal at the same commit")

	// Someone merges more into main, and it passes.
	newer := strings.Repeat("9", 40)
	w.app.forge.AddCommit(testRepo, newer, map[string][]byte{"more.txt": []byte("more")}, "more work", "dev", w.merge)
	w.app.forge.SetBranch(testRepo, "main", newer)
	pushMain(t, w.app, "push-main-newer", newer, time.Now())
	w.app.pass(t, newer)
	open("the automatic proposal at a newer commit")

	var audit struct{ Entries []patchgate.AuditEntry }
	w.app.api(t, http.MethodGet, "/api/v1/audit?action="+patchgate.AuditCandidateHeld, nil, &audit)
	var held []string
	for _, e := range audit.Entries {
		if e.Subject == fmt.Sprintf("candidate:%d", named.ID) && e.Detail["name"] == "v1.6.0" {
			held = append(held, e.Detail["proposed_sha"])
		}
	}
	if len(held) != 2 || held[0] != w.merge || held[1] != newer {
		t.Fatalf("audit of the held proposals: got %q (entries %+v), want the merge commit, then the newer one", held, audit.Entries)
	}
}

// pushMain sends Codertocat's push of sha to main, which GitHub saw at
// pushed, and waits until it is processed.
func pushMain(t *testing.T, app *testApp, id, sha string, pushed time.Time) {
	t.Helper()
	body := fixture(t, "github/push/none.api.github.com.5.json", func(p map[string]any) {
		p["ref"], p["before"], p["after"] = "refs/heads/main", "0000000000000000000000000000000000000000", sha
		commit := p["commits"].([]any)[0].(map[string]any)
		commit["id"], commit["message"] = sha, "work"
		obj(p, "head_commit")["id"] = sha
		obj(p, "repository")["pushed_at"] = pushed.Unix()
		obj(p, "pusher")["name"] = "Codertocat"
		obj(p, "sender")["login"] = "Codertocat"
	})
	if code, ack := app.sendGitHub(t, "push", id, body, testSecret); code != http.StatusAccepted || ack.Status != "accepted" {
		t.Fatalf("push %s: got %d %+v", id, code, ack)
	}
	app.waitProcessed(t)
}
