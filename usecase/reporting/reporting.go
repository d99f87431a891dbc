// Package reporting answers the service manager's monthly questions: how the
// SLA was kept and how delivery went, computed by the root's pure report
// functions from the evidence the store reads in one snapshot.
package reporting

import (
	"context"
	"time"

	"github.com/patchgate/patchgate"
)

// Evidence reads what a report is computed from (store.ReportService).
type Evidence interface {
	ReportInput(ctx context.Context, period patchgate.ReportPeriod) (patchgate.ReportInput, error)
}

// Reports computes the SLA and delivery reports. Set the fields, then use it
// from any number of goroutines.
type Reports struct {
	Evidence Evidence
	// Policy gives a ticket's SLA targets (patchgate.TicketSLAPolicy with
	// the configured repositories); nil reports every ticket without an SLA.
	Policy func(*patchgate.Ticket) patchgate.SLAPolicy
	// RegressionLabel is the label prefix naming a release as a ticket's
	// cause; "" is patchgate.DefaultRegressionLabel.
	RegressionLabel string
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// SLA reports on the SLA over period. EINVALID for a bad period or filter.
func (r *Reports) SLA(ctx context.Context, period patchgate.ReportPeriod, filter patchgate.ReportFilter) (patchgate.SLAReport, error) {
	in, err := r.read(ctx, period, filter)
	if err != nil {
		return patchgate.SLAReport{}, err
	}
	policy := r.Policy
	if policy == nil {
		policy = func(*patchgate.Ticket) patchgate.SLAPolicy { return nil }
	}
	return patchgate.ComputeSLAReport(in, period, filter, r.now(), policy), nil
}

// Delivery reports the delivery measures over period. EINVALID for a bad
// period or filter.
func (r *Reports) Delivery(ctx context.Context, period patchgate.ReportPeriod, filter patchgate.ReportFilter) (patchgate.DeliveryReport, error) {
	in, err := r.read(ctx, period, filter)
	if err != nil {
		return patchgate.DeliveryReport{}, err
	}
	return patchgate.ComputeDeliveryReport(in, period, filter, r.now(), r.RegressionLabel), nil
}

func (r *Reports) read(ctx context.Context, period patchgate.ReportPeriod, filter patchgate.ReportFilter) (patchgate.ReportInput, error) {
	if err := period.Validate(); err != nil {
		return patchgate.ReportInput{}, err
	}
	if err := filter.Validate(); err != nil {
		return patchgate.ReportInput{}, err
	}
	return r.Evidence.ReportInput(ctx, period)
}

func (r *Reports) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}
