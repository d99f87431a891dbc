package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/usecase/reconcile"
	"github.com/spf13/cobra"
)

func newReconcileCommand(g *globalFlags) *cobra.Command {
	var repo, forge string
	var dryRun, asJSON bool
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Compare every open change's head with its forge's now and correct what missed webhooks left stale",
		Long: "Ask the forge for the head and state of every open PR/MR and tracked branch of the configured\n" +
			"repositories (--config, --database: the server's) and, where patchgate derived another head (a push\n" +
			"missed while it was down), store a correction that the serving patchgate applies like a webhook:\n" +
			"the new head is verified and the old verdict no longer counts. A correction is stored once, however\n" +
			"many runs or instances find it. First it asks GitHub to redeliver the deliveries to patchgate's hook\n" +
			"(public_url/webhooks/github) that never reached it, three days back. --dry-run only prints what it\n" +
			"would do.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			if len(cfg.Repos) == 0 {
				return fmt.Errorf("no repository is configured, so there is nothing to reconcile; pass --config with the server's configuration")
			}
			m := NewMain(cfg, slog.New(slog.DiscardHandler))
			clients, err := m.forgeClients()
			if err != nil {
				return err
			}
			return withDBFor(cmd.Context(), g, keyNone, func(db *store.DB) error {
				r := m.newReconciler(store.NewChangeService(db), store.NewDeliveryService(db), m.repositories().dir, clients, nil)
				rep, err := r.Run(cmd.Context(), reconcile.Options{Repo: repo, Forge: patchgate.Forge(forge), DryRun: dryRun})
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(cmd.OutOrStdout(), rep)
				}
				return printReconcile(cmd.OutOrStdout(), rep)
			})
		},
	}
	cmd.Flags().StringVar(&repo, "repo", "", "only this repository (default: every configured one)")
	cmd.Flags().StringVar(&forge, "forge", "", "only this forge: github or gitlab")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what differs and what would be redelivered; change nothing")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print {started_at, finished_at, dry_run, checked, corrections: [...], redelivered: [...], problems: [...], truncated}")
	return cmd
}

// printReconcile writes a run's findings for people: a summary line, the
// corrections as a table, then the changes that could not be checked.
func printReconcile(w io.Writer, rep *reconcile.Report) error {
	verb := "corrected"
	if rep.DryRun {
		verb = "would correct (dry run)"
	}
	fmt.Fprintf(w, "checked %d open change(s); %s %d; %d could not be checked\n", rep.Checked, verb, len(rep.Corrections), len(rep.Problems))
	if len(rep.Redelivered) > 0 {
		asked := "asked the forge to redeliver"
		if rep.DryRun {
			asked = "would ask the forge to redeliver (dry run)"
		}
		fmt.Fprintf(w, "%s %d webhook delivery(ies) that did not reach patchgate:\n", asked, len(rep.Redelivered))
		for _, d := range rep.Redelivered {
			fmt.Fprintf(w, "  %s %s %s (answered %d at %s)\n", d.Repo, d.Event, d.GUID, d.StatusCode, d.DeliveredAt.Format("2006-01-02 15:04:05Z07:00"))
		}
	}
	if len(rep.Corrections) > 0 {
		tw := newTable(w)
		fmt.Fprintln(tw, "\nCHANGE\tPATCHGATE HEAD\tFORGE HEAD\tSTATE\tSTORED")
		for _, c := range rep.Corrections {
			state := string(c.ForgeState)
			if c.ForgeState != "" && c.ForgeState != c.StoredState {
				state = fmt.Sprintf("%s → %s", c.StoredState, c.ForgeState)
			}
			stored := "yes"
			switch {
			case rep.DryRun:
				stored = "no (dry run)"
			case !c.Applied:
				stored = "already (another run)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Change, short(c.StoredHead), short(c.ForgeHead), state, stored)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "\nnot checked: %s %s: %s\n", p.Repo, p.Change, p.Error)
	}
	if rep.Truncated {
		fmt.Fprintln(w, "\nstopped at the per-run limit; run again for the rest")
	}
	return nil
}
