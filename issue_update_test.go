package patchgate_test

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

func TestApplyIssueUpdate(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	hour := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	now := hour(100)
	// stored is a ticket first seen at hour 10, last updated by the forge at hour 20.
	stored := &patchgate.Ticket{ID: 7, Tracker: patchgate.TrackerGitHub, Key: "acme/payments#45", Repo: "acme/payments",
		Number: 45, Title: "crash", URL: "https://x/45", ForgeState: "open", Labels: []string{"bug"},
		Severity: patchgate.SeverityLow, State: patchgate.TicketFixProposed, Author: "ann",
		ForgeUpdatedAt: hour(20), OpenedAt: hour(10), CreatedAt: hour(10), UpdatedAt: hour(20)}
	reopened := *stored
	reopened.OpenedAt, reopened.ReopenedAt = hour(15), hour(15)
	bare := &patchgate.Ticket{ID: 8, Tracker: patchgate.TrackerGitHub, Key: "acme/payments#45", Labels: []string{},
		Severity: patchgate.SeverityUnknown, State: patchgate.TicketOpen, OpenedAt: hour(10), CreatedAt: hour(10)}
	upd := func(updated int, f func(*patchgate.IssueUpdate)) patchgate.IssueUpdate {
		u := patchgate.IssueUpdate{Tracker: patchgate.TrackerGitHub, Repo: "acme/payments", Number: 45,
			Title: "slow", State: "closed", Labels: []string{"severity:high"}, UpdatedAt: hour(updated)}
		if f != nil {
			f(&u)
		}
		return u
	}
	tests := []struct {
		name        string
		current     *patchgate.Ticket
		u           patchgate.IssueUpdate
		want        func(*patchgate.Ticket) // edits a copy of current into the wanted ticket
		wantChanged bool
	}{
		{"a newer update wins", stored, upd(21, nil), func(t *patchgate.Ticket) {
			t.Title, t.ForgeState, t.Labels, t.Severity, t.ForgeUpdatedAt, t.UpdatedAt = "slow", "closed", []string{"severity:high"}, patchgate.SeverityHigh, hour(21), now
		}, true},
		{"an update as new as the stored one wins", stored, upd(20, nil), func(t *patchgate.Ticket) {
			t.Title, t.ForgeState, t.Labels, t.Severity, t.UpdatedAt = "slow", "closed", []string{"severity:high"}, patchgate.SeverityHigh, now
		}, true},
		{"an older update changes nothing", stored, upd(19, nil), nil, false},
		{"empty fields keep their values", stored, upd(21, func(u *patchgate.IssueUpdate) { u.Title, u.State, u.Labels = "", "", nil }), func(t *patchgate.Ticket) {
			t.Labels, t.Severity, t.ForgeUpdatedAt, t.UpdatedAt = []string{}, patchgate.SeverityUnknown, hour(21), now
		}, true},
		{"a severity given beats the labels", stored, upd(21, func(u *patchgate.IssueUpdate) { u.Severity = patchgate.SeverityCritical }), func(t *patchgate.Ticket) {
			t.Title, t.ForgeState, t.Labels, t.Severity, t.ForgeUpdatedAt, t.UpdatedAt = "slow", "closed", []string{"severity:high"}, patchgate.SeverityCritical, hour(21), now
		}, true},
		{"an earlier created_at starts the clock, even from an older update", stored, upd(19, func(u *patchgate.IssueUpdate) { u.CreatedAt = hour(5) }), func(t *patchgate.Ticket) {
			t.OpenedAt = hour(5)
		}, true},
		{"a later created_at does not move the clock", stored, upd(19, func(u *patchgate.IssueUpdate) { u.CreatedAt = hour(12) }), nil, false},
		{"a reopen's clock is not moved back", &reopened, upd(19, func(u *patchgate.IssueUpdate) { u.CreatedAt = hour(5) }), nil, false},
		{"a reopen is kept, even from an older update", stored, upd(19, func(u *patchgate.IssueUpdate) { u.Reopened = true }), func(t *patchgate.Ticket) {
			t.ReopenedAt = hour(19)
		}, true},
		{"an earlier reopen does not replace a later one", &reopened, upd(14, func(u *patchgate.IssueUpdate) { u.Reopened = true }), nil, false},
		{"a ticket made from a bare reference gets its repository", bare, upd(21, nil), func(t *patchgate.Ticket) {
			t.Repo, t.Number, t.Title, t.ForgeState, t.Labels, t.Severity, t.ForgeUpdatedAt, t.UpdatedAt = "acme/payments", 45, "slow", "closed", []string{"severity:high"}, patchgate.SeverityHigh, hour(21), now
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := *tt.current
			want := *tt.current
			if tt.want != nil {
				tt.want(&want)
			}
			got, changed := patchgate.ApplyIssueUpdate(tt.current, tt.u, now)
			if !ticketsEqual(*got, want) || changed != tt.wantChanged {
				t.Fatalf("got %+v changed %v, want %+v changed %v", *got, changed, want, tt.wantChanged)
			}
			if !ticketsEqual(*tt.current, before) {
				t.Fatalf("current was modified: got %+v, want %+v", *tt.current, before)
			}
		})
	}
}

