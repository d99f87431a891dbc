package gate_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/usecase/gate"
)

// recordingQueue records what was enqueued and cancelled.
type recordingQueue struct {
	mu        sync.Mutex
	enqueued  []int64
	cancelled []int64
}

func (q *recordingQueue) Enqueue(_ context.Context, v *patchgate.Verification) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.enqueued = append(q.enqueued, v.ID)
	return nil
}

func (q *recordingQueue) Cancel(_ context.Context, ids ...int64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.cancelled = append(q.cancelled, ids...)
	return nil
}

// bisectWorld is a release world with three fixes each passing alone
// (PAY-1 in #1 merged as 3, PAY-7 in #2 merged as 6, PAY-9 in #3 merged
// as 8, the candidate commit) and a bisector wired to the real store.
type bisectWorld struct {
	*releaseWorld
	bisector *gate.Bisector
	queue    *recordingQueue
}

func newBisectWorld(t *testing.T) *bisectWorld {
	t.Helper()
	w := &bisectWorld{releaseWorld: newReleaseWorld(t), queue: &recordingQueue{}}
	pay7 := w.addFix(2, "PAY-7", sha('5'), sha('6'))
	pay9 := w.addFix(3, "PAY-9", sha('7'), sha('8'))
	gh, err := forges.NewGitHub(forges.Config{BaseURL: w.forge.GitHubAPIURL(), Token: "tok", Retry: forges.RetryPolicy{MaxRetries: 1}})
	if err != nil {
		t.Fatal(err)
	}
	bis := store.NewBisectionService(w.db)
	w.bisector = &gate.Bisector{Configs: w.configs, Candidates: w.releases, Evidence: w.vs, Bisections: bis, Runs: w.vs, Queue: w.queue,
		Comparers: map[patchgate.Forge]patchgate.Comparer{patchgate.GitHub: gh}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	w.gate.Evidence = struct {
		*store.VerificationService
		*store.BisectionService
	}{w.vs, bis}
	w.cands.Watcher = w.bisector
	w.run(w.head, w.pr.ID, patchgate.RunSuccess, nil)
	w.run(sha('5'), pay7.ID, patchgate.RunSuccess, nil)
	w.run(sha('7'), pay9.ID, patchgate.RunSuccess, nil)
	return w
}

// failed is a failed test result.
func failed(name string) patchgate.TestResult {
	return patchgate.TestResult{Class: "acme/ledger", Name: name, Status: patchgate.TestFailed, Message: "total 9, want 10"}
}

// probe returns the bisection's verification of sha, which it must have
// enqueued, and finishes it as a worker would (planned under the candidate's
// .patchgate.yml), telling the bisector the verdict.
func (w *bisectWorld) probe(sha string, state patchgate.RunState, tests []patchgate.TestResult) *patchgate.Verification {
	w.t.Helper()
	ctx := context.Background()
	v := mustNewest(w.t, w.releaseWorld, sha)
	if !strings.HasPrefix(v.Trigger, "bisect of candidate") || v.State != patchgate.RunQueued || v.ConfigRef != w.cand {
		w.t.Fatalf("the newest run of %s is %+v; want the bisection's, queued, under the candidate's configuration", patchgate.ShortSHA(sha), v)
	}
	if !slices.Contains(w.queue.enqueued, v.ID) {
		w.t.Fatalf("verification %d of %s was not enqueued (%v)", v.ID, patchgate.ShortSHA(sha), w.queue.enqueued)
	}
	cfg, err := w.configs.Read(ctx, patchgate.RepoRef{Forge: patchgate.GitHub, Name: relRepo}, w.cand)
	if err != nil {
		w.t.Fatal(err)
	}
	v, err = w.vs.PlanVerification(ctx, v.ID, cfg.Digest, false, []*patchgate.SuiteRun{{Name: "regression", Required: true, Image: "golang:1.26"}})
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.vs.ClaimVerification(ctx, v.ID, v.Attempt, "w"); err != nil {
		w.t.Fatal(err)
	}
	s := v.Suites[0]
	s.State, s.Description, s.Tests = state, "tests", tests
	if err := w.vs.UpdateSuiteRun(ctx, s); err != nil {
		w.t.Fatal(err)
	}
	if err := w.vs.FinishVerification(ctx, v.ID, state, "test"); err != nil {
		w.t.Fatal(err)
	}
	v, err = w.vs.FindVerificationByID(ctx, v.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	w.bisector.OnVerdict(ctx, v)
	return v
}

// blocker returns the evaluation's bisection blocker.
func (w *bisectWorld) blocker(c *patchgate.Candidate) patchgate.Blocker {
	w.t.Helper()
	ev, err := w.gate.Evaluate(context.Background(), c)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, b := range ev.Blockers {
		if strings.HasPrefix(string(b.Code), "release_") {
			return b
		}
	}
	w.t.Fatalf("no bisection blocker among %q", ev.Blockers)
	return patchgate.Blocker{}
}

// TestBisectorNamesTheCulprit: the candidate fails although its three fixes
// passed alone; the bisector verifies prefix 1 (#1's merge: passes), then
// prefix 2 (#2's merge: fails) and names #2 (PAY-7) with the failing test,
// in two runs, each an ordinary verification of a merge commit.
func TestBisectorNamesTheCulprit(t *testing.T) {
	ctx := context.Background()
	w := newBisectWorld(t)
	c := w.candidate()
	if _, err := w.bisector.Bisections.FindBisection(ctx, c.ID); patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
		t.Fatalf("a bisection before the candidate failed: %v", err)
	}
	own := w.run(w.cand, 0, patchgate.RunFailure, []patchgate.TestResult{failed("TestLedgerTotals")})
	w.bisector.OnVerdict(ctx, own)
	if b := w.blocker(c); b.Code != patchgate.ReasonReleaseBisecting || !strings.Contains(b.Message, "bisecting its 3 merges") {
		t.Errorf("while bisecting: got %+v, want release_bisecting of 3 merges", b)
	}
	w.probe(sha('3'), patchgate.RunSuccess, nil)
	culpritRun := w.probe(sha('6'), patchgate.RunFailure, []patchgate.TestResult{failed("TestLedgerTotals"), {Name: "TestOther", Status: patchgate.TestPassed}})
	if len(w.queue.enqueued) != 2 {
		t.Errorf("got %d runs, want 2 (log2 of 3 merges)", len(w.queue.enqueued))
	}
	b := w.blocker(c)
	if b.Code != patchgate.ReasonReleaseCulpritFound || b.Message != "the release fails from #2 (PAY-7) on: TestLedgerTotals" || b.Ticket != "PAY-7" || b.Change != "#2" {
		t.Errorf("culprit: got %+v, want #2 (PAY-7) on TestLedgerTotals", b)
	}
	bis, err := w.bisector.Bisections.FindBisection(ctx, c.ID)
	if err != nil || bis.VerificationID != culpritRun.ID || bis.Culprit.SHA != sha('6') {
		t.Errorf("bisection = %+v, %v; want the culprit's run %d at %s", bis, err, culpritRun.ID, sha('6'))
	}
	// A later verdict does not move a found culprit.
	w.bisector.OnVerdict(ctx, own)
	if len(w.queue.enqueued) != 2 {
		t.Errorf("a found bisection ran again: %v", w.queue.enqueued)
	}
}

// TestBisectorCancels: a cancel stops the bisection and its live run; a
// restart runs the prefix again; a new candidate stops it for good.
func TestBisectorCancels(t *testing.T) {
	ctx := context.Background()
	w := newBisectWorld(t)
	c := w.candidate()
	w.bisector.OnVerdict(ctx, w.run(w.cand, 0, patchgate.RunFailure, []patchgate.TestResult{failed("TestLedgerTotals")}))
	first := mustNewest(t, w.releaseWorld, sha('3'))
	bis, err := w.bisector.Cancel(ctx, c.ID, "alice")
	if err != nil || bis.State != patchgate.BisectionCanceled {
		t.Fatalf("Cancel = %+v, %v; want canceled", bis, err)
	}
	if v := mustNewest(t, w.releaseWorld, sha('3')); v.State != patchgate.RunCanceled || !slices.Contains(w.queue.cancelled, first.ID) {
		t.Errorf("the live run: %s, cancelled jobs %v; want it canceled and its job stopped", v.State, w.queue.cancelled)
	}
	if b := w.blocker(c); b.Code != patchgate.ReasonReleaseBisectStopped || !strings.Contains(b.Message, "canceled by alice") {
		t.Errorf("canceled: got %+v, want release_bisect_stopped by alice", b)
	}
	if _, err := w.bisector.Cancel(ctx, c.ID, "alice"); patchgate.ErrorCode(err) != patchgate.ECONFLICT {
		t.Errorf("a second cancel: %v, want a conflict", err)
	}

	if _, err := w.bisector.Start(ctx, c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	again := w.probe(sha('3'), patchgate.RunError, nil)
	if again.ID == first.ID {
		t.Fatal("the restart did not run prefix 1 again")
	}
	if b := w.blocker(c); b.Code != patchgate.ReasonReleaseBisectStopped || !strings.Contains(b.Message, "ended inconclusive") {
		t.Errorf("a broken run: got %+v, want release_bisect_stopped, inconclusive", b)
	}
	// Restarted, the broken run is tried again.
	if _, err := w.bisector.Start(ctx, c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	mustNewest(t, w.releaseWorld, sha('3')) // queued again (probe checks it)
	w.forge.SetBranch(relRepo, "main", w.cand)
	next, err := w.cands.CreateCandidate(ctx, patchgate.CandidateRequest{Repo: relRepo, SHA: w.cand, Name: "v1.1.1"}, "ops")
	if err != nil {
		t.Fatal(err)
	}
	bis, err = w.bisector.Bisections.FindBisection(ctx, c.ID)
	if err != nil || bis.State != patchgate.BisectionCanceled || !strings.Contains(bis.Reason, "superseded") {
		t.Errorf("after %s superseded it: %+v, %v; want canceled", next.Name, bis, err)
	}
	// The new candidate at the same failing commit starts its own.
	if bis, err := w.bisector.Bisections.FindBisection(ctx, next.ID); err != nil || bis.State != patchgate.BisectionRunning {
		t.Errorf("the new candidate's bisection: %+v, %v; want running", bis, err)
	}
}

// TestBisectorWaitsForEveryFix: a candidate whose fix did not pass alone is
// not bisected: that fix's failure is the explanation.
func TestBisectorWaitsForEveryFix(t *testing.T) {
	ctx := context.Background()
	w := newBisectWorld(t)
	w.run(sha('7'), 0, patchgate.RunFailure, nil) // PAY-9's head fails alone (newest)
	c := w.candidate()
	w.bisector.OnVerdict(ctx, w.run(w.cand, 0, patchgate.RunFailure, nil))
	if _, err := w.bisector.Bisections.FindBisection(ctx, c.ID); patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
		t.Errorf("bisected although PAY-9 failed alone: %v", err)
	}
	if _, err := w.bisector.Start(ctx, c.ID, "alice"); patchgate.ErrorCode(err) != patchgate.EUNPROCESSABLE || !strings.Contains(err.Error(), "PAY-9") {
		t.Errorf("Start = %v; want unprocessable naming PAY-9", err)
	}
}
