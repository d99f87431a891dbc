package patchgate

import (
	"regexp"
	"slices"
	"strings"
	"time"
)

// DeliveryReport is the four delivery (DORA) measures over a period, from
// what patchgate recorded rather than from time windows: promotions, the
// fixes they shipped, the tickets reopened after them or naming them as the
// cause of a regression.
type DeliveryReport struct {
	Period  ReportPeriod    `json:"period"`
	Filter  ReportFilter    `json:"filter"`
	AsOf    time.Time       `json:"as_of"`
	Overall DeliveryGroup   `json:"overall"`
	Repos   []DeliveryGroup `json:"repos"`
	// Weeks counts promotions by week.
	Weeks []ReportWeek `json:"weeks"`
	// Promotions is the drill-down: every promotion in the period.
	Promotions []DeliveryPromotion `json:"promotions"`
	// Failures are the promotions' failures, in the order they happened.
	Failures []DeliveryFailure `json:"failures"`
}

// DeliveryGroup is the measures of one repository, or of all (Repo "").
type DeliveryGroup struct {
	Repo string `json:"repo,omitempty"`
	// Promotions and Days give the deployment frequency, PerWeek.
	Promotions int     `json:"promotions"`
	Days       float64 `json:"days"`
	PerWeek    float64 `json:"per_week"`
	// LeadTimeForChanges runs from the first fix link of what a promotion
	// shipped to the promotion; LeadTimeFromTicket from a ticket's opening
	// to its release, for tickets released in the period.
	LeadTimeForChanges DurationStats `json:"lead_time_for_changes"`
	LeadTimeFromTicket DurationStats `json:"lead_time_from_ticket"`
	// ChangeFailureRate is failed promotions out of promotions, naming the
	// failed ones.
	ChangeFailureRate Ratio `json:"change_failure_rate"`
	// TimeToRestore runs from each failure to the promotion that shipped its
	// next fix; failures not yet restored are not in it.
	TimeToRestore DurationStats `json:"time_to_restore"`
}

// DeliveryPromotion is one promotion with what the measures took from it.
type DeliveryPromotion struct {
	ID         int64     `json:"id"`
	Repo       string    `json:"repo"`
	Name       string    `json:"name"`
	PromotedAt time.Time `json:"promoted_at"`
	Tickets    []string  `json:"tickets"`
	// LeadTimeSeconds is from the first fix link of what it shipped; nil
	// when it shipped no linked fix.
	LeadTimeSeconds *int64 `json:"lead_time_seconds,omitempty"`
	Failed          bool   `json:"failed"`
}

// Delivery failure kinds.
const (
	// FailureReopened: a ticket the promotion shipped was reopened after it.
	FailureReopened = "reopened"
	// FailureRegression: a ticket names the promotion as its cause.
	FailureRegression = "regression"
)

// DeliveryFailure is one promotion that did not hold, the ticket that says
// so, and the promotion that restored service.
type DeliveryFailure struct {
	Release   string    `json:"release"`
	ReleaseID int64     `json:"release_id"`
	Repo      string    `json:"repo"`
	Kind      string    `json:"kind"`
	TicketID  int64     `json:"ticket_id"`
	Ticket    string    `json:"ticket"`
	At        time.Time `json:"at"`
	// RestoredBy is the first later promotion of the repository that
	// shipped a fix of Ticket; empty while none has.
	RestoredBy        string     `json:"restored_by,omitempty"`
	RestoredAt        *time.Time `json:"restored_at,omitempty"`
	TimeToRestoreSecs *int64     `json:"time_to_restore_seconds,omitempty"`
}

// DefaultRegressionLabel is the label prefix that names a release as a
// ticket's cause when its title does not: "regression:v1.6.0".
const DefaultRegressionLabel = "regression:"

// regressionText finds "regression of v1.6.0" (also "regression in", any
// case) in a ticket's title.
var regressionText = regexp.MustCompile(`(?i)\bregression (?:of|in|from) ([A-Za-z0-9][A-Za-z0-9._/+-]*)`)

// RegressionOf returns the release names t blames: "regression of NAME" in its
// title, and labels starting with labelPrefix (DefaultRegressionLabel when
// empty), compared without case.
func RegressionOf(t *Ticket, labelPrefix string) []string {
	if labelPrefix == "" {
		labelPrefix = DefaultRegressionLabel
	}
	var names []string
	for _, m := range regressionText.FindAllStringSubmatch(t.Title, -1) {
		names = append(names, strings.TrimRight(m[1], ".,;:)"))
	}
	for _, l := range t.Labels {
		if len(l) > len(labelPrefix) && strings.EqualFold(l[:len(labelPrefix)], labelPrefix) {
			names = append(names, strings.TrimSpace(l[len(labelPrefix):]))
		}
	}
	return names
}

