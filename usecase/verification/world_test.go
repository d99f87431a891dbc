package verification_test

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
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/usecase/verification"
)

const (
	relRepo       = "acme/payments"
	releaseConfig = "suites:\n  regression:\n    image: golang:1.26\n    run: go test ./...\nrelease:\n  branch: main\n  approvals: 1\n"
)

// sha makes a recognisable 40-hex commit id.
func sha(c byte) string { return strings.Repeat(string(c), 40) }

// world is verification alone: a real SQLite store, the fake forge behind
// the real GitHub client (its base commit has .patchgate.yml), the ticket
// PAY-1, and the verifier and planner wired to them with a recording queue and
// reporter.
type world struct {
	forge    *fakeforge.Forge
	db       *store.DB
	vs       *store.VerificationService
	changes  *store.ChangeService
	links    *store.LinkService
	ticket   *patchgate.Ticket
	base     string
	queue    *recordingQueue
	reporter *recordingReporter
	configs  *verification.Configs
	planner  *verification.Planner
	verifier *verification.Verifier
}

func newWorld(t *testing.T, repo *patchgate.Repository) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{base: sha('1'), queue: &recordingQueue{}, reporter: &recordingReporter{}}
	w.forge = fakeforge.New()
	t.Cleanup(w.forge.Close)
	w.forge.SetToken("tok")
	w.forge.AddCommit(relRepo, w.base, map[string][]byte{".patchgate.yml": []byte(releaseConfig)}, "base", "dev")
	w.forge.SetBranch(relRepo, "main", w.base)
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "v.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	w.db, w.vs = db, store.NewVerificationService(db)
	w.changes, w.links = store.NewChangeService(db), store.NewLinkService(db)
	w.ticket, err = store.NewTicketService(db).EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-1",
		Labels: []string{}, Severity: patchgate.SeverityHigh, State: patchgate.TicketOpen})
	if err != nil {
		t.Fatal(err)
	}
	gh, err := forges.NewGitHub(forges.Config{BaseURL: w.forge.GitHubAPIURL(), Token: "tok", Retry: forges.RetryPolicy{MaxRetries: 1, BaseDelay: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	repos := patchgate.NewRepositoryDirectory([]*patchgate.Repository{repo})
	trust := verification.Trust{ReleaseManagers: map[patchgate.Forge][]string{patchgate.GitHub: {"ops"}}}
	w.configs = &verification.Configs{Sources: map[patchgate.Forge]patchgate.SourceFetcher{patchgate.GitHub: gh},
		APIQuarantines: store.NewQuarantineService(db)}
	w.planner = &verification.Planner{Configs: w.configs, Verifications: w.vs, Changes: w.changes, Links: w.links,
		Repos: repos, Forges: map[patchgate.Forge]verification.ProofSource{patchgate.GitHub: gh}, Trust: trust, Logger: logger}
	w.verifier = &verification.Verifier{Verifications: w.vs, Queue: w.queue, Reporter: w.reporter, Changes: w.changes,
		Repos: repos, Vouches: store.NewCommandService(db), Trust: trust, Logger: logger}
	return w
}

// change records a pull request at head, based on the world's base commit.
func (w *world) change(t *testing.T, number int, title, author, head string, fork bool) *patchgate.Change {
	t.Helper()
	ch, _, err := w.changes.ApplyChangeUpdate(context.Background(), patchgate.ChangeUpdate{
		Forge: patchgate.GitHub, Repo: relRepo, Kind: patchgate.ChangePullRequest, Number: number, Title: title,
		SourceBranch: "fix", TargetBranch: "main", HeadSHA: head, BaseSHA: w.base, Author: author, FromFork: fork,
		State: patchgate.ChangeOpen, UpdatedAt: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// recordingQueue records what is enqueued and cancelled.
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

// recordingReporter records what the forge would be told.
type recordingReporter struct {
	mu       sync.Mutex
	queued   []*patchgate.Verification
	verdicts []*patchgate.Verification
}

func (r *recordingReporter) Queued(_ context.Context, v *patchgate.Verification) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queued = append(r.queued, v)
}

func (r *recordingReporter) Verdict(_ context.Context, v *patchgate.Verification) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.verdicts = append(r.verdicts, v)
}
