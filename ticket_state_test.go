package patchgate_test

import (
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

func TestDeriveTicketState(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	hour := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	pr := func(state patchgate.ChangeState, merged time.Time) *patchgate.Change {
		return &patchgate.Change{Kind: patchgate.ChangePullRequest, State: state, MergedAt: merged}
	}
	open, closed := pr(patchgate.ChangeOpen, time.Time{}), pr(patchgate.ChangeClosed, time.Time{})
	merged := pr(patchgate.ChangeMerged, hour(2))
	push := &patchgate.Change{Kind: patchgate.ChangePush, State: patchgate.ChangeOpen}
	fix := func(ch *patchgate.Change, head, landed patchgate.RunState) patchgate.FixEvidence {
		return patchgate.FixEvidence{Change: ch, Head: head, Merged: landed, LinkedAt: hour(1)}
	}
	proven := func(f patchgate.FixEvidence, p patchgate.ProofState, required bool) patchgate.FixEvidence {
		f.Proof, f.ProofRequired = p, required
		return f
	}
	ok, bad := patchgate.RunSuccess, patchgate.RunFailure
	tests := []struct {
		name string
		e    patchgate.TicketEvidence
		want patchgate.TicketState
	}{
		{"no fix", patchgate.TicketEvidence{}, patchgate.TicketOpen},
		{"an open change claims it", patchgate.TicketEvidence{Fixes: []patchgate.FixEvidence{fix(open, "", "")}}, patchgate.TicketFixProposed},
		{"its head is still running", patchgate.TicketEvidence{Fixes: []patchgate.FixEvidence{fix(open, patchgate.RunRunning, "")}}, patchgate.TicketFixProposed},
		{"its head passed", patchgate.TicketEvidence{Fixes: []patchgate.FixEvidence{fix(open, ok, "")}}, patchgate.TicketFixVerified},
		{"its head failed", patchgate.TicketEvidence{Fixes: []patchgate.FixEvidence{fix(open, bad, "")}}, patchgate.TicketFixProposed},
		{"one of two fixes holds", patchgate.TicketEvidence{Fixes: []patchgate.FixEvidence{fix(open, bad, ""), fix(open, ok, "")}}, patchgate.TicketFixVerified},
		{"closed without merging", patchgate.TicketEvidence{Fixes: []patchgate.FixEvidence{fix(closed, ok, "")}}, patchgate.TicketOpen},
		{"merged, not verified after the merge", patchgate.TicketEvidence{Fixes: []patchgate.FixEvidence{fix(merged, ok, "")}}, patchgate.TicketFixVerified},
		{"merged, failed after the merge", patchgate.TicketEvidence{Fixes: []patchgate.FixEvidence{fix(merged, ok, bad)}}, patchgate.TicketFixVerified},
		{"merged and passed after the merge", patchgate.TicketEvidence{Fixes: []patchgate.FixEvidence{fix(merged, ok, ok)}}, patchgate.TicketFixMerged},
		{"a direct push that passed", patchgate.TicketEvidence{Fixes: []patchgate.FixEvidence{fix(push, ok, ok)}}, patchgate.TicketFixMerged},
		{"a direct push not verified", patchgate.TicketEvidence{Fixes: []patchgate.FixEvidence{fix(push, ok, "")}}, patchgate.TicketFixProposed},
		{"released", patchgate.TicketEvidence{Fixes: []patchgate.FixEvidence{fix(merged, ok, ok)}, Releases: []time.Time{hour(3)}}, patchgate.TicketReleased},
		{"released, then the link was taken back", patchgate.TicketEvidence{Releases: []time.Time{hour(3)}}, patchgate.TicketReleased},
		{"reopened after the merge", patchgate.TicketEvidence{ReopenedAt: hour(4), Fixes: []patchgate.FixEvidence{fix(merged, ok, ok)}}, patchgate.TicketReopened},
		{"reopened after the release", patchgate.TicketEvidence{ReopenedAt: hour(4), Fixes: []patchgate.FixEvidence{fix(merged, ok, ok)}, Releases: []time.Time{hour(3)}}, patchgate.TicketReopened},
		{"reopened, then a new fix", patchgate.TicketEvidence{ReopenedAt: hour(4), Fixes: []patchgate.FixEvidence{fix(merged, ok, ok), fix(open, ok, "")}}, patchgate.TicketFixVerified},
		{"reopened, then a new fix merged", patchgate.TicketEvidence{ReopenedAt: hour(1), Fixes: []patchgate.FixEvidence{fix(merged, ok, ok)}}, patchgate.TicketFixMerged},
		{"reopened, then released again", patchgate.TicketEvidence{ReopenedAt: hour(4), Releases: []time.Time{hour(3), hour(5)}}, patchgate.TicketReleased},
		{"proof required and holding", patchgate.TicketEvidence{Fixes: []patchgate.FixEvidence{proven(fix(open, ok, ""), patchgate.ProofHolds, true)}}, patchgate.TicketFixVerified},
		{"proof required, none: passed is not enough", patchgate.TicketEvidence{Fixes: []patchgate.FixEvidence{proven(fix(open, ok, ""), patchgate.ProofNone, true)}}, patchgate.TicketFixProposed},
		{"proof required, not judged yet", patchgate.TicketEvidence{Fixes: []patchgate.FixEvidence{proven(fix(open, ok, ""), "", true)}}, patchgate.TicketFixProposed},
		{"proof required, merged without proof", patchgate.TicketEvidence{Fixes: []patchgate.FixEvidence{proven(fix(merged, ok, ok), patchgate.ProofError, true)}}, patchgate.TicketFixProposed},
		{"proof shown but not required", patchgate.TicketEvidence{Fixes: []patchgate.FixEvidence{proven(fix(open, ok, ""), patchgate.ProofNone, false)}}, patchgate.TicketFixVerified},
		{"reopened before any fix landed", patchgate.TicketEvidence{ReopenedAt: hour(4), Fixes: []patchgate.FixEvidence{fix(closed, ok, "")}}, patchgate.TicketOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := patchgate.DeriveTicketState(tt.e); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestTicketSettleKeepsTheClock(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	merged := &patchgate.Change{Kind: patchgate.ChangePullRequest, State: patchgate.ChangeMerged, MergedAt: t0.Add(time.Hour)}
	tk := &patchgate.Ticket{State: patchgate.TicketOpen, OpenedAt: t0}
	none := patchgate.TicketEvidence{}

	if !tk.Settle(patchgate.TicketFixVerified, none, t0.Add(2*time.Hour)) || !tk.VerifiedAt.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("first verification: verified at %v, want %v", tk.VerifiedAt, t0.Add(2*time.Hour))
	}
	tk.Settle(patchgate.TicketFixProposed, none, t0.Add(3*time.Hour))
	if !tk.VerifiedAt.Equal(t0.Add(2 * time.Hour)) {
		t.Fatalf("a fix taken back cleared VerifiedAt: %v", tk.VerifiedAt)
	}
	tk.Settle(patchgate.TicketReleased, none, t0.Add(4*time.Hour))
	if !tk.ReleasedAt.Equal(t0.Add(4*time.Hour)) || !tk.VerifiedAt.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("release: verified %v released %v", tk.VerifiedAt, tk.ReleasedAt)
	}
	if tk.Settle(patchgate.TicketReleased, none, t0.Add(5*time.Hour)) {
		t.Fatal("settling again without new evidence reported a change")
	}
	// A reopen after the fix landed restarts the clock at the reopen.
	reopen := patchgate.TicketEvidence{ReopenedAt: t0.Add(6 * time.Hour), Fixes: []patchgate.FixEvidence{{Change: merged, Head: patchgate.RunSuccess}}}
	tk.Settle(patchgate.DeriveTicketState(reopen), reopen, t0.Add(7*time.Hour))
	if tk.State != patchgate.TicketReopened || !tk.OpenedAt.Equal(t0.Add(6*time.Hour)) || !tk.VerifiedAt.IsZero() || !tk.ReleasedAt.IsZero() {
		t.Fatalf("after the reopen: %s opened %v verified %v released %v", tk.State, tk.OpenedAt, tk.VerifiedAt, tk.ReleasedAt)
	}
	// A reopen of a ticket whose fix never landed does not restart it.
	fresh := &patchgate.Ticket{State: patchgate.TicketOpen, OpenedAt: t0}
	early := patchgate.TicketEvidence{ReopenedAt: t0.Add(time.Hour)}
	fresh.Settle(patchgate.DeriveTicketState(early), early, t0.Add(2*time.Hour))
	if fresh.State != patchgate.TicketOpen || !fresh.OpenedAt.Equal(t0) {
		t.Fatalf("reopen without a landed fix: %s opened %v, want open at %v", fresh.State, fresh.OpenedAt, t0)
	}
}
