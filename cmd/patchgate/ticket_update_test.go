package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// TestTicketSetFromHelpdesk: a helpdesk's token (role tracker) tells patchgate
// a key ticket's title, severity and opening time with `patchgate ticket set`,
// so its SLA clock runs; the change is audited under the token's name; a
// viewer may not; and closing then opening the ticket again after its fix
// landed makes it reopened.
func TestTicketSetFromHelpdesk(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Repos[0].TicketKeys = []string{"PAY"}
	})
	helpdesk := app.createToken(t, "servicenow", patchgate.RoleTracker)
	cli := func(token string, args ...string) (string, error) {
		return execCLI(append(args, "--server", app.url, "--token", token)...)
	}
	opened := time.Now().Add(-7 * time.Hour).UTC().Truncate(time.Second)
	out, err := cli(helpdesk, "ticket", "set", "PAY-12", "--severity", "critical", "--title", "Refunds round down",
		"--opened", opened.Format(time.RFC3339), "--url", "https://acme.service-now.com/PAY-12")
	if err != nil || !strings.Contains(out, "PAY-12 Refunds round down: severity critical") || !strings.Contains(out, "SLA at_risk") {
		t.Fatalf("ticket set: got %q, %v; want PAY-12 critical, at risk (7h of 8h to verify)", out, err)
	}
	v := app.ticket(t, "PAY-12").Ticket
	if v.Severity != patchgate.SeverityCritical || !v.OpenedAt.Equal(opened) || v.URL != "https://acme.service-now.com/PAY-12" {
		t.Fatalf("got %+v, want critical, opened %s", v, opened)
	}

	viewer := app.createToken(t, "reader", patchgate.RoleViewer)
	if _, err := cli(viewer, "ticket", "set", "PAY-12", "--severity", "low"); patchgate.ErrorCode(err) != patchgate.EFORBIDDEN {
		t.Fatalf("a viewer setting a ticket: got %v, want forbidden", err)
	}
	if _, err := cli(helpdesk, "ticket", "set", "PAY-12", "--severity", "dire"); patchgate.ErrorCode(err) != patchgate.EINVALID {
		t.Fatalf("an unknown severity: got %v, want invalid", err)
	}
	var audit struct{ Entries []patchgate.AuditEntry }
	app.api(t, http.MethodGet, "/api/v1/audit?action=ticket.updated", nil, &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].Actor != "servicenow" || audit.Entries[0].Detail["severity"] != "critical" {
		t.Fatalf("audit: got %+v, want one ticket.updated by servicenow", audit.Entries)
	}

	// A direct push to main fixes it and passes: the fix landed.
	sha := strings.Repeat("c", 40)
	app.sendGitHub(t, "push", "push-fix", fixture(t, "github/push/none.api.github.com.5.json", func(p map[string]any) {
		p["ref"], p["after"] = "refs/heads/main", sha
		commit := p["commits"].([]any)[0].(map[string]any)
		commit["id"], commit["message"] = sha, "Round refunds half-even\n\nFixes PAY-12"
		obj(p, "head_commit")["id"] = sha
	}), testSecret)
	app.waitProcessed(t)
	app.pass(t, sha)
	if got := app.ticket(t, "PAY-12").Ticket.State; got != patchgate.TicketFixMerged {
		t.Fatalf("after the fix landed: got %s, want fix_merged", got)
	}
	// The customer says it still happens: the helpdesk closed it, then opens it again.
	for _, state := range []string{"closed", "open"} {
		if _, err := cli(helpdesk, "ticket", "set", "PAY-12", "--state", state); err != nil {
			t.Fatalf("ticket set --state %s: %v", state, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	got := app.ticket(t, "PAY-12").Ticket
	if got.State != patchgate.TicketReopened || got.ReopenedAt.IsZero() || !got.OpenedAt.Equal(got.ReopenedAt) {
		t.Fatalf("after closed then open: got state %s reopened %s opened %s, want reopened with the clock restarted", got.State, got.ReopenedAt, got.OpenedAt)
	}
}
