package main

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/patchgate/patchgate"
	"github.com/spf13/cobra"
)

func newFlakyCommand() *cobra.Command {
	var (
		c     apiClient
		forge string
		repo  string
		last  int
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
			if err := c.do(cmd.Context(), http.MethodGet, path, nil, &out); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if len(out.Flaky) == 0 {
				fmt.Fprintf(w, "no flaky tests in the last %d verifications of %s\n", last, repo)
				return nil
			}
			for _, f := range out.Flaky {
				fmt.Fprintf(w, "verification %d\t%.12s\t%s\t%s\tpassed on attempt %d\n", f.VerificationID, f.SHA, f.Suite, f.Name, f.Attempt)
			}
			return nil
		},
	}
	addAPIFlags(cmd, &c)
	cmd.Flags().StringVar(&repo, "repo", "", "repository full name")
	cmd.Flags().StringVar(&forge, "forge", string(patchgate.GitHub), "github or gitlab")
	cmd.Flags().IntVar(&last, "last", patchgate.DefaultFlakyWindow, "how many of the latest verifications to look at")
	_ = cmd.MarkFlagRequired("repo")
	return cmd
}