func TestApplyIssueUpdateNew(t *testing.T) {
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	created := now.Add(-time.Hour)
	tests := []struct {
		name       string
		u          patchgate.IssueUpdate
		wantOpened time.Time
		wantSev    patchgate.Severity
	}{
		{"created_at known", patchgate.IssueUpdate{Tracker: patchgate.TrackerGitLab, Repo: "acme/api", Number: 3, Labels: []string{"P0"}, CreatedAt: created, UpdatedAt: now}, created, patchgate.SeverityCritical},
		{"created_at unknown: first sight", patchgate.IssueUpdate{Tracker: patchgate.TrackerGitLab, Repo: "acme/api", Number: 3, UpdatedAt: now}, now, patchgate.SeverityUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := patchgate.ApplyIssueUpdate(nil, tt.u, now)
			if !changed || got.Key != "acme/api#3" || got.State != patchgate.TicketOpen || !got.OpenedAt.Equal(tt.wantOpened) ||
				got.Severity != tt.wantSev || !got.ForgeUpdatedAt.Equal(now) || !got.CreatedAt.Equal(now) {
				t.Fatalf("got %+v changed %v, want key acme/api#3, open, opened %v, severity %s, forge time and created at %v",
					*got, changed, tt.wantOpened, tt.wantSev, now)
			}
		})
	}
}

func TestIssueUpdateValidate(t *testing.T) {
	ok := patchgate.IssueUpdate{Tracker: patchgate.TrackerGitHub, Repo: "acme/api", Number: 1}
	tests := []struct {
		name string
		edit func(*patchgate.IssueUpdate)
		want string
	}{
		{"a forge issue", func(*patchgate.IssueUpdate) {}, ""},
		{"not a forge", func(u *patchgate.IssueUpdate) { u.Tracker = patchgate.TrackerExternal }, patchgate.EINVALID},
		{"no repository", func(u *patchgate.IssueUpdate) { u.Repo = "" }, patchgate.EINVALID},
		{"no number", func(u *patchgate.IssueUpdate) { u.Number = 0 }, patchgate.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := ok
			tt.edit(&u)
			if got := patchgate.ErrorCode(u.Validate()); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestIssueUpdatesAnyOrder: whatever the order in which a forge issue's
// events arrive (replays included), the ticket ends with the newest event's
// fields, the earliest created_at and the latest reopen.
func TestIssueUpdatesAnyOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 1))
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	// Every event carries a title: an empty one keeps what an older event
	// brought, which then depends on the order of arrival.
	titles := []string{"crash", "slow", "wrong total"}
	labels := [][]string{nil, {"P1"}, {"severity:low"}, {"bug"}}
	for i := range 2000 {
		var events []patchgate.IssueUpdate
		var newest patchgate.IssueUpdate
		var earliest, lastReopen time.Time
		seen := map[int]bool{}
		for range 1 + rng.IntN(6) {
			m := rng.IntN(1000)
			if seen[m] {
				continue // two events of one forge time are one event
			}
			seen[m] = true
			u := patchgate.IssueUpdate{Tracker: patchgate.TrackerGitHub, Repo: "acme/payments", Number: 45,
				Title: titles[rng.IntN(len(titles))], Labels: labels[rng.IntN(len(labels))],
				UpdatedAt: t0.Add(time.Duration(m) * time.Minute), Reopened: rng.IntN(4) == 0}
			if rng.IntN(2) == 0 {
				u.CreatedAt = t0.Add(-time.Duration(rng.IntN(100)) * time.Minute)
				if earliest.IsZero() || u.CreatedAt.Before(earliest) {
					earliest = u.CreatedAt
				}
			}
			if u.Reopened && u.UpdatedAt.After(lastReopen) {
				lastReopen = u.UpdatedAt
			}
			if u.UpdatedAt.After(newest.UpdatedAt) {
				newest = u
			}
			events = append(events, u)
		}
		var results []patchgate.Ticket
		for range 3 {
			rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
			replayed := append(slices.Clone(events), events[rng.IntN(len(events))])
			now := t0.Add(24 * time.Hour)
			var tk *patchgate.Ticket
			for _, u := range replayed {
				tk, _ = patchgate.ApplyIssueUpdate(tk, u, now)
			}
			results = append(results, *tk)
		}
		got := results[0]
		if got.Title != newest.Title || !got.ForgeUpdatedAt.Equal(newest.UpdatedAt) || !slices.Equal(got.Labels, orEmpty(newest.Labels)) ||
			got.Severity != patchgate.SeverityFromLabels(newest.Labels) || !got.ReopenedAt.Equal(lastReopen) ||
			!earliest.IsZero() && !got.OpenedAt.Equal(earliest) {
			t.Fatalf("history %d: got %+v, want the fields of %+v, opened %v, reopened %v", i, got, newest, earliest, lastReopen)
		}
		for _, r := range results[1:] {
			if !ticketsEqual(r, got) {
				t.Fatalf("history %d: got %+v in one order, %+v in another", i, r, got)
			}
		}
	}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func ticketsEqual(a, b patchgate.Ticket) bool { return reflect.DeepEqual(a, b) }
