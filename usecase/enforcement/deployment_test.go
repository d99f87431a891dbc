package enforcement_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges"
	"github.com/patchgate/patchgate/forges/fakeforge"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/usecase/enforcement"
)

const app = "acme/app"

// gateFunc is a function-field Gate: every open candidate evaluates as
// evaluate says; promotion is refused.
type gateFunc func(c *patchgate.Candidate) *patchgate.Evaluation

func (g gateFunc) Evaluate(_ context.Context, c *patchgate.Candidate) (*patchgate.Evaluation, error) {
	return g(c), nil
}

func (g gateFunc) Promote(context.Context, int64, patchgate.Principal) (*patchgate.Candidate, error) {
	return nil, patchgate.Errorf(patchgate.ECONFLICT, "not in this test")
}

// deployWorld is the deployment use case on real SQLite and the GitHub
// client on the fake forge, with a clock the test moves.
type deployWorld struct {
	deployments *enforcement.Deployments
	releases    *store.ReleaseService
	forge       *fakeforge.Forge
	offset      atomic.Int64
}

func newDeployWorld(t *testing.T) *deployWorld {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	forge := fakeforge.New()
	t.Cleanup(forge.Close)
	forge.AddRepo(app)
	gh, err := forges.NewGitHub(forges.Config{BaseURL: forge.GitHubAPIURL(), Token: fakeforge.Token, Retry: forges.RetryPolicy{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	w := &deployWorld{releases: store.NewReleaseService(db), forge: forge}
	repos := patchgate.NewRepositoryDirectory([]*patchgate.Repository{{Forge: patchgate.GitHub, Name: app, Environments: []string{"production"}}})
	w.deployments = &enforcement.Deployments{Repos: repos, Candidates: w.releases,
		Gate: gateFunc(func(*patchgate.Candidate) *patchgate.Evaluation { return &patchgate.Evaluation{Needed: 1} }),
		Answers: &enforcement.Answers{Reviews: store.NewEnforcementService(db),
			Reviewers: map[patchgate.Forge]enforcement.DeploymentReviewer{patchgate.GitHub: gh}, PublicURL: "https://pg"},
		Readers: map[patchgate.Forge]enforcement.DeploymentReader{patchgate.GitHub: gh},
		Now:     func() time.Time { return time.Now().Add(time.Duration(w.offset.Load())) }}
	return w
}

func (w *deployWorld) candidate(t *testing.T, name, sha string) *patchgate.Candidate {
	t.Helper()
	c := &patchgate.Candidate{Forge: patchgate.GitHub, Repo: app, Branch: "main", SHA: sha, Name: name, CreatedBy: "alice"}
	if err := w.releases.CreateCandidate(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

func (w *deployWorld) deploy(t *testing.T, run int64, sha string) {
	t.Helper()
	w.forge.AddDeployment(fakeforge.DeploymentRequest{Repo: app, Environment: "production", SHA: sha, RunID: run})
	ev := &patchgate.Event{Source: patchgate.SourceGitHub, Forge: patchgate.GitHub, Kind: patchgate.EventDeployment, Repo: app,
		Deployment: &patchgate.DeploymentEvent{Environment: "production", SHA: sha, RunID: run}}
	repo, _ := w.deployments.Repos.Find(patchgate.GitHub, app)
	if _, _, err := w.deployments.HandleDeployment(context.Background(), repo, ev); err != nil {
		t.Fatal(err)
	}
}

func (w *deployWorld) sweepAt(t *testing.T, d time.Duration) {
	t.Helper()
	w.offset.Store(int64(d))
	if _, err := w.deployments.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// decision is run's approval or rejection, or "" while it waits.
func (w *deployWorld) decision(run int64) (state, comment string) {
	for _, r := range w.forge.DeploymentReviews(app) {
		if r.RunID == run && r.State != "" {
			return r.State, r.Comment
		}
	}
	return "", ""
}

func TestWaitingDeploymentIsRejectedAfter30Days(t *testing.T) {
	w := newDeployWorld(t)
	sha := strings.Repeat("7a", 20)
	w.candidate(t, "v1", sha)
	w.deploy(t, 1, sha)
	w.sweepAt(t, 29*24*time.Hour)
	if state, _ := w.decision(1); state != "" {
		t.Fatalf("after 29 days: got %s, want still waiting", state)
	}
	w.sweepAt(t, patchgate.DeployReviewTimeout+time.Minute)
	state, comment := w.decision(1)
	if state != "rejected" || !strings.Contains(comment, "[deploy_review_expired]") {
		t.Fatalf("after 30 days: got %s %q, want rejected as expired", state, comment)
	}
}

func TestWaitingDeploymentIsRejectedWhenItsCandidateIsSuperseded(t *testing.T) {
	w := newDeployWorld(t)
	old, next := strings.Repeat("8b", 20), strings.Repeat("9c", 20)
	w.candidate(t, "v1", old)
	w.deploy(t, 2, old)
	w.sweepAt(t, time.Minute)
	if state, _ := w.decision(2); state != "" {
		t.Fatalf("an open candidate: got %s, want waiting", state)
	}
	w.candidate(t, "v2", next) // supersedes v1
	w.sweepAt(t, 2*time.Minute)
	state, comment := w.decision(2)
	if state != "rejected" || !strings.Contains(comment, "[deploy_candidate_superseded]") {
		t.Fatalf("superseded: got %s %q, want rejected as superseded", state, comment)
	}
}

// TestGitLabBlockedDeploymentApprovedOnPromotion: a blocked GitLab
// deployment of an open candidate's commit waits, and the promotion's
// announcement approves it as patchgate's user, with the code.
func TestGitLabBlockedDeploymentApprovedOnPromotion(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	forge := fakeforge.New()
	t.Cleanup(forge.Close)
	forge.AddRepo(project)
	gl, err := forges.NewGitLab(forges.Config{BaseURL: forge.GitLabAPIURL(), Token: fakeforge.Token, Retry: forges.RetryPolicy{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	releases := store.NewReleaseService(db)
	answers := &enforcement.Answers{Reviews: store.NewEnforcementService(db),
		Reviewers: map[patchgate.Forge]enforcement.DeploymentReviewer{patchgate.GitLab: gl}}
	repo := &patchgate.Repository{Forge: patchgate.GitLab, Name: project, Environments: []string{"production"}}
	d := &enforcement.Deployments{Repos: patchgate.NewRepositoryDirectory([]*patchgate.Repository{repo}), Candidates: releases,
		Gate: gateFunc(func(*patchgate.Candidate) *patchgate.Evaluation { return &patchgate.Evaluation{Needed: 1} }), Answers: answers,
		Readers: map[patchgate.Forge]enforcement.DeploymentReader{patchgate.GitLab: gl}}
	sha := strings.Repeat("d4", 20)
	forge.AddDeployment(fakeforge.DeploymentRequest{Repo: project, Environment: "production", SHA: sha, DeploymentID: 41})
	c := &patchgate.Candidate{Forge: patchgate.GitLab, Repo: project, Branch: "main", SHA: sha, Name: "v3", CreatedBy: "bob"}
	if err := releases.CreateCandidate(ctx, c); err != nil {
		t.Fatal(err)
	}
	ev := &patchgate.Event{Source: patchgate.SourceGitLab, Forge: patchgate.GitLab, Kind: patchgate.EventDeployment, Repo: project,
		Deployment: &patchgate.DeploymentEvent{Environment: "production", SHA: sha, Status: "blocked", DeploymentID: 41}}
	if _, _, err := d.HandleDeployment(ctx, repo, ev); err != nil {
		t.Fatal(err)
	}
	if got := forge.DeploymentReviews(project); len(got) != 0 {
		t.Fatalf("before promotion: got %+v, want no answer (GitLab has no status report)", got)
	}
	if _, err := releases.BeginPromotion(ctx, c.ID, "bob", 0); err != nil {
		t.Fatal(err)
	}
	if err := releases.FinishPromotion(ctx, c.ID, "https://gitlab.example/releases/v3"); err != nil {
		t.Fatal(err)
	}
	promoted, err := releases.FindCandidateByID(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	answers.Announce(ctx, promoted, &patchgate.ForgeRelease{Tag: "v3", SHA: sha})
	got := forge.DeploymentReviews(project)
	if len(got) != 1 || got[0].DeploymentID != 41 || got[0].State != "approved" || got[0].By != fakeforge.BotLogin ||
		!strings.Contains(got[0].Comment, "[deploy_promoted]") {
		t.Fatalf("after promotion: got %+v, want deployment 41 approved by patchgate's user with the code", got)
	}
}

// TestRefusedAnswerIsNotSentAgain: a forge that refuses an answer for good
// (here: a decision already made on the forge) gets it once, not once per
// sweep for 30 days; a forge that is down gets it again.
func TestRefusedAnswerIsNotSentAgain(t *testing.T) {
	w := newDeployWorld(t)
	sha := strings.Repeat("e5", 20)
	w.candidate(t, "v1", sha)
	w.deploy(t, 3, sha)
	// Someone with the rights decided on the forge meanwhile.
	gh, err := forges.NewGitHub(forges.Config{BaseURL: w.forge.GitHubAPIURL(), Token: fakeforge.Token, Retry: forges.RetryPolicy{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := gh.ReviewDeployment(context.Background(), &patchgate.DeploymentReview{Forge: patchgate.GitHub, Repo: app, Environment: "production", RunID: 3},
		patchgate.DeployApprove, "by hand"); err != nil {
		t.Fatal(err)
	}
	posts := func() int {
		n := 0
		for _, r := range w.forge.Requests() {
			if strings.HasSuffix(r, "/actions/runs/3/deployment_protection_rule") {
				n++
			}
		}
		return n
	}
	w.forge.FailNextOn("/actions/runs/3/deployment_protection_rule", 1, 502, nil)
	w.sweepAt(t, patchgate.DeployReviewTimeout+time.Hour) // the forge is down: tried, kept
	before := posts()
	w.sweepAt(t, patchgate.DeployReviewTimeout+2*time.Hour) // refused: recorded, not sent again
	w.sweepAt(t, patchgate.DeployReviewTimeout+3*time.Hour)
	if got := posts() - before; got != 1 {
		t.Fatalf("after the forge came back: got %d answers sent, want 1 (refused, then never again)", got)
	}
}

// TestDeploymentIsDecidedOnTheForgesCommit: whoever holds the webhook secret
// signs a delivery naming a promoted commit for their own run, which deploys
// another: patchgate reads the run back and decides on its commit, rejecting
// it; a deployment the forge does not know is not answered.
func TestDeploymentIsDecidedOnTheForgesCommit(t *testing.T) {
	w := newDeployWorld(t)
	promoted, other := strings.Repeat("a1", 20), strings.Repeat("b2", 20)
	c := w.candidate(t, "v1", promoted)
	ctx := context.Background()
	if _, err := w.releases.BeginPromotion(ctx, c.ID, "alice", 0); err != nil {
		t.Fatal(err)
	}
	if err := w.releases.FinishPromotion(ctx, c.ID, "https://github.example/releases/v1"); err != nil {
		t.Fatal(err)
	}
	w.forge.AddDeployment(fakeforge.DeploymentRequest{Repo: app, Environment: "production", SHA: other, RunID: 77})
	forged := &patchgate.Event{Source: patchgate.SourceGitHub, Forge: patchgate.GitHub, Kind: patchgate.EventDeployment, Repo: app,
		Deployment: &patchgate.DeploymentEvent{Environment: "production", SHA: promoted, RunID: 77}}
	repo, _ := w.deployments.Repos.Find(patchgate.GitHub, app)
	if _, _, err := w.deployments.HandleDeployment(ctx, repo, forged); err != nil {
		t.Fatal(err)
	}
	got := w.forge.DeploymentReviews(app)
	if len(got) != 1 || got[0].RunID != 77 || got[0].State != "rejected" || !strings.Contains(got[0].Comment, "[deploy_sha_not_promoted]") {
		t.Fatalf("a delivery naming the promoted commit for a run deploying %s: got %+v, want run 77 rejected (deploy_sha_not_promoted)", patchgate.ShortSHA(other), got)
	}
	unknown := &patchgate.Event{Source: patchgate.SourceGitHub, Forge: patchgate.GitHub, Kind: patchgate.EventDeployment, Repo: app,
		Deployment: &patchgate.DeploymentEvent{Environment: "production", SHA: promoted, RunID: 78}}
	if _, _, err := w.deployments.HandleDeployment(ctx, repo, unknown); err == nil {
		t.Fatalf("a run the forge does not have: got no error, want the read-back's not found")
	}
	if got := w.forge.DeploymentReviews(app); len(got) != 1 {
		t.Fatalf("a run the forge does not have: got answers %+v, want none more", got)
	}
}
