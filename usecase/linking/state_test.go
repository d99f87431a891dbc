package linking_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/usecase/linking"
)

// TestTicketStateFollowsHeadsAndLinks: a force-push back to an earlier head
// takes back the verdict of the head it left, and a change that stops
// claiming the fix takes its evidence with it. Before ticket states were
// derived, patchgate stayed on B with PAY-9 fix_verified after the
// force-push, and kept fix_verified after the edit.
func TestTicketStateFollowsHeadsAndLinks(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	vs := store.NewVerificationService(w.db)
	reconciler := &linking.Reconciler{Tickets: w.tickets, Links: w.links}
	shaA, shaB := strings.Repeat("a", 40), strings.Repeat("b", 40)
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	var changeID int64
	apply := func(action, title, body, head, before string, at time.Time) {
		t.Helper()
		ev := pr(9, action, title, head)
		ev.Change.Body, ev.Change.SourceBranch, ev.Change.BeforeSHA, ev.Change.UpdatedAt = body, "fix-rounding", before, at
		if err := w.linker.ApplyChange(ctx, w.repo, ev); err != nil {
			t.Fatal(err)
		}
		changes, _, err := w.linker.Changes.FindChanges(ctx, patchgate.ChangeFilter{Limit: 10})
		if err != nil || len(changes) != 1 {
			t.Fatalf("got changes %v, %v; want #9 only", changes, err)
		}
		changeID = changes[0].ID
	}
	// pass records that every suite passed on sha and reports the verdict, as
	// a verification worker does.
	pass := func(sha string) {
		t.Helper()
		v, _, err := vs.CreateVerification(ctx, &patchgate.Verification{Forge: patchgate.GitHub, Repo: repoName, SHA: sha, ChangeID: changeID,
			ConfigRef: sha, Trigger: "test", Suites: []*patchgate.SuiteRun{{Name: "unit", Required: true, Image: "golang:1.26"}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := vs.ClaimVerification(ctx, v.ID, v.Attempt, "w"); err != nil {
			t.Fatal(err)
		}
		s := v.Suites[0]
		s.State, s.Description = patchgate.RunSuccess, "tests"
		if err := vs.UpdateSuiteRun(ctx, s); err != nil {
			t.Fatal(err)
		}
		if err := vs.FinishVerification(ctx, v.ID, patchgate.RunSuccess, "test"); err != nil {
			t.Fatal(err)
		}
		ch, err := w.linker.Changes.FindChangeByID(ctx, changeID)
		if err != nil {
			t.Fatal(err)
		}
		if err := reconciler.ReconcileChange(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	state := func() patchgate.TicketState {
		t.Helper()
		tk, err := w.tickets.FindTicket(ctx, patchgate.TrackerExternal, "PAY-9")
		if err != nil {
			t.Fatal(err)
		}
		return tk.State
	}

	apply("opened", "Rounding of refunds", "Fixes PAY-9", shaA, "", t0)
	apply("synchronize", "Rounding of refunds", "Fixes PAY-9", shaB, shaA, t0.Add(time.Minute))
	pass(shaB)
	if got := state(); got != patchgate.TicketFixVerified {
		t.Fatalf("after B passed: got %s, want fix_verified", got)
	}

	// Force-push back to A: A is the change again, and B's verdict is not its.
	apply("synchronize", "Rounding of refunds", "Fixes PAY-9", shaA, shaB, t0.Add(2*time.Minute))
	if ch, err := w.linker.Changes.FindChangeByID(ctx, changeID); err != nil || ch.HeadSHA != shaA {
		t.Fatalf("after the force-push back: got %v, %v; want head A", ch, err)
	}
	if got := state(); got != patchgate.TicketFixProposed {
		t.Fatalf("after the force-push back to an unverified A: got %s, want fix_proposed", got)
	}
	pass(shaA)
	if got := state(); got != patchgate.TicketFixVerified {
		t.Fatalf("after A passed: got %s, want fix_verified", got)
	}

	// The change stops claiming the fix: the ticket has no fix any more.
	apply("edited", "Refactor rounding", "Part of the clean-up.", shaA, "", t0.Add(3*time.Minute))
	if got := state(); got != patchgate.TicketOpen {
		t.Fatalf("after the edit took PAY-9 out: got %s, want open", got)
	}

	// The audit log tells the whole story, in order.
	subject, action := "ticket:PAY-9", patchgate.AuditTicketState
	entries, err := store.NewAuditService(w.db).FindAudit(ctx, patchgate.AuditFilter{Subject: &subject, Action: &action, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var moves []string
	for _, e := range entries {
		moves = append(moves, e.Detail["to"])
	}
	want := "fix_proposed fix_verified fix_proposed fix_verified open"
	if got := strings.Join(moves, " "); got != want && reverse(moves) != want {
		t.Fatalf("ticket.state audit entries: got %q, want %q", got, want)
	}
}

func reverse(s []string) string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return strings.Join(out, " ")
}
