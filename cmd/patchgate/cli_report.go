package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/spf13/cobra"
)

// reportFlags are the flags both report commands share.
type reportFlags struct {
	c                        apiClient
	from, to, repo, severity string
	level                    string
	asJSON, asCSV            bool
}

// query is the API's query string for the flags set.
func (f *reportFlags) query() string {
	q := url.Values{}
	for k, v := range map[string]string{"from": f.from, "to": f.to, "repo": f.repo, "severity": f.severity, "level": f.level} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

func (f *reportFlags) add(cmd *cobra.Command) {
	addJSONFlag(cmd, &f.asJSON)
	addAPIFlags(cmd, &f.c)
	cmd.Flags().BoolVar(&f.asCSV, "csv", false, "print the groups as CSV, one row each, for a spreadsheet")
	cmd.Flags().StringVar(&f.from, "from", "", "start of the period, inclusive: YYYY-MM-DD or RFC 3339 (default: 28 days before --to)")
	cmd.Flags().StringVar(&f.to, "to", "", "end of the period, exclusive: YYYY-MM-DD or RFC 3339 (default: the end of today, UTC)")
	cmd.Flags().StringVar(&f.repo, "repo", "", "only this repository (acme/payments)")
	cmd.Flags().StringVar(&f.severity, "severity", "", "only tickets of this severity (critical, high, medium, low, unknown)")
	cmd.Flags().StringVar(&f.level, "level", "", "only tickets at this support level (L1, L2, L3, L4)")
	cmd.MarkFlagsMutuallyExclusive("json", "csv")
}

func newReportCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Report on the SLA and on delivery over a period, from the recorded evidence",
	}
	cmd.AddCommand(newSLAReportCommand(), newDeliveryReportCommand())
	return cmd
}

func newSLAReportCommand() *cobra.Command {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "sla",
		Short: "SLA compliance: tickets opened, met, breached, running, at risk; times to verified and released; breaches",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var rep patchgate.SLAReport
			w := cmd.OutOrStdout()
			if done, err := f.c.read(cmd.Context(), "/api/v1/reports/sla"+f.query(), f.asJSON, w, &rep); done || err != nil {
				return err
			}
			if f.asCSV {
				return writeSLACSV(w, rep)
			}
			return writeSLATable(w, rep)
		},
	}
	f.add(cmd)
	return cmd
}

func newDeliveryReportCommand() *cobra.Command {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "delivery",
		Short: "Delivery measures: promotions a week, lead times, change failure rate, time to restore",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var rep patchgate.DeliveryReport
			w := cmd.OutOrStdout()
			if done, err := f.c.read(cmd.Context(), "/api/v1/reports/delivery"+f.query(), f.asJSON, w, &rep); done || err != nil {
				return err
			}
			if f.asCSV {
				return writeDeliveryCSV(w, rep)
			}
			return writeDeliveryTable(w, rep)
		},
	}
	f.add(cmd)
	return cmd
}

// periodLine says what a report covers.
func periodLine(p patchgate.ReportPeriod, asOf time.Time) string {
	return fmt.Sprintf("%s to %s (exclusive), as of %s", p.From.UTC().Format(time.RFC3339), p.To.UTC().Format(time.RFC3339),
		asOf.UTC().Format("2006-01-02 15:04 UTC"))
}

// slaGroupName is "overall" or "severity=critical".
func slaGroupName(g patchgate.SLAGroup) string {
	if g.Dimension == "" {
		return "overall"
	}
	return g.Dimension + "=" + g.Value
}

func writeSLATable(w io.Writer, rep patchgate.SLAReport) error {
	fmt.Fprintf(w, "SLA report: %s\n\n", periodLine(rep.Period, rep.AsOf))
	tw := newTable(w)
	fmt.Fprintln(tw, "GROUP\tOPENED\tMET\tBREACHED\tRUNNING\tAT RISK\tNO SLA\tCOMPLIANCE\tTO VERIFIED (MEDIAN/P90)\tTO RELEASED (MEDIAN/P90)")
	for _, g := range append([]patchgate.SLAGroup{rep.Overall}, rep.Groups...) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", slaGroupName(g), g.Opened, g.Met, g.Breached, g.Running,
			g.AtRisk, g.NoSLA, ratioText(g.Compliance), statsText(g.TimeToVerified), statsText(g.TimeToReleased))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rep.Breaches) == 0 {
		_, err := fmt.Fprintln(w, "\nno breaches")
		return err
	}
	fmt.Fprintf(w, "\n%d breaches:\n", len(rep.Breaches))
	tw = newTable(w)
	fmt.Fprintln(tw, "TICKET\tREPOSITORY\tSEVERITY\tPHASE\tDEADLINE\tDONE\tLATE")
	for _, b := range rep.Breaches {
		done := "still running"
		if b.DoneAt != nil {
			done = when(b.DoneAt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", b.Ticket, dash(b.Repo), b.Severity, b.Phase, when(&b.Deadline), done,
			secondsText(b.LateSeconds))
	}
	return tw.Flush()
}

