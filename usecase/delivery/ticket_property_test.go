package delivery_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/usecase/delivery"
	"github.com/patchgate/patchgate/usecase/linking"
	"github.com/patchgate/patchgate/usecase/verification"
)

// ticketHistory is a random life of ticket acme/payments#50 as a model knows
// it: two pull requests that claim to fix it, mention it or stop naming it,
// pushes (back to earlier heads too), merges and closes, verdicts on heads and
// merge commits, and reopenings. deliveries are the forge's events and the
// workers' verdicts, in the order they really happened.
type ticketHistory struct {
	deliveries []happening
	// What the model knows at the end.
	changeEvents map[int][]patchgate.ChangeEvent
	reopenedAt   time.Time
}

// happening is one forge event or one verdict.
type happening struct {
	event   *patchgate.Event
	verdict *verdict
}

type verdict struct {
	sha   string
	state patchgate.RunState
}

const propRepo = "acme/payments"

func newTicketHistory(rng *rand.Rand) *ticketHistory {
	h := &ticketHistory{changeEvents: map[int][]patchgate.ChangeEvent{}}
	t := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	type pr struct {
		head, body string
		state      patchgate.ChangeState
		merge      string
	}
	prs := map[int]*pr{}
	var shas []string
	bodies := []string{"Fixes #50", "Fixes #50", "See #50", "No reference"}
	emit := func(n int, action string, p *pr, before string) {
		ev := patchgate.ChangeEvent{Number: n, Title: fmt.Sprint("change ", n), Body: p.body,
			SourceBranch: fmt.Sprint("fix-", n), TargetBranch: "main", HeadSHA: p.head, BeforeSHA: before,
			Author: "dev", State: p.state, MergeCommitSHA: p.merge, UpdatedAt: t}
		h.changeEvents[n] = append(h.changeEvents[n], ev)
		h.deliveries = append(h.deliveries, happening{event: &patchgate.Event{Forge: patchgate.GitHub,
			Kind: patchgate.EventChange, Name: "pull_request", Action: action, Repo: propRepo, Sender: "dev", Change: &ev}})
	}
	for step := range 14 {
		t = t.Add(time.Duration(1+rng.IntN(30)) * time.Minute)
		n := 1 + rng.IntN(2)
		p := prs[n]
		switch op := rng.IntN(7); {
		case p == nil:
			p = &pr{head: fmt.Sprintf("%02d%038x", n, step), body: bodies[rng.IntN(len(bodies))], state: patchgate.ChangeOpen}
			prs[n] = p
			shas = append(shas, p.head)
			emit(n, "opened", p, "")
		case op == 0 && p.state == patchgate.ChangeOpen:
			// A push, a quarter of them back to a head the change had before.
			before := p.head
			p.head = fmt.Sprintf("%02d%038x", n, step)
			if rng.IntN(4) == 0 {
				for _, sha := range shas {
					if sha[:2] == fmt.Sprintf("%02d", n) && sha != before {
						p.head = sha
						break
					}
				}
			}
			shas = append(shas, p.head)
			emit(n, "synchronize", p, before)
		case op == 1:
			p.body = bodies[rng.IntN(len(bodies))]
			emit(n, "edited", p, "")
		case op == 2 && p.state == patchgate.ChangeOpen:
			p.state, p.merge = patchgate.ChangeMerged, fmt.Sprintf("ee%02d%036x", n, step)
			shas = append(shas, p.merge)
			emit(n, "closed", p, "")
		case op == 3 && p.state == patchgate.ChangeOpen && rng.IntN(3) == 0:
			p.state = patchgate.ChangeClosed
			emit(n, "closed", p, "")
		case op == 4 && rng.IntN(2) == 0:
			h.reopenedAt = t
			h.deliveries = append(h.deliveries, happening{event: &patchgate.Event{Forge: patchgate.GitHub,
				Kind: patchgate.EventIssue, Name: "issues", Action: "reopened", Repo: propRepo, Sender: "qa",
				Issue: &patchgate.IssueEvent{Number: 50, Title: "refunds round wrongly", State: "open", Author: "qa",
					Labels: []string{}, UpdatedAt: t, CreatedAt: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}}})
		default:
			if len(shas) > 0 {
				st := patchgate.RunSuccess
				if rng.IntN(3) == 0 {
					st = patchgate.RunFailure
				}
				h.deliveries = append(h.deliveries, happening{verdict: &verdict{sha: shas[rng.IntN(len(shas))], state: st}})
			}
		}
	}
	return h
}

