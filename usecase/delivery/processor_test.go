package delivery_test

import (
	"context"
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
