package main

import (
	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/usecase/reporting"
)

// reports wires the SLA and delivery reports: the store's evidence, and each
// ticket held to the policy the rest of the server holds it to (its
// repository's, or the default for a synced tracker's ticket).
func (m *Main) reports(repos repositories) *reporting.Reports {
	tracked := func(key string) bool { return repos.jiras.site(key) >= 0 }
	return &reporting.Reports{
		Evidence:        store.NewReportService(m.DB),
		RegressionLabel: m.Config.Reports.RegressionLabel,
		Policy: func(t *patchgate.Ticket) patchgate.SLAPolicy {
			return patchgate.TicketSLAPolicy(repos.dir, t, tracked)
		},
	}
}
