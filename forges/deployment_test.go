package forges_test

import (
	"context"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges"
)

// deploymentReviewer is what both forges' clients answer deployments with.
type deploymentReviewer interface {
	ReviewDeployment(ctx context.Context, r *patchgate.DeploymentReview, state patchgate.DeployVerdict, comment string) error
}

func TestReviewDeployment(t *testing.T) {
	ctx := context.Background()
	for _, fc := range forgeCases {
		t.Run(fc.name, func(t *testing.T) {
			ff := MustForge(t)
			ff.AddRepo(fc.repo)
			c := fc.new(t, ff, fastConfig()).(deploymentReviewer)
			r := &patchgate.DeploymentReview{Forge: fc.forge, Repo: fc.repo, Environment: "production",
				SHA: strings.Repeat("a", 40), RunID: 77, DeploymentID: 88}
			if err := c.ReviewDeployment(ctx, r, patchgate.DeployApprove, "[deploy_promoted] ok"); err != nil {
				t.Fatal(err)
			}
			got := ff.DeploymentReviews(fc.repo)
			if len(got) != 1 || got[0].State != "approved" || got[0].Comment != "[deploy_promoted] ok" || got[0].API != string(fc.forge) {
				t.Fatalf("got %+v, want one approval with the comment", got)
			}
			if fc.forge == patchgate.GitHub && (got[0].RunID != 77 || got[0].Environment != "production") {
				t.Fatalf("got %+v, want run 77's production answered", got[0])
			}
			if fc.forge == patchgate.GitLab && got[0].DeploymentID != 88 {
				t.Fatalf("got %+v, want deployment 88 answered", got[0])
			}
			// A second decision is the forge's to refuse: the fake does, as the real ones do.
			if err := c.ReviewDeployment(ctx, r, patchgate.DeployReject, "no"); err == nil {
				t.Fatalf("a second decision: got nil, want the forge's refusal")
			}
			if err := c.ReviewDeployment(ctx, r, patchgate.DeployWait, "?"); patchgate.ErrorCode(err) != patchgate.EINVALID {
				t.Fatalf("pending is no answer: got %v, want EINVALID", err)
			}
		})
	}
}

func TestReportDeploymentIsNoDecision(t *testing.T) {
	ff := MustForge(t)
	ff.AddRepo("acme/payments")
	gh, err := forges.NewGitHub(func() forges.Config { c := fastConfig(); c.BaseURL = ff.GitHubAPIURL(); return c }())
	if err != nil {
		t.Fatal(err)
	}
	r := &patchgate.DeploymentReview{Forge: patchgate.GitHub, Repo: "acme/payments", Environment: "production", RunID: 5}
	if err := gh.ReportDeployment(context.Background(), r, "waiting for v1"); err != nil {
		t.Fatal(err)
	}
	if err := gh.ReviewDeployment(context.Background(), r, patchgate.DeployApprove, "go"); err != nil {
		t.Fatalf("a decision after a report: %v", err)
	}
	got := ff.DeploymentReviews("acme/payments")
	if len(got) != 2 || got[0].State != "" || got[0].Comment != "waiting for v1" || got[1].State != "approved" {
		t.Fatalf("got %+v, want a status report, then the approval", got)
	}
}
