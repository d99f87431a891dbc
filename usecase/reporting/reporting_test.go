package reporting_test

import (
	"context"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/usecase/reporting"
)

// evidence is a function-field fake of reporting.Evidence that counts reads.
type evidence struct {
	reads int
	input patchgate.ReportInput
}

func (e *evidence) ReportInput(context.Context, patchgate.ReportPeriod) (patchgate.ReportInput, error) {
	e.reads++
	return e.input, nil
}

// TestReports: a bad period or filter is refused before the store is read;
// a good one is computed at the clock's time, under the policy given (none
// when nil), with the configured regression label.
func TestReports(t *testing.T) {
	ctx := context.Background()
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	period := patchgate.ReportPeriod{From: from, To: from.AddDate(0, 1, 0)}
	tk := &patchgate.Ticket{ID: 1, Tracker: patchgate.TrackerExternal, Key: "PAY-1", Severity: patchgate.SeverityHigh,
		OpenedAt: from.Add(time.Hour), Labels: []string{"caused-by:v1"}}
	ev := &evidence{input: patchgate.ReportInput{Tickets: []*patchgate.Ticket{tk},
		Releases: []patchgate.ReportRelease{{ID: 1, Repo: "acme/pay", Name: "v1", PromotedAt: from}}}}
	r := &reporting.Reports{Evidence: ev, RegressionLabel: "caused-by:", Now: func() time.Time { return from.Add(48 * time.Hour) }}

	for _, bad := range []struct {
		p patchgate.ReportPeriod
		f patchgate.ReportFilter
	}{
		{patchgate.ReportPeriod{From: period.To, To: period.From}, patchgate.ReportFilter{}},
		{period, patchgate.ReportFilter{Severity: "urgent"}},
	} {
		if _, err := r.SLA(ctx, bad.p, bad.f); patchgate.ErrorCode(err) != patchgate.EINVALID {
			t.Errorf("SLA(%+v, %+v): %v, want invalid", bad.p, bad.f, err)
		}
	}
	if ev.reads != 0 {
		t.Errorf("bad requests read the store %d times, want none", ev.reads)
	}
	sla, err := r.SLA(ctx, period, patchgate.ReportFilter{})
	if err != nil || sla.Overall.NoSLA != 1 || !sla.AsOf.Equal(from.Add(48*time.Hour)) {
		t.Errorf("SLA without a policy: %+v as of %s, %v; want PAY-1 without an SLA, as of the clock", sla.Overall, sla.AsOf, err)
	}
	r.Policy = func(*patchgate.Ticket) patchgate.SLAPolicy { return patchgate.DefaultSLAPolicy() }
	if sla, _ = r.SLA(ctx, period, patchgate.ReportFilter{}); sla.Overall.Breached != 1 {
		t.Errorf("SLA under the default policy: %+v, want PAY-1 breached (high: verified within 24h)", sla.Overall)
	}
	d, err := r.Delivery(ctx, period, patchgate.ReportFilter{})
	if err != nil || d.Overall.ChangeFailureRate.Numerator != 1 {
		t.Errorf("delivery: %+v, %v; want v1 failed, blamed by PAY-1's caused-by:v1 label", d.Overall, err)
	}
}
