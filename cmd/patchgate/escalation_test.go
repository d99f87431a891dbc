package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// TestSupportLevelsAndEscalation: a ticket set through the API starts at its
// repository's level (L2); `patchgate tickets --level` finds it; when its
// verify deadline passes the escalator moves it to L3 and the experts' Slack
// channel hears of it once; `patchgate ticket` shows the level and the
// escalation; `ticket set --level` sets a level, and refuses an unknown one.
func TestSupportLevelsAndEscalation(t *testing.T) {
	var (
		mu     sync.Mutex
		bodies []string
	)
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
	}))
	t.Cleanup(slack.Close)
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Repos[0].TicketKeys = []string{"PAY"}
		c.Repos[0].SupportLevel, c.Repos[0].Supplier, c.Repos[0].Contract = "L2", "Acme Maintenance GmbH", "MC-17"
		c.Escalation.Levels = map[string]EscalationLevelConfig{
			"L3": {Contacts: []EscalationContactConfig{{Name: "experts", Type: "slack", URL: slack.URL + "/services/x"}}}}
		c.Escalation.Interval = time.Hour // the test sweeps itself
	})
	if app.main.Escalator == nil {
		t.Fatal("escalation.levels configured but no escalator runs")
	}
	cli := func(args ...string) (string, error) {
		return execCLI(append(args, "--server", app.url, "--token", app.token)...)
	}
	opened := time.Now().Add(-9 * time.Hour).UTC().Truncate(time.Second)
	out, err := cli("ticket", "set", "PAY-12", "--severity", "critical", "--title", "Refunds round down", "--opened", opened.Format(time.RFC3339))
	if err != nil || !strings.Contains(out, "severity critical, level L2,") {
		t.Fatalf("ticket set: got %q, %v; want level L2, the repository's", out, err)
	}
	if _, err := cli("ticket", "set", "PAY-13", "--title", "Typo", "--level", "1"); err != nil {
		t.Fatal(err)
	}
	out, err = cli("tickets", "--level", "L2")
	if err != nil || !regexp.MustCompile(`(?m)^PAY-12 +critical +L2 +open +breached`).MatchString(out) || strings.Contains(out, "PAY-13") {
		t.Fatalf("tickets --level L2: got %q, %v", out, err)
	}

	ctx := context.Background()
	for range 2 {
		if err := app.main.Escalator.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if err := app.main.Escalator.Notices.Deliver(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	got := append([]string(nil), bodies...)
	mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("slack got %d messages, want 1: %q", len(got), got)
	}
	var msg struct{ Text string }
	if err := json.Unmarshal([]byte(got[0]), &msg); err != nil || !strings.Contains(msg.Text, `PAY-12 "Refunds round down" (critical): verify deadline`) ||
		!strings.Contains(msg.Text, "breached → L3 experts (was L2)") || !strings.Contains(msg.Text, "/ui/tickets/") {
		t.Fatalf("slack message: %s", got[0])
	}
	out, err = cli("ticket", "PAY-12")
	if err != nil || !regexp.MustCompile(`(?m)^  level +L3 experts$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^escalations:\n  .+ UTC +L2 → L3 experts +verify breached \(deadline `).MatchString(out) {
		t.Fatalf("ticket PAY-12: got %q, %v; want level L3 and the escalation", out, err)
	}
	var audit struct{ Entries []patchgate.AuditEntry }
	app.api(t, http.MethodGet, "/api/v1/audit?action=ticket.escalated", nil, &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].Subject != "ticket:PAY-12" || audit.Entries[0].Detail["to"] != "L3" {
		t.Fatalf("audit: %+v", audit.Entries)
	}

	if out, err = cli("ticket", "set", "PAY-12", "--level", "L4"); err != nil || !strings.Contains(out, "level L4,") {
		t.Fatalf("ticket set --level L4: got %q, %v", out, err)
	}
	if _, err := cli("ticket", "set", "PAY-12", "--level", "L9"); patchgate.ErrorCode(err) != patchgate.EINVALID {
		t.Fatalf("ticket set --level L9: got %v, want invalid", err)
	}
	if _, err := cli("tickets", "--level", "urgent"); patchgate.ErrorCode(err) != patchgate.EINVALID {
		t.Fatalf("tickets --level urgent: got %v, want invalid", err)
	}
}
