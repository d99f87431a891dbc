package server

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// reportFilterView is the filter form both report pages share, as the user
// typed it.
type reportFilterView struct {
	From, To, Repo, Severity, Level string
	Repos                           []string
	Severities                      []patchgate.Severity
	Levels                          []patchgate.SupportLevel
}

// slaReportView is the SLA report page.
type slaReportView struct {
	pageView
	Filter reportFilterView
	Report *patchgate.SLAReport
	// Breaches charts breaches per week.
	Breaches barChart
}

// deliveryReportView is the delivery report page.
type deliveryReportView struct {
	pageView
	Filter  reportFilterView
	Report  *patchgate.DeliveryReport
	Weekly  barChart
	LeadHis barChart
}

// barChart is a bar chart laid out for an inline SVG: the handler computes
// every coordinate, so the template only draws and no script is needed. The
// chart scales to its container through its viewBox, and its title, desc
// and the text label on every bar say what a screen reader and a reader
// without colour need.
type barChart struct {
	ID, Title, Desc string
	Width, Height   int
	// Baseline is the y of the axis.
	Baseline int
	Bars     []chartBar
}

// chartBar is one bar with its label below and its value above.
type chartBar struct {
	X, Y, W, H     int
	LabelX, ValueY int
	Label, Value   string
}

// Chart geometry, in viewBox units. The chart is drawn at the container's
// width, so one unit is about one CSS pixel on a 360 px phone: text of 14
// units stays readable there, and a wider screen only enlarges it (the
// figure is capped at 40rem).
const (
	chartWidth, chartHeight = 360, 200
	chartTop, chartBottom   = 24, 36 // room for values above, labels below
	// chartLabelWidth is the room one label needs; with more bars than fit,
	// only every few bars are labelled.
	chartLabelWidth = 44
)