// ComputeDeliveryReport computes the delivery measures over period for the
// promotions of filter.Repo (all when empty), judged at the period's end or
// now, whichever is earlier. regressionLabel is the label prefix that names a
// release as a ticket's cause (see RegressionOf). A promotion failed when a
// ticket it shipped was reopened after it, or when a ticket of its repository
// (or of none) names it as the cause of a regression; service is restored by
// the repository's first later promotion that ships that ticket. Pure.
func ComputeDeliveryReport(in ReportInput, period ReportPeriod, filter ReportFilter, now time.Time, regressionLabel string) DeliveryReport {
	asOf := period.asOf(now)
	rep := DeliveryReport{Period: period, Filter: filter, AsOf: asOf, Weeks: reportWeeks(period),
		Promotions: []DeliveryPromotion{}, Failures: []DeliveryFailure{}, Repos: []DeliveryGroup{}}
	repos := in.ticketRepos(asOf)
	tickets := map[int64]*Ticket{}
	for _, t := range in.Tickets {
		tickets[t.ID] = t
	}
	sevOK := func(t *Ticket) bool {
		return (filter.Severity == "" || t.Severity == filter.Severity) && (filter.Level == "" || t.SupportLevel == filter.Level)
	}
	// Which tickets blame which release, read once: a title is matched by a
	// regular expression, and there are many promotions.
	blamers := map[string][]*Ticket{}
	for _, t := range in.Tickets {
		for _, name := range RegressionOf(t, regressionLabel) {
			k := strings.ToLower(name)
			if n := len(blamers[k]); n == 0 || blamers[k][n-1] != t {
				blamers[k] = append(blamers[k], t)
			}
		}
	}
	// Promotions known by asOf, in order: the measured ones are those in the
	// period, the later ones may restore a failure.
	var known []ReportRelease
	for _, r := range in.Releases {
		if !r.PromotedAt.After(asOf) && !r.PromotedAt.IsZero() && (filter.Repo == "" || r.Repo == filter.Repo) {
			known = append(known, r)
		}
	}
	slices.SortStableFunc(known, func(a, b ReportRelease) int {
		return cmpTimeThen(a.PromotedAt, b.PromotedAt, a.Repo+" "+a.Name, b.Repo+" "+b.Name)
	})
	firstLink := map[[2]int64]time.Time{}
	for _, l := range in.FixLinks {
		if l.At.After(asOf) {
			continue
		}
		k := [2]int64{l.TicketID, l.ChangeID}
		if at, ok := firstLink[k]; !ok || l.At.Before(at) {
			firstLink[k] = l.At
		}
	}
	accs := map[string]*deliveryAcc{}
	acc := func(repo string) *deliveryAcc {
		if accs[repo] == nil {
			accs[repo] = &deliveryAcc{g: DeliveryGroup{Repo: repo}}
		}
		return accs[repo]
	}
	overall := acc("")
	for _, r := range known {
		if !period.Contains(r.PromotedAt) {
			continue
		}
		p := DeliveryPromotion{ID: r.ID, Repo: r.Repo, Name: r.Name, PromotedAt: r.PromotedAt, Tickets: []string{}}
		var first time.Time
		for _, it := range r.Items {
			if t := tickets[it.TicketID]; t != nil && !slices.Contains(p.Tickets, t.Key) {
				p.Tickets = append(p.Tickets, t.Key)
			}
			if at, ok := firstLink[[2]int64{it.TicketID, it.ChangeID}]; ok && (first.IsZero() || at.Before(first)) {
				first = at
			}
		}
		if !first.IsZero() {
			s := seconds(r.PromotedAt.Sub(first))
			p.LeadTimeSeconds = &s
		}
		for _, f := range promotionFailures(r, known, blamers[strings.ToLower(r.Name)], tickets, repos, asOf) {
			if !sevOK(tickets[f.TicketID]) {
				continue
			}
			p.Failed = true
			rep.Failures = append(rep.Failures, f)
		}
		rep.Promotions = append(rep.Promotions, p)
		countWeek(rep.Weeks, period, r.PromotedAt)
		for _, a := range []*deliveryAcc{overall, acc(r.Repo)} {
			a.addPromotion(p)
		}
	}
	for _, f := range rep.Failures {
		if f.TimeToRestoreSecs != nil {
			for _, a := range []*deliveryAcc{overall, acc(f.Repo)} {
				a.restore = append(a.restore, time.Duration(*f.TimeToRestoreSecs)*time.Second)
			}
		}
	}
	for _, t := range in.Tickets {
		repo := repos[t.ID]
		if !period.Contains(t.ReleasedAt) || t.ReleasedAt.After(asOf) || !sevOK(t) || filter.Repo != "" && repo != filter.Repo {
			continue
		}
		opened := t.OpenedAt
		if opened.IsZero() {
			opened = t.CreatedAt
		}
		d := t.ReleasedAt.Sub(opened)
		overall.fromTicket = append(overall.fromTicket, d)
		if repo != "" {
			acc(repo).fromTicket = append(acc(repo).fromTicket, d)
		}
	}
	days := period.asOf(asOf).Sub(period.From).Hours() / 24
	rep.Overall = overall.group(days)
	names := make([]string, 0, len(accs))
	for name := range accs {
		if name != "" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		rep.Repos = append(rep.Repos, accs[name].group(days))
	}
	slices.SortStableFunc(rep.Failures, func(a, b DeliveryFailure) int {
		return cmpTimeThen(a.At, b.At, a.Release+" "+a.Ticket, b.Release+" "+b.Ticket)
	})
	return rep
}