// want is the ticket's state as the model derives it from the final evidence:
// each change's final fields from its events (newest forge time wins, merged is
// final, the head from its moves), the newest verdict delivered per commit.
func (h *ticketHistory) want(delivered []happening) patchgate.TicketState {
	latest := map[string]patchgate.RunState{}
	for _, d := range delivered {
		if d.verdict != nil {
			latest[d.verdict.sha] = d.verdict.state
		}
	}
	e := patchgate.TicketEvidence{ReopenedAt: h.reopenedAt}
	for _, evs := range h.changeEvents {
		var heads []patchgate.HeadEvent
		var last patchgate.ChangeEvent
		var mergedAt time.Time
		for _, ev := range evs {
			heads = append(heads, patchgate.HeadEvent{Before: ev.BeforeSHA, After: ev.HeadSHA, At: ev.UpdatedAt})
			if !ev.UpdatedAt.Before(last.UpdatedAt) {
				last = ev
			}
			if ev.State == patchgate.ChangeMerged && (mergedAt.IsZero() || ev.UpdatedAt.Before(mergedAt)) {
				mergedAt = ev.UpdatedAt
			}
		}
		if last.Body != "Fixes #50" {
			continue
		}
		head, _ := patchgate.DeriveHead(heads)
		ch := &patchgate.Change{Kind: patchgate.ChangePullRequest, State: last.State, MergedAt: mergedAt, HeadSHA: head}
		if !mergedAt.IsZero() {
			ch.State = patchgate.ChangeMerged
		}
		f := patchgate.FixEvidence{Change: ch, Head: latest[head]}
		if ch.State == patchgate.ChangeMerged {
			for _, ev := range evs {
				if ev.MergeCommitSHA != "" {
					f.Merged = latest[ev.MergeCommitSHA]
				}
			}
		}
		e.Fixes = append(e.Fixes, f)
	}
	return patchgate.DeriveTicketState(e)
}

// TestTicketStateFollowsTheEvidence: whatever order events and verdicts arrive
// in, and even when the happening processor and the verification workers apply
// them at the same time, the ticket ends in the state DeriveTicketState gives
// for the final evidence, as a model of the history computes it.
func TestTicketStateFollowsTheEvidence(t *testing.T) {
	ctx := context.Background()
	histories := 60
	if testing.Short() {
		histories = 10
	}
	seen := map[patchgate.TicketState]int{}
	for i := range histories {
		rng := rand.New(rand.NewPCG(uint64(i), 50))
		h := newTicketHistory(rng)
		svc, vs, tickets := ticketWorld(t)
		delivered := append([]happening(nil), h.deliveries...)
		rng.Shuffle(len(delivered), func(i, j int) { delivered[i], delivered[j] = delivered[j], delivered[i] })
		// Forge events on one goroutine (the happening processor), verdicts on
		// another (the workers), each in the shuffled order.
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for _, verdicts := range []bool{false, true} {
			wg.Go(func() {
				for _, d := range delivered {
					if (d.verdict != nil) != verdicts {
						continue
					}
					if err := apply(ctx, svc, vs, d); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("history %d: %v", i, err)
		}
		want := h.want(delivered)
		got := patchgate.TicketOpen
		if tk, err := tickets.FindTicket(ctx, patchgate.TrackerGitHub, propRepo+"#50"); err == nil {
			got = tk.State
		} else if patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("history %d: got %s, want %s", i, got, want)
		}
		seen[want]++
	}
	t.Logf("final states over %d histories: %v", histories, seen)
	if !testing.Short() && (seen[patchgate.TicketFixVerified] == 0 || seen[patchgate.TicketFixMerged] == 0 || seen[patchgate.TicketReopened] == 0) {
		t.Fatalf("the histories never reach some states (%v): the property is not exercised", seen)
	}
}

// apply delivers d: an event to the pipeline, or a verdict as a worker
// records and reports it.
func apply(ctx context.Context, svc *ticketPipeline, vs *store.VerificationService, d happening) error {
	if d.event != nil {
		_, _, err := svc.events.HandleEvent(ctx, d.event)
		return err
	}
	v, _, err := vs.CreateVerification(ctx, &patchgate.Verification{Forge: patchgate.GitHub, Repo: propRepo,
		SHA: d.verdict.sha, ConfigRef: d.verdict.sha, ConfigDigest: fmt.Sprint(time.Now().UnixNano()), Trigger: "test",
		Suites: []*patchgate.SuiteRun{{Name: "regression", Required: true, Image: "golang:1.26"}}})
	if err != nil {
		return err
	}
	if err := vs.ClaimVerification(ctx, v.ID, v.Attempt, "w"); err != nil {
		return err
	}
	if err := vs.FinishVerification(ctx, v.ID, d.verdict.state, "test"); err != nil {
		return err
	}
	v.State = d.verdict.state
	svc.verdicts.OnVerdict(ctx, v)
	return nil
}

// ticketPipeline is what applies the history: the event dispatch over
// linking, and the verdicts.
type ticketPipeline struct {
	events   *delivery.Dispatcher
	verdicts *verification.Verdicts
}

// ticketWorld is a pipeline on a fresh SQLite store, for acme/payments; it plans
// no verifications (the test delivers verdicts itself).
func ticketWorld(t *testing.T) (*ticketPipeline, *store.VerificationService, *store.TicketService) {
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
	tickets := store.NewTicketService(db)
	changes, links := store.NewChangeService(db), store.NewLinkService(db)
	repos := patchgate.NewRepositoryDirectory([]*patchgate.Repository{{Forge: patchgate.GitHub, Name: propRepo}})
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	linker := &linking.Linker{Tickets: tickets, Changes: changes, Links: links, Repos: repos, Logger: logger}
	svc := &ticketPipeline{
		events:   &delivery.Dispatcher{Repos: repos, Links: linker},
		verdicts: &verification.Verdicts{Changes: changes, Tickets: &linking.Reconciler{Tickets: tickets, Links: links}, Logger: logger},
	}
	return svc, store.NewVerificationService(db), tickets
}
