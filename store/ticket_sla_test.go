package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// testTicketSLA checks the SLA clock the store keeps on tickets: OpenedAt,
// VerifiedAt and ReleasedAt through state changes, reopens and issue updates.
func testTicketSLA(t *testing.T, migrated, open func(t *testing.T) *store.DB) {
	ctx := context.Background()

	t.Run("transitions", func(t *testing.T) {
		s := store.NewTicketService(migrated(t))
		tk, err := s.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-1"})
		if err != nil {
			t.Fatal(err)
		}
		if !tk.OpenedAt.Equal(tk.CreatedAt) || !tk.VerifiedAt.IsZero() || !tk.ReleasedAt.IsZero() {
			t.Fatalf("new ticket opened %v verified %v released %v; want opened at creation %v, neither verified nor released",
				tk.OpenedAt, tk.VerifiedAt, tk.ReleasedAt, tk.CreatedAt)
		}
		set := func(state patchgate.TicketState) *patchgate.Ticket {
			t.Helper()
			if err := s.SetTicketStateForTest(ctx, tk.ID, state); err != nil {
				t.Fatalf("SetTicketState(%s): %v", state, err)
			}
			got, err := s.FindTicketByID(ctx, tk.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}

		proposed := set(patchgate.TicketFixProposed)
		if !proposed.VerifiedAt.IsZero() {
			t.Errorf("fix_proposed: verified %v, want unset", proposed.VerifiedAt)
		}
		verified := set(patchgate.TicketFixVerified)
		if verified.VerifiedAt.IsZero() || !verified.VerifiedAt.After(tk.OpenedAt) || !verified.ReleasedAt.IsZero() {
			t.Fatalf("fix_verified: verified %v released %v; want verified after %v, not released", verified.VerifiedAt, verified.ReleasedAt, tk.OpenedAt)
		}
		// Taken back and verified again: the first verification stands.
		set(patchgate.TicketFixProposed)
		set(patchgate.TicketFixVerified)
		merged := set(patchgate.TicketFixMerged)
		if !merged.VerifiedAt.Equal(verified.VerifiedAt) || !merged.OpenedAt.Equal(tk.OpenedAt) {
			t.Errorf("fix_merged: verified %v opened %v; want the first verification %v and the original opening %v",
				merged.VerifiedAt, merged.OpenedAt, verified.VerifiedAt, tk.OpenedAt)
		}
		released := set(patchgate.TicketReleased)
		if released.ReleasedAt.IsZero() || !released.ReleasedAt.After(verified.VerifiedAt) || !released.VerifiedAt.Equal(verified.VerifiedAt) {
			t.Fatalf("released: verified %v released %v; want verified %v, released later", released.VerifiedAt, released.ReleasedAt, verified.VerifiedAt)
		}
		again := set(patchgate.TicketReleased)
		if !again.ReleasedAt.Equal(released.ReleasedAt) {
			t.Errorf("released twice: released %v, want the first %v", again.ReleasedAt, released.ReleasedAt)
		}

		reopened := set(patchgate.TicketReopened)
		if !reopened.OpenedAt.After(released.ReleasedAt) || !reopened.VerifiedAt.IsZero() || !reopened.ReleasedAt.IsZero() {
			t.Fatalf("reopened: opened %v verified %v released %v; want opened after the release %v, neither verified nor released",
				reopened.OpenedAt, reopened.VerifiedAt, reopened.ReleasedAt, released.ReleasedAt)
		}
		if still := set(patchgate.TicketReopened); !still.OpenedAt.Equal(reopened.OpenedAt) {
			t.Errorf("reopened twice: opened %v, want the first reopen %v", still.OpenedAt, reopened.OpenedAt)
		}
		// Straight to released after a reopen: verified then too.
		direct := set(patchgate.TicketReleased)
		if direct.VerifiedAt.IsZero() || !direct.VerifiedAt.Equal(direct.ReleasedAt) {
			t.Errorf("released from reopened: verified %v released %v; want both set, equal", direct.VerifiedAt, direct.ReleasedAt)
		}
		// fix_merged without a fix_verified first counts as verified.
		other, err := s.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-2"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetTicketStateForTest(ctx, other.ID, patchgate.TicketFixMerged); err != nil {
			t.Fatal(err)
		}
		if got, err := s.FindTicketByID(ctx, other.ID); err != nil || got.VerifiedAt.IsZero() || !got.ReleasedAt.IsZero() {
			t.Errorf("fix_merged directly: %+v, %v; want verified, not released", got, err)
		}
	})

	t.Run("issue created_at opens the clock", func(t *testing.T) {
		s := store.NewTicketService(migrated(t))
		created := time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC)
		u := patchgate.IssueUpdate{Tracker: patchgate.TrackerGitHub, Repo: "acme/payments", Number: 7,
			Title: "crash", State: "open", CreatedAt: created, UpdatedAt: created.Add(time.Hour)}
		got, err := s.ApplyIssueUpdate(ctx, u)
		if err != nil || !got.OpenedAt.Equal(created) {
			t.Fatalf("ApplyIssueUpdate = opened %v, %v; want %v", got.OpenedAt, err, created)
		}

		// A ticket first seen in a reference takes the issue's earlier
		// created_at, even from a delivery older than the one applied.
		ref, err := s.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerGitHub, Key: "acme/payments#8", Repo: "acme/payments", Number: 8})
		if err != nil {
			t.Fatal(err)
		}
		newer := patchgate.IssueUpdate{Tracker: patchgate.TrackerGitHub, Repo: "acme/payments", Number: 8,
			Title: "slow", State: "open", UpdatedAt: created.Add(2 * time.Hour)}
		if got, err = s.ApplyIssueUpdate(ctx, newer); err != nil || !got.OpenedAt.Equal(ref.OpenedAt) {
			t.Fatalf("update without created_at: opened %v, %v; want first sight %v", got.OpenedAt, err, ref.OpenedAt)
		}
		older := newer
		older.CreatedAt, older.UpdatedAt = created, created.Add(time.Hour)
		if got, err = s.ApplyIssueUpdate(ctx, older); err != nil || !got.OpenedAt.Equal(created) || got.Title != "slow" {
			t.Fatalf("older update with created_at: opened %v title %q, %v; want opened %v, title kept", got.OpenedAt, got.Title, err, created)
		}
		later := older
		later.CreatedAt, later.UpdatedAt = created.Add(time.Minute), created.Add(3*time.Hour)
		if got, err = s.ApplyIssueUpdate(ctx, later); err != nil || !got.OpenedAt.Equal(created) {
			t.Fatalf("later created_at: opened %v, %v; want the earliest %v", got.OpenedAt, err, created)
		}

		// After a reopen the clock starts at the reopen, whatever created_at says.
		if err := s.SetTicketStateForTest(ctx, got.ID, patchgate.TicketReopened); err != nil {
			t.Fatal(err)
		}
		reopened, err := s.FindTicketByID(ctx, got.ID)
		if err != nil {
			t.Fatal(err)
		}
		earlier := later
		earlier.CreatedAt, earlier.UpdatedAt = created.Add(-time.Hour), created.Add(4*time.Hour)
		if got, err = s.ApplyIssueUpdate(ctx, earlier); err != nil || !got.OpenedAt.Equal(reopened.OpenedAt) {
			t.Fatalf("created_at after a reopen: opened %v, %v; want the reopen %v", got.OpenedAt, err, reopened.OpenedAt)
		}
		stored, err := s.FindTicketByID(ctx, got.ID)
		if err != nil || !stored.OpenedAt.Equal(reopened.OpenedAt) {
			t.Errorf("stored opened %v, %v; want %v", stored.OpenedAt, err, reopened.OpenedAt)
		}
	})

	t.Run("filters", func(t *testing.T) {
		s := store.NewTicketService(migrated(t))
		var ids []int64
		for i, state := range []patchgate.TicketState{patchgate.TicketOpen, patchgate.TicketFixVerified, patchgate.TicketReleased} {
			tk, err := s.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "OPS-" + string(rune('1'+i))})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SetTicketStateForTest(ctx, tk.ID, state); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, tk.ID)
		}
		for _, tc := range []struct {
			name  string
			f     patchgate.TicketFilter
			want  []int64
			total int
		}{
			{name: "verified", f: patchgate.TicketFilter{Verified: ptr(true)}, want: []int64{ids[2], ids[1]}, total: 2},
			{name: "not verified", f: patchgate.TicketFilter{Verified: ptr(false)}, want: []int64{ids[0]}, total: 1},
			{name: "released", f: patchgate.TicketFilter{Released: ptr(true)}, want: []int64{ids[2]}, total: 1},
			{name: "not released", f: patchgate.TicketFilter{Released: ptr(false)}, want: []int64{ids[1], ids[0]}, total: 2},
			{name: "verified, not released", f: patchgate.TicketFilter{Verified: ptr(true), Released: ptr(false)}, want: []int64{ids[1]}, total: 1},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, total, err := s.FindTickets(ctx, tc.f)
				if err != nil {
					t.Fatal(err)
				}
				var gotIDs []int64
				for _, tk := range got {
					gotIDs = append(gotIDs, tk.ID)
				}
				if !slices.Equal(gotIDs, tc.want) || total != tc.total {
					t.Errorf("got %v (total %d), want %v (total %d)", gotIDs, total, tc.want, tc.total)
				}
			})
		}
	})

	t.Run("migration fills existing tickets from the audit log", func(t *testing.T) {
		db := open(t)
		if err := db.MigrateTo(ctx, 5); err != nil {
			t.Fatalf("MigrateTo(5): %v", err)
		}
		at := func(h int) string {
			return time.Date(2026, 2, 1, h, 0, 0, 0, time.UTC).Format("2006-01-02T15:04:05.000000Z")
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.SQL().ExecContext(ctx, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		for _, tk := range []struct {
			key, state string
			created    int
		}{
			{"PAY-1", "released", 0},     // verified at 1, released at 2
			{"PAY-2", "fix_merged", 0},   // no audit: updated_at (9)
			{"PAY-3", "fix_proposed", 0}, // verified at 1, reopened at 3
			{"PAY-4", "fix_verified", 0}, // verified at 1, reopened at 2, verified at 4
			{"PAY-5", "open", 5},         // nothing happened
		} {
			exec(`INSERT INTO tickets (tracker, key, severity, state, created_at, updated_at)
				VALUES ('external', $1, 'high', $2, $3, $4)`, tk.key, tk.state, at(tk.created), at(9))
		}
		seq := 0
		audit := func(key, to string, h int) {
			seq++
			exec(`INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash)
				VALUES ($1, $2, 'patchgate', 'ticket.state', $3, $4, '', '')`, seq, at(h), "ticket:"+key, `{"from":"x","to":"`+to+`"}`)
		}
		audit("PAY-1", "fix_verified", 1)
		audit("PAY-1", "released", 2)
		audit("PAY-3", "fix_verified", 1)
		audit("PAY-3", "reopened", 3)
		audit("PAY-3", "fix_proposed", 4)
		audit("PAY-4", "fix_verified", 1)
		audit("PAY-4", "reopened", 2)
		audit("PAY-4", "fix_verified", 4)
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}

		s := store.NewTicketService(db)
		hour := func(h int) time.Time { return time.Date(2026, 2, 1, h, 0, 0, 0, time.UTC) }
		for _, tc := range []struct {
			key                        string
			opened, verified, released int // -1: unset
		}{
			{"PAY-1", 0, 1, 2},
			{"PAY-2", 0, 9, -1},
			{"PAY-3", 3, -1, -1},
			{"PAY-4", 2, 4, -1},
			{"PAY-5", 5, -1, -1},
		} {
			got, err := s.FindTicket(ctx, patchgate.TrackerExternal, tc.key)
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, got time.Time, h int) {
				t.Helper()
				if h < 0 && !got.IsZero() || h >= 0 && !got.Equal(hour(h)) {
					want := "unset"
					if h >= 0 {
						want = hour(h).String()
					}
					t.Errorf("%s %s = %v, want %s", tc.key, what, got, want)
				}
			}
			check("opened", got.OpenedAt, tc.opened)
			check("verified", got.VerifiedAt, tc.verified)
			check("released", got.ReleasedAt, tc.released)
		}
	})
}
