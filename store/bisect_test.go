package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// TestBisections runs the bisection store on SQLite and, when
// PATCHGATE_TEST_POSTGRES_URL is set, on PostgreSQL.
func TestBisections(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		testBisections(t, mustOpen(t, "sqlite://"+filepath.Join(t.TempDir(), "patchgate.db")))
	})
	t.Run("postgres", func(t *testing.T) { testBisections(t, postgresOpener(t)(t)) })
}

func testBisections(t *testing.T, db *store.DB) {
	ctx := context.Background()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	db.Now = newClock().Now
	db.AuditKey = testAuditKey
	releases := store.NewReleaseService(db)
	c := mustCreateCandidate(t, releases, newCandidate("acme/payments", "v1.6.0", "A"))
	bis := store.NewBisectionService(db)

	_, err := bis.FindBisection(ctx, c.ID)
	wantCode(t, err, patchgate.ENOTFOUND)
	_, _, err = bis.StartBisection(ctx, &patchgate.Bisection{CandidateID: c.ID + 100, Points: 3})
	wantCode(t, err, patchgate.ENOTFOUND)

	b, started, err := bis.StartBisection(ctx, &patchgate.Bisection{CandidateID: c.ID, Points: 3, StartedBy: patchgate.SystemActor})
	if err != nil || !started || b.State != patchgate.BisectionRunning || b.Points != 3 || b.StartedAt.IsZero() {
		t.Fatalf("StartBisection = %+v, %v, %v; want a running bisection of 3 points", b, started, err)
	}
	if _, again, err := bis.StartBisection(ctx, &patchgate.Bisection{CandidateID: c.ID, Points: 3}); err != nil || again {
		t.Fatalf("a second StartBisection started=%v, %v; want the running one back", again, err)
	}
	if running, err := bis.RunningBisections(ctx); err != nil || len(running) != 1 || running[0].CandidateID != c.ID {
		t.Fatalf("RunningBisections = %v, %v; want the candidate's", running, err)
	}
	wantCode(t, bis.FinishBisection(ctx, &patchgate.Bisection{CandidateID: c.ID, State: patchgate.BisectionFound}), patchgate.EINVALID)

	// Canceled, it restarts; found, it stays.
	if err := bis.FinishBisection(ctx, &patchgate.Bisection{CandidateID: c.ID, State: patchgate.BisectionCanceled, Reason: "canceled by alice"}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, bis.FinishBisection(ctx, &patchgate.Bisection{CandidateID: c.ID, State: patchgate.BisectionInconclusive}), patchgate.ECONFLICT)
	if running, _ := bis.RunningBisections(ctx); len(running) != 0 {
		t.Fatalf("RunningBisections after cancel = %v, want none", running)
	}
	if _, started, err := bis.StartBisection(ctx, &patchgate.Bisection{CandidateID: c.ID, Points: 3, StartedBy: "alice"}); err != nil || !started {
		t.Fatalf("restart after cancel: started=%v, %v; want started", started, err)
	}
	culprit := &patchgate.BisectPoint{SHA: "4b825dc642cb6eb9a060e54bf8d69288fbee4904", Change: "#43", Ticket: "PAY-9"}
	if err := bis.FinishBisection(ctx, &patchgate.Bisection{CandidateID: c.ID, State: patchgate.BisectionFound, Culprit: culprit,
		Tests: []string{"ledger.TestLedgerTotals", "ledger.TestSum"}, VerificationID: 7}); err != nil {
		t.Fatal(err)
	}
	got, err := bis.FindBisection(ctx, c.ID)
	if err != nil || got.State != patchgate.BisectionFound || *got.Culprit != *culprit || got.VerificationID != 7 ||
		!slices.Equal(got.Tests, []string{"ledger.TestLedgerTotals", "ledger.TestSum"}) || got.FinishedAt == nil {
		t.Fatalf("FindBisection = %+v, %v; want the culprit #43 with its tests", got, err)
	}
	if _, started, _ := bis.StartBisection(ctx, &patchgate.Bisection{CandidateID: c.ID, Points: 3}); started {
		t.Fatal("a found bisection restarted; want it kept")
	}

	audit := store.NewAuditService(db)
	entries, err := audit.FindAudit(ctx, patchgate.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		if e.Subject == fmt.Sprintf("candidate:%d", c.ID) && (e.Action == "bisection.started" || e.Action == "bisection.finished") {
			actions = append(actions, e.Action+" "+e.Detail["state"]+e.Detail["culprit"])
		}
	}
	slices.Sort(actions)
	want := []string{"bisection.finished canceled", "bisection.finished found#43 (PAY-9)", "bisection.started ", "bisection.started "}
	if !slices.Equal(actions, want) {
		t.Errorf("audit: got %q, want %q", actions, want)
	}
	rep, err := audit.CheckAudit(ctx, patchgate.AuditCheck{})
	if err != nil || rep.Break != nil || len(rep.Unaudited) != 0 {
		t.Fatalf("CheckAudit = %+v, %v; want an intact log", rep, err)
	}
}
