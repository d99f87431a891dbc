package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
	"github.com/patchgate/patchgate/store"
)

// TestGitLabRetestAndOkToTestReadTheMergeRequest: on GitLab, /patchgate retest
// and /patchgate ok-to-test notes read the merge request back (GET
// /projects/:id/merge_requests/:iid) and act on the head GitLab reports: a
// release manager's retest runs the current head again; an ok-to-test while
// GitLab already has a newer head vouches for that head and runs nothing now.
func TestGitLabRetestAndOkToTestReadTheMergeRequest(t *testing.T) {
	g := newGitLabWorld(t)
	head, newer := strings.Repeat("d", 40), strings.Repeat("e", 40)
	g.app.forge.AddCommit(glTestRepo, head, map[string][]byte{"fix2.txt": []byte("fixed")}, "OPS-2: fix", "alice", g.merge)
	g.app.forge.AddCommit(glTestRepo, newer, map[string][]byte{"fix2.txt": []byte("fixed again")}, "OPS-2: more", "alice", head)
	onForge := func(sha string) {
		g.app.forge.AddPullRequest(glTestRepo, fakeforge.PullRequest{Number: 4, Title: "OPS-2: fix", Author: "alice", HeadSHA: sha})
	}
	onForge(head)
	send := func(event, delivery string, body []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, g.app.url+"/webhooks/gitlab", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Gitlab-Event", event)
		req.Header.Set("X-Gitlab-Token", testSecret)
		req.Header.Set("X-Gitlab-Event-UUID", delivery)
		if code, ack := do(t, req); code != http.StatusAccepted {
			t.Fatalf("%s %s: got %d %+v", event, delivery, code, ack)
		}
		g.app.waitProcessed(t)
	}
	send("Merge Request Hook", "mr-4-opened", fixture(t, "gitlab/merge_request.json", func(p map[string]any) {
		obj(p, "project")["path_with_namespace"] = glTestRepo
		oa := obj(p, "object_attributes")
		oa["iid"], oa["action"], oa["state"], oa["title"], oa["description"] = 4, "open", "opened", "OPS-2: fix", "Fixes OPS-2"
		oa["target_branch"], oa["source_branch"] = "main", "fix/OPS-2"
		oa["updated_at"] = time.Now().UTC().Format(time.RFC3339)
		obj(oa, "last_commit")["id"] = head
	}))
	ref := patchgate.RepoRef{Forge: patchgate.GitLab, Name: glTestRepo}
	count := func(sha string) int {
		var list struct{ Verifications []patchgate.Verification }
		g.app.api(t, http.MethodGet, "/api/v1/verifications?forge=gitlab&sha="+sha, nil, &list)
		return len(list.Verifications)
	}
	if n := count(head); n != 1 {
		t.Fatalf("got %d verifications of !4's head, want 1", n)
	}
	// It failed; bob, a release manager, asks for it to run again.
	recordRun(t, store.NewVerificationService(g.app.main.DB), ref, head, g.app.configDigest(t, ref, head), patchgate.RunFailure)
	var next int64 = 600
	note := func(delivery, body string) {
		t.Helper()
		next++
		at := time.Now().UTC().Truncate(time.Second)
		g.app.forge.PutComment(glTestRepo, fakeforge.Comment{ID: next, Number: 4, Author: "bob", Body: body, CreatedAt: at, UpdatedAt: at})
		send("Note Hook", delivery, fixture(t, "gitlab/note_merge_request.json", func(p map[string]any) {
			obj(p, "project")["path_with_namespace"] = glTestRepo
			obj(p, "merge_request")["iid"] = 4
			oa := obj(p, "object_attributes")
			oa["id"], oa["note"], oa["action"], oa["author_id"] = next, body, "create", 5
			oa["created_at"], oa["updated_at"] = at.Format(time.RFC3339), at.Format(time.RFC3339)
			obj(p, "user")["id"], obj(p, "user")["username"] = 5, "bob"
		}))
	}
	answer := func() string {
		t.Helper()
		for _, c := range g.app.forge.Comments(glTestRepo, 4) {
			if strings.Contains(c.Body, "<!-- patchgate:commands -->") {
				return c.Body
			}
		}
		return ""
	}
	note("bob-retests", "/patchgate retest")
	if outcome, reason := g.app.delivery(t, "bob-retests"); outcome != patchgate.OutcomeProcessed || count(head) != 2 {
		t.Fatalf("bob's retest: got %s %q and %d verifications, want processed and a second verification", outcome, reason, count(head))
	}
	if a := answer(); !strings.Contains(a, "verifying "+head[:7]+" again") {
		t.Fatalf("answer on !4: got %q", a)
	}

	// GitLab has a newer head whose hook has not arrived: a retest is refused,
	// an ok-to-test vouches for GitLab's head and runs nothing yet.
	onForge(newer)
	note("bob-retests-again", "/patchgate retest")
	if outcome, reason := g.app.delivery(t, "bob-retests-again"); outcome != patchgate.OutcomeIgnored || !strings.Contains(reason, "gitlab reports head "+newer[:7]) {
		t.Fatalf("retest while GitLab has %s: got %s %q, want ignored naming it", newer[:7], outcome, reason)
	}
	note("bob-vouches", "/patchgate ok-to-test")
	if a := answer(); !strings.Contains(a, "vouches for "+newer[:7]+", the head gitlab reports") || count(head) != 2 || count(newer) != 0 {
		t.Fatalf("ok-to-test while GitLab has %s: got answer %q, %d and %d verifications; want the vouch for it and nothing run", newer[:7], a, count(head), count(newer))
	}
}
