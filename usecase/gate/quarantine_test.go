package gate_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// TestExpiredQuarantineBlocksRelease: a quarantine that has ended is a
// blocker in words until it is removed (or renewed), even when every suite
// passed.
func TestExpiredQuarantineBlocksRelease(t *testing.T) {
	ctx := patchgate.NewContextWithPrincipal(context.Background(), patchgate.Principal{Name: "root-admin", Role: patchgate.RoleAdmin})
	w := newReleaseWorld(t)
	qs := store.NewQuarantineService(w.db)
	w.verify(w.cand, 0, patchgate.RunSuccess)
	w.verify(w.head, w.pr.ID, patchgate.RunSuccess)

	created := time.Now().Add(-40 * 24 * time.Hour).UTC()
	w.db.Now = func() time.Time { return created }
	q := &patchgate.Quarantine{Forge: patchgate.GitHub, Repo: relRepo, Test: "TestLedger", Owner: "alice", Ticket: "PAY-9",
		ExpiresAt: created.Add(10 * 24 * time.Hour)}
	if err := qs.CreateQuarantine(ctx, q); err != nil {
		t.Fatal(err)
	}
	w.db.Now = time.Now

	ev, err := w.gate.Evaluate(ctx, w.candidate())
	if err != nil {
		t.Fatal(err)
	}
	want := "quarantine of TestLedger expired " + q.ExpiresAt.Format(time.DateOnly) + "; fix it or renew it (owner alice, PAY-9)"
	if ev.Releasable || strings.Join(patchgate.BlockerMessages(ev.Blockers), "\n") != want ||
		ev.Blockers[0].Code != patchgate.ReasonQuarantineExpired || ev.Blockers[0].Ticket != "PAY-9" {
		t.Fatalf("got releasable=%v blockers %q, want only %q", ev.Releasable, ev.Blockers, want)
	}
	if err := qs.DeleteQuarantine(ctx, patchgate.RepoRef{Forge: patchgate.GitHub, Name: relRepo}, q.ID); err != nil {
		t.Fatal(err)
	}
	if ev, err := w.gate.Evaluate(ctx, w.candidate()); err != nil || !ev.Releasable {
		t.Fatalf("after removing it: got %+v, %v; want releasable", ev, err)
	}
}
