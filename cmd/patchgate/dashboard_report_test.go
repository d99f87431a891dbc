package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/patchgate/patchgate"
)

// TestDashboardReports: a viewer opens the SLA and delivery reports in the
// browser; the numbers, the breaches and the failure behind them show, the
// charts are server-drawn SVG with a title and a description and text on
// their bars, no script runs on the pages, a bad date says what is wrong,
// and neither page scrolls sideways at 360 px.
func TestDashboardReports(t *testing.T) {
	app := startApp(t, nil)
	reportStory(t, app)
	viewer := app.createToken(t, "viewer", patchgate.RoleViewer)
	ctx := newTab(t)
	signIn(t, ctx, app.url, viewer)

	run(t, ctx, "SLA report", chromedp.Navigate(app.url+"/ui/reports/sla"), chromedp.WaitVisible(chromedp.ID("sla-summary")))
	if got := text(t, ctx, "#sla-opened"); got != "3" {
		t.Errorf("tickets opened: got %q, want 3", got)
	}
	if got := text(t, ctx, "#sla-compliance"); !strings.Contains(got, "0 of 1 (0.0%)") {
		t.Errorf("compliance: got %q, want 0 of 1 with its numerator and denominator", got)
	}
	if n := count(t, ctx, "#sla-breaches tbody tr"); n != 2 {
		t.Errorf("breaches: got %d rows, want the verification and the release of #101", n)
	}
	if got := text(t, ctx, "#sla-breaches tbody tr"); !strings.Contains(got, "#101") || !strings.Contains(got, "6h 0m") {
		t.Errorf("first breach: got %q, want #101's release, 6h late", got)
	}
	if got := text(t, ctx, "#chart-breaches-title"); got != "Breaches per week" {
		t.Errorf("chart title: got %q", got)
	}
	if got := eval[string](t, ctx, `document.getElementById("chart-breaches-desc").textContent`); !strings.Contains(got, "2 SLA breaches in 4 weeks") {
		t.Errorf("chart description: got %q, want the count in words", got)
	}
	if got := eval[string](t, ctx, `document.getElementById("chart-breaches").getAttribute("role")`); got != "img" {
		t.Errorf("chart role: got %q, want img", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("script").length`); n != 0 {
		t.Errorf("scripts on the SLA report: got %d, want none", n)
	}
	checkNarrow(t, ctx, app.url+"/ui/reports/sla", "report-sla")

	run(t, ctx, "delivery report", chromedp.Click(chromedp.CSS(`main a[href^="/ui/reports/delivery"]`)),
		chromedp.WaitVisible(chromedp.ID("delivery-summary")))
	if got := text(t, ctx, "#delivery-cfr"); !strings.Contains(got, "1 of 1 (100.0%)") {
		t.Errorf("change failure rate: got %q, want 1 of 1", got)
	}
	if got := text(t, ctx, "#delivery-failures tbody tr"); !strings.Contains(got, "v1.0") || !strings.Contains(got, "regression") ||
		!strings.Contains(got, "#103") || !strings.Contains(got, "not yet") {
		t.Errorf("failure: got %q, want v1.0 blamed by #103, not yet restored", got)
	}
	// Four weeks of promotions, the last with v1.0's bar and its value.
	if n := count(t, ctx, "#chart-promotions g.bar"); n != 4 {
		t.Errorf("promotion bars: got %d, want 4 weeks", n)
	}
	if got := eval[string](t, ctx, `Array.from(document.querySelectorAll("#chart-promotions text.value")).map(e => e.textContent).join(",")`); got != "0,0,0,1" {
		t.Errorf("promotions per week: got %q, want 0,0,0,1", got)
	}
	if n := count(t, ctx, "#chart-lead-time g.bar"); n != 7 {
		t.Errorf("lead-time bins: got %d, want 7", n)
	}
	checkNarrow(t, ctx, app.url+"/ui/reports/delivery", "report-delivery")

	run(t, ctx, "bad date", chromedp.Navigate(app.url+"/ui/reports/delivery?from=last-week"), chromedp.WaitVisible(chromedp.ID("error")))
	if got := text(t, ctx, "#error"); !strings.Contains(got, "query from") {
		t.Errorf("bad date: got %q, want the from parameter named", got)
	}
}
