package main

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
)

// TestApproveCommentActsOnceWhenFreshAndSentByItsAuthor: a /patchgate approve
// comment approves only when GitHub reports it created (not edited), by its
// own author, written after the candidate was proposed, and only once per
// comment id. Every refusal is the delivery's reason and patchgate's answer.
func TestApproveCommentActsOnceWhenFreshAndSentByItsAuthor(t *testing.T) {
	w := newGateWorld(t, 1, nil)
	c := w.candidate(t)
	none := func(step string) {
		t.Helper()
		if got := w.approvals(t, c.ID); len(got) != 0 {
			t.Fatalf("after %s: got approvals %+v, want none", step, got)
		}
	}
	refused := func(delivery, want string) {
		t.Helper()
		outcome, reason := w.app.delivery(t, delivery)
		if outcome != patchgate.OutcomeIgnored || !strings.Contains(reason, want) {
			t.Fatalf("delivery %s: got %s %q, want ignored saying %q", delivery, outcome, reason, want)
		}
		if answer := w.app.commandAnswer(t, 7); !strings.Contains(answer, want) {
			t.Fatalf("answer on #7 after %s: got %q, want it to say %q", delivery, answer, want)
		}
	}

	// A signed comment alice wrote long ago, sent again under a fresh delivery id.
	w.send(t, ghComment{delivery: "replayed-old", id: 100, author: "alice", body: "/patchgate approve", created: w.t0})
	none("an old comment resent")
	refused("replayed-old", "before "+c.Name+" was proposed")

	// mallory edits an old comment of alice's: GitHub sends "edited", sender mallory.
	w.send(t, ghComment{delivery: "edited-by-mallory", id: 101, action: "edited", author: "alice", sender: "mallory",
		body: "/patchgate approve", created: w.t0, updated: time.Now()})
	none("an edited comment")
	refused("edited-by-mallory", "ignored: comment was edited, not created")

	// A created event whose sender is not the comment's author.
	w.send(t, ghComment{delivery: "forged-sender", id: 102, author: "alice", sender: "mallory", body: "/patchgate approve"})
	none("a comment sent by someone else")
	refused("forged-sender", "sent by mallory, not by its author")

	// A created event of a comment edited since (updated after created).
	w.send(t, ghComment{delivery: "created-but-edited", id: 103, author: "alice", body: "/patchgate approve",
		created: time.Now(), updated: time.Now().Add(time.Minute)})
	none("a comment edited after it was written")
	refused("created-but-edited", "edited after it was written")

	w.send(t, ghComment{delivery: "fresh", id: 104, author: "alice", body: "/patchgate approve"})
	if got := w.approvals(t, c.ID); len(got) != 1 || got[0].Approver != "alice" || got[0].Via != "comment" {
		t.Fatalf("after alice's fresh comment: got %+v, want alice's approval via comment", got)
	}
	if outcome, reason := w.app.delivery(t, "fresh"); outcome != patchgate.OutcomeProcessed {
		t.Fatalf("fresh comment: got %s %q, want processed", outcome, reason)
	}
	want := fmt.Sprintf("approved by alice for %s at %s", c.Name, c.SHA[:7])
	if answer := w.app.commandAnswer(t, 7); !strings.Contains(answer, want) {
		t.Fatalf("answer: got %q, want %q", answer, want)
	}

	// alice withdraws; her comment, sent again, does not approve a second time.
	alice := w.token(t, "alice-laptop", patchgate.RoleReleaseManager, "github:alice")
	if code, msg := w.call(t, alice, http.MethodDelete, fmt.Sprintf("/api/v1/releases/%d/approve", c.ID), nil); code != http.StatusNoContent {
		t.Fatalf("withdraw: got %d %q", code, msg)
	}
	w.send(t, ghComment{delivery: "fresh-again", id: 104, author: "alice", body: "/patchgate approve"})
	live := 0
	for _, a := range w.approvals(t, c.ID) {
		if a.WithdrawnAt == "" {
			live++
		}
	}
	if live != 0 {
		t.Fatalf("the same comment approved again after the withdrawal: %+v", w.approvals(t, c.ID))
	}
	refused("fresh-again", "already acted")
}

