package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/usecase/reporting"
)

// TestReportsAPI serves the SLA and delivery reports through real HTTP on a
// real SQLite store: an issue fixed and promoted, then reopened; the numbers
// come back with their drill-down, filters narrow them, and bad parameters
// are 400s that say what is wrong.
func TestReportsAPI(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t)
	ts.srv.Reports = &reporting.Reports{Evidence: store.NewReportService(ts.db),
		Policy: func(*patchgate.Ticket) patchgate.SLAPolicy { return patchgate.DefaultSLAPolicy() }}

	ts.tickets.DefaultLevel = patchgate.NewRepositoryDirectory(nil).DefaultSupportLevel
	opened := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)
	issue, err := ts.tickets.ApplyIssueUpdate(ctx, patchgate.IssueUpdate{Tracker: patchgate.TrackerGitHub, Repo: "acme/payments",
		Number: 45, Title: "Totals rounded down", State: "open", Labels: []string{"severity:critical"}, CreatedAt: opened, UpdatedAt: opened})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.tickets.ApplyIssueUpdate(ctx, patchgate.IssueUpdate{Tracker: patchgate.TrackerGitHub, Repo: "acme/web",
		Number: 3, Title: "Typo", State: "open", Labels: []string{"severity:low", "support:L3"}, CreatedAt: opened, UpdatedAt: opened}); err != nil {
		t.Fatal(err)
	}
	change, _, err := store.NewChangeService(ts.db).ApplyChangeUpdate(ctx, patchgate.ChangeUpdate{Forge: patchgate.GitHub,
		Repo: "acme/payments", Kind: patchgate.ChangePullRequest, Number: 1, Title: "fix", HeadSHA: strings.Repeat("a", 40),
		TargetBranch: "main", State: patchgate.ChangeMerged, MergeCommitSHA: strings.Repeat("b", 40), UpdatedAt: opened})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.NewLinkService(ts.db).CreateManualLink(ctx, &patchgate.Link{TicketID: issue.ID, ChangeID: change.ID, CreatedBy: "alice"}); err != nil {
		t.Fatal(err)
	}
	rel := store.NewReleaseService(ts.db)
	c := &patchgate.Candidate{Forge: patchgate.GitHub, Repo: "acme/payments", Branch: "main", SHA: strings.Repeat("c", 40), Name: "v1.0",
		CreatedBy: "alice", Items: []*patchgate.CandidateItem{{ChangeID: change.ID, TicketID: issue.ID}}}
	if err := rel.CreateCandidate(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := rel.BeginPromotion(ctx, c.ID, "carol", 0); err != nil {
		t.Fatal(err)
	}
	if err := rel.FinishPromotion(ctx, c.ID, ""); err != nil {
		t.Fatal(err)
	}
	reopen := time.Now().UTC().Add(time.Second)
	if _, err := ts.tickets.ApplyIssueUpdate(ctx, patchgate.IssueUpdate{Tracker: patchgate.TrackerGitHub, Repo: "acme/payments",
		Number: 45, Title: "Totals rounded down", State: "open", Labels: []string{"severity:critical"}, CreatedAt: opened,
		UpdatedAt: reopen, Reopened: true}); err != nil {
		t.Fatal(err)
	}

	var sla patchgate.SLAReport
	ts.get(t, "/api/v1/reports/sla", http.StatusOK, &sla)
	// Both tickets opened two days ago, inside the default 28 days; the
	// reopen lies after the report's moment and does not count yet.
	if sla.Overall.Opened != 2 || len(sla.Tickets) != 2 || sla.Period.To.Sub(sla.Period.From) != 28*24*time.Hour {
		t.Fatalf("default SLA report: %+v over %s, want 2 tickets over 28 days", sla.Overall, sla.Period.To.Sub(sla.Period.From))
	}
	var low patchgate.SLAReport
	ts.get(t, "/api/v1/reports/sla?severity=low&repo=acme/web", http.StatusOK, &low)
	if low.Overall.Opened != 1 || low.Tickets[0].Key != "acme/web#3" || low.Overall.NoSLA != 0 {
		t.Errorf("severity=low&repo=acme/web: %+v %+v, want acme/web#3 alone, with an SLA", low.Overall, low.Tickets)
	}

	var l3 patchgate.SLAReport
	ts.get(t, "/api/v1/reports/sla?level=L3", http.StatusOK, &l3)
	if l3.Overall.Opened != 1 || l3.Tickets[0].Key != "acme/web#3" || l3.Tickets[0].SupportLevel != patchgate.SupportL3 || l3.Filter.Level != patchgate.SupportL3 {
		t.Errorf("level=L3: %+v %+v, want acme/web#3 alone, at L3", l3.Overall, l3.Tickets)
	}

	var delivery patchgate.DeliveryReport
	ts.get(t, "/api/v1/reports/delivery?from="+opened.Format(time.DateOnly), http.StatusOK, &delivery)
	if delivery.Overall.Promotions != 1 || len(delivery.Promotions) != 1 || delivery.Promotions[0].Name != "v1.0" {
		t.Fatalf("delivery: %+v, want the one promotion v1.0", delivery)
	}
	if delivery.Overall.LeadTimeForChanges.Count != 1 {
		t.Errorf("lead time for changes = %+v, want one (the fix link to v1.0)", delivery.Overall.LeadTimeForChanges)
	}

	for _, tc := range []struct{ query, want string }{
		{"from=yesterday", "query from"},
		{"from=2026-12-01&to=2026-11-01", "must be before"},
		{"from=2000-01-01&to=2026-01-01", "five years"},
		{"severity=urgent", "unknown severity"},
		{"level=L7", "unknown support level"},
		{"repo=../etc", "repo"},
	} {
		for _, path := range []string{"/api/v1/reports/sla?", "/api/v1/reports/delivery?"} {
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			ts.get(t, path+tc.query, http.StatusBadRequest, &e)
			if e.Error.Code != patchgate.EINVALID || !strings.Contains(e.Error.Message, tc.want) {
				t.Errorf("%s%s: %+v, want invalid saying %q", path, tc.query, e.Error, tc.want)
			}
		}
	}
}
