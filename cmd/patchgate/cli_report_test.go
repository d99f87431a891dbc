package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// reportStory records, on app's database, what the reports count: a
// critical issue of testRepo opened 30 hours ago and fixed by a merged pull
// request promoted as v1.0 (late: 8h and 24h are the critical verify and
// release targets, so it is 22h and 6h late), and a
// low issue still open, plus a ticket blaming v1.0 ("regression of v1.0").
func reportStory(t *testing.T, app *testApp) {
	t.Helper()
	ctx := context.Background()
	db := app.main.DB
	tickets := store.NewTicketService(db)
	opened := time.Now().UTC().Add(-30 * time.Hour).Truncate(time.Second)
	issue := func(n int, title, label string, at time.Time) *patchgate.Ticket {
		tk, err := tickets.ApplyIssueUpdate(ctx, patchgate.IssueUpdate{Tracker: patchgate.TrackerGitHub, Repo: testRepo, Number: n,
			Title: title, State: "open", Labels: []string{label}, CreatedAt: at, UpdatedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	crit := issue(101, "Totals rounded down", "severity:critical", opened)
	issue(102, "Typo in footer", "severity:low", opened)
	change, _, err := store.NewChangeService(db).ApplyChangeUpdate(ctx, patchgate.ChangeUpdate{Forge: patchgate.GitHub, Repo: testRepo,
		Kind: patchgate.ChangePullRequest, Number: 201, Title: "fix totals", HeadSHA: strings.Repeat("a", 40), TargetBranch: "main",
		State: patchgate.ChangeMerged, MergeCommitSHA: strings.Repeat("b", 40), UpdatedAt: opened})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.NewLinkService(db).CreateManualLink(ctx, &patchgate.Link{TicketID: crit.ID, ChangeID: change.ID, CreatedBy: "alice"}); err != nil {
		t.Fatal(err)
	}
	rel := store.NewReleaseService(db)
	c := &patchgate.Candidate{Forge: patchgate.GitHub, Repo: testRepo, Branch: "main", SHA: strings.Repeat("c", 40), Name: "v1.0",
		CreatedBy: "alice", Items: []*patchgate.CandidateItem{{ChangeID: change.ID, TicketID: crit.ID}}}
	if err := rel.CreateCandidate(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := rel.BeginPromotion(ctx, c.ID, "carol", 0); err != nil {
		t.Fatal(err)
	}
	if err := rel.FinishPromotion(ctx, c.ID, ""); err != nil {
		t.Fatal(err)
	}
	issue(103, "Refunds fail, regression of v1.0", "severity:high", time.Now().UTC())
}

// TestReportCommands: `patchgate report sla|delivery` print the reports as a
// table for people, the API's JSON with --json and one CSV row per group with
// --csv; a bad date is the API's 400, naming the parameter.
func TestReportCommands(t *testing.T) {
	app := startApp(t, nil)
	reportStory(t, app)
	viewer := app.createToken(t, "viewer", patchgate.RoleViewer)
	cli := func(args ...string) string {
		t.Helper()
		out, err := execCLI(append(args, "--server", app.url, "--token", viewer)...)
		if err != nil {
			t.Fatalf("%s: %v", strings.Join(args, " "), err)
		}
		return out
	}

	out := cli("report", "sla")
	for _, want := range []string{"SLA report:", "GROUP", "overall", "severity=critical", "repo=" + testRepo,
		"0/1 (0.0%)", "2 breaches:", "Codertocat/Hello-World#101", "verify", "22h 0m", "release", "6h 0m"} {
		if !strings.Contains(out, want) {
			t.Errorf("report sla: got\n%s\nwant it to contain %q", out, want)
		}
	}
	var sla patchgate.SLAReport
	if err := json.Unmarshal([]byte(cli("report", "sla", "--json", "--severity", "critical")), &sla); err != nil {
		t.Fatalf("report sla --json: %v", err)
	}
	if sla.Overall.Opened != 1 || sla.Overall.Breached != 1 || len(sla.Breaches) != 2 || sla.Breaches[0].Phase != patchgate.SLAPhaseRelease || sla.Breaches[0].LateSeconds/60 != 6*60 {
		t.Errorf("report sla --json --severity critical: %+v %+v, want the release late 6h, then the verification", sla.Overall, sla.Breaches)
	}
	rows, err := csv.NewReader(strings.NewReader(cli("report", "sla", "--csv"))).ReadAll()
	if err != nil {
		t.Fatalf("report sla --csv: %v", err)
	}
	// Header, overall, then severity critical/high/low, the repository, the
	// tracker, the support level (none: these tickets were stored without one).
	if len(rows) != 8 || rows[0][0] != "dimension" || rows[1][0] != "overall" || rows[1][2] != "3" || rows[2][1] != "critical" ||
		rows[7][0] != "level" || rows[7][1] != "none" || rows[7][2] != "3" {
		t.Errorf("report sla --csv: got %q", rows)
	}

	out = cli("report", "delivery")
	for _, want := range []string{"Delivery report:", "PROMOTIONS", "overall", testRepo, "1/1 (100.0%)", "1 failures:", "regression",
		"Codertocat/Hello-World#103", "not yet"} {
		if !strings.Contains(out, want) {
			t.Errorf("report delivery: got\n%s\nwant it to contain %q", out, want)
		}
	}
	rows, err = csv.NewReader(strings.NewReader(cli("report", "delivery", "--csv", "--repo", testRepo))).ReadAll()
	if err != nil {
		t.Fatalf("report delivery --csv: %v", err)
	}
	if len(rows) != 3 || rows[1][0] != "overall" || rows[1][1] != "1" || rows[2][0] != testRepo || rows[2][10] != "1" {
		t.Errorf("report delivery --csv: got %q, want overall and %s with 1 promotion, 1 failed", rows, testRepo)
	}
	var delivery patchgate.DeliveryReport
	if err := json.Unmarshal([]byte(cli("report", "delivery", "--json")), &delivery); err != nil || len(delivery.Promotions) != 1 ||
		!delivery.Promotions[0].Failed {
		t.Errorf("report delivery --json: %+v, %v; want v1.0, failed", delivery.Promotions, err)
	}

	_, err = execCLI("report", "sla", "--from", "last-week", "--server", app.url, "--token", viewer)
	if patchgate.ErrorCode(err) != patchgate.EINVALID || !strings.Contains(err.Error(), "query from") {
		t.Errorf("report sla --from last-week: %v, want invalid naming the from parameter", err)
	}
}