// TestOkToTestBindsToTheHead: a maintainer's ok-to-test vouches for the head
// GitHub reports for the PR when patchgate reads the comment back (GET
// /repos/{o}/{r}/pulls/{n}), not for whatever head patchgate knows and not by
// comparing timestamps. A later push needs a new one, whatever happens to the
// old comment (resent, edited, or a late delivery of one written long
// before); when GitHub already has a push patchgate has
// not been told of, the vouch is for GitHub's head only, which runs when its
// push arrives. A developer cannot re-run an unvouched head through the API
// either.
func TestOkToTestBindsToTheHead(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.ReleaseManagers = map[string][]string{"github": {"alice"}}
	})
	repo := newGitRepo(t, app.forge, testRepo)
	base := repo.commit("config", map[string][]byte{".patchgate.yml": []byte("suites:\n  unit:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\n")})
	head1 := repo.commit("fix", map[string][]byte{"fix.txt": []byte("one")})
	head2 := repo.commit("more", map[string][]byte{"fix.txt": []byte("two")})
	head3 := repo.commit("again", map[string][]byte{"fix.txt": []byte("three")})
	head4 := repo.commit("last", map[string][]byte{"fix.txt": []byte("four")})
	// onForge is the head GitHub's API reports for #9.
	onForge := func(head string) {
		app.forge.AddPullRequest(testRepo, fakeforge.PullRequest{Number: 9, Title: "PAY-1: fix from a fork", Author: "stranger", HeadSHA: head})
	}
	now := time.Now().Truncate(time.Second)
	// pr delivers the webhook of head; GitHub has it by then.
	pr := func(delivery, action, head, before string, at time.Time) {
		onForge(head)
		app.sendGitHub(t, "pull_request", delivery, fixture(t, "github/pull_request/opened.api.github.com.13.json", func(p map[string]any) {
			p["action"], p["number"] = action, 9
			if before != "" {
				p["before"], p["after"] = before, head
			}
			pr := obj(p, "pull_request")
			pr["number"], pr["title"], pr["updated_at"] = 9, "PAY-1: fix from a fork", at.UTC().Format(time.RFC3339)
			obj(pr, "head")["sha"], obj(pr, "base")["sha"] = head, base
			headRepo := obj(pr, "head", "repo")
			headRepo["id"], headRepo["full_name"] = 99, "stranger/Hello-World"
		}), testSecret)
		app.waitProcessed(t)
	}
	w := &gateWorld{app: app}
	comment := func(c ghComment) { w.sendOn(t, 9, c) }
	verifications := func(sha string) int {
		var list struct{ Verifications []patchgate.Verification }
		app.api(t, http.MethodGet, "/api/v1/verifications?sha="+sha, nil, &list)
		return len(list.Verifications)
	}

	pr("fork-opened", "opened", head1, "", now.Add(-time.Hour))
	comment(ghComment{delivery: "ok-1", id: 200, author: "alice", body: "/patchgate ok-to-test", created: now.Add(-2 * time.Minute)})
	if verifications(head1) != 1 {
		t.Fatalf("alice's ok-to-test did not verify %s", head1[:7])
	}
	pr("fork-pushed", "synchronize", head2, head1, now.Add(-40*time.Minute))
	if n := verifications(head2); n != 0 {
		t.Fatalf("got %d verifications of the pushed head before any ok-to-test, want 0", n)
	}
	// The old comment, resent under a fresh delivery id.
	comment(ghComment{delivery: "ok-1-resent", id: 200, author: "alice", body: "/patchgate ok-to-test", created: now.Add(-2 * time.Minute)})
	// The same comment, edited by someone after the push.
	comment(ghComment{delivery: "ok-1-edited", id: 200, action: "edited", author: "alice", sender: "mallory",
		body: "/patchgate ok-to-test", created: now.Add(-2 * time.Minute), updated: now})
	// Another ok-to-test written long before, delivered late (patchgate was
	// down): the head GitHub reports now is not what it was written for.
	comment(ghComment{delivery: "ok-late", id: 203, author: "alice", body: "/patchgate ok-to-test", created: now.Add(-45 * time.Minute)})
	if n := verifications(head2); n != 0 {
		t.Fatalf("got %d verifications of %s from comments written before it was pushed, want 0", n, head2[:7])
	}
	for delivery, want := range map[string]string{
		"ok-1-resent": "already acted",
		"ok-1-edited": "comment was edited, not created",
		"ok-late":     "before patchgate read it: a push may have come since",
	} {
		if outcome, reason := app.delivery(t, delivery); outcome != patchgate.OutcomeIgnored || !strings.Contains(reason, want) {
			t.Fatalf("delivery %s: got %s %q, want ignored saying %q", delivery, outcome, reason, want)
		}
	}

	// A developer cannot run the new head through the API: that is a maintainer's decision.
	dev := w.token(t, "dev", patchgate.RoleDeveloper, "github:dev")
	rerun := map[string]string{"repo": testRepo, "sha": head2}
	if code, msg := w.call(t, dev, http.MethodPost, "/api/v1/verifications", rerun); code != http.StatusForbidden || !strings.Contains(msg, "maintainer") {
		t.Fatalf("developer re-runs an unvouched fork head: got %d %q, want 403 saying it is a maintainer's decision", code, msg)
	}

	// The fork pushes head3 just before alice comments; GitHub has it, its
	// webhook is still on the way. alice vouched for head3, not for head2.
	onForge(head3)
	comment(ghComment{delivery: "ok-2", id: 201, author: "alice", body: "/patchgate ok-to-test", created: now})
	if n2, n3 := verifications(head2), verifications(head3); n2 != 0 || n3 != 0 {
		t.Fatalf("after alice's ok-to-test with %s on GitHub: got %d verifications of %s and %d of %s, want none yet", head3[:7], n2, head2[:7], n3, head3[:7])
	}
	if answer := app.commandAnswer(t, 9); !strings.Contains(answer, "vouches for "+head3[:7]+", the head github reports") {
		t.Fatalf("answer on #9: got %q, want it to name %s as what alice vouched for", answer, head3[:7])
	}
	pr("fork-pushed-3", "synchronize", head3, head2, now.Add(time.Second))
	if n := verifications(head3); n != 1 {
		t.Fatalf("after %s's push arrived: got %d verifications, want 1 (alice vouched for it)", head3[:7], n)
	}
	// A later push needs a new ok-to-test.
	pr("fork-pushed-4", "synchronize", head4, head3, now.Add(2*time.Second))
	if n := verifications(head4); n != 0 {
		t.Fatalf("got %d verifications of %s before any ok-to-test for it, want 0", n, head4[:7])
	}
	comment(ghComment{delivery: "ok-3", id: 202, author: "alice", body: "/patchgate ok-to-test", created: now.Add(3 * time.Second)})
	if verifications(head4) != 1 {
		t.Fatalf("alice's new ok-to-test did not verify %s", head4[:7])
	}
	if answer := app.commandAnswer(t, 9); !strings.Contains(answer, "verifying "+head4[:7]+": ok-to-test by alice") {
		t.Fatalf("answer on #9: got %q", answer)
	}
	// Once a maintainer vouched for this head, a developer may run it again.
	rerun["sha"] = head4
	if code, msg := w.call(t, dev, http.MethodPost, "/api/v1/verifications", rerun); code != http.StatusAccepted {
		t.Fatalf("developer re-runs a vouched head: got %d %q, want 202", code, msg)
	}
}

