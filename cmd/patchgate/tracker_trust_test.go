package main

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// TestTrackerTimeInFuture: a tracker's news dated far ahead of patchgate's
// clock (2099) is refused, by the API with 422 and from Jira as a failed
// delivery with the reason; the ticket and its SLA clock stay as they were.
func TestTrackerTimeInFuture(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Repos[0].TicketKeys = []string{"PAY"}
		c.Trackers = []TrackerConfig{jiraTracker("https://acme.atlassian.net")}
	})
	opened := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	put := func(key string, req map[string]any) int {
		t.Helper()
		return app.api(t, http.MethodPut, "/api/v1/tickets/"+key, req, nil)
	}
	if code := put("HELP-30", map[string]any{"severity": "critical", "opened_at": opened, "state": "open"}); code != http.StatusOK {
		t.Fatalf("create HELP-30: got %d", code)
	}
	future := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, state := range []string{"closed", "open"} {
		if code := put("HELP-30", map[string]any{"state": state, "updated_at": future}); code != http.StatusUnprocessableEntity {
			t.Fatalf("%s dated 2099: got %d, want 422", state, code)
		}
	}
	if code := put("HELP-30", map[string]any{"opened_at": future}); code != http.StatusUnprocessableEntity {
		t.Fatalf("opened_at 2099: got %d, want 422", code)
	}
	_, err := execCLI("ticket", "set", "HELP-30", "--state", "closed", "--updated", future.Format(time.RFC3339),
		"--server", app.url, "--token", app.token)
	if patchgate.ErrorCode(err) != patchgate.EUNPROCESSABLE {
		t.Fatalf("ticket set --updated 2099: got %v, want unprocessable", err)
	}
	tk := app.ticket(t, "HELP-30").Ticket
	if !tk.OpenedAt.Equal(opened) || !tk.ReopenedAt.IsZero() || tk.ForgeState != "open" || tk.ForgeUpdatedAt.After(time.Now()) {
		t.Fatalf("HELP-30 after 2099 updates: got opened %s reopened %s forge state %s forge updated %s; want opened %s, no reopen, open",
			tk.OpenedAt, tk.ReopenedAt, tk.ForgeState, tk.ForgeUpdatedAt, opened)
	}

	app.sendJira(t, "wh-now", jiraFixture(t, "issue_created.priority-highest.json"), jiraSecret)
	app.waitProcessed(t)
	before := app.ticket(t, "PAY-7").Ticket
	done := bytes.ReplaceAll(jiraFixture(t, "issue_updated.status-done.json"),
		[]byte("2026-11-30T11:00:00.000+0000"), []byte("2099-01-01T00:00:00.000+0000"))
	app.sendJira(t, "wh-2099", done, jiraSecret)
	app.waitProcessed(t)
	var dels struct{ Deliveries []patchgate.Delivery }
	app.api(t, http.MethodGet, "/api/v1/deliveries?forge=jira&limit=10", nil, &dels)
	var got *patchgate.Delivery
	for _, d := range dels.Deliveries {
		if d.ID == "wh-2099" {
			got = &d
		}
	}
	if got == nil || got.Outcome != patchgate.OutcomeFailed || !bytes.Contains([]byte(got.Reason), []byte("in the future")) {
		t.Fatalf("Jira delivery dated 2099: got %+v, want failed, in the future", got)
	}
	if tk := app.ticket(t, "PAY-7").Ticket; tk.ForgeState != before.ForgeState || !tk.ForgeUpdatedAt.Equal(before.ForgeUpdatedAt) {
		t.Fatalf("PAY-7 after a delivery dated 2099: got forge state %s updated %s, want %s %s",
			tk.ForgeState, tk.ForgeUpdatedAt, before.ForgeState, before.ForgeUpdatedAt)
	}
}

