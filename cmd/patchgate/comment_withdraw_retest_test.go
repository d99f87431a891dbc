package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
	"github.com/patchgate/patchgate/store"
)

// TestWithdrawByComment: "/patchgate withdraw" withdraws the commenter's own
// approval of the candidate that was open when they wrote it, as GitHub's API
// has the comment. Someone without an approval, a comment GitHub does not
// have or has by someone else, and a comment written before the candidate are
// refused in words; each refusal and the withdrawal are the answer on the PR.
func TestWithdrawByComment(t *testing.T) {
	w := newGateWorld(t, 2, nil)
	c := w.candidate(t)
	live := func() []string {
		var out []string
		for _, a := range w.approvals(t, c.ID) {
			if a.WithdrawnAt == "" {
				out = append(out, a.Approver)
			}
		}
		return out
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
		if got := live(); len(got) != 1 || got[0] != "alice" {
			t.Fatalf("after %s: got live approvals %v, want alice's", delivery, got)
		}
	}

	w.send(t, ghComment{delivery: "alice-approves", id: 400, author: "alice", body: "/patchgate approve"})
	if got := live(); len(got) != 1 || got[0] != "alice" {
		t.Fatalf("after alice's approval: got %v, want alice's", got)
	}
	w.send(t, ghComment{delivery: "bob-withdraws", id: 401, author: "bob", body: "/patchgate withdraw"})
	refused("bob-withdraws", "bob has no approval of "+c.Name+" to withdraw")
	w.send(t, ghComment{delivery: "claimed-alice", id: 402, author: "alice", onForge: "mallory", body: "/patchgate withdraw"})
	refused("claimed-alice", "the forge says comment 402 was written by mallory, not alice")
	w.send(t, ghComment{delivery: "not-on-forge", id: 403, author: "alice", onForge: noComment, body: "/patchgate withdraw"})
	refused("not-on-forge", "the forge has no comment 403 on #7")
	w.send(t, ghComment{delivery: "before-candidate", id: 404, author: "alice", body: "/patchgate withdraw", created: w.t0})
	refused("before-candidate", "before "+c.Name+" was proposed at")
	if answer := w.app.commandAnswer(t, 7); !strings.Contains(answer, "comment /patchgate withdraw again to withdraw it") {
		t.Fatalf("answer: got %q, want it to say which command to comment again", answer)
	}

	w.send(t, ghComment{delivery: "alice-withdraws", id: 405, author: "alice", body: "/patchgate withdraw"})
	if outcome, reason := w.app.delivery(t, "alice-withdraws"); outcome != patchgate.OutcomeProcessed {
		t.Fatalf("alice's withdrawal: got %s %q, want processed", outcome, reason)
	}
	if got := live(); len(got) != 0 {
		t.Fatalf("after alice's withdrawal: got live approvals %v, want none", got)
	}
	want := fmt.Sprintf("approval of %s at %s withdrawn by alice", c.Name, c.SHA[:7])
	if answer := w.app.commandAnswer(t, 7); !strings.Contains(answer, want) {
		t.Fatalf("answer: got %q, want %q", answer, want)
	}
	var audit struct{ Entries []patchgate.AuditEntry }
	w.app.api(t, http.MethodGet, "/api/v1/audit?action="+patchgate.AuditApprovalWithdrawn, nil, &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].Detail["approver"] != "alice" || audit.Entries[0].Subject != fmt.Sprintf("candidate:%d", c.ID) {
		t.Fatalf("audit: got %+v, want alice's one withdrawal of candidate %d", audit.Entries, c.ID)
	}
}

// TestRetestByComment: "/patchgate retest" on a PR re-runs the verification of
// its current head, as GitHub reports it, for its author when the repository
// trusts its writers (and for maintainers); anyone else's is refused and runs
// nothing, as is a delivery GitHub does not vouch for.
func TestRetestByComment(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.ReleaseManagers = map[string][]string{"github": {"alice"}}
	})
	repo := newGitRepo(t, app.forge, testRepo)
	base := repo.commit("config", map[string][]byte{".patchgate.yml": []byte("suites:\n  regression:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\n")})
	head := repo.commit("fix", map[string][]byte{"fix.txt": []byte("fixed")})
	app.forge.AddPullRequest(testRepo, fakeforge.PullRequest{Number: 3, Title: "HW-1: fix", Author: "Codertocat", HeadSHA: head})
	app.openPR(t, "opened", 3, "HW-1: fix", "Fixes HW-1", "fix/HW-1", head, base, time.Now())
	app.waitProcessed(t)
	ref := patchgate.RepoRef{Forge: patchgate.GitHub, Name: testRepo}
	// The first run failed (a flaky test, say).
	recordRun(t, store.NewVerificationService(app.main.DB), ref, head, app.configDigest(t, ref, head), patchgate.RunFailure)
	verifications := func() []patchgate.Verification {
		var list struct{ Verifications []patchgate.Verification }
		app.api(t, http.MethodGet, "/api/v1/verifications?sha="+head, nil, &list)
		return list.Verifications
	}
	if n := len(verifications()); n != 1 {
		t.Fatalf("got %d verifications of the head, want the failed one", n)
	}
	w := &gateWorld{app: app}
	for _, tt := range []struct {
		c    ghComment
		want string
	}{
		{ghComment{delivery: "mallory-retests", id: 500, author: "mallory", body: "/patchgate retest"}, "is neither a maintainer of " + testRepo + " nor the author of"},
		{ghComment{delivery: "claimed-author", id: 501, author: "Codertocat", onForge: "mallory", body: "/patchgate retest"}, "written by mallory, not Codertocat"},
	} {
		w.sendOn(t, 3, tt.c)
		if outcome, reason := app.delivery(t, tt.c.delivery); outcome != patchgate.OutcomeIgnored || !strings.Contains(reason, tt.want) {
			t.Fatalf("delivery %s: got %s %q, want ignored saying %q", tt.c.delivery, outcome, reason, tt.want)
		}
		if n := len(verifications()); n != 1 {
			t.Fatalf("after %s: got %d verifications, want still 1", tt.c.delivery, n)
		}
	}
	w.sendOn(t, 3, ghComment{delivery: "author-retests", id: 502, author: "Codertocat", body: "/patchgate retest"})
	vs := verifications()
	if len(vs) != 2 {
		t.Fatalf("after the author's retest: got %d verifications, want 2", len(vs))
	}
	var retested bool
	for _, v := range vs {
		retested = retested || (v.Trigger == "retest by Codertocat" && v.State == patchgate.RunQueued)
	}
	if !retested {
		t.Fatalf("got verifications %+v, want a queued one triggered by the author's retest", vs)
	}
	if answer := app.commandAnswer(t, 3); !strings.Contains(answer, "verifying "+head[:7]+" again") || !strings.Contains(answer, "retest by Codertocat") {
		t.Fatalf("answer on #3: got %q", answer)
	}
}
