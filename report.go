package patchgate

import (
	"context"
	"math"
	"slices"
	"time"
)

// ReportPeriod is the half-open interval [From, To) a report covers.
type ReportPeriod struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// reportMaxPeriod bounds a report, so that a typo in a year cannot make the
// server read its whole history into one answer by accident.
const reportMaxPeriod = 5 * 366 * 24 * time.Hour

// Validate checks that the period is set, non-empty and at most five years.
func (p ReportPeriod) Validate() error {
	switch {
	case p.From.IsZero() || p.To.IsZero():
		return Errorf(EINVALID, "report period: from and to are both required (RFC 3339 or YYYY-MM-DD)")
	case !p.From.Before(p.To):
		return Errorf(EINVALID, "report period: from (%s) must be before to (%s)", p.From.Format(time.RFC3339), p.To.Format(time.RFC3339))
	case p.To.Sub(p.From) > reportMaxPeriod:
		return Errorf(EINVALID, "report period: %s to %s is longer than five years; report on a shorter period",
			p.From.Format(time.DateOnly), p.To.Format(time.DateOnly))
	}
	return nil
}

// Contains reports whether at falls in [From, To).
func (p ReportPeriod) Contains(at time.Time) bool {
	return !at.IsZero() && !at.Before(p.From) && at.Before(p.To)
}

// asOf is the moment a report on p judges running clocks at: the end of the
// period, or now while the period is still under way. Evidence from after it
// is ignored, so a report on a past month gives the same numbers whenever it
// is computed.
func (p ReportPeriod) asOf(now time.Time) time.Time {
	if now.Before(p.To) {
		return now
	}
	return p.To
}

// ReportFilter narrows a report; empty fields do not filter.
type ReportFilter struct {
	// Repo is a repository's name (acme/payments): its forge issues, the
	// external tickets its changes fix, and its promotions.
	Repo string `json:"repo,omitempty"`
	// Severity selects tickets of one severity. Promotions are not filtered
	// by it; the measures taken from tickets (lead time from a ticket,
	// failures a ticket names) are.
	Severity Severity `json:"severity,omitempty"`
	// Level selects tickets at one support level (L1–L4), as the delivery
	// report's Severity does.
	Level SupportLevel `json:"level,omitempty"`
}

// Validate checks the severity and the repository name when they are set.
func (f ReportFilter) Validate() error {
	if f.Level != "" {
		if err := f.Level.Validate(); err != nil {
			return err
		}
	}
	if f.Severity != "" {
		if err := f.Severity.Validate(); err != nil {
			return err
		}
	}
	if f.Repo != "" {
		return ValidateRepoName(f.Repo)
	}
	return nil
}

// ReportRelease is one promotion as a report needs it.
type ReportRelease struct {
	// ID is the candidate's.
	ID         int64     `json:"id"`
	Repo       string    `json:"repo"`
	Name       string    `json:"name"`
	PromotedAt time.Time `json:"promoted_at"`
	// Items are the changes it newly shipped and the tickets they fix
	// (TicketID 0 for a change fixing none).
	Items []ReportItem `json:"items"`
}

// ReportItem is one change a promotion shipped, with a ticket it fixes.
type ReportItem struct {
	ChangeID int64 `json:"change_id"`
	TicketID int64 `json:"ticket_id,omitempty"`
}

// ReportFixLink is when patchgate learned that a change fixes a ticket: a
// pull request's link is made when it is opened (or its text first names the
// ticket), a direct push's when the commit arrives. It is the nearest
// patchgate knows exactly to a fix's first commit.
type ReportFixLink struct {
	TicketID int64     `json:"ticket_id"`
	ChangeID int64     `json:"change_id"`
	Repo     string    `json:"repo"`
	At       time.Time `json:"at"`
}

// ReportInput is the evidence both reports are computed from: tickets as
// stored (their SLA clocks), promotions with what they shipped, and the fixes
// links. The store reads it from its tables; ReportInputFromAudit rebuilds it
// from the audit log, and both must give the same reports.
type ReportInput struct {
	Tickets  []*Ticket       `json:"tickets"`
	Releases []ReportRelease `json:"releases"`
	FixLinks []ReportFixLink `json:"fix_links"`
}

