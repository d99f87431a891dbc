package main

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/patchgate/patchgate"
	"github.com/spf13/cobra"
)

func newReleaseCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "release", Short: "Release candidates: create, show, approve, withdraw, promote"}
	var c apiClient

	var req patchgate.CandidateRequest
	create := &cobra.Command{
		Use:   "create --repo OWNER/NAME [--sha SHA] [--name v1.4.2]",
		Short: "Propose a commit of the release branch for production",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out struct {
				Release patchgate.Candidate `json:"release"`
			}
			if err := c.do(cmd.Context(), http.MethodPost, "/api/v1/releases", req, &out); err != nil {
				return err
			}
			return showRelease(cmd, &c, out.Release.ID)
		},
	}
	create.Flags().StringVar(&req.Repo, "repo", "", "repository full name")
	create.Flags().StringVar((*string)(&req.Forge), "forge", "", "github or gitlab")
	create.Flags().StringVar(&req.Branch, "branch", "", "release branch (default: .patchgate.yml's release.branch, else main)")
	create.Flags().StringVar(&req.SHA, "sha", "", "commit (default: the branch's head)")
	create.Flags().StringVar(&req.Name, "name", "", "tag to create (default release-<short sha>)")
	_ = create.MarkFlagRequired("repo")

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a candidate, its evidence, approvals and blockers",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return patchgate.Errorf(patchgate.EINVALID, "release id %q: want a number", args[0])
			}
			return showRelease(cmd, &c, id)
		},
	}
	approve := &cobra.Command{
		Use:   "approve ID",
		Short: "Approve a candidate at its SHA (release-manager role)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.do(cmd.Context(), http.MethodPost, "/api/v1/releases/"+args[0]+"/approve", map[string]string{"via": "cli"}, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "approved release %s\n", args[0])
			return nil
		},
	}
	withdraw := &cobra.Command{
		Use:   "withdraw ID",
		Short: "Withdraw your approval before promotion",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := c.do(cmd.Context(), http.MethodDelete, "/api/v1/releases/"+args[0]+"/approve", nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "withdrew approval of release %s\n", args[0])
			return nil
		},
	}
	promote := &cobra.Command{
		Use:   "promote ID",
		Short: "Tag and release a releasable, approved candidate (safe to retry)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out struct {
				Release patchgate.Candidate `json:"release"`
			}
			if err := c.do(cmd.Context(), http.MethodPost, "/api/v1/releases/"+args[0]+"/promote", nil, &out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "promoted %s at %s: %s\n", out.Release.Name, out.Release.SHA, out.Release.ReleaseURL)
			return nil
		},
	}
	for _, sub := range []*cobra.Command{create, show, approve, withdraw, promote} {
		addAPIFlags(sub, &c)
		cmd.AddCommand(sub)
	}
	return cmd
}

func showRelease(cmd *cobra.Command, c *apiClient, id int64) error {
	var out struct {
		Release    patchgate.Candidate  `json:"release"`
		Evaluation patchgate.Evaluation `json:"evaluation"`
	}
	if err := c.do(cmd.Context(), http.MethodGet, fmt.Sprintf("/api/v1/releases/%d", id), nil, &out); err != nil {
		return err
	}
	printRelease(cmd.OutOrStdout(), &out.Release, &out.Evaluation)
	return nil
}

func printRelease(w io.Writer, r *patchgate.Candidate, ev *patchgate.Evaluation) {
	fmt.Fprintf(w, "release %d %s of %s at %s (%s)\n", r.ID, r.Name, r.Repo, r.SHA, r.State)
	for _, item := range r.Items {
		if item.Change == nil {
			continue
		}
		ticket := "-"
		if item.Ticket != nil {
			ticket = item.Ticket.Key + " (" + string(item.Ticket.State) + ")"
			if v := ev.Evidence[item.Ticket.Key]; v != nil {
				ticket += fmt.Sprintf(", verified by %d on %s", v.ID, v.SHA[:7])
			}
		}
		fmt.Fprintf(w, "  %s %s: %s\n", item.Change.Ref(), item.Change.Title, ticket)
	}
	fmt.Fprintf(w, "  approvals: %d of %d\n", ev.Approvals, ev.Needed)
	if ev.Releasable {
		fmt.Fprintln(w, "  releasable")
	} else {
		fmt.Fprintf(w, "  blocked:\n    %s\n", strings.Join(ev.Blockers, "\n    "))
	}
}
