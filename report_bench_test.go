package patchgate_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// BenchmarkReports computes both reports over a year of a busy service:
// 10,000 tickets in 20 repositories, 1,000 promotions shipping 5 each,
// 10,000 fix links.
func BenchmarkReports(b *testing.B) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var in patchgate.ReportInput
	sevs := []patchgate.Severity{patchgate.SeverityCritical, patchgate.SeverityHigh, patchgate.SeverityMedium, patchgate.SeverityLow}
	for i := range 10000 {
		opened := start.Add(time.Duration(i) * 52 * time.Minute)
		t := &patchgate.Ticket{ID: int64(i + 1), Tracker: patchgate.TrackerGitHub, Repo: fmt.Sprintf("acme/r%d", i%20), Number: i + 1,
			Severity: sevs[i%4], OpenedAt: opened, CreatedAt: opened, VerifiedAt: opened.Add(time.Duration(i%50) * time.Hour),
			ReleasedAt: opened.Add(time.Duration(i%90) * time.Hour)}
		if i%3 == 0 {
			t.Title = fmt.Sprintf("regression of v%d", i%1000)
		}
		t.Key = fmt.Sprintf("%s#%d", t.Repo, t.Number)
		in.Tickets = append(in.Tickets, t)
		in.FixLinks = append(in.FixLinks, patchgate.ReportFixLink{TicketID: t.ID, ChangeID: t.ID, Repo: t.Repo, At: opened.Add(time.Hour)})
	}
	for i := range 1000 {
		r := patchgate.ReportRelease{ID: int64(i + 1), Repo: fmt.Sprintf("acme/r%d", i%20), Name: fmt.Sprintf("v%d", i),
			PromotedAt: start.Add(time.Duration(i) * 8 * time.Hour)}
		for j := range 5 {
			id := int64(i*10 + j + 1)
			r.Items = append(r.Items, patchgate.ReportItem{ChangeID: id, TicketID: id})
		}
		in.Releases = append(in.Releases, r)
	}
	period := patchgate.ReportPeriod{From: start, To: start.AddDate(1, 0, 0)}
	policy := func(*patchgate.Ticket) patchgate.SLAPolicy { return patchgate.DefaultSLAPolicy() }
	b.ResetTimer()
	for b.Loop() {
		patchgate.ComputeSLAReport(in, period, patchgate.ReportFilter{}, period.To, policy)
		patchgate.ComputeDeliveryReport(in, period, patchgate.ReportFilter{}, period.To, "")
	}
}
