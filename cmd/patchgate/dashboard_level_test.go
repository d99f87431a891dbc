package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// TestDashboardSupportLevels: in the browser, the tickets page filters on
// the support level and shows it; an escalated ticket's page shows its level
// and its escalation to the supplier; both fit a 360 px screen.
func TestDashboardSupportLevels(t *testing.T) {
	ctx := newTab(t)
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Repos[0].TicketKeys = []string{"PAY"}
		c.Repos[0].SupportLevel, c.Repos[0].Supplier, c.Repos[0].Contract = "L3", "Acme Maintenance GmbH", "MC-2026-17"
	})
	cli := func(args ...string) {
		t.Helper()
		if out, err := execCLI(append(args, "--server", app.url, "--token", app.token)...); err != nil {
			t.Fatalf("%v: %s %v", args, out, err)
		}
	}
	opened := time.Now().Add(-9 * time.Hour).UTC().Format(time.RFC3339)
	cli("ticket", "set", "PAY-21", "--severity", "critical", "--title", "Refunds round down", "--opened", opened)
	cli("ticket", "set", "PAY-22", "--title", "Typo", "--level", "L1")
	tk, err := store.NewTicketService(app.main.DB).FindTicket(context.Background(), patchgate.TrackerExternal, "PAY-21")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.NewEscalationService(app.main.DB).RecordEscalations(context.Background(), []*patchgate.Escalation{{
		TicketID: tk.ID, Ticket: tk.Key, OpenedAt: tk.OpenedAt, Phase: patchgate.SLAPhaseVerify, Cause: patchgate.SLABreached,
		From: patchgate.SupportL3, To: patchgate.SupportL4, Deadline: tk.OpenedAt.Add(8 * time.Hour), Repo: testRepo,
		Supplier: "Acme Maintenance GmbH", Contract: "MC-2026-17"}}, nil); err != nil {
		t.Fatal(err)
	}

	signIn(t, ctx, app.url, app.token)
	run(t, ctx, "tickets at L4", chromedp.Navigate(app.url+"/ui/tickets?level=L4"), chromedp.WaitVisible(chromedp.ID("tickets")))
	if n := count(t, ctx, "#tickets tbody tr"); n != 1 {
		t.Fatalf("tickets at L4: got %d rows, want PAY-21 alone", n)
	}
	if row := text(t, ctx, "#tickets tbody tr"); !strings.Contains(row, "PAY-21") || !strings.Contains(row, "L4") {
		t.Errorf("L4 row: got %q", row)
	}
	if got := eval[string](t, ctx, `document.querySelector("#f-level").value`); got != "L4" {
		t.Errorf("level filter shows %q, want L4 selected", got)
	}
	run(t, ctx, "ticket", chromedp.Click(chromedp.CSS("#tickets tbody a")), chromedp.WaitVisible(chromedp.ID("escalations")))
	if got := text(t, ctx, "#ticket-level"); got != "L4 outside supplier" {
		t.Errorf("level: got %q", got)
	}
	if got := text(t, ctx, "#escalations"); !strings.Contains(got, "L3 → L4 outside supplier, verify deadline breached") ||
		!strings.Contains(got, "supplier Acme Maintenance GmbH, contract MC-2026-17") {
		t.Errorf("escalations: got %q", got)
	}
	screenshot(t, ctx, "ticket-escalated")
	checkNarrow(t, ctx, app.url+"/ui/tickets", "")
	checkNarrow(t, ctx, fmt.Sprintf("%s/ui/tickets/%d", app.url, tk.ID), "ticket-escalated-360px")
}
