package patchgate_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// nov is a time in November 2026, the month the report tests cover.
func nov(day, hour int) time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, time.UTC) }

var november = patchgate.ReportPeriod{From: nov(1, 0), To: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}

// afterNovember is when the reports are computed: later evidence (a
// verification on December 2) must not count.
var afterNovember = time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC)

func issue(id int64, repo string, number int, sev patchgate.Severity, opened time.Time) *patchgate.Ticket {
	return &patchgate.Ticket{ID: id, Tracker: patchgate.TrackerGitHub, Repo: repo, Number: number,
		Key: patchgate.ForgeIssueKey(repo, number), Severity: sev, OpenedAt: opened, CreatedAt: opened}
}

// slaInput is November's tickets under the default policy (critical 8h/24h,
// high 24h/72h, medium 72h/168h, low 168h/720h):
//
//	A acme/pay#1 critical, verified after 4h, released after 20h: met
//	B acme/pay#2 critical, verified after 10h, released after 30h: both late
//	C PAY-3 high (fixed in acme/pay), verified after 12h, never released: late since Nov 8
//	D acme/web#1 medium opened Nov 30: running, on track on Dec 1
//	E acme/web#2 low opened Nov 25: at risk (75% of 168h is Nov 30 06:00)
//	F acme/web#3 unclassified: no SLA
//	G acme/pay#7 opened in October: not in the report
//	H acme/pay#8 critical opened Nov 20, verified Dec 2: still running late on Dec 1
func slaInput() patchgate.ReportInput {
	h := time.Hour
	a := issue(1, "acme/pay", 1, patchgate.SeverityCritical, nov(2, 0))
	a.VerifiedAt, a.ReleasedAt = nov(2, 4), nov(2, 20)
	b := issue(2, "acme/pay", 2, patchgate.SeverityCritical, nov(3, 0))
	b.VerifiedAt, b.ReleasedAt = nov(3, 10), nov(3, 0).Add(30*h)
	c := &patchgate.Ticket{ID: 3, Tracker: patchgate.TrackerExternal, Key: "PAY-3", Severity: patchgate.SeverityHigh,
		OpenedAt: nov(5, 0), VerifiedAt: nov(5, 12)}
	d := issue(4, "acme/web", 1, patchgate.SeverityMedium, nov(30, 0))
	e := issue(5, "acme/web", 2, patchgate.SeverityLow, nov(25, 0))
	f := issue(6, "acme/web", 3, patchgate.SeverityUnknown, nov(10, 0))
	g := issue(7, "acme/pay", 7, patchgate.SeverityCritical, time.Date(2026, 10, 30, 0, 0, 0, 0, time.UTC))
	hh := issue(8, "acme/pay", 8, patchgate.SeverityCritical, nov(20, 0))
	hh.VerifiedAt = time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	return patchgate.ReportInput{Tickets: []*patchgate.Ticket{a, b, c, d, e, f, g, hh},
		FixLinks: []patchgate.ReportFixLink{{TicketID: 3, ChangeID: 30, Repo: "acme/pay", At: nov(5, 1)}}}
}

func defaultPolicy(*patchgate.Ticket) patchgate.SLAPolicy { return patchgate.DefaultSLAPolicy() }

