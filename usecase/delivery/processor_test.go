package delivery_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/usecase/delivery"
)

// TestProcessorDefersToBusyIntake: while intake is busy, a stored delivery
// waits (MaxDefer at most) and is applied once intake is quiet again; a
// processor whose intake stays busy still applies it after MaxDefer.
func TestProcessorDefersToBusyIntake(t *testing.T) {
	ctx := context.Background()
	start := func(t *testing.T, busy *atomic.Bool, maxDefer time.Duration) (*store.DeliveryService, chan time.Time) {
		db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "p.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		ds := store.NewDeliveryService(db)
		applied := make(chan time.Time, 4)
		p := &delivery.Processor{
			Deliveries: ds,
			Parser: delivery.ParseFunc(func(patchgate.DeliverySource, string, []byte) (*patchgate.Event, string, error) {
				return &patchgate.Event{}, "", nil
			}),
			Events: handlerFunc(func(context.Context, *patchgate.Event) (patchgate.DeliveryOutcome, string, error) {
				applied <- time.Now()
				return patchgate.OutcomeProcessed, "", nil
			}),
			Intake:   intakeFunc(busy.Load),
			Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
			Settings: delivery.Settings{Holder: "test", Poll: 20 * time.Millisecond, MaxDefer: maxDefer},
		}
		p.Init()
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { p.Run(runCtx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		return ds, applied
	}
	store1 := func(t *testing.T, ds *store.DeliveryService) time.Time {
		if _, err := ds.CreateDelivery(ctx, &patchgate.Delivery{ID: "d-1", Source: patchgate.SourceGitHub, Event: "pull_request",
			Action: "opened", Repo: "acme/pay", Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		return time.Now()
	}

	t.Run("waits until intake is quiet", func(t *testing.T) {
		var busy atomic.Bool
		busy.Store(true)
		ds, applied := start(t, &busy, time.Minute)
		stored := store1(t, ds)
		select {
		case <-applied:
			t.Fatal("applied while intake was busy")
		case <-time.After(400 * time.Millisecond):
		}
		quiet := time.Now()
		busy.Store(false)
		select {
		case at := <-applied:
			if at.Before(quiet) {
				t.Errorf("applied %v after it was stored, before intake was quiet", at.Sub(stored))
			}
		case <-time.After(10 * time.Second):
			t.Fatal("not applied 10 s after intake was quiet")
		}
	})

	t.Run("waits MaxDefer at most", func(t *testing.T) {
		var busy atomic.Bool
		busy.Store(true)
		ds, applied := start(t, &busy, 300*time.Millisecond)
		stored := store1(t, ds)
		select {
		case at := <-applied:
			if d := at.Sub(stored); d < 250*time.Millisecond {
				t.Errorf("applied %v after it was stored, under a busy intake; want MaxDefer (300ms) first", d)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("not applied 10 s after it was stored, though MaxDefer is 300ms")
		}
	})
}

// handlerFunc is a function that is a delivery.EventHandler.
type handlerFunc func(ctx context.Context, ev *patchgate.Event) (patchgate.DeliveryOutcome, string, error)

func (f handlerFunc) HandleEvent(ctx context.Context, ev *patchgate.Event) (patchgate.DeliveryOutcome, string, error) {
	return f(ctx, ev)
}

// intakeFunc is a function that is a delivery.Intake.
type intakeFunc func() bool

func (f intakeFunc) IntakeBusy() bool { return f() }

// countingLeases counts lease takes and renewals.
type countingLeases struct {
	*store.DeliveryService
	leases atomic.Int64
}

func (c *countingLeases) LeaseRepository(ctx context.Context, source patchgate.DeliverySource, repo, holder string, until time.Time) (bool, error) {
	c.leases.Add(1)
	return c.DeliveryService.LeaseRepository(ctx, source, repo, holder, until)
}

// TestProcessorRenewsLeaseWhenHalfSpent: a repository's backlog is applied in
// order under one lease while less than half of it has passed (a renewal per
// delivery was one write transaction in ten of the apply path), and renewed
// before a delivery once half of it has.
func TestProcessorRenewsLeaseWhenHalfSpent(t *testing.T) {
	ctx := context.Background()
	const n = 20
	run := func(t *testing.T, lease, work time.Duration) (leases int64) {
		db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "p.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		ds := &countingLeases{DeliveryService: store.NewDeliveryService(db)}
		t0 := time.Now().Add(-time.Minute)
		for i := range n {
			if _, err := ds.CreateDelivery(ctx, &patchgate.Delivery{ID: fmt.Sprintf("d-%02d", i), Source: patchgate.SourceGitHub,
				Event: "pull_request", Action: "opened", Repo: "acme/pay", Payload: []byte(fmt.Sprint(i)),
				ReceivedAt: t0.Add(time.Duration(i) * time.Millisecond)}); err != nil {
				t.Fatal(err)
			}
		}
		var order []int
		done := make(chan struct{})
		p := &delivery.Processor{
			Deliveries: ds,
			Parser: delivery.ParseFunc(func(_ patchgate.DeliverySource, _ string, body []byte) (*patchgate.Event, string, error) {
				var i int
				_, err := fmt.Sscan(string(body), &i)
				return &patchgate.Event{Repo: fmt.Sprint(i)}, "", err
			}),
			Events: handlerFunc(func(_ context.Context, ev *patchgate.Event) (patchgate.DeliveryOutcome, string, error) {
				time.Sleep(work)
				var i int
				fmt.Sscan(ev.Repo, &i)
				order = append(order, i)
				if len(order) == n {
					close(done)
				}
				return patchgate.OutcomeProcessed, "", nil
			}),
			Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
			Settings: delivery.Settings{Holder: "test", Poll: 20 * time.Millisecond, Lease: lease},
		}
		p.Init()
		runCtx, cancel := context.WithCancel(ctx)
		stopped := make(chan struct{})
		go func() { p.Run(runCtx); close(stopped) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("applied %d of %d in 20 s", len(order), n)
		}
		cancel()
		<-stopped
		for i, got := range order {
			if got != i {
				t.Fatalf("applied in order %v, want 0..%d", order, n-1)
			}
		}
		return ds.leases.Load()
	}
	t.Run("one lease for a quick backlog", func(t *testing.T) {
		if got := run(t, time.Hour, 0); got != 1 {
			t.Errorf("lease taken or renewed %d times for %d quick deliveries, want once", got, n)
		}
	})
	t.Run("renewed once half spent", func(t *testing.T) {
		// Each delivery takes the whole lease: each is preceded by a renewal.
		if got := run(t, 10*time.Millisecond, 10*time.Millisecond); got < n {
			t.Errorf("lease taken or renewed %d times for %d deliveries each as long as the lease, want one before each", got, n)
		}
	})
}
