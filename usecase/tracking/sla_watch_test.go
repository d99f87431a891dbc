package tracking_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/usecase/tracking"
)

// recordingHook records the events sent, failing while down.
type recordingHook struct {
	mu     sync.Mutex
	down   bool
	events []string
}

func (h *recordingHook) Send(_ context.Context, event string, payload any) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down {
		return patchgate.Errorf(patchgate.EUNAVAILABLE, "hook is down")
	}
	h.events = append(h.events, event)
	return nil
}

// TestSLAWatchSendsEachEventOnce: the SLA watch alone, on SQLite. A ticket
// whose SLA is breached gets one event however often the watch checks, and
// an event that could not be sent is sent by the next check.
func TestSLAWatchSendsEachEventOnce(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	tickets := store.NewTicketService(db)
	if _, err := tickets.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-20", Labels: []string{},
		Severity: patchgate.SeverityCritical, State: patchgate.TicketOpen}); err != nil {
		t.Fatal(err)
	}
	hook := &recordingHook{down: true}
	w := &tracking.SLAWatch{Tickets: tickets, Events: store.NewSLAEventService(db),
		SLA:  func(*patchgate.Ticket) patchgate.SLAStatus { return patchgate.SLAStatus{State: patchgate.SLABreached} },
		Hook: hook, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Interval: time.Hour}
	if err := w.Check(ctx); err != nil {
		t.Fatal(err)
	}
	hook.down = false
	for range 3 {
		if err := w.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(hook.events) != 1 || hook.events[0] != patchgate.EventSLABreached {
		t.Fatalf("got events %v, want one %s", hook.events, patchgate.EventSLABreached)
	}
}
