package gate_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// TestApprovalsStoredBeforePersonsDoNotCount: an approval stored before
// approvals named persons (no token, not by comment: its approver is a token's
// name) counts for nobody; the candidate still needs two people.
func TestApprovalsStoredBeforePersonsDoNotCount(t *testing.T) {
	ctx := context.Background()
	w := newReleaseWorld(t)
	w.forge.AddCommit(relRepo, w.cand, map[string][]byte{".patchgate.yml": []byte(strings.Replace(releaseConfig, "approvals: 1", "approvals: 2", 1))}, "two", "ops", w.merge)
	w.verify(w.cand, 0, patchgate.RunSuccess)
	w.verify(w.head, w.pr.ID, patchgate.RunSuccess)
	c := w.candidate()
	if _, err := w.db.SQL().ExecContext(ctx,
		`INSERT INTO approvals (candidate_id, sha, approver, token, via, created_at) VALUES (?, ?, 'ops-bot', '', 'api', ?)`,
		c.ID, c.SHA, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.gate.Approve(ctx, c.ID, "", w.person("alice"), "api"); err != nil {
		t.Fatalf("alice approves: %v", err)
	}
	if _, err := w.gate.Promote(ctx, c.ID, w.person("alice")); patchgate.ErrorCode(err) != patchgate.ECONFLICT || !strings.Contains(err.Error(), "1 of the 2") {
		t.Fatalf("promote with alice's and a pre-person approval: got %v, want conflict with 1 of the 2 approvals", err)
	}
}

// TestApprovalsStoredBeforeIDsDoNotCount: an approval through a token stored
// before ids were pinned names a login only, which another account may hold
// since; it counts for nobody, the promotion's blocker names it, and its
// approver withdraws it and approves again under their pinned id.
func TestApprovalsStoredBeforeIDsDoNotCount(t *testing.T) {
	ctx := context.Background()
	w := newReleaseWorld(t)
	w.forge.AddCommit(relRepo, w.cand, map[string][]byte{".patchgate.yml": []byte(strings.Replace(releaseConfig, "approvals: 1", "approvals: 2", 1))}, "two", "ops", w.merge)
	w.verify(w.cand, 0, patchgate.RunSuccess)
	w.verify(w.head, w.pr.ID, patchgate.RunSuccess)
	c := w.candidate()
	if _, err := w.db.SQL().ExecContext(ctx,
		`INSERT INTO approvals (candidate_id, sha, approver, approver_id, token, via, created_at) VALUES (?, ?, 'bob', 0, 'bob-token', 'api', ?)`,
		c.ID, c.SHA, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.gate.Approve(ctx, c.ID, "", w.person("alice"), "api"); err != nil {
		t.Fatalf("alice approves: %v", err)
	}
	_, err := w.gate.Promote(ctx, c.ID, w.person("alice"))
	if patchgate.ErrorCode(err) != patchgate.ECONFLICT || !strings.Contains(err.Error(), "1 of the 2") ||
		!strings.Contains(err.Error(), "the approval by bob has no forge user id") {
		t.Fatalf("promote with alice's and bob's id-less approval: got %v, want conflict with 1 of the 2 approvals naming bob's", err)
	}
	bob := w.person("bob")
	if err := w.gate.Withdraw(ctx, c.ID, bob); err != nil {
		t.Fatalf("bob withdraws his id-less approval: %v", err)
	}
	if _, ev, err := w.gate.Approve(ctx, c.ID, "", bob, "api"); err != nil || ev.Approvals != 2 {
		t.Fatalf("bob approves again: %v, %+v; want 2 approvals", err, ev)
	}
}
