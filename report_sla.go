package patchgate

import (
	"slices"
	"strings"
	"time"
)

// SLAReport is how the service kept its SLA over a period: the tickets whose
// clock started in it, by outcome, overall and per severity, repository and
// tracker, with the breaches behind the numbers.
type SLAReport struct {
	Period ReportPeriod `json:"period"`
	Filter ReportFilter `json:"filter"`
	// AsOf is when running clocks were judged: the period's end, or the time
	// of the report while the period is under way.
	AsOf    time.Time  `json:"as_of"`
	Overall SLAGroup   `json:"overall"`
	Groups  []SLAGroup `json:"groups"`
	// Breaches lists every phase a ticket of the report missed, latest
	// deadline first.
	Breaches []SLABreach `json:"breaches"`
	// Weeks counts breaches by the week their deadline passed.
	Weeks []ReportWeek `json:"weeks"`
	// Tickets is the drill-down: every ticket the report counts.
	Tickets []SLAReportTicket `json:"tickets"`
}

// SLA report dimensions, the values of SLAGroup.Dimension. A ticket counts
// under the support level it is at now (after escalations); "none" for
// tickets from before levels.
const (
	SLADimensionSeverity = "severity"
	SLADimensionRepo     = "repo"
	SLADimensionTracker  = "tracker"
	SLADimensionLevel    = "level"
)

// slaDimensions says how each dimension reads a ticket's value, in the order
// the groups are listed.
var slaDimensions = []struct {
	name  string
	value func(t *Ticket, repo string) string
}{
	{SLADimensionSeverity, func(t *Ticket, _ string) string { return string(t.Severity) }},
	{SLADimensionRepo, func(_ *Ticket, repo string) string { return repo }},
	{SLADimensionTracker, func(t *Ticket, _ string) string { return string(t.Tracker) }},
	{SLADimensionLevel, func(t *Ticket, _ string) string {
		if t.SupportLevel == "" {
			return "none"
		}
		return string(t.SupportLevel)
	}},
}

// SLAGroup counts the tickets of one value of one dimension ("severity" =
// "critical"); the overall group has neither. Opened = Met + Breached +
// Running + AtRisk + NoSLA.
type SLAGroup struct {
	Dimension string `json:"dimension,omitempty"`
	Value     string `json:"value,omitempty"`
	Opened    int    `json:"opened"`
	Met       int    `json:"met"`
	Breached  int    `json:"breached"`
	// Running are clocks still running and on track; AtRisk those running in
	// the last quarter of their phase's time.
	Running int `json:"running"`
	AtRisk  int `json:"at_risk"`
	// NoSLA are tickets without targets (an unclassified severity).
	NoSLA int `json:"no_sla"`
	// Compliance is met out of the tickets whose outcome is decided (met or
	// breached), naming the met tickets.
	Compliance     Ratio         `json:"compliance"`
	TimeToVerified DurationStats `json:"time_to_verified"`
	TimeToReleased DurationStats `json:"time_to_released"`
}

// SLABreach is one phase a ticket missed.
type SLABreach struct {
	TicketID int64     `json:"ticket_id"`
	Ticket   string    `json:"ticket"`
	Repo     string    `json:"repo,omitempty"`
	Severity Severity  `json:"severity"`
	Phase    SLAPhase  `json:"phase"`
	Deadline time.Time `json:"deadline"`
	// DoneAt is when the phase was done; nil while it is still running, when
	// LateSeconds counts up to the report's AsOf.
	DoneAt      *time.Time `json:"done_at,omitempty"`
	LateSeconds int64      `json:"late_seconds"`
}

// SLAReportTicket is one ticket a report counts, with its outcome.
type SLAReportTicket struct {
	ID       int64    `json:"id"`
	Key      string   `json:"key"`
	Title    string   `json:"title"`
	Repo     string   `json:"repo,omitempty"`
	Tracker  Tracker  `json:"tracker"`
	Severity Severity `json:"severity"`
	// SupportLevel is the level the ticket is at now.
	SupportLevel SupportLevel `json:"support_level,omitempty"`
	OpenedAt     time.Time    `json:"opened_at"`
	SLA          SLAStatus    `json:"sla"`
}

// slaAcc accumulates one group.
type slaAcc struct {
	g                   SLAGroup
	met                 []string
	toVerify, toRelease []time.Duration
}