func TestComputeSLAReport(t *testing.T) {
	rep := patchgate.ComputeSLAReport(slaInput(), november, patchgate.ReportFilter{}, afterNovember, defaultPolicy)
	h := int64(3600)
	if !rep.AsOf.Equal(november.To) {
		t.Errorf("AsOf = %s, want the period's end %s", rep.AsOf, november.To)
	}
	o := rep.Overall
	got := []int{o.Opened, o.Met, o.Breached, o.Running, o.AtRisk, o.NoSLA}
	if want := []int{7, 1, 3, 1, 1, 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("opened, met, breached, running, at risk, no SLA = %v, want %v", got, want)
	}
	if want := patchgate.NewRatio(1, 4, []string{"acme/pay#1"}); !reflect.DeepEqual(o.Compliance, want) || o.Compliance.Percent != 25 {
		t.Errorf("compliance = %+v, want 1/4 = 25%% naming acme/pay#1", o.Compliance)
	}
	// Time to verified: A 4h, B 10h, C 12h (H's verification came after the period).
	if want := (patchgate.DurationStats{Count: 3, MedianSeconds: 10 * h, P90Seconds: 12 * h}); o.TimeToVerified != want {
		t.Errorf("time to verified = %+v, want %+v", o.TimeToVerified, want)
	}
	if want := (patchgate.DurationStats{Count: 2, MedianSeconds: 20 * h, P90Seconds: 30 * h}); o.TimeToReleased != want {
		t.Errorf("time to released = %+v, want %+v", o.TimeToReleased, want)
	}
	type breach struct {
		ticket string
		phase  patchgate.SLAPhase
		late   int64
		done   bool
	}
	var breaches []breach
	for _, b := range rep.Breaches {
		breaches = append(breaches, breach{b.Ticket, b.Phase, b.LateSeconds, b.DoneAt != nil})
	}
	wantBreaches := []breach{
		{"acme/pay#8", patchgate.SLAPhaseVerify, 256 * h, false}, // Nov 20 08:00 → Dec 1
		{"PAY-3", patchgate.SLAPhaseRelease, 552 * h, false},     // Nov 8 → Dec 1
		{"acme/pay#2", patchgate.SLAPhaseRelease, 6 * h, true},
		{"acme/pay#2", patchgate.SLAPhaseVerify, 2 * h, true},
	}
	if !reflect.DeepEqual(breaches, wantBreaches) {
		t.Errorf("breaches = %v, want %v", breaches, wantBreaches)
	}
	var weeks []int
	for _, w := range rep.Weeks {
		weeks = append(weeks, w.Count)
	}
	if want := []int{2, 1, 1, 0, 0}; !reflect.DeepEqual(weeks, want) {
		t.Errorf("breaches by week = %v, want %v", weeks, want)
	}
	groups := map[string]patchgate.SLAGroup{}
	for _, g := range rep.Groups {
		groups[g.Dimension+"="+g.Value] = g
	}
	for key, want := range map[string][6]int{
		"repo=acme/pay":     {4, 1, 3, 0, 0, 0}, // C counts under the repository of its fix
		"repo=acme/web":     {3, 0, 0, 1, 1, 1},
		"severity=critical": {3, 1, 2, 0, 0, 0},
		"tracker=external":  {1, 0, 1, 0, 0, 0},
		"tracker=github":    {6, 1, 2, 1, 1, 1},
		"severity=unknown":  {1, 0, 0, 0, 0, 1},
	} {
		g := groups[key]
		if got := [6]int{g.Opened, g.Met, g.Breached, g.Running, g.AtRisk, g.NoSLA}; got != want {
			t.Errorf("%s: opened, met, breached, running, at risk, no SLA = %v, want %v", key, got, want)
		}
	}
	if c := groups["severity=critical"].Compliance; c.Percent != 33.3 {
		t.Errorf("critical compliance = %v%%, want 33.3%% (1 of 3)", c.Percent)
	}

	crit := patchgate.ComputeSLAReport(slaInput(), november, patchgate.ReportFilter{Severity: patchgate.SeverityCritical}, afterNovember, defaultPolicy)
	if crit.Overall.Opened != 3 || len(crit.Tickets) != 3 {
		t.Errorf("severity=critical: opened %d with %d tickets, want 3 and 3", crit.Overall.Opened, len(crit.Tickets))
	}
	web := patchgate.ComputeSLAReport(slaInput(), november, patchgate.ReportFilter{Repo: "acme/web"}, afterNovember, defaultPolicy)
	if web.Overall.Opened != 3 || len(web.Breaches) != 0 {
		t.Errorf("repo=acme/web: opened %d with %d breaches, want 3 and 0", web.Overall.Opened, len(web.Breaches))
	}
	// While the period runs, clocks are judged now: on Nov 25 D does not exist
	// yet and H's verify phase is late by 5 days and 16 hours.
	mid := patchgate.ComputeSLAReport(slaInput(), november, patchgate.ReportFilter{}, nov(26, 0), defaultPolicy)
	if mid.Overall.Opened != 6 {
		t.Errorf("on Nov 26: opened = %d, want 6 (D opens on Nov 30)", mid.Overall.Opened)
	}
	if len(mid.Breaches) == 0 || mid.Breaches[0].Ticket != "acme/pay#8" || mid.Breaches[0].LateSeconds != 136*h {
		t.Errorf("on Nov 26: first breach = %+v, want acme/pay#8 late 136h", mid.Breaches)
	}
}

