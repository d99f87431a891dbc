package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/server"
	"github.com/patchgate/patchgate/store"
	"github.com/prometheus/client_golang/prometheus"
)

// testServer is a server on a fresh SQLite store, with a viewer token.
type testServer struct {
	srv     *server.Server
	db      *store.DB
	tickets *store.TicketService
	token   string
	http    *httptest.Server
}

func newTestServer(t *testing.T, repos ...*patchgate.Repository) *testServer {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "patchgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	secret, hash, err := patchgate.NewTokenSecret()
	if err != nil {
		t.Fatal(err)
	}
	tokens := store.NewTokenService(db)
	if err := tokens.CreateToken(ctx, &patchgate.Token{Name: "viewer", Role: patchgate.RoleViewer, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	dir := patchgate.NewRepositoryDirectory(repos)
	reg := prometheus.NewRegistry()
	ts := &testServer{db: db, tickets: store.NewTicketService(db), token: secret}
	ts.srv = &server.Server{
		Tickets:  ts.tickets,
		Links:    store.NewLinkService(db),
		Tokens:   tokens,
		Repos:    dir,
		SLA:      func(t *patchgate.Ticket) patchgate.SLAStatus { return dir.SLAPolicyFor(t).Evaluate(t, time.Now()) },
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics:  server.NewMetrics(reg),
		Gatherer: reg,
	}
	ts.http = httptest.NewServer(ts.srv.Handler())
	t.Cleanup(ts.http.Close)
	return ts
}

// get fetches path with the viewer token and decodes the JSON answer into out.
func (ts *testServer) get(t *testing.T, path string, wantStatus int, out any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.http.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+ts.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("GET %s: got %d %s, want %d", path, resp.StatusCode, body, wantStatus)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("GET %s: %v in %s", path, err, body)
		}
	}
}

type ticketJSON struct {
	ID       int64  `json:"id"`
	Key      string `json:"key"`
	OpenedAt string `json:"opened_at"`
	SLA      struct {
		State     string     `json:"state"`
		Phase     string     `json:"phase"`
		VerifyBy  *time.Time `json:"verify_by"`
		ReleaseBy *time.Time `json:"release_by"`
	} `json:"sla"`
}

type ticketList struct {
	Tickets  []ticketJSON `json:"tickets"`
	Total    int          `json:"total"`
	Complete *bool        `json:"complete"`
}

func (l ticketList) keys() []string {
	var keys []string
	for _, t := range l.Tickets {
		keys = append(keys, t.Key)
	}
	return keys
}

func TestTicketsSLA(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t, &patchgate.Repository{Forge: patchgate.GitHub, Name: "acme/payments",
		TicketKeys: []string{"PAY"}, SLA: patchgate.DefaultSLAPolicy()})
	now := time.Now().UTC()
	issue := func(n int, sev patchgate.Severity, created time.Time) *patchgate.Ticket {
		t.Helper()
		tk, err := ts.tickets.ApplyIssueUpdate(ctx, patchgate.IssueUpdate{Tracker: patchgate.TrackerGitHub,
			Repo: "acme/payments", Number: n, Title: "bug", State: "open", Severity: sev,
			CreatedAt: created, UpdatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	// critical: verify within 8h (at risk from 6h), release within 24h.
	issue(1, patchgate.SeverityCritical, now.Add(-30*24*time.Hour)) // breached
	issue(2, patchgate.SeverityCritical, now.Add(-7*time.Hour))     // at risk
	issue(3, patchgate.SeverityCritical, now.Add(-time.Hour))       // on track
	issue(4, patchgate.SeverityUnknown, now.Add(-30*24*time.Hour))  // none
	met := issue(5, patchgate.SeverityLow, now.Add(-time.Hour))
	fixTicket(t, ts.db, met, true)
	if _, err := ts.tickets.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-9", Severity: patchgate.SeverityHigh}); err != nil {
		t.Fatal(err) // on track, under acme/payments' policy through its key
	}
	if _, err := ts.tickets.ApplyIssueUpdate(ctx, patchgate.IssueUpdate{Tracker: patchgate.TrackerGitHub, Repo: "acme/other",
		Number: 1, Severity: patchgate.SeverityCritical, CreatedAt: now.Add(-30 * 24 * time.Hour), UpdatedAt: now}); err != nil {
		t.Fatal(err) // none: its repository is not configured
	}

	t.Run("every ticket shows its SLA", func(t *testing.T) {
		var l ticketList
		ts.get(t, "/api/v1/tickets", http.StatusOK, &l)
		got := map[string]string{}
		for _, tk := range l.Tickets {
			got[tk.Key] = tk.SLA.State
		}
		want := map[string]string{"acme/payments#1": "breached", "acme/payments#2": "at_risk", "acme/payments#3": "on_track",
			"acme/payments#4": "none", "acme/payments#5": "met", "PAY-9": "on_track", "acme/other#1": "none"}
		if fmt.Sprint(got) != fmt.Sprint(want) || l.Total != 7 || l.Complete != nil {
			t.Fatalf("got %v (total %d, complete %v), want %v (total 7, no complete)", got, l.Total, l.Complete, want)
		}
	})

	t.Run("detail", func(t *testing.T) {
		var d struct {
			Ticket ticketJSON `json:"ticket"`
		}
		ts.get(t, "/api/v1/tickets/1", http.StatusOK, &d)
		opened := now.Add(-30 * 24 * time.Hour).Truncate(time.Microsecond)
		s := d.Ticket.SLA
		if s.State != "breached" || s.Phase != "verify" || s.VerifyBy == nil || !s.VerifyBy.Equal(opened.Add(8*time.Hour)) ||
			s.ReleaseBy == nil || !s.ReleaseBy.Equal(opened.Add(24*time.Hour)) {
			t.Fatalf("got %+v (opened %s), want breached in verify, due %v and %v", s, d.Ticket.OpenedAt, opened.Add(8*time.Hour), opened.Add(24*time.Hour))
		}
	})

	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"sla=breached", []string{"acme/payments#1"}},
		{"sla=at_risk", []string{"acme/payments#2"}},
		{"sla=on_track", []string{"PAY-9", "acme/payments#3"}},
		{"sla=met", []string{"acme/payments#5"}},
		{"sla=none", []string{"acme/other#1", "acme/payments#4"}},
		{"sla=on_track&tracker=github", []string{"acme/payments#3"}},
		{"sla=breached&severity=low", nil},
	} {
		t.Run(tc.query, func(t *testing.T) {
			var l ticketList
			ts.get(t, "/api/v1/tickets?"+tc.query, http.StatusOK, &l)
			if !slices.Equal(l.keys(), tc.want) || l.Total != len(tc.want) || l.Complete == nil || !*l.Complete {
				t.Fatalf("got %v (total %d, complete %v), want %v (total %d, complete)", l.keys(), l.Total, l.Complete, tc.want, len(tc.want))
			}
		})
	}

	t.Run("unknown state", func(t *testing.T) {
		ts.get(t, "/api/v1/tickets?sla=late", http.StatusBadRequest, nil)
	})
}

