package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// testQueueWait: a verification no worker claimed since before the cutoff
// ends as an error with its queued suites, audited; a claimed one, one
// queued again after its worker died (its wait restarts then) and a newer
// one are left alone; a worker that comes late cannot start it.
func testQueueWait(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db := open(t)
	s := store.NewVerificationService(db)
	waiting := mustCreate(t, s, newVerification(0, sha("A"), "d1"))
	orphan := mustCreate(t, s, newVerification(0, sha("B"), "d1"))
	if err := s.ClaimVerification(ctx, orphan.ID, 1, "w1"); err != nil {
		t.Fatal(err)
	}
	claimed := mustCreate(t, s, newVerification(0, sha("C"), "d1"))
	if err := s.ClaimVerification(ctx, claimed.ID, 1, "w2"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.RequeueOrphans(ctx, *mustFind(t, s, claimed.ID).HeartbeatAt); err != nil || len(got) != 1 || got[0].ID != orphan.ID {
		t.Fatalf("RequeueOrphans: got %v, %v; want #%d queued again", got, err, orphan.ID)
	}
	fresh := mustCreate(t, s, newVerification(0, sha("D"), "d1"))

	// The orphan was created before the cutoff but queued again after it.
	cutoff := claimed.CreatedAt
	const reason, desc = "runner_unavailable: no runner started it within 15m0s", "runner_unavailable: no runner started it within 15m0s"
	got, err := s.ExpireUnstarted(ctx, cutoff, reason, desc)
	if err != nil {
		t.Fatalf("ExpireUnstarted: %v", err)
	}
	if len(got) != 1 || got[0].ID != waiting.ID {
		t.Fatalf("expired %v, want only #%d", got, waiting.ID)
	}
	v := got[0]
	if v.State != patchgate.RunError || v.Reason != reason || v.FinishedAt == nil || len(v.Suites) != 2 {
		t.Fatalf("expired verification: got %+v, want an error with the reason, finished, with its 2 suites", v)
	}
	for _, sr := range v.Suites {
		if sr.State != patchgate.RunError || sr.Description != desc || sr.FinishedAt == nil {
			t.Errorf("suite %s: got %s %q finished %v, want error %q, finished", sr.Name, sr.State, sr.Description, sr.FinishedAt, desc)
		}
	}
	for id, want := range map[int64]patchgate.RunState{orphan.ID: patchgate.RunQueued, claimed.ID: patchgate.RunRunning, fresh.ID: patchgate.RunQueued} {
		if got := mustFind(t, s, id); got.State != want {
			t.Errorf("#%d: got %s, want %s (untouched)", id, got.State, want)
		}
	}
	// The job that arrives late finds it final.
	wantConflict(t, s.ClaimVerification(ctx, waiting.ID, 1, "w3"), "is final")
	if again, err := s.ExpireUnstarted(ctx, cutoff, reason, desc); err != nil || len(again) != 0 {
		t.Errorf("ExpireUnstarted again: got %v, %v; want none", again, err)
	}

	// The verdict and both suite states are audited, and the chain holds.
	audit := store.NewAuditService(db)
	verdict, suiteState := patchgate.AuditVerdict, patchgate.AuditSuiteRunState
	verdicts, err := audit.FindAudit(ctx, patchgate.AuditFilter{Action: &verdict})
	if err != nil || len(verdicts) != 1 || verdicts[0].Subject != fmt.Sprintf("verification:%d", waiting.ID) ||
		verdicts[0].Detail["state"] != "error" || verdicts[0].Detail["reason"] != reason {
		t.Errorf("audited verdicts: got %+v, %v; want #%d's error with the reason", verdicts, err, waiting.ID)
	}
	states, err := audit.FindAudit(ctx, patchgate.AuditFilter{Action: &suiteState})
	if err != nil || len(states) != 2 {
		t.Errorf("audited suite states: got %+v, %v; want the 2 suites'", states, err)
	}
	if _, err := audit.VerifyAudit(ctx); err != nil {
		t.Errorf("VerifyAudit: %v", err)
	}

	// Later, the orphan's own wait runs out too.
	if got, err := s.ExpireUnstarted(ctx, fresh.CreatedAt, reason, desc); err != nil || len(got) != 1 || got[0].ID != orphan.ID {
		t.Errorf("ExpireUnstarted at the next cutoff: got %v, %v; want #%d", got, err, orphan.ID)
	}
}
