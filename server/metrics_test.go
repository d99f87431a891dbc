package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/server"
)

// scrape returns the /metrics text.
func scrape(t *testing.T, ts *testServer) string {
	t.Helper()
	resp, err := http.Get(ts.http.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: got %d %s, want 200", resp.StatusCode, body)
	}
	return string(body)
}

func wantLines(t *testing.T, text string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(text, "\n"+l+"\n") {
			t.Errorf("/metrics lacks the line %q", l)
		}
	}
}

func TestSLAMetrics(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t, &patchgate.Repository{Forge: patchgate.GitHub, Name: "acme/payments",
		TicketKeys: []string{"PAY"}, SLA: patchgate.DefaultSLAPolicy()})
	ts.srv.Metrics.SLAReport = server.TicketSLAReport(ts.tickets, ts.srv.SLA)

	// Before any ticket: every state at 0, empty histograms.
	wantLines(t, scrape(t, ts),
		`patchgate_tickets_sla{state="breached"} 0`,
		`patchgate_ticket_time_to_verified_seconds_count 0`,
		`patchgate_ticket_time_to_release_seconds_bucket{le="+Inf"} 0`)

	now := time.Now().UTC()
	for i, tc := range []struct {
		sev     patchgate.Severity
		opened  time.Duration // ago
		release bool
	}{
		{patchgate.SeverityCritical, 30 * 24 * time.Hour, false}, // breached
		{patchgate.SeverityCritical, 7 * time.Hour, false},       // at risk
		{patchgate.SeverityCritical, 2 * time.Hour, false},       // on track
		{patchgate.SeverityUnknown, time.Hour, false},            // none
		{patchgate.SeverityHigh, 2 * time.Hour, true},            // released: not counted open
	} {
		tk, err := ts.tickets.ApplyIssueUpdate(ctx, patchgate.IssueUpdate{Tracker: patchgate.TrackerGitHub,
			Repo: "acme/payments", Number: i + 1, Severity: tc.sev, CreatedAt: now.Add(-tc.opened), UpdatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 { // verify the first, third and fifth
			fixTicket(t, ts.db, tk, tc.release)
		}
	}
	// Verified: #1 after 30 days (breached for good), #3 after 2h, #5 after 2h and released then.
	text := scrape(t, ts)
	wantLines(t, text,
		`patchgate_tickets_sla{state="breached"} 1`,
		`patchgate_tickets_sla{state="at_risk"} 1`,
		`patchgate_tickets_sla{state="on_track"} 1`,
		`patchgate_tickets_sla{state="none"} 1`,
		`patchgate_ticket_time_to_verified_seconds_bucket{le="3600"} 0`,
		`patchgate_ticket_time_to_verified_seconds_bucket{le="14400"} 2`,
		`patchgate_ticket_time_to_verified_seconds_bucket{le="2.592e+06"} 2`,
		`patchgate_ticket_time_to_verified_seconds_bucket{le="+Inf"} 3`,
		`patchgate_ticket_time_to_verified_seconds_count 3`,
		`patchgate_ticket_time_to_release_seconds_bucket{le="3600"} 0`,
		`patchgate_ticket_time_to_release_seconds_bucket{le="14400"} 1`,
		`patchgate_ticket_time_to_release_seconds_count 1`)
	if strings.Contains(text, `state="met"`) {
		t.Errorf("/metrics counts met tickets among the open ones")
	}

	// A failing report leaves the SLA metrics out; the scrape still succeeds.
	ts.srv.Metrics.SLAReport = func(context.Context) (*server.SLAReport, error) { return nil, errors.New("database gone") }
	if text := scrape(t, ts); strings.Contains(text, "patchgate_tickets_sla{") || !strings.Contains(text, "patchgate_http_requests_total") {
		t.Errorf("with a failing report, /metrics = %s; want the other metrics, no SLA ones", text)
	}
}
