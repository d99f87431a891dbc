package store_test

import (
	"context"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

func testEnforcement(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	t.Run("a deployment review is asked once and answered once, audited", func(t *testing.T) {
		db := open(t)
		s := store.NewEnforcementService(db)
		r := &patchgate.DeploymentReview{Forge: patchgate.GitHub, Repo: "acme/app", Environment: "production", SHA: sha("v1"), RunID: 9,
			CallbackURL: "https://api.github.com/repos/acme/app/actions/runs/9/deployment_protection_rule"}
		got, err := s.RecordDeploymentReview(ctx, r)
		if err != nil || got.ID == 0 || got.State != patchgate.DeployWait || got.RequestedAt.IsZero() {
			t.Fatalf("record: got %+v, %v; want it pending", got, err)
		}
		again, err := s.RecordDeploymentReview(ctx, r)
		if err != nil || again.ID != got.ID {
			t.Fatalf("asked again: got %+v, %v; want review %d", again, err, got.ID)
		}
		other := *r
		other.RunID, other.Repo = 10, "acme/other"
		if _, err := s.RecordDeploymentReview(ctx, &other); err != nil {
			t.Fatal(err)
		}
		pending, err := s.PendingDeploymentReviews(ctx, patchgate.GitHub, "acme/app")
		if err != nil || len(pending) != 1 || pending[0].ID != got.ID || pending[0].CallbackURL != r.CallbackURL {
			t.Fatalf("pending of acme/app: got %+v, %v", pending, err)
		}
		if all, _ := s.PendingDeploymentReviews(ctx, "", ""); len(all) != 2 {
			t.Fatalf("every pending review: got %d, want 2", len(all))
		}
		ok, err := s.AnswerDeploymentReview(ctx, got.ID, patchgate.DeployApprove, patchgate.DeployOKPromoted, "[deploy_promoted] v1")
		if err != nil || !ok {
			t.Fatalf("answer: got %v, %v; want answered", ok, err)
		}
		if ok, err := s.AnswerDeploymentReview(ctx, got.ID, patchgate.DeployReject, patchgate.DeploySHANotPromoted, "no"); err != nil || ok {
			t.Fatalf("answer again: got %v, %v; want false, nothing changed", ok, err)
		}
		done, _ := s.FindDeploymentReviews(ctx, patchgate.GitHub, "acme/app")
		if len(done) != 1 || done[0].State != patchgate.DeployApprove || done[0].Reason != patchgate.DeployOKPromoted || done[0].AnsweredAt == nil {
			t.Fatalf("after the answer: got %+v", done)
		}
		entries, err := store.NewAuditService(db).FindAudit(ctx, patchgate.AuditFilter{Action: ptr(patchgate.AuditDeploymentReviewed)})
		if err != nil || len(entries) != 1 || entries[0].SHA != r.SHA || entries[0].Detail["state"] != "approved" {
			t.Fatalf("audit: got %+v, %v; want one approval", entries, err)
		}
		if _, err := s.AnswerDeploymentReview(ctx, 999, patchgate.DeployApprove, "", ""); patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
			t.Fatalf("an unknown review: got %v, want ENOTFOUND", err)
		}
	})
	t.Run("a status check is kept per head until its answer is final", func(t *testing.T) {
		s := store.NewEnforcementService(open(t))
		c := &patchgate.StatusCheck{Repo: "acme/platform/api", ProjectID: 3, MRIID: 4, SHA: sha("head"), CheckID: 7}
		got, err := s.RecordStatusCheck(ctx, c)
		if err != nil || got.ID == 0 || got.Answered != "" || got.Final {
			t.Fatalf("record: got %+v, %v", got, err)
		}
		if err := s.AnswerStatusCheck(ctx, got.ID, patchgate.StatusCheckPending, false); err != nil {
			t.Fatal(err)
		}
		again, _ := s.RecordStatusCheck(ctx, c)
		if again.ID != got.ID || again.Answered != patchgate.StatusCheckPending || again.AnsweredAt == nil {
			t.Fatalf("asked again: got %+v, want the pending answer kept", again)
		}
		if open, _ := s.OpenStatusChecks(ctx); len(open) != 1 {
			t.Fatalf("open: got %d, want 1", len(open))
		}
		if err := s.AnswerStatusCheck(ctx, got.ID, patchgate.StatusCheckPassed, true); err != nil {
			t.Fatal(err)
		}
		if open, _ := s.OpenStatusChecks(ctx); len(open) != 0 {
			t.Fatalf("open after the final answer: got %+v, want none", open)
		}
		next := *c
		next.SHA = sha("next")
		n, _ := s.RecordStatusCheck(ctx, &next)
		if n.ID == got.ID || n.Final {
			t.Fatalf("a new head: got %+v, want a new open check", n)
		}
		newer := next
		newer.SHA = sha("newer")
		if _, err := s.RecordStatusCheck(ctx, &newer); err != nil {
			t.Fatal(err)
		}
		if open, _ := s.OpenStatusChecks(ctx); len(open) != 1 || open[0].SHA != newer.SHA {
			t.Fatalf("open after a newer head: got %+v, want only the newest head's", open)
		}
	})
}
