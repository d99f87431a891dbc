package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// testReports drives a small story through the real services — an issue and
// a Jira-style ticket fixed by one pull request, promoted as v1.0; the issue
// reopened and a new issue calling itself a "regression of v1.0"; a second
// pull request promoted as v1.1 fixing both — and checks the report's
// evidence as read from the tables, the reports computed from it, and that
// the audit log alone rebuilds evidence giving the same reports.
func testReports(t *testing.T, migrated func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db := migrated(t)
	tickets, changes, links := store.NewTicketService(db), store.NewChangeService(db), store.NewLinkService(db)
	releases, reports := store.NewReleaseService(db), store.NewReportService(db)
	fail := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	issueAt := db.Now()
	issue, err := tickets.ApplyIssueUpdate(ctx, patchgate.IssueUpdate{Tracker: patchgate.TrackerGitHub, Repo: "acme/payments",
		Number: 45, Title: "Totals rounded down", State: "open", Labels: []string{"severity:critical"},
		CreatedAt: issueAt, UpdatedAt: issueAt})
	fail("issue #45", err)
	pay, err := tickets.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-7", Severity: patchgate.SeverityHigh})
	fail("PAY-7", err)
	pr1 := prLifecycle(1)
	var change1 *patchgate.Change
	for _, u := range pr1 {
		change1, _, err = changes.ApplyChangeUpdate(ctx, u)
		fail("pull request 1", err)
	}
	for _, tk := range []*patchgate.Ticket{issue, pay} {
		fail("link "+tk.Key, links.CreateManualLink(ctx, &patchgate.Link{TicketID: tk.ID, ChangeID: change1.ID, CreatedBy: "alice"}))
	}
	promote := func(name, commit string, items ...*patchgate.CandidateItem) {
		t.Helper()
		c := mustCreateCandidate(t, releases, newCandidate("acme/payments", name, commit, items...))
		_, err := releases.BeginPromotion(ctx, c.ID, "carol", 0)
		fail("begin promotion of "+name, err)
		fail("finish promotion of "+name, releases.FinishPromotion(ctx, c.ID, "https://github.com/acme/payments/releases/"+name))
	}
	promote("v1.0", "R1", &patchgate.CandidateItem{ChangeID: change1.ID, TicketID: issue.ID},
		&patchgate.CandidateItem{ChangeID: change1.ID, TicketID: pay.ID})

	reopenAt := db.Now()
	_, err = tickets.ApplyIssueUpdate(ctx, patchgate.IssueUpdate{Tracker: patchgate.TrackerGitHub, Repo: "acme/payments",
		Number: 45, Title: "Totals rounded down", State: "open", Labels: []string{"severity:critical"},
		CreatedAt: issueAt, UpdatedAt: reopenAt, Reopened: true})
	fail("reopen #45", err)
	_, err = tickets.ReconcileTicket(ctx, issue.ID)
	fail("reconcile #45", err)
	regressionAt := db.Now()
	regression, err := tickets.ApplyIssueUpdate(ctx, patchgate.IssueUpdate{Tracker: patchgate.TrackerGitHub, Repo: "acme/payments",
		Number: 46, Title: "Refunds fail, regression of v1.0", State: "open", Labels: []string{"severity:high"},
		CreatedAt: regressionAt, UpdatedAt: regressionAt})
	fail("issue #46", err)

	var change2 *patchgate.Change
	for _, u := range prLifecycle(2) {
		change2, _, err = changes.ApplyChangeUpdate(ctx, u)
		fail("pull request 2", err)
	}
	for _, tk := range []*patchgate.Ticket{issue, regression} {
		fail("link "+tk.Key, links.CreateManualLink(ctx, &patchgate.Link{TicketID: tk.ID, ChangeID: change2.ID, CreatedBy: "bob"}))
	}
	// An unlinked mention is no fix: it must not count, from the tables or the log.
	fail("unlink", links.DeleteLinks(ctx, regression.ID, change2.ID, "bob"))
	fail("relink", links.CreateManualLink(ctx, &patchgate.Link{TicketID: regression.ID, ChangeID: change2.ID, CreatedBy: "bob"}))
	promote("v1.1", "R2", &patchgate.CandidateItem{ChangeID: change2.ID, TicketID: issue.ID},
		&patchgate.CandidateItem{ChangeID: change2.ID, TicketID: regression.ID})
	end := db.Now()

	period := patchgate.ReportPeriod{From: issueAt.Truncate(24 * time.Hour), To: issueAt.Truncate(24 * time.Hour).Add(48 * time.Hour)}
	in, err := reports.ReportInput(ctx, period)
	fail("ReportInput", err)
	if len(in.Tickets) != 3 || len(in.Releases) != 2 || len(in.FixLinks) != 4 {
		t.Fatalf("evidence: %d tickets, %d promotions, %d fix links; want 3, 2 and 4", len(in.Tickets), len(in.Releases), len(in.FixLinks))
	}
	if r := in.Releases[0]; r.Name != "v1.0" || r.Repo != "acme/payments" || len(r.Items) != 2 || r.PromotedAt.IsZero() {
		t.Errorf("first promotion = %+v, want v1.0 of acme/payments with 2 items", r)
	}
	if in.FixLinks[0].Repo != "acme/payments" || in.FixLinks[0].TicketID != issue.ID {
		t.Errorf("first fix link = %+v, want #45 in acme/payments", in.FixLinks[0])
	}
	if _, err := reports.ReportInput(ctx, patchgate.ReportPeriod{From: period.To, To: period.From}); patchgate.ErrorCode(err) != patchgate.EINVALID {
		t.Errorf("reversed period: %v, want invalid", err)
	}

	policy := func(*patchgate.Ticket) patchgate.SLAPolicy { return patchgate.DefaultSLAPolicy() }
	now := end.Add(time.Hour)
	sla := patchgate.ComputeSLAReport(in, period, patchgate.ReportFilter{}, now, policy)
	// #45 restarted its clock at the reopen and was released again by v1.1;
	// PAY-7 released by v1.0; #46 released by v1.1: all within minutes.
	if o := sla.Overall; o.Opened != 3 || o.Met != 3 || o.Compliance.Percent != 100 {
		t.Errorf("SLA overall = %+v, want 3 opened, 3 met", o)
	}
	delivery := patchgate.ComputeDeliveryReport(in, period, patchgate.ReportFilter{}, now, "")
	if r := delivery.Overall.ChangeFailureRate; r.Numerator != 1 || r.Denominator != 2 || !reflect.DeepEqual(r.Items, []string{"acme/payments v1.0"}) {
		t.Errorf("change failure rate = %+v, want 1/2 naming v1.0", r)
	}
	if len(delivery.Failures) != 2 || delivery.Failures[0].Kind != patchgate.FailureReopened || delivery.Failures[1].Kind != patchgate.FailureRegression ||
		delivery.Failures[0].RestoredBy != "v1.1" || delivery.Failures[1].RestoredBy != "v1.1" {
		t.Errorf("failures = %+v, want the reopen of #45 and the regression #46, both restored by v1.1", delivery.Failures)
	}
	if s := delivery.Overall.TimeToRestore; s.Count != 2 || s.MedianSeconds <= 0 {
		t.Errorf("time to restore = %+v, want 2 positive restores", s)
	}

	entries, err := store.NewAuditService(db).FindAudit(ctx, patchgate.AuditFilter{Limit: 10000})
	fail("FindAudit", err)
	var log []patchgate.AuditEntry
	for _, e := range entries {
		log = append(log, *e)
	}
	fromLog, err := patchgate.ReportInputFromAudit(log)
	fail("ReportInputFromAudit", err)
	if got, want := patchgate.ComputeSLAReport(fromLog, period, patchgate.ReportFilter{}, now, policy), sla; !reflect.DeepEqual(got, want) {
		t.Errorf("SLA report from the audit log differs from the tables':\n log    %+v\n tables %+v", got, want)
	}
	if got, want := patchgate.ComputeDeliveryReport(fromLog, period, patchgate.ReportFilter{}, now, ""), delivery; !reflect.DeepEqual(got, want) {
		t.Errorf("delivery report from the audit log differs from the tables':\n log    %+v\n tables %+v", got, want)
	}
	if _, err := store.NewAuditService(db).VerifyAudit(ctx); err != nil {
		t.Errorf("VerifyAudit after the story: %v", err)
	}

	// A ticket written before the record existed (here by hand, as an old
	// release wrote it) is recorded the first time it is reconciled.
	old := db.Now()
	if _, err := db.SQL().ExecContext(ctx, `INSERT INTO tickets (tracker, key, repo, number, title, url, forge_state, labels,
		severity, state, author, opened_at, created_at, updated_at) VALUES ('external', 'OLD-1', '', 0, 'From before', '', '', '[]',
		'low', 'open', '', $1, $1, $1)`, old.Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}
	oldTicket, err := tickets.FindTicket(ctx, patchgate.TrackerExternal, "OLD-1")
	fail("find OLD-1", err)
	recorded := func() int {
		es, err := store.NewAuditService(db).FindAudit(ctx, patchgate.AuditFilter{Subject: ptr("ticket:OLD-1"), Action: ptr(patchgate.AuditTicketRecorded)})
		fail("FindAudit", err)
		return len(es)
	}
	if n := recorded(); n != 0 {
		t.Fatalf("OLD-1 recorded %d times before it was touched, want 0", n)
	}
	_, err = tickets.ReconcileTicket(ctx, oldTicket.ID)
	fail("reconcile OLD-1", err)
	_, err = tickets.ReconcileTicket(ctx, oldTicket.ID)
	fail("reconcile OLD-1 again", err)
	if n := recorded(); n != 1 {
		t.Errorf("OLD-1 recorded %d times after two reconciliations, want once", n)
	}
}
