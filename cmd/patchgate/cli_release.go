package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/patchgate/patchgate"
	"github.com/spf13/cobra"
)

func newReleaseCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "release", Short: "Release candidates: list, create, show, approve, withdraw, promote"}
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

	var asJSON bool
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a candidate, its evidence, approvals and blockers",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return patchgate.Errorf(patchgate.EINVALID, "release id %q: want a number (see patchgate release list)", args[0])
			}
			if asJSON {
				_, err := c.read(cmd.Context(), fmt.Sprintf("/api/v1/releases/%d", id), true, cmd.OutOrStdout(), nil)
				return err
			}
			return showRelease(cmd, &c, id)
		},
	}
	addJSONFlag(show, &asJSON)

	var listState, listRepo string
	var listLimit int
	list := &cobra.Command{
		Use:   "list [--state open|promoting|promoted|superseded|all] [--repo OWNER/NAME]",
		Short: "List release candidates, newest first, with whether each can ship and why not",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{"limit": {strconv.Itoa(listLimit)}}
			if listState != "all" {
				q.Set("state", listState)
			}
			if listRepo != "" {
				q.Set("repo", listRepo)
			}
			var out struct {
				Releases []releaseListItem `json:"releases"`
				Total    int               `json:"total"`
			}
			w := cmd.OutOrStdout()
			if done, err := c.read(cmd.Context(), "/api/v1/releases?"+q.Encode(), asJSON, w, &out); done || err != nil {
				return err
			}
			printReleaseList(w, out.Releases, listState, listRepo)
			if len(out.Releases) < out.Total {
				fmt.Fprintf(w, "%d of %d shown; more with --limit\n", len(out.Releases), out.Total)
			}
			return nil
		},
	}
	addJSONFlag(list, &asJSON)
	list.Flags().StringVar(&listState, "state", string(patchgate.CandidateOpen), "open, promoting, promoted, superseded, or all")
	list.Flags().StringVar(&listRepo, "repo", "", "repository full name")
	list.Flags().IntVar(&listLimit, "limit", 20, "how many to show")
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
	var cancel bool
	bisect := &cobra.Command{
		Use:   "bisect ID [--cancel]",
		Short: "Restart the search for the merge a failing candidate fails from, or stop it (--cancel)",
		Long: "When a candidate's required suite fails although every fix in it passed alone, patchgate verifies\n" +
			"the merge commits of its release history (each the release base plus the first merges), bisecting,\n" +
			"and names the merge the release fails from. It starts by itself; this restarts one that ended\n" +
			"without a culprit, or stops a running one and its queued or running verifications.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			method := http.MethodPost
			if cancel {
				method = http.MethodDelete
			}
			var out struct {
				Bisection patchgate.Bisection `json:"bisection"`
			}
			if err := c.do(cmd.Context(), method, "/api/v1/releases/"+args[0]+"/bisect", nil, &out); err != nil {
				return err
			}
			printBisection(cmd.OutOrStdout(), &out.Bisection)
			return nil
		},
	}
	bisect.Flags().BoolVar(&cancel, "cancel", false, "stop the running bisection and its runs")
	for _, sub := range []*cobra.Command{list, create, show, approve, withdraw, promote, bisect} {
		addAPIFlags(sub, &c)
		cmd.AddCommand(sub)
	}
	return cmd
}

func showRelease(cmd *cobra.Command, c *apiClient, id int64) error {
	var out struct {
		Release        patchgate.Candidate   `json:"release"`
		Evaluation     patchgate.Evaluation  `json:"evaluation"`
		Authors        []patchgate.ForgeUser `json:"authors"`
		AuthorsUnknown string                `json:"authors_unknown"`
	}
	if err := c.do(cmd.Context(), http.MethodGet, fmt.Sprintf("/api/v1/releases/%d", id), nil, &out); err != nil {
		return err
	}
	printRelease(cmd.OutOrStdout(), &out.Release, &out.Evaluation)
	printAuthors(cmd.OutOrStdout(), out.Authors, out.AuthorsUnknown)
	return nil
}

