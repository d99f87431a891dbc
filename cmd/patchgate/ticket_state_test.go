package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// pass records that every suite passed on sha and reports the verdict, as a
// verification worker does.
func (a *testApp) pass(t *testing.T, sha string) {
	t.Helper()
	ctx := context.Background()
	vs := store.NewVerificationService(a.main.DB)
	// Under the .patchgate.yml sha holds: a candidate there counts the run.
	a.passUnderItsConfig(t, patchgate.RepoRef{Forge: patchgate.GitHub, Name: testRepo}, sha)
	got, _, err := vs.FindVerifications(ctx, patchgate.VerificationFilter{SHA: &sha, Limit: 1})
	if err != nil || len(got) == 0 {
		t.Fatalf("find the verification of %s: %v", sha[:7], err)
	}
	a.main.Verdicts.OnVerdict(ctx, got[0])
}

// TestTicketStateFollowsHeadsAndLinks goes through the webhook endpoint: a
// force-push back to an earlier head takes back the verdict of the head it
// left, and a change that stops claiming the fix takes its evidence with it.
// Before ticket states were derived, patchgate stayed on B with PAY-9
// fix_verified after the force-push, and kept fix_verified after the edit.
func TestTicketStateFollowsHeadsAndLinks(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Repos[0].TicketKeys = []string{"PAY"}
	})
	shaA, shaB := strings.Repeat("a", 40), strings.Repeat("b", 40)
	state := func() patchgate.TicketState { return app.ticket(t, "PAY-9").Ticket.State }
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)

	app.openPR(t, "opened", 9, "Rounding of refunds", "Fixes PAY-9", "fix-rounding", shaA, "", t0)
	app.openPR(t, "synchronize", 9, "Rounding of refunds", "Fixes PAY-9", "fix-rounding", shaB, shaA, t0.Add(time.Minute))
	app.waitProcessed(t)
	app.pass(t, shaB)
	if got := state(); got != patchgate.TicketFixVerified {
		t.Fatalf("after B passed: got %s, want fix_verified", got)
	}

	// Force-push back to A: A is the change again, and B's verdict is not its.
	app.openPR(t, "synchronize", 9, "Rounding of refunds", "Fixes PAY-9", "fix-rounding", shaA, shaB, t0.Add(2*time.Minute))
	app.waitProcessed(t)
	if ch, _ := app.change(t, 9); ch.HeadSHA != shaA {
		t.Fatalf("after the force-push back: head %s, want A", ch.HeadSHA[:7])
	}
	if got := state(); got != patchgate.TicketFixProposed {
		t.Fatalf("after the force-push back to an unverified A: got %s, want fix_proposed", got)
	}
	app.pass(t, shaA)
	if got := state(); got != patchgate.TicketFixVerified {
		t.Fatalf("after A passed: got %s, want fix_verified", got)
	}

	// The change stops claiming the fix: the ticket has no fix any more.
	app.openPR(t, "edited", 9, "Refactor rounding", "Part of the clean-up.", "fix-rounding", shaA, "", t0.Add(3*time.Minute))
	app.waitProcessed(t)
	if got := state(); got != patchgate.TicketOpen {
		t.Fatalf("after the edit took PAY-9 out: got %s, want open", got)
	}

	// The audit log tells the whole story, in order.
	var audit struct{ Entries []patchgate.AuditEntry }
	app.api(t, http.MethodGet, "/api/v1/audit?subject=ticket:PAY-9&limit=50", nil, &audit)
	var moves []string
	for _, e := range audit.Entries {
		if e.Action == patchgate.AuditTicketState {
			moves = append(moves, e.Detail["to"])
		}
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
