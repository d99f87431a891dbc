package enforcement_test

import (
	"context"
	"path/filepath"
	"slices"
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

const project = "acme/platform/api"

// checkWorld is the status check use case on a real SQLite database and the
// real GitLab client against the fake forge, with a clock the test moves.
type checkWorld struct {
	checks *enforcement.StatusChecks
	vs     *store.VerificationService
	forge  *fakeforge.Forge
	offset atomic.Int64 // how far the clock is ahead of the wall
}

func newCheckWorld(t *testing.T) *checkWorld {
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
	forge.AddRepo(project)
	gl, err := forges.NewGitLab(forges.Config{BaseURL: forge.GitLabAPIURL(), Token: fakeforge.Token, Retry: forges.RetryPolicy{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	w := &checkWorld{vs: store.NewVerificationService(db), forge: forge}
	w.checks = &enforcement.StatusChecks{Checks: store.NewEnforcementService(db), Verifications: w.vs, GitLab: gl,
		Now: func() time.Time { return time.Now().Add(time.Duration(w.offset.Load())) }}
	return w
}

// ask is GitLab asking for check 7 on !mr at sha.
func (w *checkWorld) ask(t *testing.T, mr int, sha string) {
	t.Helper()
	ev := &patchgate.Event{Source: patchgate.SourceGitLabStatusCheck, Forge: patchgate.GitLab, Kind: patchgate.EventStatusCheck, Repo: project,
		StatusCheck: &patchgate.StatusCheckEvent{MRIID: mr, HeadSHA: sha, CheckID: 7, ProjectID: w.forge.ProjectID(project)}}
	if _, _, err := w.checks.HandleStatusCheck(context.Background(), &patchgate.Repository{Forge: patchgate.GitLab, Name: project}, ev); err != nil {
		t.Fatal(err)
	}
}

// at moves the clock to d after now and sweeps.
func (w *checkWorld) sweepAt(t *testing.T, d time.Duration) {
	t.Helper()
	w.offset.Store(int64(d))
	if err := w.checks.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// pass records a passing verification of sha.
func (w *checkWorld) pass(t *testing.T, sha string) {
	t.Helper()
	ctx := context.Background()
	v, _, err := w.vs.CreateVerification(ctx, &patchgate.Verification{Forge: patchgate.GitLab, Repo: project, SHA: sha, ConfigRef: sha,
		ConfigDigest: "manual", Trigger: "test", Suites: []*patchgate.SuiteRun{{Name: "regression", Required: true, Image: "x"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.vs.ClaimVerification(ctx, v.ID, v.Attempt, "test"); err != nil {
		t.Fatal(err)
	}
	v.Suites[0].State = patchgate.RunSuccess
	if err := w.vs.UpdateSuiteRun(ctx, v.Suites[0]); err != nil {
		t.Fatal(err)
	}
	if err := w.vs.FinishVerification(ctx, v.ID, patchgate.RunSuccess, "passed"); err != nil {
		t.Fatal(err)
	}
}

func (w *checkWorld) want(t *testing.T, mr int, status string, retries int, answers ...string) {
	t.Helper()
	st, _ := w.forge.StatusCheck(project, mr, 7)
	if st.Status != status || st.Retries != retries || !slices.Equal(st.Answers, answers) {
		t.Fatalf("!%d: got %s after %v with %d retries, want %s after %v with %d", mr, st.Status, st.Answers, st.Retries, status, answers, retries)
	}
}

func TestStatusCheckNeverLeftPendingForGitLabToFail(t *testing.T) {
	w := newCheckWorld(t)
	sha := strings.Repeat("5e", 20)
	w.ask(t, 1, sha)
	w.want(t, 1, "pending", 0, "pending")
	w.sweepAt(t, time.Minute)
	w.want(t, 1, "pending", 0, "pending")
	// Before GitLab's two minutes: patchgate says failed itself.
	w.sweepAt(t, patchgate.StatusCheckPendingLimit+time.Second)
	w.want(t, 1, "failed", 0, "pending", "failed")
	w.sweepAt(t, 10*time.Minute)
	w.want(t, 1, "failed", 0, "pending", "failed")
	// The verdict arrives: the failed check is retried, then passed.
	w.pass(t, sha)
	w.sweepAt(t, 11*time.Minute)
	w.want(t, 1, "passed", 1, "pending", "failed", "passed")
	w.sweepAt(t, 12*time.Minute)
	w.want(t, 1, "passed", 1, "pending", "failed", "passed")
}

func TestStatusCheckGitLabFailedWhilePatchgateWasAway(t *testing.T) {
	w := newCheckWorld(t)
	sha := strings.Repeat("6f", 20)
	w.ask(t, 2, sha)
	// No sweep ran for three minutes: GitLab failed the pending check.
	w.forge.FailStatusCheck(project, 2, 7)
	w.pass(t, sha)
	w.sweepAt(t, 3*time.Minute)
	w.want(t, 2, "passed", 1, "pending", "passed")
}

func TestStatusCheckWithoutVerdictIsClosedAfter30Days(t *testing.T) {
	w := newCheckWorld(t)
	sha := strings.Repeat("7b", 20)
	w.ask(t, 3, sha)
	w.sweepAt(t, 2*time.Minute)
	w.want(t, 3, "failed", 0, "pending", "failed")
	w.sweepAt(t, patchgate.StatusCheckMaxAge+time.Minute)
	if open, err := w.checks.Checks.OpenStatusChecks(context.Background()); err != nil || len(open) != 0 {
		t.Fatalf("after 30 days: got %+v, %v; want the question closed", open, err)
	}
	// A verdict that comes later changes nothing: the question was closed.
	w.pass(t, sha)
	w.sweepAt(t, patchgate.StatusCheckMaxAge+2*time.Minute)
	w.want(t, 3, "failed", 0, "pending", "failed")
}
