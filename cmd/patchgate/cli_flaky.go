package main

import (
	"fmt"
	"net/url"

	"github.com/patchgate/patchgate"
	"github.com/spf13/cobra"
)

func newFlakyCommand() *cobra.Command {
	var (
		c      apiClient
		forge  string
		repo   string
		last   int
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "flaky --repo OWNER/NAME",
		Short: "List the tests that failed and then passed on a re-run in a repository's last verifications",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out struct {
				Flaky []patchgate.FlakyTest `json:"flaky"`
			}
			path := fmt.Sprintf("/api/v1/repos/%s/%s/flaky?last=%d", url.PathEscape(forge), repo, last)
			w := cmd.OutOrStdout()
			if done, err := c.read(cmd.Context(), path, asJSON, w, &out); done || err != nil {
				return err
			}
			if len(out.Flaky) == 0 {
				fmt.Fprintf(w, "no flaky tests in the last %d verifications of %s\n", last, repo)
				return nil
			}
			tw := newTable(w)
			fmt.Fprintln(tw, "VERIFICATION\tCOMMIT\tSUITE\tTEST\tPASSED ON ATTEMPT")
			for _, f := range out.Flaky {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\n", f.VerificationID, short(f.SHA), f.Suite, f.Name, f.Attempt)
			}
			return tw.Flush()
		},
	}
	addJSONFlag(cmd, &asJSON)
	addAPIFlags(cmd, &c)
	cmd.Flags().StringVar(&repo, "repo", "", "repository full name")
	cmd.Flags().StringVar(&forge, "forge", string(patchgate.GitHub), "github or gitlab")
	cmd.Flags().IntVar(&last, "last", patchgate.DefaultFlakyWindow, "how many of the latest verifications to look at")
	_ = cmd.MarkFlagRequired("repo")
	return cmd
}
