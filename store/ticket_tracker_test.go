package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// testTrackerTickets: a tracker's news about an external ticket is applied
// field by field, audited in the same transaction, never older over newer,
// and a closed ticket opened again is reported as a reopen.
func testTrackerTickets(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := patchgate.NewContextWithPrincipal(context.Background(), patchgate.Principal{Name: "helpdesk", Role: patchgate.RoleTracker})
	t0 := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

	t.Run("creates, sets and audits", func(t *testing.T) {
		db := open(t)
		s, audit := store.NewTicketService(db), store.NewAuditService(db)
		res, err := s.ApplyTicketUpdate(ctx, patchgate.TicketUpdate{Key: "PAY-12", Title: ptr("Refunds round down"),
			Severity: ptr(patchgate.SeverityCritical), OpenedAt: t0, State: patchgate.TrackerOpen, Source: "api"})
		if err != nil {
			t.Fatal(err)
		}
		got := res.Ticket
		if !res.Created || got.Title != "Refunds round down" || got.Severity != patchgate.SeverityCritical ||
			!got.OpenedAt.Equal(t0) || got.ForgeState != "open" || got.State != patchgate.TicketOpen || got.Tracker != patchgate.TrackerExternal {
			t.Fatalf("got %+v (created %v), want a new open critical ticket opened at %s", got, res.Created, t0)
		}
		if want := "opened_at severity state title"; strings.Join(res.Changed, " ") != want {
			t.Errorf("changed %v, want %s", res.Changed, want)
		}
		// The same news again changes nothing and is not audited again.
		res, err = s.ApplyTicketUpdate(ctx, patchgate.TicketUpdate{Key: "PAY-12", Title: ptr("Refunds round down")})
		if err != nil || len(res.Changed) != 0 || res.Created {
			t.Fatalf("same title again: got %+v, %v; want no change", res, err)
		}
		entries, err := audit.FindAudit(ctx, patchgate.AuditFilter{Action: ptr(patchgate.AuditTicketUpdated)})
		if err != nil || len(entries) != 1 {
			t.Fatalf("audit: got %d entries (%v), want 1", len(entries), err)
		}
		if e := entries[0]; e.Actor != "helpdesk" || e.Subject != "ticket:PAY-12" || e.Detail["severity"] != "critical" || e.Detail["source"] != "api" {
			t.Errorf("audit entry %+v: want helpdesk setting PAY-12 critical from the api", e)
		}
	})

	t.Run("older news changes nothing", func(t *testing.T) {
		s := store.NewTicketService(open(t))
		if _, err := s.ApplyTicketUpdate(ctx, patchgate.TicketUpdate{Key: "OPS-1", Title: ptr("new"), UpdatedAt: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		res, err := s.ApplyTicketUpdate(ctx, patchgate.TicketUpdate{Key: "OPS-1", Title: ptr("old"), UpdatedAt: t0})
		if err != nil || res.Ticket.Title != "new" || len(res.Changed) != 0 {
			t.Fatalf("older update: got %+v, %v; want title new, unchanged", res.Ticket, err)
		}
	})

	t.Run("closed then open is a reopen", func(t *testing.T) {
		s := store.NewTicketService(open(t))
		for i, st := range []patchgate.TrackerState{patchgate.TrackerOpen, patchgate.TrackerClosed, patchgate.TrackerOpen} {
			res, err := s.ApplyTicketUpdate(ctx, patchgate.TicketUpdate{Key: "PAY-3", State: st, UpdatedAt: t0.Add(time.Duration(i) * time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			if want := i == 2; res.Reopened != want {
				t.Errorf("update %d to %s: reopened %v, want %v", i, st, res.Reopened, want)
			}
		}
	})

	t.Run("validates", func(t *testing.T) {
		s := store.NewTicketService(open(t))
		for _, u := range []patchgate.TicketUpdate{
			{Key: "pay-1"},
			{Key: "PAY-1", Severity: ptr(patchgate.Severity("dire"))},
			{Key: "PAY-1", URL: ptr("javascript:alert(1)")},
			{Key: "PAY-1", State: "resolved"},
		} {
			_, err := s.ApplyTicketUpdate(ctx, u)
			wantCode(t, err, patchgate.EINVALID)
		}
	})
}

// testSLAEvents: an SLA event is claimed once per ticket and clock, and a
// claim given back can be claimed again.
func testSLAEvents(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db := open(t)
	tk, err := store.NewTicketService(db).EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-1"})
	if err != nil {
		t.Fatal(err)
	}
	s := store.NewSLAEventService(db)
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	claim := func(event string, opened time.Time, want bool) {
		t.Helper()
		got, err := s.ClaimSLAEvent(ctx, tk.ID, event, opened)
		if err != nil || got != want {
			t.Fatalf("claim %s at %s: got %v, %v; want %v", event, opened, got, err, want)
		}
	}
	claim(patchgate.EventSLAAtRisk, at, true)
	claim(patchgate.EventSLAAtRisk, at, false)
	claim(patchgate.EventSLABreached, at, true)
	claim(patchgate.EventSLAAtRisk, at.Add(time.Hour), true) // a restarted clock
	if err := s.ReleaseSLAEvent(ctx, tk.ID, patchgate.EventSLAAtRisk, at); err != nil {
		t.Fatal(err)
	}
	claim(patchgate.EventSLAAtRisk, at, true)
}
