package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/trackers/jira"
)

const jiraSecret = "jira-webhook-secret"

// jiraTracker configures the Jira site acme (projects PAY, OPS) at url.
func jiraTracker(url string) TrackerConfig {
	t := TrackerConfig{Kind: "jira", Name: "acme", URL: url, Email: "bot@acme.example", Token: "jira-token",
		WebhookSecrets: []string{jiraSecret}, Projects: []string{"PAY", "OPS"},
		Transitions: map[string]string{"fix_verified": "In Review", "released": "Done"}}
	t.Severity.Field = "priority"
	t.Severity.Map = map[string]string{"Highest": "critical", "High": "high", "Medium": "medium", "Low": "low", "Lowest": "low"}
	return t
}

func jiraFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../trackers/jira/testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sendJira posts a Jira delivery signed with secret.
func (a *testApp) sendJira(t *testing.T, id string, body []byte, secret string) (int, ack) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.url+"/webhooks/jira", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(jira.HeaderIdentifier, id)
	req.Header.Set(jira.HeaderSignature, jira.Sign(secret, body))
	return do(t, req)
}

// TestJiraWebhook: Jira's issue events give a key ticket its title, URL,
// severity (mapped from the priority), opening time and closed state; a bad
// signature is refused, a redelivery is a duplicate, an unknown project is
// ignored with the reason stored; and Done back to To Do after the fix landed
// is a reopen.
func TestJiraWebhook(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Repos[0].TicketKeys = []string{"PAY"}
		c.Trackers = []TrackerConfig{jiraTracker("https://acme.atlassian.net")}
	})
	created := jiraFixture(t, "issue_created.priority-highest.json")
	if code, a := app.sendJira(t, "wh-1", created, "not-the-secret"); code != http.StatusUnauthorized {
		t.Fatalf("bad signature: got %d %+v, want 401", code, a)
	}
	if code, a := app.sendJira(t, "wh-1", created, jiraSecret); code != http.StatusAccepted || a.Status != "accepted" {
		t.Fatalf("created: got %d %+v", code, a)
	}
	if code, a := app.sendJira(t, "wh-1", created, jiraSecret); code != http.StatusAccepted || a.Status != "duplicate" {
		t.Fatalf("redelivery: got %d %+v, want duplicate", code, a)
	}
	code, a := app.sendJira(t, "wh-2", jiraFixture(t, "issue_created.unknown-project.json"), jiraSecret)
	if code != http.StatusAccepted || a.Status != "ignored" || a.Reason != "Jira project ZZZ is not configured" {
		t.Fatalf("unknown project: got %d %+v", code, a)
	}
	if _, a := app.sendJira(t, "wh-3", jiraFixture(t, "comment_created.ignored.json"), jiraSecret); a.Status != "ignored" {
		t.Fatalf("comment event: got %+v, want ignored", a)
	}
	app.waitProcessed(t)
	var dels struct{ Deliveries []patchgate.Delivery }
	app.api(t, http.MethodGet, "/api/v1/deliveries?forge=jira&limit=10", nil, &dels)
	reasons := map[string]string{}
	for _, d := range dels.Deliveries {
		reasons[d.ID] = string(d.Outcome) + ": " + d.Reason
	}
	if reasons["wh-1"] != "processed: " || reasons["wh-2"] != "ignored: Jira project ZZZ is not configured" {
		t.Fatalf("stored outcomes %v", reasons)
	}

	tk := app.ticket(t, "PAY-7").Ticket
	opened := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	if tk.Title != "Refunds of half a cent round down" || tk.URL != "https://acme.atlassian.net/browse/PAY-7" ||
		tk.Severity != patchgate.SeverityCritical || !tk.OpenedAt.Equal(opened) || tk.ForgeState != "open" {
		t.Fatalf("PAY-7: got %+v", tk)
	}

	// The fix lands (a direct push that passes), Jira closes, then reopens.
	app.landFix(t, "PAY-7")
	app.sendJira(t, "wh-4", jiraFixture(t, "issue_updated.status-done.json"), jiraSecret)
	app.waitProcessed(t)
	if tk := app.ticket(t, "PAY-7").Ticket; tk.ForgeState != "closed" || tk.State != patchgate.TicketFixMerged {
		t.Fatalf("after Done: got forge state %s, state %s; want closed, fix_merged", tk.ForgeState, tk.State)
	}
	// Jira's times in the fixtures are of 2026-11-30; the fix landed now. A
	// reopen must come after the fix to count, as it would in real life.
	reopen := jiraFixture(t, "issue_updated.reopened.json")
	reopen = bytes.ReplaceAll(reopen, []byte("2026-11-30T12:00:00.000+0000"), []byte(time.Now().Add(time.Minute).UTC().Format("2006-01-02T15:04:05.000-0700")))
	app.sendJira(t, "wh-5", reopen, jiraSecret)
	app.waitProcessed(t)
	if tk := app.ticket(t, "PAY-7").Ticket; tk.State != patchgate.TicketReopened || tk.ForgeState != "open" {
		t.Fatalf("after Done → To Do: got state %s forge state %s, want reopened, open", tk.State, tk.ForgeState)
	}
}

// landFix pushes a commit "Fixes KEY" to main and records that it passed.
func (a *testApp) landFix(t *testing.T, key string) string {
	t.Helper()
	sha := randomSHA()
	a.sendGitHub(t, "push", "push-"+sha[:8], fixture(t, "github/push/none.api.github.com.5.json", func(p map[string]any) {
		p["ref"], p["after"] = "refs/heads/main", sha
		commit := p["commits"].([]any)[0].(map[string]any)
		commit["id"], commit["message"] = sha, "Fix it\n\nFixes "+key
		obj(p, "head_commit")["id"] = sha
	}), testSecret)
	a.waitProcessed(t)
	a.pass(t, sha)
	return sha
}

// randomSHA is a fresh 40-hex commit id.
func randomSHA() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