// newBarChart lays out counts as bars labelled with labels.
func newBarChart(id, title, desc string, labels []string, counts []int) barChart {
	c := barChart{ID: id, Title: title, Desc: desc, Width: chartWidth, Height: chartHeight, Baseline: chartHeight - chartBottom}
	if len(counts) == 0 {
		return c
	}
	peak := 1
	for _, n := range counts {
		peak = max(peak, n)
	}
	slot := chartWidth / len(counts)
	every := (chartLabelWidth + slot - 1) / slot
	plot := c.Baseline - chartTop
	for i, n := range counts {
		h := n * plot / peak
		b := chartBar{X: i*slot + slot/8, Y: c.Baseline - h, W: max(slot*3/4, 1), H: h, LabelX: i*slot + slot/2,
			ValueY: c.Baseline - h - 6}
		if i%every == 0 {
			b.Label = labels[i]
		}
		if slot >= 20 || n == peak {
			b.Value = strconv.Itoa(n)
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

// weekLabels names weeks by their first day: "11-03".
func weekLabels(ws []patchgate.ReportWeek) ([]string, []int) {
	labels, counts := make([]string, len(ws)), make([]int, len(ws))
	for i, w := range ws {
		labels[i], counts[i] = w.Start.UTC().Format("01-02"), w.Count
	}
	return labels, counts
}

// leadTimeBuckets are the lead-time histogram's bins, upper bounds exclusive.
var leadTimeBuckets = []struct {
	label string
	upTo  time.Duration
}{
	{"<1h", time.Hour}, {"1-4h", 4 * time.Hour}, {"4-24h", 24 * time.Hour}, {"1-3d", 72 * time.Hour},
	{"3-7d", 7 * 24 * time.Hour}, {"1-2w", 14 * 24 * time.Hour}, {"≥2w", 1<<63 - 1},
}

// leadTimeHistogram counts promotions by lead time for changes.
func leadTimeHistogram(ps []patchgate.DeliveryPromotion) ([]string, []int) {
	labels, counts := make([]string, len(leadTimeBuckets)), make([]int, len(leadTimeBuckets))
	for i, b := range leadTimeBuckets {
		labels[i] = b.label
	}
	for _, p := range ps {
		if p.LeadTimeSeconds == nil {
			continue
		}
		d := time.Duration(*p.LeadTimeSeconds) * time.Second
		for i, b := range leadTimeBuckets {
			if d < b.upTo {
				counts[i]++
				break
			}
		}
	}
	return labels, counts
}

// reportFilterOf reads the form back for the page and lists the choices.
func (s *Server) reportFilterOf(c *gin.Context, p patchgate.ReportPeriod, f patchgate.ReportFilter) reportFilterView {
	v := reportFilterView{From: c.Query("from"), To: c.Query("to"), Repo: f.Repo, Severity: string(f.Severity),
		Level: string(f.Level), Levels: patchgate.SupportLevels,
		Severities: []patchgate.Severity{patchgate.SeverityCritical, patchgate.SeverityHigh, patchgate.SeverityMedium,
			patchgate.SeverityLow, patchgate.SeverityUnknown}}
	if v.From == "" && !p.From.IsZero() {
		v.From = p.From.UTC().Format(time.DateOnly)
	}
	if v.To == "" && !p.To.IsZero() {
		v.To = p.To.UTC().Format(time.DateOnly)
	}
	if s.Repos != nil {
		for _, r := range s.Repos.All() {
			v.Repos = append(v.Repos, r.Name)
		}
	}
	return v
}

// reportPage reads a report page's query into its filter form: the
// reporter, period and filter to draw the page with, or ok false when the
// page is answered already (no reports served; a query it refuses, said in
// the form above, view rendered as template name).
func (s *Server) reportPage(c *gin.Context, name string, view viewer, form *reportFilterView) (r Reporter, p patchgate.ReportPeriod, f patchgate.ReportFilter, ok bool) {
	r, err := s.reporter()
	if err != nil {
		s.dashboardError(c, err)
		return nil, p, f, false
	}
	p, f, err = reportQuery(c, time.Now())
	*form = s.reportFilterOf(c, p, f)
	if err != nil {
		view.Page().Error = patchgate.ErrorMessage(err)
		s.render(c, http.StatusBadRequest, name, view)
		return nil, p, f, false
	}
	return r, p, f, true
}

func (s *Server) handleSLAReportPage(c *gin.Context) {
	v := &slaReportView{pageView: pageView{Title: "SLA report", Nav: "reports"}}
	r, p, f, ok := s.reportPage(c, "report_sla", v, &v.Filter)
	if !ok {
		return
	}
	rep, err := r.SLA(c.Request.Context(), p, f)
	if err != nil {
		s.dashboardError(c, err)
		return
	}
	v.Report = &rep
	labels, counts := weekLabels(rep.Weeks)
	total := 0
	for _, n := range counts {
		total += n
	}
	v.Breaches = newBarChart("chart-breaches", "Breaches per week",
		fmt.Sprintf("%d SLA breaches in %d weeks, by the week their deadline passed; weeks start on the dates below.", total, len(counts)),
		labels, counts)
	s.render(c, http.StatusOK, "report_sla", v)
}

func (s *Server) handleDeliveryReportPage(c *gin.Context) {
	v := &deliveryReportView{pageView: pageView{Title: "Delivery report", Nav: "reports"}}
	r, p, f, ok := s.reportPage(c, "report_delivery", v, &v.Filter)
	if !ok {
		return
	}
	rep, err := r.Delivery(c.Request.Context(), p, f)
	if err != nil {
		s.dashboardError(c, err)
		return
	}
	v.Report = &rep
	labels, counts := weekLabels(rep.Weeks)
	v.Weekly = newBarChart("chart-promotions", "Promotions per week",
		fmt.Sprintf("%d promotions in %d weeks; weeks start on the dates below.", rep.Overall.Promotions, len(counts)), labels, counts)
	labels, counts = leadTimeHistogram(rep.Promotions)
	v.LeadHis = newBarChart("chart-lead-time", "Lead time for changes",
		fmt.Sprintf("%d promotions by the time from the first fix link of what they shipped to the promotion.", rep.Overall.LeadTimeForChanges.Count),
		labels, counts)
	s.render(c, http.StatusOK, "report_delivery", v)
}

// secondsText renders whole seconds for people: "3d 4h", "5h 20m", "45m", "30s".
func secondsText(secs int64) string {
	d := time.Duration(secs) * time.Second
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd %dh", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh %dm", d/time.Hour, d%time.Hour/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", secs)
}

// statsText is "10h 0m / 12h 0m" (median / 90th percentile), or "–".
func statsText(st patchgate.DurationStats) string {
	if st.Count == 0 {
		return "–"
	}
	return secondsText(st.MedianSeconds) + " / " + secondsText(st.P90Seconds)
}

// ratioText is "1 of 4 (25.0%)", or "–" with nothing to divide by.
func ratioText(r patchgate.Ratio) string {
	if r.Denominator == 0 {
		return "–"
	}
	return fmt.Sprintf("%d of %d (%.1f%%)", r.Numerator, r.Denominator, r.Percent)
}

// reportSeconds is secondsText for a template: whole seconds, or a pointer
// to them ("–" when nil).
func reportSeconds(v any) string {
	switch s := v.(type) {
	case int64:
		return secondsText(s)
	case *int64:
		if s != nil {
			return secondsText(*s)
		}
	}
	return "–"
}