// deliveryInput is November's promotions:
//
//	R0 acme/pay v0.9 Oct 20 (before the period)
//	R1 acme/pay v1.0 Nov 4 12:00 ships A (fix linked Nov 2 12:00) and B (Nov 3 12:00)
//	R2 acme/pay v1.1 Nov 11 ships C (fix linked Nov 6)
//	R4 acme/web v2.0 Nov 15 ships a change fixing no ticket
//	R3 acme/pay v1.2 Nov 20 ships B's new fix (linked Nov 18)
//	R5 acme/pay v1.3 Dec 5 (after the period)
//
// B is reopened on Nov 10 (R1 failed; R3 restores it after 240h); acme/pay#9,
// opened Nov 12, says "regression of v1.1" (R2 failed, not restored).
func deliveryInput() patchgate.ReportInput {
	a := issue(1, "acme/pay", 1, patchgate.SeverityCritical, nov(2, 0))
	a.ReleasedAt = nov(4, 12)
	b := issue(2, "acme/pay", 2, patchgate.SeverityHigh, nov(10, 0)) // the reopen restarted its clock
	b.CreatedAt, b.ReopenedAt, b.ReleasedAt = nov(3, 0), nov(10, 0), nov(20, 0)
	c := issue(3, "acme/pay", 3, patchgate.SeverityHigh, nov(5, 0))
	c.ReleasedAt = nov(11, 0)
	r := issue(9, "acme/pay", 9, patchgate.SeverityCritical, nov(12, 0))
	r.Title = "Crash on login, regression of v1.1"
	rel := func(id int64, repo, name string, at time.Time, items ...patchgate.ReportItem) patchgate.ReportRelease {
		return patchgate.ReportRelease{ID: id, Repo: repo, Name: name, PromotedAt: at, Items: items}
	}
	item := func(change, ticket int64) patchgate.ReportItem {
		return patchgate.ReportItem{ChangeID: change, TicketID: ticket}
	}
	link := func(ticket, change int64, at time.Time) patchgate.ReportFixLink {
		return patchgate.ReportFixLink{TicketID: ticket, ChangeID: change, Repo: "acme/pay", At: at}
	}
	return patchgate.ReportInput{
		Tickets: []*patchgate.Ticket{a, b, c, r},
		Releases: []patchgate.ReportRelease{
			rel(10, "acme/pay", "v0.9", time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC), item(100, 0)),
			rel(11, "acme/pay", "v1.0", nov(4, 12), item(101, 1), item(102, 2)),
			rel(12, "acme/pay", "v1.1", nov(11, 0), item(103, 3)),
			rel(13, "acme/pay", "v1.2", nov(20, 0), item(104, 2)),
			rel(14, "acme/web", "v2.0", nov(15, 0), item(105, 0)),
			rel(15, "acme/pay", "v1.3", time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), item(106, 9)),
		},
		FixLinks: []patchgate.ReportFixLink{link(1, 101, nov(2, 12)), link(2, 102, nov(3, 12)),
			link(3, 103, nov(6, 0)), link(2, 104, nov(18, 0)), link(9, 106, nov(13, 0))},
	}
}

func TestComputeDeliveryReport(t *testing.T) {
	rep := patchgate.ComputeDeliveryReport(deliveryInput(), november, patchgate.ReportFilter{}, afterNovember, "")
	h := int64(3600)
	o := rep.Overall
	if o.Promotions != 4 || o.Days != 30 || o.PerWeek != 0.9 {
		t.Errorf("promotions %d in %v days = %v a week, want 4 in 30 = 0.9", o.Promotions, o.Days, o.PerWeek)
	}
	// R1 48h (Nov 2 12:00 → Nov 4 12:00), R2 120h, R3 48h; R4 shipped no linked fix.
	if want := (patchgate.DurationStats{Count: 3, MedianSeconds: 48 * h, P90Seconds: 120 * h}); o.LeadTimeForChanges != want {
		t.Errorf("lead time for changes = %+v, want %+v", o.LeadTimeForChanges, want)
	}
	// A 60h, C 144h, B 240h (from its reopen, which restarted its clock).
	if want := (patchgate.DurationStats{Count: 3, MedianSeconds: 144 * h, P90Seconds: 240 * h}); o.LeadTimeFromTicket != want {
		t.Errorf("lead time from ticket = %+v, want %+v", o.LeadTimeFromTicket, want)
	}
	if want := patchgate.NewRatio(2, 4, []string{"acme/pay v1.0", "acme/pay v1.1"}); !reflect.DeepEqual(o.ChangeFailureRate, want) || want.Percent != 50 {
		t.Errorf("change failure rate = %+v, want %+v", o.ChangeFailureRate, want)
	}
	if want := (patchgate.DurationStats{Count: 1, MedianSeconds: 240 * h, P90Seconds: 240 * h}); o.TimeToRestore != want {
		t.Errorf("time to restore = %+v, want %+v", o.TimeToRestore, want)
	}
	type failure struct{ release, kind, ticket, restoredBy string }
	var failures []failure
	for _, f := range rep.Failures {
		failures = append(failures, failure{f.Release, f.Kind, f.Ticket, f.RestoredBy})
	}
	wantFailures := []failure{
		{"v1.0", patchgate.FailureReopened, "acme/pay#2", "v1.2"},
		{"v1.1", patchgate.FailureRegression, "acme/pay#9", ""}, // v1.3 shipped its fix after the period
	}
	if !reflect.DeepEqual(failures, wantFailures) {
		t.Errorf("failures = %v, want %v", failures, wantFailures)
	}
	var weeks []int
	for _, w := range rep.Weeks {
		weeks = append(weeks, w.Count)
	}
	if want := []int{1, 1, 2, 0, 0}; !reflect.DeepEqual(weeks, want) {
		t.Errorf("promotions by week = %v, want %v", weeks, want)
	}
	if len(rep.Repos) != 2 || rep.Repos[0].Repo != "acme/pay" || rep.Repos[0].ChangeFailureRate.Percent != 66.7 ||
		rep.Repos[1].Repo != "acme/web" || rep.Repos[1].ChangeFailureRate.Numerator != 0 || rep.Repos[1].ChangeFailureRate.Denominator != 1 {
		t.Errorf("per repository = %+v, want acme/pay 2/3 = 66.7%% and acme/web 0/1", rep.Repos)
	}
	var names []string
	for _, p := range rep.Promotions {
		names = append(names, p.Name)
	}
	if want := []string{"v1.0", "v1.1", "v2.0", "v1.2"}; !reflect.DeepEqual(names, want) {
		t.Errorf("promotions = %v, want %v in order", names, want)
	}

	// The failure caused by a critical ticket only: B is high.
	crit := patchgate.ComputeDeliveryReport(deliveryInput(), november, patchgate.ReportFilter{Severity: patchgate.SeverityCritical}, afterNovember, "")
	if r := crit.Overall.ChangeFailureRate; r.Numerator != 1 || r.Denominator != 4 {
		t.Errorf("severity=critical: change failure rate %d/%d, want 1/4", r.Numerator, r.Denominator)
	}
	// After December 5 the regression is restored by v1.3: 23 days after Nov 12 → Dec 5 is 552h.
	dec := patchgate.ReportPeriod{From: november.From, To: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}
	later := patchgate.ComputeDeliveryReport(deliveryInput(), dec, patchgate.ReportFilter{Repo: "acme/pay"}, afterNovember, "")
	if got := later.Overall.TimeToRestore; got.Count != 2 || got.P90Seconds != 552*h {
		t.Errorf("through Dec 10: time to restore = %+v, want 2 restores, the longest 552h", got)
	}
	if later.Overall.Promotions != 4 {
		t.Errorf("repo=acme/pay through Dec 10: %d promotions, want 4 (v1.0 v1.1 v1.2 v1.3)", later.Overall.Promotions)
	}
}