// printAuthors lists who wrote a candidate, each login with its forge user
// id: the people who may not approve it unless the server allows authors to.
func printAuthors(w io.Writer, authors []patchgate.ForgeUser, unknown string) {
	if unknown != "" {
		fmt.Fprintf(w, "  authors: %s\n", unknown)
		return
	}
	names := make([]string, len(authors))
	for i, a := range authors {
		names[i] = a.Labelled()
	}
	fmt.Fprintf(w, "  authors: %s\n", orDash(strings.Join(names, ", ")))
}

func printRelease(w io.Writer, r *patchgate.Candidate, ev *patchgate.Evaluation) {
	fmt.Fprintf(w, "release %d %s of %s at %s (%s)\n", r.ID, r.Name, r.Repo, r.SHA, r.State)
	fmt.Fprintf(w, "  branch %s, created by %s on %s", r.Branch, orDash(r.CreatedBy), when(&r.CreatedAt))
	if r.BaseSHA != "" {
		fmt.Fprintf(w, ", since release at %s", short(r.BaseSHA))
	}
	fmt.Fprintln(w)
	if r.State == patchgate.CandidatePromoted {
		fmt.Fprintf(w, "  promoted by %s on %s: %s\n", orDash(r.PromotedBy), when(r.PromotedAt), orDash(r.ReleaseURL))
	}
	if len(r.Items) == 0 {
		fmt.Fprintln(w, "  no new changes since the last release")
	} else {
		tw := newTable(w)
		fmt.Fprintln(tw, "  CHANGE\tTITLE\tTICKET\tEVIDENCE")
		for _, item := range r.Items {
			if item.Change == nil {
				continue
			}
			ticket, evidence := "-", "-"
			if item.Ticket != nil {
				ticket = item.Ticket.Key + " (" + string(item.Ticket.State) + ")"
				if v := ev.Evidence[item.Ticket.Key]; v != nil {
					evidence = fmt.Sprintf("verified by %d on %s", v.ID, short(v.SHA))
				} else {
					evidence = "not verified"
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", item.Change.Ref(), oneLine(item.Change.Title), ticket, evidence)
		}
		tw.Flush()
	}
	approvers := r.ApproverPeople()
	fmt.Fprintf(w, "  approvals: %d of %d", len(approvers), ev.Needed)
	if len(approvers) > 0 {
		names := make([]string, len(approvers))
		for i, a := range approvers {
			names[i] = a.Labelled()
		}
		fmt.Fprintf(w, " (%s)", strings.Join(names, ", "))
	}
	fmt.Fprintln(w)
	if ev.ConfigDigest != "" {
		fmt.Fprintf(w, "  configuration: .patchgate.yml %s (evidence counts only when run under it)\n", ev.ConfigDigest)
	}
	if ev.Policy != nil {
		settings := ev.Policy.Settings()
		words := make([]string, len(settings))
		for i, s := range settings {
			words[i] = fmt.Sprintf("%s: %s (%s)", s.Key, s.Value, s.Source)
		}
		fmt.Fprintf(w, "  policy: %s\n", strings.Join(words, ", "))
	}
	if ev.Bisection != nil {
		printBisection(w, ev.Bisection)
	}
	switch {
	// A closed candidate shows its state, not a gate it can no longer pass.
	case r.State == patchgate.CandidateSuperseded:
		fmt.Fprintln(w, "  superseded by a newer candidate: it can no longer be approved or promoted")
	case r.State == patchgate.CandidatePromoted:
		fmt.Fprintln(w, "  promoted")
	case !ev.Releasable:
		fmt.Fprintln(w, "  blocked:")
		printBlockers(w, "    ", ev.Blockers)
	case r.State != patchgate.CandidateOpen:
		fmt.Fprintln(w, "  releasable")
	case len(approvers) < ev.Needed:
		fmt.Fprintf(w, "  releasable; needs %d more approval(s): patchgate release approve %d\n", ev.Needed-len(approvers), r.ID)
	default:
		fmt.Fprintf(w, "  releasable and approved: patchgate release promote %d\n", r.ID)
	}
}

// releaseListItem is one candidate of GET /api/v1/releases.
type releaseListItem struct {
	patchgate.Candidate
	Summary patchgate.CandidateSummary `json:"summary"`
}

// printReleaseList writes the candidates as a table, then each blocked open
// candidate's blockers, which do not fit a column.
func printReleaseList(w io.Writer, rs []releaseListItem, state, repo string) {
	if len(rs) == 0 {
		which := "no release candidates"
		if state != "all" {
			which = "no " + state + " release candidates"
		}
		if repo != "" {
			which += " of " + repo
		}
		if state == string(patchgate.CandidateOpen) {
			r := repo
			if r == "" {
				r = "OWNER/NAME"
			}
			fmt.Fprintf(w, "%s — create one: patchgate release create --repo %s\n", which, r)
			return
		}
		fmt.Fprintln(w, which)
		return
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "ID\tTAG\tREPO\tCOMMIT\tSTATE\tGATE\tAPPROVALS\tCREATED")
	for _, r := range rs {
		gate := "blocked"
		switch {
		case r.State == patchgate.CandidatePromoted || r.State == patchgate.CandidateSuperseded:
			gate = "-"
		case r.Summary.Releasable:
			gate = "releasable"
		}
		approvals := fmt.Sprintf("%d/%d", r.Summary.Approvals, r.Summary.Needed)
		if r.State == patchgate.CandidatePromoted || r.State == patchgate.CandidateSuperseded {
			approvals = strconv.Itoa(r.Summary.Approvals)
		}
		if len(r.Summary.Approvers) > 0 {
			approvals += " (" + strings.Join(r.Summary.Approvers, ", ") + ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Name, r.Repo, short(r.SHA), r.State, gate, approvals, when(&r.CreatedAt))
	}
	tw.Flush()
	for _, r := range rs {
		if r.Summary.Releasable || r.State == patchgate.CandidatePromoted || r.State == patchgate.CandidateSuperseded {
			continue
		}
		fmt.Fprintf(w, "\nrelease %d %s is blocked:\n", r.ID, r.Name)
		printBlockers(w, "  - ", r.Summary.Blockers)
	}
}

// printBlockers writes each blocker's sentence after lead, and under it its
// code and next action, so that what to do stands beside why:
//
//	PAY-7: fix in #42 failed `integration` on 9c1af72
//	  suite_failed → read the suite's log, …
func printBlockers(w io.Writer, lead string, bs []patchgate.Blocker) {
	indent := strings.Repeat(" ", len(lead))
	for _, b := range bs {
		fmt.Fprintf(w, "%s%s\n%s  %s → %s\n", lead, b.Message, indent, b.Code, b.Action)
	}
}

// printBisection writes where a candidate's culprit bisection stands.
func printBisection(w io.Writer, b *patchgate.Bisection) {
	switch {
	case b.State == patchgate.BisectionFound:
		fmt.Fprintf(w, "  bisection: found over %d merges: %s at %s (verification %d)", b.Points, b.Culprit, short(b.Culprit.SHA), b.VerificationID)
		if len(b.Tests) > 0 {
			fmt.Fprintf(w, " fails on: %s", strings.Join(b.Tests, ", "))
		}
		fmt.Fprintln(w)
	case b.Reason != "":
		fmt.Fprintf(w, "  bisection: %s over %d merges: %s\n", b.State, b.Points, b.Reason)
	default:
		fmt.Fprintf(w, "  bisection: %s over %d merges\n", b.State, b.Points)
	}
}
