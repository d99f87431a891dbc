package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/notify"
)

// TestSLAEventsOnce: a key ticket whose severity and opening time a helpdesk
// set gets an SLA; going at risk, then breached, sends one signed event each,
// however often the SLA is checked.
func TestSLAEventsOnce(t *testing.T) {
	const secret = "sla-webhook-secret-0123"
	var (
		mu     sync.Mutex
		events []string
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Patchgate-Signature-256") != notify.Sign(secret, body) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p struct {
			Ticket patchgate.Ticket `json:"ticket"`
		}
		_ = json.Unmarshal(body, &p)
		mu.Lock()
		events = append(events, r.Header.Get("X-Patchgate-Event")+" "+p.Ticket.Key)
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Repos[0].TicketKeys = []string{"PAY"}
		c.SLAWebhook = WebhookConfig{URL: hook.URL, Secret: secret}
	})
	set := func(opened time.Time) {
		t.Helper()
		req := map[string]any{"severity": "critical", "opened_at": opened}
		if code := app.api(t, http.MethodPut, "/api/v1/tickets/PAY-20", req, nil); code != http.StatusOK {
			t.Fatalf("set PAY-20: got %d", code)
		}
	}
	check := func() {
		t.Helper()
		for range 3 {
			if err := app.main.SLAWatch.Check(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	got := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), events...)
	}

	set(time.Now().Add(-time.Hour)) // on track: 1h of 8h to verify
	check()
	if e := got(); len(e) != 0 {
		t.Fatalf("on track: got events %v, want none", e)
	}
	set(time.Now().Add(-7 * time.Hour)) // at risk after 6h
	check()
	set(time.Now().Add(-9 * time.Hour)) // breached after 8h
	check()
	if e := got(); len(e) != 2 || e[0] != "ticket.sla_at_risk PAY-20" || e[1] != "ticket.sla_breached PAY-20" {
		t.Fatalf("got events %v, want at risk then breached, once each", e)
	}
}