// TestGitLabNoteCommandNeedsAFreshNoteByItsAuthor: on GitLab a note hook's
// user is whoever acted; a command acts only from a created note whose author
// (author_id) is that user, and patchgate answers it on the MR.
func TestGitLabNoteCommandNeedsAFreshNoteByItsAuthor(t *testing.T) {
	g := newGitLabWorld(t)
	g.app.forge.AddPullRequest(glTestRepo, fakeforge.PullRequest{Number: 3, Title: "OPS-1: fix", Author: "alice", HeadSHA: g.head})
	w := &gateWorld{app: g.app}
	note := func(delivery string, id, authorID int, action string, created, updated time.Time) {
		t.Helper()
		body := fixture(t, "gitlab/note_merge_request.json", func(p map[string]any) {
			obj(p, "project")["path_with_namespace"] = glTestRepo
			obj(p, "merge_request")["iid"] = 3
			oa := obj(p, "object_attributes")
			oa["id"], oa["note"], oa["action"], oa["author_id"] = id, "/patchgate approve", action, authorID
			oa["created_at"], oa["updated_at"] = created.UTC().Format(time.RFC3339), updated.UTC().Format(time.RFC3339)
			obj(p, "user")["id"], obj(p, "user")["username"] = 5, "bob"
		})
		g.app.forge.PutComment(glTestRepo, fakeforge.Comment{ID: int64(id), Number: 3, Author: "bob", Body: "/patchgate approve",
			CreatedAt: created.UTC().Truncate(time.Second), UpdatedAt: updated.UTC().Truncate(time.Second)})
		req, _ := http.NewRequest(http.MethodPost, g.app.url+"/webhooks/gitlab", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Gitlab-Event", "Note Hook")
		req.Header.Set("X-Gitlab-Token", testSecret)
		req.Header.Set("X-Gitlab-Event-UUID", delivery)
		if code, ack := do(t, req); code != http.StatusAccepted {
			t.Fatalf("note hook %s: got %d %+v", delivery, code, ack)
		}
		g.app.waitProcessed(t)
	}
	now := time.Now().Add(time.Second)
	for _, tt := range []struct {
		delivery     string
		id, authorID int
		action       string
		updated      time.Time
		want         string
	}{
		{"edited", 300, 5, "update", now.Add(time.Minute), "comment was edited, not created"},
		{"someone-elses-note", 301, 99, "create", now, "did not say who wrote the comment (it was sent by bob)"},
		{"created-then-edited", 302, 5, "create", now.Add(time.Minute), "edited after it was written"},
	} {
		note(tt.delivery, tt.id, tt.authorID, tt.action, now, tt.updated)
		if got := w.approvals(t, g.candidate.ID); len(got) != 0 {
			t.Fatalf("after %s: got approvals %+v, want none", tt.delivery, got)
		}
		if outcome, reason := g.app.delivery(t, tt.delivery); outcome != patchgate.OutcomeIgnored || !strings.Contains(reason, tt.want) {
			t.Fatalf("%s: got %s %q, want ignored saying %q", tt.delivery, outcome, reason, tt.want)
		}
	}
	note("bobs-note", 303, 5, "create", now, now)
	if got := w.approvals(t, g.candidate.ID); len(got) != 1 || got[0].Approver != "bob" || got[0].Via != "comment" {
		t.Fatalf("after bob's own new note: got %+v, want bob's approval", got)
	}
	var answers []string
	for _, c := range g.app.forge.Comments(glTestRepo, 3) {
		if strings.Contains(c.Body, "<!-- patchgate:commands -->") {
			answers = append(answers, c.Body)
		}
	}
	if len(answers) != 1 || !strings.Contains(answers[0], "approved by bob for "+g.candidate.Name) {
		t.Fatalf("got answers %q on !3, want one saying bob approved", answers)
	}
}