// TestJiraSignerMustOwnTheKey: a delivery signed with tracker acme's secret
// about issue OPS-7 of tracker beta, claiming acme's project PAY in its
// fields, does not touch OPS-7: the key's prefix and the signing tracker
// must agree, and the delivery is ignored with the reason.
func TestJiraSignerMustOwnTheKey(t *testing.T) {
	const betaSecret = "beta-webhook-secret"
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		acme := jiraTracker("https://acme.atlassian.net")
		acme.Projects = []string{"PAY"}
		beta := jiraTracker("https://beta.atlassian.net")
		beta.Name, beta.Projects, beta.WebhookSecrets = "beta", []string{"OPS"}, []string{betaSecret}
		c.Trackers = []TrackerConfig{acme, beta}
	})
	if code := app.api(t, http.MethodPut, "/api/v1/tickets/OPS-7", map[string]any{"title": "beta's own", "state": "open"}, nil); code != http.StatusOK {
		t.Fatalf("create OPS-7: got %d", code)
	}
	before := app.ticket(t, "OPS-7").Ticket
	forged := bytes.ReplaceAll(jiraFixture(t, "issue_created.priority-highest.json"), []byte(`"PAY-7"`), []byte(`"OPS-7"`))
	forged = bytes.ReplaceAll(forged, []byte("/PAY-7"), []byte("/OPS-7"))
	if !bytes.Contains(forged, []byte(`"OPS-7"`)) {
		t.Fatal("fixture: no issue key replaced")
	}
	_, a := app.sendJira(t, "wh-forged", forged, jiraSecret)
	app.waitProcessed(t)
	if a.Status != "ignored" || !bytes.Contains([]byte(a.Reason), []byte("OPS-7")) {
		t.Fatalf("acme's delivery about OPS-7: got %+v, want ignored naming OPS-7", a)
	}
	if tk := app.ticket(t, "OPS-7").Ticket; tk.Title != before.Title || tk.Severity != before.Severity || !tk.ForgeUpdatedAt.Equal(before.ForgeUpdatedAt) {
		t.Fatalf("OPS-7 after acme's delivery: got title %q severity %s, want %q %s", tk.Title, tk.Severity, before.Title, before.Severity)
	}
}

// TestTrackerTokenProjects: a tracker token limited to PAY may not update
// OPS-1 (403 naming PAY); a ticket of a project the Jira tracker acme manages
// is changed through the API only by acme's token or an admin.
func TestTrackerTokenProjects(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		acme := jiraTracker("https://acme.atlassian.net")
		acme.Projects = []string{"JIR"}
		c.Trackers = []TrackerConfig{acme}
	})
	create := func(name string, projects ...string) string {
		t.Helper()
		var out struct{ Secret string }
		body := map[string]any{"name": name, "role": "tracker", "projects": projects}
		if code := app.api(t, http.MethodPost, "/api/v1/tokens", body, &out); code != http.StatusCreated {
			t.Fatalf("create token %s: got %d", name, code)
		}
		return out.Secret
	}
	pay := create("pay-desk", "PAY")
	helpdesk := create("helpdesk")
	acme := create("acme")
	put := func(token, key string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPut, app.url+"/api/v1/tickets/"+key, jsonBody(map[string]any{"severity": "high"}))
		req.Header.Set("Authorization", "Bearer "+token)
		var out struct {
			Error struct{ Message string }
		}
		code := doJSON(t, req, &out)
		return code, out.Error.Message
	}
	for _, tc := range []struct {
		name, token, key string
		wantCode         int
		wantMessage      string
	}{
		{"limited to PAY, PAY-1", pay, "PAY-1", http.StatusOK, ""},
		{"limited to PAY, OPS-1", pay, "OPS-1", http.StatusForbidden, "PAY"},
		{"unlimited, OPS-1", helpdesk, "OPS-1", http.StatusOK, ""},
		{"unlimited, a Jira-managed JIR-1", helpdesk, "JIR-1", http.StatusForbidden, "acme"},
		{"limited to PAY, a Jira-managed JIR-1", pay, "JIR-1", http.StatusForbidden, "PAY"},
		{"the Jira tracker's own token, JIR-1", acme, "JIR-1", http.StatusOK, ""},
		{"an admin, JIR-1", app.token, "JIR-1", http.StatusOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := put(tc.token, tc.key)
			if code != tc.wantCode || !bytes.Contains([]byte(msg), []byte(tc.wantMessage)) {
				t.Fatalf("got %d %q, want %d naming %q", code, msg, tc.wantCode, tc.wantMessage)
			}
		})
	}
}
