package main

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/spf13/cobra"
)

func newTicketCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "ticket", Short: "Tickets from trackers patchgate gets no webhooks from (helpdesks, scripts)"}
	cmd.AddCommand(newTicketSetCommand())
	return cmd
}

// newTicketSetCommand is `patchgate ticket set KEY`: what a helpdesk knows of
// a ticket, through PUT /api/v1/tickets/{key}. Only the flags given change.
func newTicketSetCommand() *cobra.Command {
	var (
		c                      apiClient
		title, link, sev       string
		opened, state, updated string
	)
	cmd := &cobra.Command{
		Use:   "set KEY [--title T] [--url U] [--severity S] [--opened TIME] [--state open|closed]",
		Short: "Set a ticket's title, URL, severity, opening time or open/closed state",
		Example: "  patchgate ticket set PAY-12 --severity critical --title 'Refunds round down' --opened 2026-11-30T09:00:00Z\n" +
			"  patchgate ticket set PAY-12 --state closed",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := map[string]any{}
			flags := cmd.Flags()
			for name, v := range map[string]string{"title": title, "url": link, "severity": sev, "state": state} {
				if flags.Changed(name) {
					req[name] = v
				}
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
				return patchgate.Errorf(patchgate.EINVALID, "nothing to set: give --title, --url, --severity, --opened or --state")
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
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s: severity %s, state %s, opened %s, SLA %s\n",
				t.Key, t.Title, t.Severity, t.State, t.OpenedAt.UTC().Format(time.RFC3339), t.SLA.State)
			return nil
		},
	}
	cmd.Flags().StringVar(&title, "title", "", "title")
	cmd.Flags().StringVar(&link, "url", "", "the ticket's web page")
	cmd.Flags().StringVar(&sev, "severity", "", "critical, high, medium, low or unknown")
	cmd.Flags().StringVar(&opened, "opened", "", "when the ticket was opened (RFC 3339): the SLA clock starts there")
	cmd.Flags().StringVar(&state, "state", "", "open or closed; closed then open again after a fix landed is a reopen")
	cmd.Flags().StringVar(&updated, "updated", "", "the tracker's time of this news (default now)")
	addAPIFlags(cmd, &c)
	return cmd
}
