package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// TestLinkingEndToEnd drives a running patchgate with real, signed GitHub
// payloads and reads the result through the API and the fake forge.
func TestLinkingEndToEnd(t *testing.T) {
	app := startApp(t, nil)

	// The issue arrives first; its labels give it a severity.
	issue := fixture(t, "github/issues/opened.api.github.com.15.json", func(p map[string]any) {
		obj(p, "issue")["labels"] = []any{map[string]any{"name": "severity:critical"}}
	})
	if code, a := app.sendGitHub(t, "issues", "d-issue", issue, testSecret); code != 202 || a.Status != "accepted" {
		t.Fatalf("issue: got %d %+v, want 202 accepted", code, a)
	}

	pr := fixture(t, "github/pull_request/opened.api.github.com.13.json", func(p map[string]any) {
		obj(p, "pull_request")["title"] = "HW-7: fix the README"
		obj(p, "pull_request")["body"] = "Fixes #1, see also octo-org/other#9"
	})
	if code, a := app.sendGitHub(t, "pull_request", "d-opened", pr, testSecret); code != 202 || a.Status != "accepted" {
		t.Fatalf("opened: got %d %+v, want 202 accepted", code, a)
	}
	app.waitProcessed(t)

	issueTicket := app.ticket(t, testRepo+"%231")
	if issueTicket.Ticket.Severity != patchgate.SeverityCritical || issueTicket.Ticket.State != patchgate.TicketFixProposed {
		t.Errorf("issue ticket: got severity %s state %s, want critical fix_proposed", issueTicket.Ticket.Severity, issueTicket.Ticket.State)
	}
	if len(issueTicket.Links) != 1 || issueTicket.Links[0].Kind != patchgate.LinkFixes || issueTicket.Links[0].Source != patchgate.SourceBody {
		t.Fatalf("issue links: got %+v, want one fixes link from the body", issueTicket.Links)
	}
	hw7 := app.ticket(t, "HW-7")
	// A title that starts with the key claims the fix (the Jira/Prow convention).
	if hw7.Ticket.State != patchgate.TicketFixProposed || len(hw7.Links) != 1 || hw7.Links[0].Kind != patchgate.LinkFixes || hw7.Links[0].Provenance != "HW-7" {
		t.Fatalf("HW-7: got state %s links %+v, want fix_proposed with one fixes link from the title", hw7.Ticket.State, hw7.Links)
	}
	comments := app.linkComments(t, 2)
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "HW-7") || !strings.Contains(comments[0].Body, "Codertocat/Hello-World#1") {
		t.Fatalf("got link comments %+v, want one naming both tickets", comments)
	}

	// A redelivery changes nothing.
	if code, a := app.sendGitHub(t, "pull_request", "d-opened", pr, testSecret); code != 202 || a.Status != "duplicate" {
		t.Fatalf("redelivery: got %d %+v, want 202 duplicate", code, a)
	}

	// An edit drops HW-7 from the title: the link goes, the comment is edited.
	edited := fixture(t, "github/pull_request/opened.api.github.com.13.json", func(p map[string]any) {
		p["action"] = "edited"
		obj(p, "pull_request")["title"] = "Fix the README"
		obj(p, "pull_request")["body"] = "Fixes #1, see also octo-org/other#9"
		obj(p, "pull_request")["updated_at"] = "2030-01-01T00:00:00Z"
	})
	app.sendGitHub(t, "pull_request", "d-edited", edited, testSecret)
	app.waitProcessed(t)
	if hw7 := app.ticket(t, "HW-7"); len(hw7.Links) != 0 {
		t.Fatalf("HW-7 after edit: got links %+v, want none", hw7.Links)
	}
	comments = app.linkComments(t, 2)
	if len(comments) != 1 || strings.Contains(comments[0].Body, "HW-7") || comments[0].Edits != 1 {
		t.Fatalf("after edit: got comments %+v, want the one comment edited once, without HW-7", comments)
	}

	// A developer links HW-9 by hand through the CLI, as a user would.
	dev := app.createToken(t, "dev-alice", patchgate.RoleDeveloper)
	out := runCLI(t, "link", "HW-9", "--repo", testRepo, "--pr", "2", "--server", app.url, "--token", dev, "--reason", "found in review")
	if !strings.Contains(out, "linked HW-9 → Codertocat/Hello-World#2 (fixes") {
		t.Fatalf("link: got %q", out)
	}
	hw9 := app.ticket(t, "HW-9")
	if len(hw9.Links) != 1 || hw9.Links[0].Source != patchgate.SourceManual || hw9.Links[0].CreatedBy != "dev-alice" || hw9.Ticket.State != patchgate.TicketFixProposed {
		t.Fatalf("HW-9: got %+v state %s, want one manual link by dev-alice, fix_proposed", hw9.Links, hw9.Ticket.State)
	}
	if comments = app.linkComments(t, 2); len(comments) != 1 || !strings.Contains(comments[0].Body, "linked by hand by dev-alice") {
		t.Fatalf("after manual link: got %+v", comments)
	}
	// A viewer may not link.
	viewer := app.createToken(t, "viewer-bob", patchgate.RoleViewer)
	if err := runCLIErr(t, "link", "HW-10", "--repo", testRepo, "--pr", "2", "--server", app.url, "--token", viewer); patchgate.ErrorCode(err) != patchgate.EFORBIDDEN {
		t.Fatalf("viewer link: got %v, want forbidden", err)
	}
	// Unlinking by hand sticks, even when the text still mentions the ticket.
	ch, _ := app.change(t, 2)
	issueID := issueTicket.Ticket.ID
	runCLI(t, "unlink", "--ticket-id", fmt.Sprint(issueID), "--change-id", fmt.Sprint(ch.ID), "--server", app.url, "--token", dev)
	app.sendGitHub(t, "pull_request", "d-edited-2", fixture(t, "github/pull_request/opened.api.github.com.13.json", func(p map[string]any) {
		p["action"] = "edited"
		obj(p, "pull_request")["title"] = "Fix the README"
		obj(p, "pull_request")["body"] = "Fixes #1 for real"
		obj(p, "pull_request")["updated_at"] = "2030-01-02T00:00:00Z"
	}), testSecret)
	app.waitProcessed(t)
	if v := app.ticket(t, testRepo+"%231"); len(v.Links) != 0 {
		t.Fatalf("after unlink and edit: got links %+v, want none", v.Links)
	}
	if n := len(app.forge.Unhandled()); n != 0 {
		t.Fatalf("patchgate called %d routes the fake forge does not serve: %v", n, app.forge.Unhandled())
	}
}

