package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

func testTicketState(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()

	t.Run("require_proof needs the head's proof to hold", func(t *testing.T) {
		head := strings.Repeat("e", 40)
		tickets, vs, tk, ch, link := openFix(t, open(t), "PAY-8", 8, head)
		link()
		v, _, err := vs.CreateVerification(ctx, &patchgate.Verification{Forge: patchgate.GitHub, Repo: "acme/payments",
			SHA: head, ChangeID: ch.ID, ConfigRef: head, ConfigDigest: "d", Trigger: "test",
			Suites: []*patchgate.SuiteRun{{Name: "regression", Required: true, Image: "runner"}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := vs.ClaimVerification(ctx, v.ID, v.Attempt, "w"); err != nil {
			t.Fatal(err)
		}
		none := patchgate.NoProof("")
		none.VerificationID, none.RequireProof = v.ID, true
		if err := vs.SaveProof(ctx, &none); err != nil {
			t.Fatal(err)
		}
		if err := vs.FinishVerification(ctx, v.ID, patchgate.RunSuccess, "test"); err != nil {
			t.Fatal(err)
		}
		if got, err := tickets.ReconcileTicket(ctx, tk.ID); err != nil || got.State != patchgate.TicketFixProposed {
			t.Fatalf("passed without proof: got %v, %v; want fix_proposed", got, err)
		}
		holds := patchgate.Proof{VerificationID: v.ID, State: patchgate.ProofHolds, Description: "1 test fails without the fix and passes with it", RequireProof: true}
		if err := vs.SaveProof(ctx, &holds); err != nil {
			t.Fatal(err)
		}
		if got, err := tickets.ReconcileTicket(ctx, tk.ID); err != nil || got.State != patchgate.TicketFixVerified {
			t.Fatalf("passed with proof: got %v, %v; want fix_verified", got, err)
		}
	})

	t.Run("require_proof without any proof recorded", func(t *testing.T) {
		// The change was linked to its ticket after its head's verdict, so no
		// proof ran: under require_proof the fix must not count.
		head := strings.Repeat("f", 40)
		tickets, vs, tk, ch, link := openFix(t, open(t), "PAY-9", 9, head)
		v, _, err := vs.CreateVerification(ctx, &patchgate.Verification{Forge: patchgate.GitHub, Repo: "acme/payments",
			SHA: head, ChangeID: ch.ID, ConfigRef: head, Trigger: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := vs.PlanVerification(ctx, v.ID, "d", true, []*patchgate.SuiteRun{{Name: "regression", Required: true, Image: "runner"}}); err != nil {
			t.Fatal(err)
		}
		if err := vs.ClaimVerification(ctx, v.ID, v.Attempt, "w"); err != nil {
			t.Fatal(err)
		}
		if err := vs.FinishVerification(ctx, v.ID, patchgate.RunSuccess, "test"); err != nil {
			t.Fatal(err)
		}
		link()
		if got, err := tickets.ReconcileTicket(ctx, tk.ID); err != nil || got.State != patchgate.TicketFixProposed {
			t.Fatalf("passed under require_proof with no proof recorded: got %v, %v; want fix_proposed", got, err)
		}
		if got, err := vs.FindVerificationByID(ctx, v.ID); err != nil || !got.RequireProof {
			t.Fatalf("the verification forgot require_proof: %+v, %v", got, err)
		}
	})

	t.Run("reconcile derives from the evidence", func(t *testing.T) {
		db := open(t)
		tickets, changes, links := store.NewTicketService(db), store.NewChangeService(db), store.NewLinkService(db)
		vs, rs := store.NewVerificationService(db), store.NewReleaseService(db)
		tk, err := tickets.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-7"})
		if err != nil {
			t.Fatal(err)
		}
		reconcile := func(want patchgate.TicketState) *patchgate.Ticket {
			t.Helper()
			got, err := tickets.ReconcileTicket(ctx, tk.ID)
			if err != nil || got.State != want {
				t.Fatalf("reconcile: got %v, %v; want %s", got, err, want)
			}
			return got
		}
		reconcile(patchgate.TicketOpen)
		head, merge := strings.Repeat("a", 40), strings.Repeat("d", 40)
		t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
		pr := patchgate.ChangeUpdate{Forge: patchgate.GitHub, Repo: "acme/payments", Kind: patchgate.ChangePullRequest,
			Number: 7, HeadSHA: head, State: patchgate.ChangeOpen, UpdatedAt: t0}
		ch, _, err := changes.ApplyChangeUpdate(ctx, pr)
		if err != nil {
			t.Fatal(err)
		}
		if err := links.CreateManualLink(ctx, &patchgate.Link{TicketID: tk.ID, ChangeID: ch.ID, Kind: patchgate.LinkFixes,
			Source: patchgate.SourceManual, Provenance: "test", CreatedBy: "alice"}); err != nil {
			t.Fatal(err)
		}
		reconcile(patchgate.TicketFixProposed)
		finish := func(sha string, state patchgate.RunState) {
			t.Helper()
			v, _, err := vs.CreateVerification(ctx, &patchgate.Verification{Forge: patchgate.GitHub, Repo: "acme/payments",
				SHA: sha, ConfigRef: sha, ConfigDigest: string(state) + time.Now().String(), Trigger: "test",
				Suites: []*patchgate.SuiteRun{{Name: "regression", Required: true, Image: "runner"}}})
			if err != nil {
				t.Fatal(err)
			}
			if err := vs.ClaimVerification(ctx, v.ID, v.Attempt, "w"); err != nil {
				t.Fatal(err)
			}
			if err := vs.FinishVerification(ctx, v.ID, state, "test"); err != nil {
				t.Fatal(err)
			}
		}
		finish(head, patchgate.RunFailure)
		reconcile(patchgate.TicketFixProposed)
		finish(head, patchgate.RunSuccess)
		verified := reconcile(patchgate.TicketFixVerified)
		if verified.VerifiedAt.IsZero() {
			t.Errorf("fix_verified without VerifiedAt: %+v", verified)
		}
		again := reconcile(patchgate.TicketFixVerified)
		if !again.UpdatedAt.Equal(verified.UpdatedAt) {
			t.Errorf("reconciling without new evidence wrote the ticket: updated %v → %v", verified.UpdatedAt, again.UpdatedAt)
		}

		merged := pr
		merged.State, merged.MergeCommitSHA, merged.UpdatedAt = patchgate.ChangeMerged, merge, t0.Add(time.Hour)
		if _, _, err := changes.ApplyChangeUpdate(ctx, merged); err != nil {
			t.Fatal(err)
		}
		reconcile(patchgate.TicketFixVerified)
		finish(merge, patchgate.RunSuccess)
		reconcile(patchgate.TicketFixMerged)

		// Promotion derives the ticket in its own transaction.
		c := &patchgate.Candidate{Forge: patchgate.GitHub, Repo: "acme/payments", Branch: "main", SHA: merge, Name: "v1.0.0",
			CreatedBy: "ops", Items: []*patchgate.CandidateItem{{ChangeID: ch.ID, TicketID: tk.ID}}}
		if err := rs.CreateCandidate(ctx, c); err != nil {
			t.Fatal(err)
		}
		if _, err := rs.BeginPromotion(ctx, c.ID, "alice", 0); err != nil {
			t.Fatal(err)
		}
		if err := rs.FinishPromotion(ctx, c.ID, "https://example.invalid/v1.0.0"); err != nil {
			t.Fatal(err)
		}
		released, err := tickets.FindTicketByID(ctx, tk.ID)
		if err != nil || released.State != patchgate.TicketReleased || released.ReleasedAt.IsZero() {
			t.Fatalf("after the promotion: %+v, %v; want released with ReleasedAt", released, err)
		}

		// A reopen after the release: the fix did not hold, the clock restarts.
		reopenAt := time.Now().UTC().Truncate(time.Microsecond)
		if err := tickets.RecordReopen(ctx, tk.ID, reopenAt); err != nil {
			t.Fatal(err)
		}
		if err := tickets.RecordReopen(ctx, tk.ID, reopenAt.Add(-time.Hour)); err != nil {
			t.Fatal(err) // an older reopen arriving late changes nothing
		}
		reopened := reconcile(patchgate.TicketReopened)
		if !reopened.ReopenedAt.Equal(reopenAt) || !reopened.OpenedAt.Equal(reopenAt) || !reopened.ReleasedAt.IsZero() {
			t.Errorf("after the reopen: reopened %v opened %v released %v; want the clock restarted at %v",
				reopened.ReopenedAt, reopened.OpenedAt, reopened.ReleasedAt, reopenAt)
		}
		wantCode(t, tickets.RecordReopen(ctx, 424242, reopenAt), patchgate.ENOTFOUND)
		if _, err := tickets.ReconcileTicket(ctx, 424242); patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
			t.Errorf("reconcile of no ticket: got %v, want not found", err)
		}
	})
}

// openFix records ticket key and the open pull request number whose head is
// head in db; link makes the pull request fix the ticket, when the test says.
func openFix(t *testing.T, db *store.DB, key string, number int, head string) (tickets *store.TicketService, vs *store.VerificationService,
	tk *patchgate.Ticket, ch *patchgate.Change, link func()) {
	t.Helper()
	ctx := context.Background()
	tickets, vs = store.NewTicketService(db), store.NewVerificationService(db)
	tk, err := tickets.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	ch, _, err = store.NewChangeService(db).ApplyChangeUpdate(ctx, patchgate.ChangeUpdate{Forge: patchgate.GitHub, Repo: "acme/payments",
		Kind: patchgate.ChangePullRequest, Number: number, HeadSHA: head, State: patchgate.ChangeOpen, UpdatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	link = func() {
		t.Helper()
		if err := store.NewLinkService(db).CreateManualLink(ctx, &patchgate.Link{TicketID: tk.ID, ChangeID: ch.ID, Kind: patchgate.LinkFixes,
			Source: patchgate.SourceManual, Provenance: "test", CreatedBy: "alice"}); err != nil {
			t.Fatal(err)
		}
	}
	return tickets, vs, tk, ch, link
}
