package patchgate_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// TestReportInputFromAudit rebuilds evidence from entries as the store
// writes them: the latest ticket.recorded wins, a renamed candidate is
// promoted under its new name, a candidate never promoted is no release, a
// removed fixes link is gone while a relates link never counts, and a
// malformed entry is an error naming its seq.
func TestReportInputFromAudit(t *testing.T) {
	at := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	tk := &patchgate.Ticket{ID: 4, Tracker: patchgate.TrackerGitHub, Key: "acme/pay#9", Repo: "acme/pay", Number: 9,
		Title: "Totals", Labels: []string{"severity:high", "regression:v1"}, Severity: patchgate.SeverityHigh,
		OpenedAt: at, CreatedAt: at}
	first := patchgate.AuditTicketRecord(&patchgate.Ticket{ID: 4, Tracker: patchgate.TrackerGitHub, Key: "acme/pay#9", Number: 9, OpenedAt: at})
	link := func(action, kind, source string, minutes int) patchgate.AuditEntry {
		return patchgate.AuditEntry{Action: action, Subject: "ticket:acme/pay#9 change:7", Detail: map[string]string{"kind": kind,
			"source": source, "ticket_id": "4", "repo": "acme/pay", "at": patchgate.AuditTime(at.Add(time.Duration(minutes) * time.Minute))}}
	}
	entries := []patchgate.AuditEntry{
		{Seq: 1, Action: patchgate.AuditTicketRecorded, Subject: "ticket:acme/pay#9", Detail: first},
		{Seq: 2, Action: patchgate.AuditTicketRecorded, Subject: "ticket:acme/pay#9", Detail: patchgate.AuditTicketRecord(tk)},
		link(patchgate.AuditLinkCreated, "fixes", "title", 1),
		link(patchgate.AuditLinkCreated, "fixes", "body", 2),
		link(patchgate.AuditLinkCreated, "relates", "branch", 3),
		link(patchgate.AuditLinkRemoved, "fixes", "title", 1),
		{Action: patchgate.AuditCandidateCreated, Subject: "candidate:5", Detail: map[string]string{"items": "7/4,8/0", "repo": "github:acme/pay", "name": "auto-1"}},
		{Action: patchgate.AuditCandidateRenamed, Subject: "candidate:5", Detail: map[string]string{"from": "auto-1", "name": "v1", "repo": "github:acme/pay"}},
		{Action: patchgate.AuditCandidateCreated, Subject: "candidate:6", Detail: map[string]string{"items": "", "repo": "github:acme/pay", "name": "v2"}},
		{Action: patchgate.AuditReleasePromoted, Subject: "candidate:5", Detail: map[string]string{"name": "v1", "repo": "github:acme/pay",
			"promoted_at": patchgate.AuditTime(at.Add(time.Hour))}},
	}
	in, err := patchgate.ReportInputFromAudit(entries)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Tickets) != 1 || !reflect.DeepEqual(in.Tickets[0], tk) {
		t.Errorf("tickets = %+v, want the latest record %+v", in.Tickets, tk)
	}
	want := []patchgate.ReportRelease{{ID: 5, Repo: "acme/pay", Name: "v1", PromotedAt: at.Add(time.Hour),
		Items: []patchgate.ReportItem{{ChangeID: 7, TicketID: 4}, {ChangeID: 8}}}}
	if !reflect.DeepEqual(in.Releases, want) {
		t.Errorf("releases = %+v, want %+v", in.Releases, want)
	}
	if len(in.FixLinks) != 1 || !in.FixLinks[0].At.Equal(at.Add(2*time.Minute)) || in.FixLinks[0].ChangeID != 7 || in.FixLinks[0].Repo != "acme/pay" {
		t.Errorf("fix links = %+v, want the body link alone", in.FixLinks)
	}

	bad := []patchgate.AuditEntry{{Seq: 9, Action: patchgate.AuditCandidateCreated, Subject: "candidate:1", Detail: map[string]string{"items": "x"}}}
	if _, err := patchgate.ReportInputFromAudit(bad); err == nil || !strings.Contains(err.Error(), "audit entry 9") {
		t.Errorf("malformed items: %v, want an error naming entry 9", err)
	}
}
