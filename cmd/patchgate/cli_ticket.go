package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/spf13/cobra"
)

// newTicketCommand is `patchgate ticket KEY|ID`, which shows a ticket, and the
// group of `patchgate ticket set`: cobra runs a subcommand when the first
// argument names one, and this command's RunE otherwise.
func newTicketCommand() *cobra.Command {
	var (
		c      apiClient
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "ticket KEY|ID",
		Short: "Show a ticket: state, severity, SLA deadlines, the changes that fix it and its history",
		Long: "Show a ticket by its key (PAY-12, acme/shop#45; any case) or its id.\n" +
			"`patchgate ticket set KEY` records what a tracker patchgate gets no webhooks from knows of it.",
		Example: "  patchgate ticket PAY-12\n  patchgate ticket acme/shop#45 --json",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return patchgate.Errorf(patchgate.EINVALID, "which ticket? patchgate ticket PAY-12 (a key or an id); patchgate tickets lists them")
			}
			path, err := ticketPath(cmd.Context(), &c, args[0])
			if err != nil {
				return err
			}
			var out ticketDetail
			w := cmd.OutOrStdout()
			if done, err := c.read(cmd.Context(), path, asJSON, w, &out); done || err != nil {
				return err
			}
			printTicket(w, &out)
			return nil
		},
	}
	addAPIFlags(cmd, &c)
	addJSONFlag(cmd, &asJSON)
	cmd.AddCommand(newTicketSetCommand())
	return cmd
}

// ticketWithSLA is a ticket as the tickets API shows it.
type ticketWithSLA struct {
	patchgate.Ticket
	SLA patchgate.SLAStatus `json:"sla"`
}

// ticketDetail is GET /api/v1/tickets/{id}.
type ticketDetail struct {
	Ticket      ticketWithSLA           `json:"ticket"`
	Links       []*patchgate.Link       `json:"links"`
	History     []*patchgate.AuditEntry `json:"history"`
	Escalations []*patchgate.Escalation `json:"escalations"`
}

// levelText is a ticket's support level with what it means: "L2 technical
// support"; "-" for a ticket from before levels.
func levelText(l patchgate.SupportLevel) string {
	if l == "" {
		return "-"
	}
	return string(l) + " " + l.Describe()
}

