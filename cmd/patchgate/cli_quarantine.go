package main

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/spf13/cobra"
)

// quarantineFlags are the flags every quarantine subcommand shares.
type quarantineFlags struct {
	c     apiClient
	forge string
	repo  string
}

func (f *quarantineFlags) add(cmd *cobra.Command) {
	addAPIFlags(cmd, &f.c)
	cmd.Flags().StringVar(&f.repo, "repo", "", "repository full name")
	cmd.Flags().StringVar(&f.forge, "forge", string(patchgate.GitHub), "github or gitlab")
	_ = cmd.MarkFlagRequired("repo")
}

func (f *quarantineFlags) path() string {
	return fmt.Sprintf("/api/v1/repos/%s/%s/quarantine", url.PathEscape(f.forge), f.repo)
}

func newQuarantineCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "quarantine",
		Short: "Quarantine flaky tests through the API (admin): their failures stop failing their suite until the quarantine expires",
	}
	cmd.AddCommand(newQuarantineAddCommand(), newQuarantineListCommand(), newQuarantineRemoveCommand())
	return cmd
}

func newQuarantineAddCommand() *cobra.Command {
	var (
		f                                  quarantineFlags
		suite, owner, ticket, reason, till string
	)
	cmd := &cobra.Command{
		Use:   "add TEST --repo OWNER/NAME --owner WHO --ticket KEY --expires YYYY-MM-DD",
		Short: "Quarantine a flaky test for at most 30 days (refused for a test that fails every time)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]string{"test": args[0], "suite": suite, "owner": owner, "ticket": ticket, "reason": reason, "expires_at": till}
			var q patchgate.Quarantine
			if err := f.c.do(cmd.Context(), http.MethodPost, f.path(), body, &q); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "quarantine %d: %s\n", q.ID, q.Excuse())
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&suite, "suite", "", "the suite it applies to (default every suite)")
	cmd.Flags().StringVar(&owner, "owner", "", "who answers for the fix")
	cmd.Flags().StringVar(&ticket, "ticket", "", "the ticket that tracks the fix")
	cmd.Flags().StringVar(&reason, "reason", "", "why the test is flaky")
	cmd.Flags().StringVar(&till, "expires", "", "when it stops excusing: a date (UTC midnight) or RFC 3339 time, at most 30 days ahead")
	for _, name := range []string{"owner", "ticket", "expires"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func newQuarantineListCommand() *cobra.Command {
	var f quarantineFlags
	cmd := &cobra.Command{
		Use:   "list --repo OWNER/NAME",
		Short: "List a repository's quarantines created through the API, expired ones marked",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out struct {
				Quarantines []struct {
					patchgate.Quarantine
					Expired bool `json:"expired"`
				} `json:"quarantines"`
			}
			if err := f.c.do(cmd.Context(), http.MethodGet, f.path(), nil, &out); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if len(out.Quarantines) == 0 {
				fmt.Fprintf(w, "no quarantines of %s through the API (see also %s)\n", f.repo, ".patchgate.yml")
				return nil
			}
			for _, q := range out.Quarantines {
				suite := q.Suite
				if suite == "" {
					suite = "*"
				}
				state := "until " + q.ExpiresAt.UTC().Format(time.DateOnly)
				if q.Expired {
					state = "EXPIRED " + q.ExpiresAt.UTC().Format(time.DateOnly) + ": fix it or renew it"
				}
				fmt.Fprintf(w, "%d\t%s\t%s\towner %s\t%s\t%s\tby %s\n", q.ID, suite, q.Test, q.Owner, q.Ticket, state, q.CreatedBy)
			}
			return nil
		},
	}
	f.add(cmd)
	return cmd
}

func newQuarantineRemoveCommand() *cobra.Command {
	var f quarantineFlags
	cmd := &cobra.Command{
		Use:   "remove ID --repo OWNER/NAME",
		Short: "Remove a quarantine (the test's failures count again)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.c.do(cmd.Context(), http.MethodDelete, f.path()+"/"+url.PathEscape(args[0]), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "quarantine %s of %s removed\n", args[0], f.repo)
			return nil
		},
	}
	f.add(cmd)
	return cmd
}
