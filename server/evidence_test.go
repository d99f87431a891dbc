package server_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// fixTicket gives ticket tk the evidence of a fix that passed on its head
// (fix_verified) and, with release, of a promoted release containing it, and
// reconciles the ticket: ticket states are derived, never written.
func fixTicket(t *testing.T, db *store.DB, tk *patchgate.Ticket, release bool) {
	t.Helper()
	ctx := context.Background()
	sha := fmt.Sprintf("%040x", tk.ID)
	ch, _, err := store.NewChangeService(db).ApplyChangeUpdate(ctx, patchgate.ChangeUpdate{Forge: patchgate.GitHub,
		Repo: "acme/payments", Kind: patchgate.ChangePullRequest, Number: int(1000 + tk.ID), HeadSHA: sha,
		State: patchgate.ChangeOpen, Author: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.NewLinkService(db).CreateManualLink(ctx, &patchgate.Link{TicketID: tk.ID, ChangeID: ch.ID,
		Kind: patchgate.LinkFixes, Source: patchgate.SourceManual, Provenance: "test", CreatedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	vs := store.NewVerificationService(db)
	v, _, err := vs.CreateVerification(ctx, &patchgate.Verification{Forge: patchgate.GitHub, Repo: "acme/payments",
		SHA: sha, ChangeID: ch.ID, ConfigRef: sha, ConfigDigest: "test", Trigger: "test",
		Suites: []*patchgate.SuiteRun{{Name: "regression", Required: true, Image: "runner"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := vs.ClaimVerification(ctx, v.ID, v.Attempt, "test"); err != nil {
		t.Fatal(err)
	}
	if err := vs.FinishVerification(ctx, v.ID, patchgate.RunSuccess, "passed"); err != nil {
		t.Fatal(err)
	}
	tickets := store.NewTicketService(db)
	if got, err := tickets.ReconcileTicket(ctx, tk.ID); err != nil || got.State != patchgate.TicketFixVerified {
		t.Fatalf("reconcile after a passing fix: %v, %v; want fix_verified", got, err)
	}
	if !release {
		return
	}
	rs := store.NewReleaseService(db)
	c := &patchgate.Candidate{Forge: patchgate.GitHub, Repo: "acme/payments", Branch: "main", SHA: sha,
		Name: fmt.Sprintf("v0.0.%d", tk.ID), CreatedBy: "test",
		Items: []*patchgate.CandidateItem{{ChangeID: ch.ID, TicketID: tk.ID}}}
	if err := rs.CreateCandidate(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := rs.BeginPromotion(ctx, c.ID, "test", 0); err != nil {
		t.Fatal(err)
	}
	if err := rs.FinishPromotion(ctx, c.ID, "https://example.invalid/release"); err != nil {
		t.Fatal(err)
	}
	if got, err := tickets.FindTicketByID(ctx, tk.ID); err != nil || got.State != patchgate.TicketReleased {
		t.Fatalf("after promotion: %v, %v; want released", got, err)
	}
}
