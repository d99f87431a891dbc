package patchgate_test

import (
	"testing"

	"github.com/patchgate/patchgate"
)

// TestSLAReportByLevel: the SLA report counts each ticket under the support
// level it is at ("none" before levels) and ?level= keeps one level's.
func TestSLAReportByLevel(t *testing.T) {
	in := slaInput()
	for _, tk := range in.Tickets {
		switch tk.ID {
		case 1:
			tk.SupportLevel = patchgate.SupportL1 // met
		case 2, 3:
			tk.SupportLevel = patchgate.SupportL2 // released late; verified, release-by passed
		}
	}
	rep := patchgate.ComputeSLAReport(in, november, patchgate.ReportFilter{}, afterNovember, defaultPolicy)
	groups := map[string]patchgate.SLAGroup{}
	for _, g := range rep.Groups {
		if g.Dimension == patchgate.SLADimensionLevel {
			groups[g.Value] = g
		}
	}
	if g := groups["L1"]; g.Opened != 1 || g.Met != 1 {
		t.Errorf("L1: %+v, want 1 opened, met", g)
	}
	if g := groups["L2"]; g.Opened != 2 || g.Breached != 2 {
		t.Errorf("L2: %+v, want 2 opened, both breached", g)
	}
	if g := groups["none"]; g.Opened != 4 {
		t.Errorf("none: %+v, want the 4 other tickets of November", g)
	}
	only := patchgate.ComputeSLAReport(in, november, patchgate.ReportFilter{Level: patchgate.SupportL2}, afterNovember, defaultPolicy)
	if only.Overall.Opened != 2 || only.Overall.Breached != 2 || len(only.Tickets) != 2 || only.Tickets[0].SupportLevel != patchgate.SupportL2 {
		t.Errorf("level=L2: overall %+v, tickets %+v", only.Overall, only.Tickets)
	}
	if err := (patchgate.ReportFilter{Level: "L7"}).Validate(); err == nil {
		t.Error("level L7 validated")
	}
	// The level is in the audit record, so the report recomputed from the log agrees.
	rec := patchgate.AuditTicketRecord(in.Tickets[1])
	back, err := patchgate.ReportInputFromAudit([]patchgate.AuditEntry{{Seq: 1, Action: patchgate.AuditTicketRecorded, Subject: "ticket:" + in.Tickets[1].Key, Detail: rec}})
	if err != nil || len(back.Tickets) != 1 || back.Tickets[0].SupportLevel != patchgate.SupportL2 {
		t.Fatalf("from the audit: %+v, %v", back.Tickets, err)
	}
	if _, ok := patchgate.AuditTicketRecord(in.Tickets[4])["support_level"]; ok {
		t.Error("a ticket without a level records one")
	}
}
