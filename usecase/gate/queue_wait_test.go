package gate_test

import (
	"context"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// TestFixNoRunnerStartedBlocksWithItsCode: the fix's verification was queued
// as a delivery queues it (unplanned) and no runner started it within
// runners.max_queue_wait: the candidate is blocked by runner_unavailable
// about PAY-1's fix in #1, not told to wait for a run that is not coming;
// queued again, it is a run to wait for.
func TestFixNoRunnerStartedBlocksWithItsCode(t *testing.T) {
	ctx := context.Background()
	w := newReleaseWorld(t)
	w.verify(w.cand, 0, patchgate.RunSuccess)
	queue := func() {
		t.Helper()
		if _, _, err := w.vs.CreateVerification(ctx, &patchgate.Verification{Forge: patchgate.GitHub, Repo: relRepo, SHA: w.head,
			ChangeID: w.pr.ID, ConfigRef: w.head, Trigger: "synchronize"}); err != nil {
			t.Fatal(err)
		}
	}
	queue()
	why := patchgate.RunnerUnavailableDescription(15 * time.Minute)
	if ended, err := w.vs.ExpireUnstarted(ctx, time.Now().Add(time.Hour), why, why); err != nil || len(ended) != 1 {
		t.Fatalf("ExpireUnstarted: got %v, %v; want the fix's run ended", ended, err)
	}
	ev, err := w.gate.Evaluate(ctx, w.candidate())
	if err != nil {
		t.Fatal(err)
	}
	if ev.Releasable || len(ev.Blockers) != 1 {
		t.Fatalf("got releasable=%v blockers %+v, want one blocker", ev.Releasable, ev.Blockers)
	}
	if b := ev.Blockers[0]; b.Code != patchgate.ReasonRunnerUnavailable || b.Ticket != "PAY-1" || b.Change != "#1" {
		t.Errorf("got %+v, want runner_unavailable about PAY-1's fix in #1", b)
	}

	queue()
	ev, err = w.gate.Evaluate(ctx, w.candidate())
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Blockers) != 1 || ev.Blockers[0].Code != patchgate.ReasonFixUnverified {
		t.Errorf("queued again: got %+v, want fix_unverified (a run to wait for)", ev.Blockers)
	}
}
