package main

import (
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
)

// TestWebhookSecretIsNotAPerson: whoever holds the webhook secret can sign a
// comment saying alice wrote "/patchgate approve"; patchgate reads the comment
// back from the forge by its id and acts only when the forge has it as
// claimed: same change, author, text and time. Each refusal is the delivery's
// reason and the answer on the change.
func TestWebhookSecretIsNotAPerson(t *testing.T) {
	w := newGateWorld(t, 2, nil)
	c := w.candidate(t)
	refused := func(delivery, want string) {
		t.Helper()
		if got := w.approvals(t, c.ID); len(got) != 0 {
			t.Fatalf("after %s: got approvals %+v, want none", delivery, got)
		}
		outcome, reason := w.app.delivery(t, delivery)
		if outcome != patchgate.OutcomeIgnored || !strings.Contains(reason, want) {
			t.Fatalf("delivery %s: got %s %q, want ignored saying %q", delivery, outcome, reason, want)
		}
		if answer := w.app.commandAnswer(t, 7); !strings.Contains(answer, want) {
			t.Fatalf("answer on #7 after %s: got %q, want it to say %q", delivery, answer, want)
		}
	}

	w.send(t, ghComment{delivery: "forged-alice", id: 500, author: "alice", body: "/patchgate approve", onForge: noComment})
	refused("forged-alice", "the forge has no comment 500 on #7")

	w.send(t, ghComment{delivery: "forged-bob", id: 501, author: "bob", body: "/patchgate approve", onForge: "mallory"})
	refused("forged-bob", "the forge says comment 501 was written by mallory, not bob")

	at := time.Now().Add(time.Second).UTC().Truncate(time.Second)
	w.app.forge.PutComment(testRepo, fakeforge.Comment{ID: 502, Number: 7, Author: "alice", Body: "Looks good to me.", CreatedAt: at})
	w.send(t, ghComment{delivery: "rewritten-alice", id: 502, author: "alice", body: "/patchgate approve", created: at, onForge: noComment})
	refused("rewritten-alice", "the forge's text of comment 502 is not the text the delivery carries")

	// The comment is on another PR than the delivery says.
	w.app.forge.PutComment(testRepo, fakeforge.Comment{ID: 503, Number: 8, Author: "alice", Body: "/patchgate approve", CreatedAt: at})
	w.send(t, ghComment{delivery: "moved-alice", id: 503, author: "alice", body: "/patchgate approve", created: at, onForge: noComment})
	refused("moved-alice", "no comment 503 on #7")

	w.send(t, ghComment{delivery: "real-alice", id: 504, author: "alice", body: "/patchgate approve"})
	if got := w.approvals(t, c.ID); len(got) != 1 || got[0].Approver != "alice" || got[0].Via != "comment" {
		t.Fatalf("after the comment alice wrote on the forge: got %+v, want alice's approval via comment", got)
	}
}

// TestRightsFollowAccountsNotLogins: release_managers names logins, which
// patchgate pins to the forge's user ids on first use. After alice renames
// her account, her comments under the new login still approve; whoever
// registers the released login "alice" gets none of her rights.
func TestRightsFollowAccountsNotLogins(t *testing.T) {
	w := newGateWorld(t, 2, nil)
	c := w.candidate(t)
	alice := w.app.forge.AddUser("alice")
	w.app.forge.AddUser("bob")

	// bob's approval looks the release managers up: alice and bob are pinned.
	w.send(t, ghComment{delivery: "bob", id: 600, author: "bob", body: "/patchgate approve"})
	if got := w.approvals(t, c.ID); len(got) != 1 || got[0].Approver != "bob" {
		t.Fatalf("after bob's comment: got %+v, want bob's approval", got)
	}

	w.app.forge.RenameUser("alice", "alice-renamed")
	if impostor := w.app.forge.AddUser("alice"); impostor == alice {
		t.Fatalf("the new account under the login alice got alice's id %d", alice)
	}
	w.send(t, ghComment{delivery: "new-alice", id: 601, author: "alice", body: "/patchgate approve"})
	if got := w.approvals(t, c.ID); len(got) != 1 {
		t.Fatalf("after a comment by the new account under the login alice: got %+v, want bob's approval only", got)
	}
	if outcome, reason := w.app.delivery(t, "new-alice"); outcome != patchgate.OutcomeIgnored || !strings.Contains(reason, "alice is not a release manager") {
		t.Fatalf("delivery new-alice: got %s %q, want ignored: alice is not a release manager", outcome, reason)
	}

	w.send(t, ghComment{delivery: "renamed-alice", id: 602, author: "alice-renamed", body: "/patchgate approve"})
	if got := w.approvals(t, c.ID); len(got) != 2 || got[1].Approver != "alice-renamed" {
		t.Fatalf("after the renamed alice's comment: got %+v, want her approval", got)
	}
}

// TestApproveCommentAppliesToTheCandidateOpenWhenWritten: "/patchgate approve"
// names no candidate. A comment written while one candidate was open, and
// delivered after a newer candidate superseded it, approves neither, and the
// answer says the candidate it was written for was superseded.
func TestApproveCommentAppliesToTheCandidateOpenWhenWritten(t *testing.T) {
	w := newGateWorld(t, 1, nil)
	first := w.candidate(t)
	written := time.Now().UTC().Truncate(time.Second)
	time.Sleep(1100 * time.Millisecond) // forges stamp comments to the second
	next := strings.Repeat("d", 40)
	w.app.forge.AddCommit(testRepo, next, map[string][]byte{"fix.txt": []byte("fixed"), "more.txt": []byte("more")}, "more", "dev", w.merge)
	w.app.forge.SetBranch(testRepo, "main", next)
	code, second, msg := w.propose(t, next)
	if code != 201 {
		t.Fatalf("propose the newer candidate: got %d %s", code, msg)
	}
	w.send(t, ghComment{delivery: "late", id: 700, author: "alice", body: "/patchgate approve", created: written})
	if got := w.approvals(t, second.ID); len(got) != 0 {
		t.Fatalf("a comment written for %s approved %s: %+v", first.Name, second.Name, got)
	}
	want := "comment was written for " + first.Name + ", which a newer candidate superseded: comment /patchgate approve again to approve " + second.Name
	if outcome, reason := w.app.delivery(t, "late"); outcome != patchgate.OutcomeIgnored || !strings.Contains(reason, want) {
		t.Fatalf("delivery late: got %s %q, want ignored saying %q", outcome, reason, want)
	}
}
