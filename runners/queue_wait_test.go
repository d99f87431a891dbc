package runners_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges"
	"github.com/patchgate/patchgate/forges/fakeforge"
	"github.com/patchgate/patchgate/runners"
	"github.com/patchgate/patchgate/store"
)

// verdictLog records the verdicts it is told.
type verdictLog struct {
	mu  sync.Mutex
	ids []int64
}

func (l *verdictLog) OnVerdict(_ context.Context, v *patchgate.Verification) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ids = append(l.ids, v.ID)
}

// TestQueueWaitEndsRunsNoRunnerStarted: on real SQLite, with the GitHub
// client posting to the fake forge, a verification no worker claimed within
// runners.max_queue_wait (one still unplanned, as a delivery queues it, and
// one planned with its suites) ends as an error coded runner_unavailable:
// the forge's statuses say so instead of pending for ever, the verdict is
// passed on, and a verification still within its wait is left queued.
func TestQueueWaitEndsRunsNoRunnerStarted(t *testing.T) {
	ctx := context.Background()
	const repo = "acme/payments"
	forge := fakeforge.New()
	t.Cleanup(forge.Close)
	forge.SetToken("tok")
	unplannedSHA, plannedSHA, freshSHA := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)
	for _, sha := range []string{unplannedSHA, plannedSHA, freshSHA} {
		forge.AddCommit(repo, sha, map[string][]byte{"main.go": []byte("package main")}, "commit", "dev")
	}
	gh, err := forges.NewGitHub(forges.Config{BaseURL: forge.GitHubAPIURL(), Token: "tok", Retry: forges.RetryPolicy{MaxRetries: 1, BaseDelay: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	db.Now = func() time.Time { return start }
	vs := store.NewVerificationService(db)
	create := func(sha string, suites ...*patchgate.SuiteRun) *patchgate.Verification {
		t.Helper()
		digest := ""
		if len(suites) > 0 {
			digest = "d1"
		}
		v, _, err := vs.CreateVerification(ctx, &patchgate.Verification{Forge: patchgate.GitHub, Repo: repo, SHA: sha, ConfigRef: sha,
			ConfigDigest: digest, Trigger: "synchronize", Suites: suites})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	unplanned := create(unplannedSHA)
	planned := create(plannedSHA, &patchgate.SuiteRun{Name: "unit", Required: true, Image: "golang:1.26"},
		&patchgate.SuiteRun{Name: "integration", Required: true, Image: "golang:1.26"})
	db.Now = func() time.Time { return start.Add(10 * time.Minute) }
	fresh := create(freshSHA)

	reporter := &runners.Reporter{Statuses: map[patchgate.Forge]patchgate.StatusPoster{patchgate.GitHub: gh},
		PublicURL: "https://patchgate.example", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	t.Cleanup(reporter.Close)
	verdicts := &verdictLog{}
	w := &runners.QueueWait{Verifications: vs, Reporter: reporter, Verdicts: verdicts, MaxWait: 15 * time.Minute,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}

	// 14 minutes in, nothing has waited long enough.
	if got, err := w.Sweep(ctx, start.Add(14*time.Minute)); err != nil || len(got) != 0 {
		t.Fatalf("sweep at 14m: got %v, %v; want nothing ended", got, err)
	}
	db.Now = func() time.Time { return start.Add(16 * time.Minute) }
	got, err := w.Sweep(ctx, start.Add(16*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != unplanned.ID || got[1].ID != planned.ID {
		t.Fatalf("sweep at 16m: got %v, want #%d and #%d ended", got, unplanned.ID, planned.ID)
	}
	reporter.Wait()

	const why = "runner_unavailable: no runner started it within 15m0s"
	status := func(sha, context string) fakeforge.RecordedStatus {
		t.Helper()
		var last fakeforge.RecordedStatus
		for _, st := range forge.Statuses(repo, sha) {
			if st.Context == context {
				last = st
			}
		}
		return last
	}
	for _, c := range []struct{ sha, context string }{
		{unplannedSHA, runners.VerdictContext},
		{plannedSHA, runners.VerdictContext},
		{plannedSHA, "patchgate/unit"},
		{plannedSHA, "patchgate/integration"},
	} {
		if st := status(c.sha, c.context); st.State != "error" || st.Description != why {
			t.Errorf("%s at %.7s: got %q %q, want error %q", c.context, c.sha, st.State, st.Description, why)
		}
	}
	if n := len(forge.Statuses(repo, freshSHA)); n != 0 {
		t.Errorf("the verification within its wait: got %d statuses, want none", n)
	}
	for id, want := range map[int64]patchgate.RunState{unplanned.ID: patchgate.RunError, planned.ID: patchgate.RunError, fresh.ID: patchgate.RunQueued} {
		v, err := vs.FindVerificationByID(ctx, id)
		if err != nil || v.State != want {
			t.Errorf("#%d: got %+v, %v; want %s", id, v, err, want)
		}
	}
	if verdicts.ids == nil || len(verdicts.ids) != 2 {
		t.Errorf("verdicts passed on: got %v, want the 2 ended", verdicts.ids)
	}
	// A worker that gets the job now does not start it.
	if err := vs.ClaimVerification(ctx, planned.ID, planned.Attempt, "late"); patchgate.ErrorCode(err) != patchgate.ECONFLICT {
		t.Errorf("late claim: got %v, want conflict", err)
	}
	// The gate reads the ended run as runner_unavailable.
	v, _ := vs.FindVerificationByID(ctx, planned.ID)
	bs := patchgate.SuiteBlockers(patchgate.Fix{}, v, []string{"unit"}, plannedSHA)
	if len(bs) != 1 || bs[0].Code != patchgate.ReasonRunnerUnavailable {
		t.Errorf("blockers of the ended run: got %+v, want runner_unavailable", bs)
	}
}