// pagedTickets is a TicketService serving n external tickets PAY-1…PAY-n,
// newest (highest) first, in store-sized pages; it counts its reads.
type pagedTickets struct {
	patchgate.TicketService
	n     int
	reads int
}

func (p *pagedTickets) FindTickets(_ context.Context, f patchgate.TicketFilter) ([]*patchgate.Ticket, int, error) {
	p.reads++
	limit := min(f.Limit, 500)
	out := []*patchgate.Ticket{}
	for i := p.n - f.Offset; i >= 1 && len(out) < limit; i-- {
		out = append(out, &patchgate.Ticket{ID: int64(i), Tracker: patchgate.TrackerExternal, Key: fmt.Sprintf("PAY-%d", i)})
	}
	return out, p.n, nil
}

// TestTicketsSLAPages checks the SLA filter's paging over the store's pages:
// every tenth ticket matches.
func TestTicketsSLAPages(t *testing.T) {
	ts := newTestServer(t)
	pages := &pagedTickets{n: 1234}
	ts.srv.Tickets = pages
	ts.srv.SLA = func(t *patchgate.Ticket) patchgate.SLAStatus {
		if t.ID%10 == 0 {
			return patchgate.SLAStatus{State: patchgate.SLABreached}
		}
		return patchgate.SLAStatus{State: patchgate.SLAOnTrack}
	}
	for _, tc := range []struct {
		name      string
		query     string
		first     string
		n         int
		total     int
		complete  bool
		readsWant int
	}{
		// The first page of 500 holds PAY-1234…PAY-735: 50 matches.
		{name: "one store page", query: "limit=5", first: "PAY-1230", n: 5, total: 50, readsWant: 1},
		{name: "across store pages", query: "limit=60&offset=10", first: "PAY-1130", n: 60, total: 100, readsWant: 2},
		{name: "to the end", query: "limit=500", first: "PAY-1230", n: 123, total: 123, complete: true, readsWant: 3},
		{name: "past the end", query: "offset=200", n: 0, total: 123, complete: true, readsWant: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pages.reads = 0
			var l ticketList
			ts.get(t, "/api/v1/tickets?sla=breached&"+tc.query, http.StatusOK, &l)
			if len(l.Tickets) != tc.n || l.Total != tc.total || l.Complete == nil || *l.Complete != tc.complete || pages.reads != tc.readsWant {
				t.Fatalf("got %d tickets, total %d, complete %v, %d reads; want %d, %d, %v, %d",
					len(l.Tickets), l.Total, l.Complete, pages.reads, tc.n, tc.total, tc.complete, tc.readsWant)
			}
			if tc.n > 0 && l.Tickets[0].Key != tc.first {
				t.Errorf("first ticket %s, want %s", l.Tickets[0].Key, tc.first)
			}
			for _, tk := range l.Tickets {
				if tk.SLA.State != "breached" || !strings.HasSuffix(tk.Key, "0") {
					t.Fatalf("got %s (%s), want only breached tickets", tk.Key, tk.SLA.State)
				}
			}
		})
	}
}