// ReportService reads a report's evidence. Safe for concurrent use.
type ReportService interface {
	// ReportInput returns the tickets, promotions and fixes links a report
	// on period needs: every ticket (a ticket opened earlier may be released
	// or named as a regression inside the period), every promotion up to
	// period.To and a little after (a failure's restore may follow the
	// period), and every fixes link. Repo filters nothing here: the report
	// attributes external tickets to repositories itself.
	ReportInput(ctx context.Context, period ReportPeriod) (ReportInput, error)
}

// ticketRepos maps each ticket to the repository it is reported under: a
// forge issue's own, else that of the earliest change linked to fix it, else
// none. Links made after asOf do not count yet.
func (in *ReportInput) ticketRepos(asOf time.Time) map[int64]string {
	repos := map[int64]string{}
	for _, t := range in.Tickets {
		if t.Repo != "" {
			repos[t.ID] = t.Repo
		}
	}
	earliest := map[int64]time.Time{}
	for _, l := range in.FixLinks {
		if _, own := repos[l.TicketID]; own && earliest[l.TicketID].IsZero() || l.At.After(asOf) {
			continue
		}
		if at, seen := earliest[l.TicketID]; !seen || l.At.Before(at) || l.At.Equal(at) && l.Repo < repos[l.TicketID] {
			earliest[l.TicketID] = l.At
			repos[l.TicketID] = l.Repo
		}
	}
	return repos
}

// DurationStats summarises durations: how many, their median and 90th
// percentile by the nearest-rank method (the smallest value with at least
// that share of values at or below it, so the median of 1, 2, 3, 4 is 2),
// in whole seconds.
type DurationStats struct {
	Count         int   `json:"count"`
	MedianSeconds int64 `json:"median_seconds"`
	P90Seconds    int64 `json:"p90_seconds"`
}

// NewDurationStats computes the stats of ds; zero when ds is empty.
func NewDurationStats(ds []time.Duration) DurationStats {
	if len(ds) == 0 {
		return DurationStats{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(p float64) int64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return int64(s[max(i, 0)] / time.Second)
	}
	return DurationStats{Count: len(s), MedianSeconds: rank(0.5), P90Seconds: rank(0.9)}
}

// Ratio is a share with the counts it is made of and the items behind its
// numerator (ticket keys or release names), so a reader can check it.
type Ratio struct {
	Numerator   int `json:"numerator"`
	Denominator int `json:"denominator"`
	// Percent is 100·Numerator/Denominator, rounded to one decimal; 0 when
	// the denominator is 0.
	Percent float64  `json:"percent"`
	Items   []string `json:"items"`
}

// NewRatio returns num/den with its items.
func NewRatio(num, den int, items []string) Ratio {
	r := Ratio{Numerator: num, Denominator: den, Items: items}
	if r.Items == nil {
		r.Items = []string{}
	}
	if den > 0 {
		r.Percent = math.Round(1000*float64(num)/float64(den)) / 10
	}
	return r
}

// ReportWeek is one week of a period's weekly series; weeks start at the
// period's From, and the last may be shorter.
type ReportWeek struct {
	Start time.Time `json:"start"`
	// Count is what the series counts in the week: promotions, breaches.
	Count int `json:"count"`
}

// reportWeeks returns the empty weeks of p.
func reportWeeks(p ReportPeriod) []ReportWeek {
	var ws []ReportWeek
	for s := p.From; s.Before(p.To); s = s.Add(7 * 24 * time.Hour) {
		ws = append(ws, ReportWeek{Start: s})
	}
	return ws
}

// countWeek adds one to the week of ws holding at, if p contains it.
func countWeek(ws []ReportWeek, p ReportPeriod, at time.Time) {
	if p.Contains(at) {
		ws[int(at.Sub(p.From)/(7*24*time.Hour))].Count++
	}
}

// seconds is d in whole seconds.
func seconds(d time.Duration) int64 { return int64(d / time.Second) }