func writeSLACSV(w io.Writer, rep patchgate.SLAReport) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"dimension", "value", "opened", "met", "breached", "running", "at_risk", "no_sla",
		"compliance_numerator", "compliance_denominator", "compliance_percent",
		"verified_count", "verified_median_seconds", "verified_p90_seconds",
		"released_count", "released_median_seconds", "released_p90_seconds", "from", "to"})
	for _, g := range append([]patchgate.SLAGroup{rep.Overall}, rep.Groups...) {
		dim := g.Dimension
		if dim == "" {
			dim = "overall"
		}
		rec := append([]string{dim, g.Value}, ints(g.Opened, g.Met, g.Breached, g.Running, g.AtRisk, g.NoSLA,
			g.Compliance.Numerator, g.Compliance.Denominator)...)
		rec = append(rec, strconv.FormatFloat(g.Compliance.Percent, 'f', 1, 64))
		rec = append(rec, statsCSV(g.TimeToVerified)...)
		rec = append(rec, statsCSV(g.TimeToReleased)...)
		rec = append(rec, rep.Period.From.UTC().Format(time.RFC3339), rep.Period.To.UTC().Format(time.RFC3339))
		_ = cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

func writeDeliveryTable(w io.Writer, rep patchgate.DeliveryReport) error {
	fmt.Fprintf(w, "Delivery report: %s\n\n", periodLine(rep.Period, rep.AsOf))
	tw := newTable(w)
	fmt.Fprintln(tw, "REPOSITORY\tPROMOTIONS\tPER WEEK\tLEAD TIME FOR CHANGES (MEDIAN/P90)\tTICKET TO RELEASE (MEDIAN/P90)\tCHANGE FAILURE RATE\tTIME TO RESTORE (MEDIAN/P90)")
	for _, g := range append([]patchgate.DeliveryGroup{rep.Overall}, rep.Repos...) {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t%s\t%s\t%s\n", deliveryGroupName(g), g.Promotions, g.PerWeek,
			statsText(g.LeadTimeForChanges), statsText(g.LeadTimeFromTicket), ratioText(g.ChangeFailureRate), statsText(g.TimeToRestore))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rep.Failures) == 0 {
		_, err := fmt.Fprintln(w, "\nno failed promotions")
		return err
	}
	fmt.Fprintf(w, "\n%d failures:\n", len(rep.Failures))
	tw = newTable(w)
	fmt.Fprintln(tw, "RELEASE\tREPOSITORY\tWHY\tTICKET\tAT\tRESTORED BY\tTIME TO RESTORE")
	for _, f := range rep.Failures {
		restored, ttr := "not yet", "-"
		if f.RestoredBy != "" {
			restored = f.RestoredBy
		}
		if f.TimeToRestoreSecs != nil {
			ttr = secondsText(*f.TimeToRestoreSecs)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Release, f.Repo, f.Kind, f.Ticket, when(&f.At), restored, ttr)
	}
	return tw.Flush()
}

func writeDeliveryCSV(w io.Writer, rep patchgate.DeliveryReport) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"repo", "promotions", "days", "per_week",
		"lead_time_count", "lead_time_median_seconds", "lead_time_p90_seconds",
		"ticket_to_release_count", "ticket_to_release_median_seconds", "ticket_to_release_p90_seconds",
		"failed_promotions", "change_failure_rate_percent",
		"restore_count", "restore_median_seconds", "restore_p90_seconds", "from", "to"})
	for _, g := range append([]patchgate.DeliveryGroup{rep.Overall}, rep.Repos...) {
		rec := []string{deliveryGroupName(g), strconv.Itoa(g.Promotions), strconv.FormatFloat(g.Days, 'f', 1, 64),
			strconv.FormatFloat(g.PerWeek, 'f', 1, 64)}
		rec = append(rec, statsCSV(g.LeadTimeForChanges)...)
		rec = append(rec, statsCSV(g.LeadTimeFromTicket)...)
		rec = append(rec, strconv.Itoa(g.ChangeFailureRate.Numerator), strconv.FormatFloat(g.ChangeFailureRate.Percent, 'f', 1, 64))
		rec = append(rec, statsCSV(g.TimeToRestore)...)
		rec = append(rec, rep.Period.From.UTC().Format(time.RFC3339), rep.Period.To.UTC().Format(time.RFC3339))
		_ = cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

func deliveryGroupName(g patchgate.DeliveryGroup) string {
	if g.Repo == "" {
		return "overall"
	}
	return g.Repo
}

// ratioText is "1/4 (25.0%)", or "-" with nothing to divide by.
func ratioText(r patchgate.Ratio) string {
	if r.Denominator == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d (%.1f%%)", r.Numerator, r.Denominator, r.Percent)
}

// statsText is "10h/12h (3)", or "-" without values.
func statsText(s patchgate.DurationStats) string {
	if s.Count == 0 {
		return "-"
	}
	return fmt.Sprintf("%s/%s (%d)", secondsText(s.MedianSeconds), secondsText(s.P90Seconds), s.Count)
}

func statsCSV(s patchgate.DurationStats) []string {
	return ints(s.Count, int(s.MedianSeconds), int(s.P90Seconds))
}

// secondsText renders a duration for people: "3d 4h", "5h 20m", "45m", "30s".
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

func ints(ns ...int) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = strconv.Itoa(n)
	}
	return out
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
