package store_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

func testTickets(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()

	t.Run("ensure creates once", func(t *testing.T) {
		s := store.NewTicketService(open(t))
		got, err := s.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-123", Title: "rounding"})
		if err != nil {
			t.Fatalf("EnsureTicket: %v", err)
		}
		if got.ID == 0 || got.State != patchgate.TicketOpen || got.Severity != patchgate.SeverityUnknown || got.Title != "rounding" {
			t.Fatalf("created ticket = %+v, want an id, state open, severity unknown, title rounding", got)
		}
		if got.Labels == nil || got.CreatedAt.IsZero() {
			t.Errorf("created ticket = %+v, want non-nil labels and a creation time", got)
		}
		again, err := s.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-123", Title: "other"})
		if err != nil {
			t.Fatalf("second EnsureTicket: %v", err)
		}
		if again.ID != got.ID || again.Title != "rounding" {
			t.Errorf("second EnsureTicket = id %d title %q, want id %d title rounding (unchanged)", again.ID, again.Title, got.ID)
		}
		byKey, err := s.FindTicket(ctx, patchgate.TrackerExternal, "PAY-123")
		if err != nil || byKey.ID != got.ID {
			t.Errorf("FindTicket = %v, %v; want id %d", byKey, err, got.ID)
		}
		byID, err := s.FindTicketByID(ctx, got.ID)
		if err != nil || byID.Key != "PAY-123" || !byID.CreatedAt.Equal(got.CreatedAt) {
			t.Errorf("FindTicketByID = %+v, %v; want PAY-123 created %v", byID, err, got.CreatedAt)
		}
	})

	t.Run("ensure validates", func(t *testing.T) {
		s := store.NewTicketService(open(t))
		_, err := s.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "pay-1"})
		wantCode(t, err, patchgate.EINVALID)
	})

	t.Run("ensure concurrently", func(t *testing.T) {
		s := store.NewTicketService(open(t))
		ids := make([]int64, 8)
		errs := make([]error, 8)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Go(func() {
				tk, err := s.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerGitHub,
					Key: "acme/payments#45", Repo: "acme/payments", Number: 45})
				errs[i] = err
				if err == nil {
					ids[i] = tk.ID
				}
			})
		}
		wg.Wait()
		for i := range ids {
			if errs[i] != nil {
				t.Fatalf("EnsureTicket #%d: %v", i, errs[i])
			}
			if ids[i] != ids[0] {
				t.Fatalf("EnsureTicket ids = %v, want all equal", ids)
			}
		}
	})

	t.Run("not found", func(t *testing.T) {
		s := store.NewTicketService(open(t))
		_, err := s.FindTicketByID(ctx, 424242)
		wantCode(t, err, patchgate.ENOTFOUND)
		_, err = s.FindTicket(ctx, patchgate.TrackerExternal, "NOPE-1")
		wantCode(t, err, patchgate.ENOTFOUND)
		wantCode(t, s.SetTicketStateForTest(ctx, 424242, patchgate.TicketFixMerged), patchgate.ENOTFOUND)
	})

	t.Run("set state", func(t *testing.T) {
		s := store.NewTicketService(open(t))
		tk, err := s.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "OPS-9"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetTicketStateForTest(ctx, tk.ID, patchgate.TicketFixVerified); err != nil {
			t.Fatalf("SetTicketState: %v", err)
		}
		wantCode(t, s.SetTicketStateForTest(ctx, tk.ID, "bogus"), patchgate.EINVALID)
		got, err := s.FindTicketByID(ctx, tk.ID)
		if err != nil || got.State != patchgate.TicketFixVerified || !got.UpdatedAt.After(tk.UpdatedAt) {
			t.Errorf("after SetTicketState: %+v, %v; want fix_verified and a later UpdatedAt", got, err)
		}
	})

	t.Run("issue updates in any order", func(t *testing.T) {
		s := store.NewTicketService(open(t))
		t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		opened := patchgate.IssueUpdate{Tracker: patchgate.TrackerGitHub, Repo: "acme/payments", Number: 7,
			Title: "crash", URL: "https://github.com/acme/payments/issues/7", State: "open",
			Labels: []string{"bug"}, Author: "carol", UpdatedAt: t0}
		labelled := opened
		labelled.Labels, labelled.UpdatedAt = []string{"bug", "severity:critical"}, t0.Add(time.Minute)
		closed := labelled
		closed.State, closed.Title, closed.UpdatedAt = "closed", "crash on refund", t0.Add(2*time.Minute)

		// Newest last, then newest first: the stored ticket is the same.
		for _, order := range [][]patchgate.IssueUpdate{{opened, labelled, closed}, {closed, opened, labelled}} {
			s := store.NewTicketService(open(t))
			var got *patchgate.Ticket
			for _, u := range order {
				var err error
				if got, err = s.ApplyIssueUpdate(ctx, u); err != nil {
					t.Fatalf("ApplyIssueUpdate: %v", err)
				}
			}
			if got.Key != "acme/payments#7" || got.State != patchgate.TicketOpen || got.ForgeState != "closed" ||
				got.Title != "crash on refund" || got.Severity != patchgate.SeverityCritical ||
				!slices.Equal(got.Labels, []string{"bug", "severity:critical"}) || !got.ForgeUpdatedAt.Equal(closed.UpdatedAt) {
				t.Errorf("final ticket = %+v", got)
			}
			stored, err := s.FindTicket(ctx, patchgate.TrackerGitHub, "acme/payments#7")
			if err != nil || stored.Title != got.Title || !slices.Equal(stored.Labels, got.Labels) {
				t.Errorf("stored ticket = %+v, %v; want what ApplyIssueUpdate returned", stored, err)
			}
		}

		// A ticket created from a reference gets the issue's details later.
		ref, err := s.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerGitLab, Key: "acme/api#3", Repo: "acme/api", Number: 3})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetTicketStateForTest(ctx, ref.ID, patchgate.TicketFixProposed); err != nil {
			t.Fatal(err)
		}
		got, err := s.ApplyIssueUpdate(ctx, patchgate.IssueUpdate{Tracker: patchgate.TrackerGitLab, Repo: "acme/api",
			Number: 3, Title: "slow", State: "open", Severity: patchgate.SeverityHigh, UpdatedAt: t0})
		if err != nil || got.ID != ref.ID || got.Title != "slow" || got.Severity != patchgate.SeverityHigh || got.State != patchgate.TicketFixProposed {
			t.Errorf("ApplyIssueUpdate on a referenced ticket = %+v, %v; want same id, title slow, severity high, state kept", got, err)
		}

		_, err = s.ApplyIssueUpdate(ctx, patchgate.IssueUpdate{Tracker: patchgate.TrackerExternal, Repo: "acme/api", Number: 1})
		wantCode(t, err, patchgate.EINVALID)
	})

	t.Run("find with filters", func(t *testing.T) {
		db := open(t)
		s := store.NewTicketService(db)
		mk := func(tk patchgate.Ticket) *patchgate.Ticket {
			t.Helper()
			got, err := s.EnsureTicket(ctx, &tk)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		a := mk(patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-1", Severity: patchgate.SeverityHigh})
		b := mk(patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-2"})
		c := mk(patchgate.Ticket{Tracker: patchgate.TrackerGitHub, Key: "acme/payments#1", Repo: "acme/payments", Number: 1})
		if err := s.SetTicketStateForTest(ctx, b.ID, patchgate.TicketReleased); err != nil {
			t.Fatal(err)
		}
		// PAY-3 is fixed by a change of acme/payments, so it is one of its tickets.
		d := mk(patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-3"})
		ch, _, err := store.NewChangeService(db).ApplyChangeUpdate(ctx, prLifecycle(1)[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := store.NewLinkService(db).CreateManualLink(ctx, &patchgate.Link{TicketID: d.ID, ChangeID: ch.ID, CreatedBy: "dev"}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			f     patchgate.TicketFilter
			want  []int64
			total int
		}{
			{name: "all newest first", want: []int64{d.ID, c.ID, b.ID, a.ID}, total: 4},
			{name: "tracker", f: patchgate.TicketFilter{Tracker: ptr(patchgate.TrackerExternal)}, want: []int64{d.ID, b.ID, a.ID}, total: 3},
			{name: "repo: its issues and the tickets its changes fix", f: patchgate.TicketFilter{Repo: ptr("acme/payments")}, want: []int64{d.ID, c.ID}, total: 2},
			{name: "repo with nothing", f: patchgate.TicketFilter{Repo: ptr("acme/other")}, want: []int64{}, total: 0},
			{name: "key", f: patchgate.TicketFilter{Key: ptr("PAY-1")}, want: []int64{a.ID}, total: 1},
			{name: "state", f: patchgate.TicketFilter{State: ptr(patchgate.TicketReleased)}, want: []int64{b.ID}, total: 1},
			{name: "severity", f: patchgate.TicketFilter{Severity: ptr(patchgate.SeverityHigh)}, want: []int64{a.ID}, total: 1},
			{name: "page", f: patchgate.TicketFilter{Offset: 1, Limit: 1}, want: []int64{c.ID}, total: 4},
			{name: "past the end", f: patchgate.TicketFilter{Offset: 10}, want: []int64{}, total: 4},
			{name: "none", f: patchgate.TicketFilter{Key: ptr("NOPE-1")}, want: []int64{}, total: 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, total, err := s.FindTickets(ctx, tc.f)
				if err != nil {
					t.Fatal(err)
				}
				ids := []int64{}
				for _, tk := range got {
					ids = append(ids, tk.ID)
				}
				if !slices.Equal(ids, tc.want) || total != tc.total {
					t.Errorf("got %v (total %d), want %v (total %d)", ids, total, tc.want, tc.total)
				}
			})
		}
	})

	t.Run("find by key, any case, across trackers", func(t *testing.T) {
		s := store.NewTicketService(open(t))
		ext, err := s.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-9"})
		if err != nil {
			t.Fatal(err)
		}
		keys := func(ts []*patchgate.Ticket) []int64 {
			ids := []int64{}
			for _, tk := range ts {
				ids = append(ids, tk.ID)
			}
			return ids
		}
		for _, key := range []string{"PAY-9", "pay-9"} {
			got, err := s.FindTicketsByKey(ctx, key)
			if err != nil || !slices.Equal(keys(got), []int64{ext.ID}) {
				t.Errorf("FindTicketsByKey(%q) = %v, %v; want [%d]", key, keys(got), err, ext.ID)
			}
		}
		if got, err := s.FindTicketsByKey(ctx, "PAY-99"); err != nil || len(got) != 0 {
			t.Errorf("FindTicketsByKey(PAY-99) = %v, %v; want none, no error", keys(got), err)
		}
		// A key is unique per tracker only: a second tracker's PAY-9 is another ticket.
		other, err := s.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerGitHub, Key: "PAY-9", Repo: "acme/payments", Number: 9})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.FindTicketsByKey(ctx, "Pay-9"); err != nil || !slices.Equal(keys(got), []int64{ext.ID, other.ID}) {
			t.Errorf("FindTicketsByKey(Pay-9) = %v, %v; want [%d %d]", keys(got), err, ext.ID, other.ID)
		}
	})
}