// promotionFailures finds the failures of r: reopens after it of tickets it
// shipped, and the tickets among blamers (those naming r's name as a
// regression's cause) of its repository, or of none, first seen after it;
// each with its restore among known (sorted by time).
func promotionFailures(r ReportRelease, known []ReportRelease, blamers []*Ticket, tickets map[int64]*Ticket, repos map[int64]string, asOf time.Time) []DeliveryFailure {
	var out []DeliveryFailure
	add := func(kind string, t *Ticket, at time.Time) {
		f := DeliveryFailure{Release: r.Name, ReleaseID: r.ID, Repo: r.Repo, Kind: kind, TicketID: t.ID, Ticket: t.Key, At: at}
		for _, later := range known {
			if !later.PromotedAt.After(at) || later.Repo != r.Repo {
				continue
			}
			if slices.ContainsFunc(later.Items, func(it ReportItem) bool { return it.TicketID == t.ID }) {
				restored := later.PromotedAt
				secs := seconds(restored.Sub(at))
				f.RestoredBy, f.RestoredAt, f.TimeToRestoreSecs = later.Name, &restored, &secs
				break
			}
		}
		out = append(out, f)
	}
	seen := map[int64]bool{}
	for _, it := range r.Items {
		t := tickets[it.TicketID]
		if t == nil || seen[t.ID] {
			continue
		}
		seen[t.ID] = true
		if t.ReopenedAt.After(r.PromotedAt) && !t.ReopenedAt.After(asOf) {
			add(FailureReopened, t, t.ReopenedAt)
		}
	}
	for _, t := range blamers {
		first := ticketFirstSeen(t)
		if first.After(asOf) || first.Before(r.PromotedAt) || repos[t.ID] != "" && repos[t.ID] != r.Repo {
			continue
		}
		add(FailureRegression, t, first)
	}
	return out
}

// ticketFirstSeen is when a ticket first existed: its creation, or its
// opening when that is earlier or the creation is unknown.
func ticketFirstSeen(t *Ticket) time.Time {
	if t.CreatedAt.IsZero() || !t.OpenedAt.IsZero() && t.OpenedAt.Before(t.CreatedAt) {
		return t.OpenedAt
	}
	return t.CreatedAt
}

// deliveryAcc accumulates one group.
type deliveryAcc struct {
	g                         DeliveryGroup
	failed                    []string
	lead, fromTicket, restore []time.Duration
}

func (a *deliveryAcc) addPromotion(p DeliveryPromotion) {
	a.g.Promotions++
	if p.LeadTimeSeconds != nil {
		a.lead = append(a.lead, time.Duration(*p.LeadTimeSeconds)*time.Second)
	}
	if p.Failed {
		name := p.Name
		if a.g.Repo == "" {
			name = p.Repo + " " + p.Name
		}
		a.failed = append(a.failed, name)
	}
}

// group finishes the measures over a period of days.
func (a *deliveryAcc) group(days float64) DeliveryGroup {
	g := a.g
	g.Days = roundTenth(days)
	if days > 0 {
		g.PerWeek = roundTenth(float64(g.Promotions) * 7 / days)
	}
	g.LeadTimeForChanges = NewDurationStats(a.lead)
	g.LeadTimeFromTicket = NewDurationStats(a.fromTicket)
	g.ChangeFailureRate = NewRatio(len(a.failed), g.Promotions, a.failed)
	g.TimeToRestore = NewDurationStats(a.restore)
	return g
}

func roundTenth(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