func TestRegressionOf(t *testing.T) {
	tests := []struct {
		name   string
		title  string
		labels []string
		label  string
		want   []string
	}{
		{name: "title", title: "Totals wrong, regression of v1.6.0.", want: []string{"v1.6.0"}},
		{name: "any case", title: "REGRESSION IN release-7", want: []string{"release-7"}},
		{name: "default label", labels: []string{"Regression:v2.0"}, want: []string{"v2.0"}},
		{name: "configured label", labels: []string{"caused-by:v3", "regression:v9"}, label: "caused-by:", want: []string{"v3"}},
		{name: "mention without a release", title: "no regression here", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := patchgate.RegressionOf(&patchgate.Ticket{Title: tc.title, Labels: tc.labels}, tc.label)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("RegressionOf = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDurationStatsAndRatio(t *testing.T) {
	s := patchgate.NewDurationStats([]time.Duration{4 * time.Second, time.Second, 3 * time.Second, 2 * time.Second})
	if want := (patchgate.DurationStats{Count: 4, MedianSeconds: 2, P90Seconds: 4}); s != want {
		t.Errorf("stats of 1,2,3,4 s = %+v, want %+v (nearest rank)", s, want)
	}
	if s := patchgate.NewDurationStats(nil); s != (patchgate.DurationStats{}) {
		t.Errorf("stats of nothing = %+v, want zero", s)
	}
	if r := patchgate.NewRatio(1, 3, nil); r.Percent != 33.3 || r.Items == nil {
		t.Errorf("1/3 = %+v, want 33.3%% with an empty item list", r)
	}
	if r := patchgate.NewRatio(0, 0, nil); r.Percent != 0 {
		t.Errorf("0/0 = %v%%, want 0", r.Percent)
	}
}

func TestReportPeriodValidate(t *testing.T) {
	tests := []struct {
		name     string
		from, to time.Time
		ok       bool
	}{
		{name: "month", from: nov(1, 0), to: nov(30, 0), ok: true},
		{name: "missing to", from: nov(1, 0)},
		{name: "reversed", from: nov(2, 0), to: nov(1, 0)},
		{name: "empty", from: nov(1, 0), to: nov(1, 0)},
		{name: "ten years", from: nov(1, 0), to: nov(1, 0).AddDate(10, 0, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := patchgate.ReportPeriod{From: tc.from, To: tc.to}.Validate()
			if (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