// ComputeSLAReport reports on the tickets whose SLA clock started (OpenedAt,
// else CreatedAt) in period and that match filter, judged at the period's
// end or now, whichever is earlier; verifications and releases after that
// moment are ignored. policy gives each ticket's targets (nil: no SLA), as
// TicketSLAPolicy does. A reopen restarts a ticket's clock, so a ticket
// reopened in the period counts there. Pure: the same input gives the same
// report.
func ComputeSLAReport(in ReportInput, period ReportPeriod, filter ReportFilter, now time.Time, policy func(*Ticket) SLAPolicy) SLAReport {
	asOf := period.asOf(now)
	rep := SLAReport{Period: period, Filter: filter, AsOf: asOf, Weeks: reportWeeks(period),
		Breaches: []SLABreach{}, Tickets: []SLAReportTicket{}, Groups: []SLAGroup{}}
	repos := in.ticketRepos(asOf)
	overall := &slaAcc{}
	groups := map[[2]string]*slaAcc{}
	for _, orig := range in.Tickets {
		t := *orig
		if t.OpenedAt.IsZero() {
			t.OpenedAt = t.CreatedAt
		}
		repo := repos[t.ID]
		if !period.Contains(t.OpenedAt) || t.OpenedAt.After(asOf) ||
			filter.Repo != "" && repo != filter.Repo || filter.Severity != "" && t.Severity != filter.Severity ||
			filter.Level != "" && t.SupportLevel != filter.Level {
			continue
		}
		// What happened after asOf has not happened yet for this report.
		if t.VerifiedAt.After(asOf) {
			t.VerifiedAt = time.Time{}
		}
		if t.ReleasedAt.After(asOf) {
			t.ReleasedAt = time.Time{}
		}
		st := policy(&t).Evaluate(&t, asOf)
		accs := []*slaAcc{overall}
		for _, d := range slaDimensions {
			k := [2]string{d.name, d.value(&t, repo)}
			if groups[k] == nil {
				groups[k] = &slaAcc{g: SLAGroup{Dimension: k[0], Value: k[1]}}
			}
			accs = append(accs, groups[k])
		}
		for _, a := range accs {
			a.add(&t, st)
		}
		rep.Tickets = append(rep.Tickets, SLAReportTicket{ID: t.ID, Key: t.Key, Title: t.Title, Repo: repo,
			Tracker: t.Tracker, Severity: t.Severity, SupportLevel: t.SupportLevel, OpenedAt: t.OpenedAt, SLA: st})
		for _, b := range slaBreaches(&t, st, asOf) {
			b.Repo = repo
			rep.Breaches = append(rep.Breaches, b)
			countWeek(rep.Weeks, period, b.Deadline)
		}
	}
	rep.Overall = overall.group()
	for _, d := range slaDimensions {
		var vals []string
		for k := range groups {
			if k[0] == d.name {
				vals = append(vals, k[1])
			}
		}
		slices.Sort(vals)
		for _, v := range vals {
			rep.Groups = append(rep.Groups, groups[[2]string{d.name, v}].group())
		}
	}
	slices.SortStableFunc(rep.Tickets, func(a, b SLAReportTicket) int {
		return cmpTimeThen(a.OpenedAt, b.OpenedAt, a.Key, b.Key)
	})
	slices.SortStableFunc(rep.Breaches, func(a, b SLABreach) int {
		return cmpTimeThen(b.Deadline, a.Deadline, a.Ticket+string(a.Phase), b.Ticket+string(b.Phase))
	})
	return rep
}

// add counts t, whose status is st, in the group.
func (a *slaAcc) add(t *Ticket, st SLAStatus) {
	a.g.Opened++
	switch st.State {
	case SLAMet:
		a.g.Met++
		a.met = append(a.met, t.Key)
	case SLABreached:
		a.g.Breached++
	case SLAOnTrack:
		a.g.Running++
	case SLAAtRisk:
		a.g.AtRisk++
	default:
		a.g.NoSLA++
	}
	verified := t.VerifiedAt
	if verified.IsZero() {
		verified = t.ReleasedAt // released counts as verified, as in Evaluate
	}
	if !verified.IsZero() {
		a.toVerify = append(a.toVerify, verified.Sub(t.OpenedAt))
	}
	if !t.ReleasedAt.IsZero() {
		a.toRelease = append(a.toRelease, t.ReleasedAt.Sub(t.OpenedAt))
	}
}

// group finishes the group's ratios and stats.
func (a *slaAcc) group() SLAGroup {
	g := a.g
	slices.Sort(a.met)
	g.Compliance = NewRatio(g.Met, g.Met+g.Breached, a.met)
	g.TimeToVerified = NewDurationStats(a.toVerify)
	g.TimeToReleased = NewDurationStats(a.toRelease)
	return g
}

// slaBreaches lists the phases of t (status st at asOf) done after their
// deadline or still running past it.
func slaBreaches(t *Ticket, st SLAStatus, asOf time.Time) []SLABreach {
	if st.State != SLABreached || st.VerifyBy == nil {
		return nil
	}
	verified := t.VerifiedAt
	if verified.IsZero() {
		verified = t.ReleasedAt
	}
	var out []SLABreach
	check := func(phase SLAPhase, done time.Time, by time.Time) {
		b := SLABreach{TicketID: t.ID, Ticket: t.Key, Severity: t.Severity, Phase: phase, Deadline: by}
		end := asOf
		if !done.IsZero() {
			d := done
			b.DoneAt, end = &d, done
		}
		if end.After(by) {
			b.LateSeconds = seconds(end.Sub(by))
			out = append(out, b)
		}
	}
	check(SLAPhaseVerify, verified, *st.VerifyBy)
	if !verified.IsZero() {
		check(SLAPhaseRelease, t.ReleasedAt, *st.ReleaseBy)
	}
	return out
}

// cmpTimeThen orders by a, b, then by the strings.
func cmpTimeThen(a, b time.Time, sa, sb string) int {
	if c := a.Compare(b); c != 0 {
		return c
	}
	return strings.Compare(sa, sb)
}