// TestWebhookRejections covers every way a delivery is refused or ignored.
func TestWebhookRejections(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Repos = append(c.Repos, RepoConfig{Forge: "github", Name: "acme/private", WebhookSecrets: []string{"private-repo-secret"}})
	})
	pr := fixture(t, "github/pull_request/opened.api.github.com.13.json", nil)
	post := func(headers map[string]string, body []byte) (int, ack) {
		req, _ := http.NewRequest(http.MethodPost, app.url+"/webhooks/github", bytes.NewReader(body))
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		return do(t, req)
	}
	tests := []struct {
		name       string
		code       int
		status     string
		headers    map[string]string
		body       []byte
		event      string
		secret     string
		wantReason string
	}{
		{name: "bad signature", code: 401, event: "pull_request", secret: "wrong secret!", body: pr},
		{name: "rotated old secret still works", code: 202, status: "accepted", event: "pull_request", secret: "old-secret-1", body: pr},
		{name: "repo secret for another repository", code: 403, event: "pull_request", secret: "private-repo-secret", body: pr},
		{name: "unsupported event", code: 202, status: "ignored", event: "star", secret: testSecret, body: fixture(t, "github/star/created.api.github.com.1.json", nil)},
		{name: "ping", code: 202, status: "ignored", event: "ping", secret: testSecret, body: fixture(t, "github/ping/none.api.github.com.1.json", nil)},
		{name: "unknown repository", code: 202, status: "ignored", event: "pull_request", secret: testSecret, wantReason: "not configured",
			body: fixture(t, "github/pull_request/opened.api.github.com.13.json", func(p map[string]any) { obj(p, "repository")["full_name"] = "someone/else" })},
		{name: "malformed json", code: 400, event: "pull_request", secret: testSecret, body: []byte(`{"action": "opened", "pull_request": [`)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, a := app.sendGitHub(t, tt.event, fmt.Sprintf("rej-%d", i), tt.body, tt.secret)
			if code != tt.code || a.Status != tt.status || !strings.Contains(a.Reason, tt.wantReason) {
				t.Fatalf("got %d %+v, want %d %q %q", code, a, tt.code, tt.status, tt.wantReason)
			}
		})
	}
	t.Run("missing headers", func(t *testing.T) {
		if code, a := post(map[string]string{"X-GitHub-Event": "push"}, pr); code != 400 && code != 401 {
			t.Fatalf("got %d %+v, want 400 or 401", code, a)
		}
	})
	t.Run("body over 25 MiB with a content length", func(t *testing.T) {
		big := bytes.Repeat([]byte(" "), 26<<20)
		code, a := app.sendGitHub(t, "push", "big-1", big, testSecret)
		if code != 413 || a.Error.Code != "too_large" {
			t.Fatalf("got %d %+v, want 413 too_large", code, a)
		}
	})
	t.Run("body over 25 MiB streamed without a length", func(t *testing.T) {
		big := bytes.Repeat([]byte(" "), 26<<20)
		req, _ := http.NewRequest(http.MethodPost, app.url+"/webhooks/github", io.MultiReader(bytes.NewReader(big)))
		req.ContentLength = -1
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("X-GitHub-Delivery", "big-2")
		req.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
		if code, _ := do(t, req); code != 413 {
			t.Fatalf("got %d, want 413", code)
		}
	})
	t.Run("GET is not allowed", func(t *testing.T) {
		resp, err := http.Get(app.url + "/webhooks/github")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("got %d, want 405", resp.StatusCode)
		}
	})
	var deliveries struct{ Deliveries []patchgate.Delivery }
	app.api(t, http.MethodGet, "/api/v1/deliveries?outcome=ignored", nil, &deliveries)
	if len(deliveries.Deliveries) != 3 {
		t.Fatalf("got %d ignored deliveries stored, want 3 (star, ping, unknown repository)", len(deliveries.Deliveries))
	}
}
