package main

import (
	"fmt"
	"strings"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
	"github.com/spf13/cobra"
)

func newAuditCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Check and export the audit log (run on the server's database, with its audit key)"}
	var head string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check the keyed chain and that every record that decides the gate matches its entry",
		Long: "Check the whole chain with the audit key (audit.key_file) and name the first broken entry; with\n" +
			"--head SEQ:HASH (from `patchgate audit head`, kept elsewhere), also that the log still reaches that\n" +
			"entry unchanged. Then check that every approval, withdrawal, promotion and ticket state has its\n" +
			"audit entry, and that every token, final verification and suite-run state, candidate with its\n" +
			"items, change author and session matches its entry (table, id, field, recorded and audited),\n" +
			"naming each that does not. Exits non-zero when anything does not hold.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var check patchgate.AuditCheck
			if head != "" {
				h, err := patchgate.ParseAuditHead(head)
				if err != nil {
					return err
				}
				check.Head = &h
			}
			return withDBFor(cmd.Context(), g, keyRead, func(db *store.DB) error {
				rep, err := store.NewAuditService(db).CheckAudit(cmd.Context(), check)
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				for _, u := range rep.Unaudited {
					fmt.Fprintln(out, "unaudited:", u)
				}
				var problems []string
				if b := rep.Break; b != nil {
					problems = append(problems, fmt.Sprintf("audit log broken at entry %d (%s); %d entries before it are intact",
						b.Seq, b.Reason, rep.Checked))
				}
				if n := len(rep.Unaudited); n > 0 {
					problems = append(problems, fmt.Sprintf("%d record(s) without their audit entry (listed above)", n))
				}
				if len(problems) > 0 {
					return fmt.Errorf("%s", strings.Join(problems, "; "))
				}
				keyed := "not keyed"
				if rep.KeyedFrom > 0 {
					keyed = fmt.Sprintf("keyed from entry %d", rep.KeyedFrom)
				}
				fmt.Fprintf(out, "audit log intact: %d entries, %s; head %s\n", rep.Checked, keyed, rep.Head)
				if rep.RecordsFrom > 0 {
					fmt.Fprintf(out, "records match their entries (cross-checked from entry %d)\n", rep.RecordsFrom)
				} else {
					fmt.Fprintln(out, "records not cross-checked yet: the log has no baseline; the server records it on its next start")
				}
				return nil
			})
		},
	}
	verify.Flags().StringVar(&head, "head", "", "an anchored head SEQ:HASH that the log must still reach unchanged")
	var headJSON bool
	headCmd := &cobra.Command{
		Use:   "head",
		Short: "Print the log's head as SEQ:HASH, to keep somewhere the database's writers cannot reach",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDBFor(cmd.Context(), g, keyNone, func(db *store.DB) error {
				h, err := store.NewAuditService(db).HeadAudit(cmd.Context())
				if err != nil {
					return err
				}
				if headJSON { // as GET /api/v1/audit/head answers
					return writeJSON(cmd.OutOrStdout(), map[string]any{"seq": h.Seq, "hash": h.Hash, "head": h.String()})
				}
				fmt.Fprintln(cmd.OutOrStdout(), h)
				return nil
			})
		},
	}
	addJSONFlag(headCmd, &headJSON)
	headCmd.Flags().Lookup("json").Usage = "print seq, hash and head as JSON, as GET /api/v1/audit/head does"
	seal := &cobra.Command{
		Use:   "seal",
		Short: "Key a log written before audit keys (once, after upgrading; migrate does it)",
		Long: "Key a log written before audit keys: append the audit.keyed entry that vouches for its plain entries.\n" +
			"Run it once, right after upgrading. It refuses a log whose key file has its .keyed mark (the log was\n" +
			"keyed, so plain entries mean it was rewritten without the key): restore the database from a backup.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDBFor(cmd.Context(), g, keySeal, func(db *store.DB) error {
				h, err := store.NewAuditService(db).HeadAudit(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "audit log keyed; head %s\n", h)
				return nil
			})
		},
	}
	export := &cobra.Command{
		Use:   "export",
		Short: "Write every entry as JSON lines",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDBFor(cmd.Context(), g, keyNone, func(db *store.DB) error {
				return store.NewAuditService(db).ExportAudit(cmd.Context(), cmd.OutOrStdout())
			})
		},
	}
	cmd.AddCommand(verify, headCmd, seal, export)
	return cmd
}
