package main

import (
	"errors"
	"fmt"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
	"github.com/spf13/cobra"
)

func newAuditCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Check and export the audit log (run on the server's database)"}
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check the whole hash chain; name the first broken entry",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDB(cmd.Context(), g, func(db *store.DB) error {
				checked, err := store.NewAuditService(db).VerifyAudit(cmd.Context())
				var broken *patchgate.AuditBreak
				if errors.As(err, &broken) {
					return fmt.Errorf("audit log broken at entry %d (%s); %d entries before it are intact", broken.Seq, broken.Reason, checked)
				} else if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "audit log intact: %d entries\n", checked)
				return nil
			})
		},
	}
	export := &cobra.Command{
		Use:   "export",
		Short: "Write every entry as JSON lines",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDB(cmd.Context(), g, func(db *store.DB) error {
				return store.NewAuditService(db).ExportAudit(cmd.Context(), cmd.OutOrStdout())
			})
		},
	}
	cmd.AddCommand(verify, export)
	return cmd
}