// ticketPath returns the API path of the ticket ref names. A forge issue's
// key (acme/shop#45) has a slash, which a path segment cannot carry, so it is
// looked up by ?key= first.
func ticketPath(ctx context.Context, c *apiClient, ref string) (string, error) {
	if !strings.Contains(ref, "/") {
		return "/api/v1/tickets/" + url.PathEscape(ref), nil
	}
	var out struct {
		Tickets []ticketWithSLA `json:"tickets"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/tickets?"+url.Values{"key": {ref}}.Encode(), nil, &out); err != nil {
		return "", err
	}
	switch len(out.Tickets) {
	case 0:
		return "", patchgate.Errorf(patchgate.ENOTFOUND, "no ticket %s", ref)
	case 1:
		return fmt.Sprintf("/api/v1/tickets/%d", out.Tickets[0].ID), nil
	}
	ids := make([]string, len(out.Tickets))
	for i, t := range out.Tickets {
		ids[i] = fmt.Sprintf("%d (%s)", t.ID, t.Tracker)
	}
	return "", patchgate.Errorf(patchgate.ECONFLICT, "%d tickets are keyed %s: give the id: %s", len(ids), ref, strings.Join(ids, ", "))
}

func printTicket(w io.Writer, d *ticketDetail) {
	t := &d.Ticket
	fmt.Fprintf(w, "%s  %s\n", t.Key, orDash(t.Title))
	tw := newTable(w)
	fmt.Fprintf(tw, "  state\t%s\n", t.State)
	fmt.Fprintf(tw, "  severity\t%s\n", t.Severity)
	fmt.Fprintf(tw, "  level\t%s\n", levelText(t.SupportLevel))
	tracker := string(t.Tracker)
	if t.ForgeState != "" {
		tracker += " (" + t.ForgeState + " there)"
	}
	fmt.Fprintf(tw, "  tracker\t%s\n", tracker)
	if t.URL != "" {
		fmt.Fprintf(tw, "  url\t%s\n", t.URL)
	}
	fmt.Fprintf(tw, "  opened\t%s\n", when(&t.OpenedAt))
	fmt.Fprintf(tw, "  SLA\t%s\n", slaLine(t.SLA))
	if t.SLA.VerifyBy != nil {
		fmt.Fprintf(tw, "  verify by\t%s\t(verified %s)\n", when(t.SLA.VerifyBy), when(&t.VerifiedAt))
	}
	if t.SLA.ReleaseBy != nil {
		fmt.Fprintf(tw, "  release by\t%s\t(released %s)\n", when(t.SLA.ReleaseBy), when(&t.ReleasedAt))
	}
	if !t.ReopenedAt.IsZero() {
		fmt.Fprintf(tw, "  reopened\t%s\n", when(&t.ReopenedAt))
	}
	tw.Flush()

	if len(d.Links) == 0 {
		fmt.Fprintf(w, "\nno change is linked to %s yet — link one: patchgate link %s --repo OWNER/NAME --pr N\n", t.Key, t.Key)
	} else {
		fmt.Fprintln(w, "\nchanges:")
		tw = newTable(w)
		fmt.Fprintln(tw, "  CHANGE\tKIND\tSTATE\tHEAD\tSOURCE\tLINKED BY\tPROVENANCE")
		for _, l := range d.Links {
			change, state, head := fmt.Sprintf("change %d", l.ChangeID), "-", "-"
			if l.Change != nil {
				change, state, head = l.Change.Ref(), string(l.Change.State), short(l.Change.HeadSHA)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", change, l.Kind, state, head, l.Source, orDash(l.CreatedBy), oneLine(l.Provenance))
		}
		tw.Flush()
	}
	if len(d.Escalations) > 0 {
		fmt.Fprintln(w, "\nescalations:")
		tw = newTable(w)
		for _, e := range d.Escalations {
			who := ""
			if e.Supplier != "" || e.Contract != "" {
				who = fmt.Sprintf("\tsupplier %s, contract %s", orDash(e.Supplier), orDash(e.Contract))
			}
			fmt.Fprintf(tw, "  %s\t%s → %s\t%s %s (deadline %s)%s\n", when(&e.At), e.From, levelText(e.To), e.Phase,
				strings.ReplaceAll(string(e.Cause), "_", " "), when(&e.Deadline), who)
		}
		tw.Flush()
	}
	if len(d.History) > 0 {
		fmt.Fprintln(w, "\nhistory:")
		tw = newTable(w)
		for _, e := range d.History {
			fmt.Fprintf(tw, "  %s\t%s → %s\tby %s\n", when(&e.At), orDash(e.Detail["from"]), e.Detail["to"], e.Actor)
		}
		tw.Flush()
	}
}

// slaLine says a ticket's SLA state in words, with the phase that runs.
func slaLine(st patchgate.SLAStatus) string {
	switch {
	case st.State == patchgate.SLANone || st.State == "":
		return "none (no target for this severity or repository)"
	case st.Phase != "":
		return fmt.Sprintf("%s (%s phase)", st.State, st.Phase)
	}
	return string(st.State)
}

// slaDeadline is the deadline of the phase that runs, "-" when none does.
func slaDeadline(st patchgate.SLAStatus) string {
	switch st.Phase {
	case patchgate.SLAPhaseVerify:
		return "verify by " + when(st.VerifyBy)
	case patchgate.SLAPhaseRelease:
		return "release by " + when(st.ReleaseBy)
	}
	return "-"
}

// oneLine keeps a table row on one line: newlines become spaces and long
// text is cut.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 60 {
		return string(r[:59]) + "…"
	}
	return orDash(s)
}

// newTicketsCommand is `patchgate tickets`: a filtered list, newest first.
func newTicketsCommand() *cobra.Command {
	var (
		c                                   apiClient
		asJSON                              bool
		state, sla, repo, severity, tracker string
		level                               string
		limit, offset                       int
	)
	cmd := &cobra.Command{
		Use:   "tickets [--state S] [--sla S] [--repo OWNER/NAME] [--severity S] [--level L1|L2|L3|L4]",
		Short: "List tickets, newest first, with their state and SLA",
		Example: "  patchgate tickets --sla breached\n" +
			"  patchgate tickets --state fix_verified --repo acme/shop --json\n" +
			"  patchgate tickets --level L4 --sla breached",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{"limit": {fmt.Sprint(limit)}, "offset": {fmt.Sprint(offset)}}
			var filters []string
			if level != "" {
				l, ok := patchgate.ParseSupportLevel(level)
				if !ok {
					return patchgate.Errorf(patchgate.EINVALID, "--level %q: want L1 (help desk), L2 (technical support), L3 (experts) or L4 (outside supplier)", level)
				}
				level = string(l)
			}
			for name, v := range map[string]string{"state": state, "sla": sla, "repo": repo, "severity": severity, "tracker": tracker, "level": level} {
				if v != "" {
					q.Set(name, v)
					filters = append(filters, "--"+name+" "+v)
				}
			}
			var out struct {
				Tickets  []ticketWithSLA `json:"tickets"`
				Total    int             `json:"total"`
				Complete *bool           `json:"complete"`
			}
			w := cmd.OutOrStdout()
			if done, err := c.read(cmd.Context(), "/api/v1/tickets?"+q.Encode(), asJSON, w, &out); done || err != nil {
				return err
			}
			if len(out.Tickets) == 0 {
				if len(filters) == 0 {
					fmt.Fprintln(w, "no tickets yet: patchgate learns of one when a change, a tracker or `patchgate ticket set` names it")
				} else {
					sort.Strings(filters)
					fmt.Fprintf(w, "no tickets match %s\n", strings.Join(filters, " "))
				}
				return nil
			}
			tw := newTable(w)
			fmt.Fprintln(tw, "KEY\tSEVERITY\tLEVEL\tSTATE\tSLA\tDEADLINE\tTITLE")
			for _, t := range out.Tickets {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Key, t.Severity, orDash(string(t.SupportLevel)), t.State, t.SLA.State,
					slaDeadline(t.SLA), oneLine(t.Title))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if shown := offset + len(out.Tickets); out.Complete != nil && !*out.Complete {
				fmt.Fprintf(w, "%d shown; more may match: --offset %d\n", len(out.Tickets), shown)
			} else if shown < out.Total {
				fmt.Fprintf(w, "%d of %d shown; next: --offset %d\n", len(out.Tickets), out.Total, shown)
			}
			return nil
		},
	}
	addAPIFlags(cmd, &c)
	addJSONFlag(cmd, &asJSON)
	cmd.Flags().StringVar(&state, "state", "", "open, fix_proposed, fix_verified, fix_merged, released or reopened")
	cmd.Flags().StringVar(&sla, "sla", "", "on_track, at_risk, breached, met or none")
	cmd.Flags().StringVar(&repo, "repo", "", "repository full name")
	cmd.Flags().StringVar(&severity, "severity", "", "critical, high, medium, low or unknown")
	cmd.Flags().StringVar(&tracker, "tracker", "", "github, gitlab or external")
	cmd.Flags().StringVar(&level, "level", "", "support level: L1 (help desk), L2 (technical support), L3 (experts) or L4 (outside supplier)")
	cmd.Flags().IntVar(&limit, "limit", 50, "how many to show")
	cmd.Flags().IntVar(&offset, "offset", 0, "how many to skip (to page)")
	return cmd
}

// newTicketSetCommand is `patchgate ticket set KEY`: what a helpdesk knows of
// a ticket, through PUT /api/v1/tickets/{key}. Only the flags given change.
func newTicketSetCommand() *cobra.Command {
	var (
		c                      apiClient
		title, link, sev       string
		opened, state, updated string
		level                  string
	)
	cmd := &cobra.Command{
		Use:   "set KEY [--title T] [--url U] [--severity S] [--level L] [--opened TIME] [--state open|closed]",
		Short: "Set a ticket's title, URL, severity, support level, opening time or open/closed state",
		Example: "  patchgate ticket set PAY-12 --severity critical --title 'Refunds round down' --opened 2026-11-30T09:00:00Z\n" +
			"  patchgate ticket set PAY-12 --state closed\n" +
			"  patchgate ticket set PAY-12 --level L2",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := map[string]any{}
			flags := cmd.Flags()
			for name, v := range map[string]string{"title": title, "url": link, "severity": sev, "state": state} {
				if flags.Changed(name) {
					req[name] = v
				}
			}
			if flags.Changed("level") {
				l, ok := patchgate.ParseSupportLevel(level)
				if !ok {
					return patchgate.Errorf(patchgate.EINVALID, "--level %q: want L1 (help desk), L2 (technical support), L3 (experts) or L4 (outside supplier)", level)
				}
				req["support_level"] = l
			}
			for name, v := range map[string]string{"opened": opened, "updated": updated} {
				if !flags.Changed(name) {
					continue
				}
				at, err := time.Parse(time.RFC3339, v)
				if err != nil {
					return patchgate.Errorf(patchgate.EINVALID, "--%s: want an RFC 3339 time such as 2026-11-30T09:00:00Z, got %q", name, v)
				}
				req[name+"_at"] = at
			}
			if len(req) == 0 {
				return patchgate.Errorf(patchgate.EINVALID, "nothing to set: give --title, --url, --severity, --level, --opened or --state")
			}
			var out struct {
				Ticket struct {
					patchgate.Ticket
					SLA patchgate.SLAStatus `json:"sla"`
				} `json:"ticket"`
			}
			if err := c.do(cmd.Context(), http.MethodPut, "/api/v1/tickets/"+url.PathEscape(args[0]), req, &out); err != nil {
				return err
			}
			t := out.Ticket
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s: severity %s, level %s, state %s, opened %s, SLA %s\n",
				t.Key, t.Title, t.Severity, orDash(string(t.SupportLevel)), t.State, t.OpenedAt.UTC().Format(time.RFC3339), t.SLA.State)
			return nil
		},
	}
	cmd.Flags().StringVar(&title, "title", "", "title")
	cmd.Flags().StringVar(&link, "url", "", "the ticket's web page")
	cmd.Flags().StringVar(&sev, "severity", "", "critical, high, medium, low or unknown")
	cmd.Flags().StringVar(&level, "level", "", "support level: L1 (help desk), L2 (technical support), L3 (experts) or L4 (outside supplier)")
	cmd.Flags().StringVar(&opened, "opened", "", "when the ticket was opened (RFC 3339): the SLA clock starts there")
	cmd.Flags().StringVar(&state, "state", "", "open or closed; closed then open again after a fix landed is a reopen")
	cmd.Flags().StringVar(&updated, "updated", "", "the tracker's time of this news (default now)")
	addAPIFlags(cmd, &c)
	return cmd
}
