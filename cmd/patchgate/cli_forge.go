package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/runners"
	"github.com/patchgate/patchgate/usecase/protection"
	"github.com/spf13/cobra"
)

// gitlabStatusCheckPath is where GitLab's external status check reaches
// patchgate, below public_url.
const gitlabStatusCheckPath = "/webhooks/gitlab/status-check"

// exitGaps is `forge check`'s exit status when the forge leaves gaps, so a
// script can tell "not enforced" (2) from "could not check" (1).
const exitGaps = 2

// gapsError is the error of a check that found gaps; main exits with its code.
type gapsError struct{ n int }

func (e *gapsError) Error() string {
	return fmt.Sprintf("the forge does not enforce the gate: %d gap(s) (the fixes are listed above)", e.n)
}

// ExitCode is the process's exit status for this error.
func (e *gapsError) ExitCode() int { return exitGaps }

// exitCode is the process's exit status for a command's error: 1, unless the
// error says otherwise (forge check: 2 when the forge leaves gaps).
func exitCode(err error) int {
	var coded interface{ ExitCode() int }
	if errors.As(err, &coded) {
		return coded.ExitCode()
	}
	return 1
}

// enforcementChecker makes the checker of forge settings from the
// configuration; appID is patchgate's GitHub App id (0: token mode).
func (m *Main) enforcementChecker(repos *patchgate.RepositoryDirectory, clients forgeAPIs, appID int64) *protection.Checker {
	// The forge clients are forges.GitHub and forges.GitLab, which read
	// protection settings too.
	readers := map[patchgate.Forge]patchgate.EnforcementReader{}
	for forge, c := range clients.comparers {
		if r, ok := c.(patchgate.EnforcementReader); ok {
			readers[forge] = r
		}
	}
	return &protection.Checker{
		Readers:        readers,
		Repos:          repos,
		CheckContext:   runners.VerdictContext,
		GitHubAppID:    appID,
		StatusCheckURL: strings.TrimSuffix(m.Config.PublicURL, "/") + gitlabStatusCheckPath,
	}
}

// configuredGitHubAppID is the GitHub App id of the configuration
// (github.app_id): App mode when set, token mode when 0.
func configuredGitHubAppID(cfg Config) int64 { return cfg.GitHub.AppID }

func newForgeCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "forge", Short: "Check what the forges enforce for patchgate"}
	var forge, branch string
	var appID int64
	var asJSON bool
	check := &cobra.Command{
		Use:   "check REPO",
		Short: "Say whether the forge enforces the gate for REPO, each gap with the setting that closes it",
		Long: "Read REPO's settings through the forge's API with the configured token (--config) and say whether\n" +
			"the forge refuses what patchgate refuses. GitHub: the release branch requires patchgate's verdict\n" +
			"check (branch protection or a branch ruleset), bound to patchgate's App, admins included; a tag\n" +
			"ruleset lets only the App create v* tags; each environment in repos[].environments has the App's\n" +
			"deployment protection rule. GitLab: an external status check at public_url" + gitlabStatusCheckPath + " on\n" +
			"the release branch, \"Status checks must succeed\" on, the branch protected (push: no one or\n" +
			"maintainers), v* tags created only by patchgate's user, each environment protected with patchgate's\n" +
			"user as a required approver. In GitHub token mode the check's source, the tags and the environments\n" +
			"are gaps only App mode closes (marked [App mode]). It never changes forge settings.\n\n" +
			"Exit status: 0 when the forge enforces the gate, 2 when it leaves gaps, 1 when the check could not run.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			m := NewMain(cfg, slog.New(slog.DiscardHandler))
			clients, err := m.forgeClients()
			if err != nil {
				return err
			}
			if appID == 0 {
				appID = configuredGitHubAppID(cfg)
			}
			checker := m.enforcementChecker(m.repositories().dir, clients, appID)
			e, err := checker.Check(cmd.Context(), patchgate.Forge(forge), args[0], branch)
			if patchgate.ErrorCode(err) == patchgate.ENOTFOUND && len(cfg.Repos) == 0 {
				return fmt.Errorf("%w: no repository is configured; pass --config with the server's configuration", err)
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				err = writeJSON(out, e)
			} else {
				err = printEnforcement(out, e)
			}
			if err != nil {
				return err
			}
			if !e.Enforced {
				return &gapsError{n: len(e.Gaps)}
			}
			return nil
		},
	}
	check.Flags().StringVar(&forge, "forge", "", "github or gitlab (when the name is on both)")
	check.Flags().StringVar(&branch, "branch", "", "release branch (default: "+protection.DefaultBranch+", as `patchgate release create`)")
	check.Flags().Int64Var(&appID, "app-id", 0, "patchgate's GitHub App id (default: the configuration's; none is token mode)")
	check.Flags().BoolVar(&asJSON, "json", false, "print {forge, repo, branch, mode, enforced, gaps: [{setting, problem, fix, app_only}]}")
	cmd.AddCommand(check)
	return cmd
}

// printEnforcement writes the answer for people: a verdict line, then each
// gap with its problem and fix.
func printEnforcement(w io.Writer, e *patchgate.Enforcement) error {
	verdict := "the forge enforces the gate"
	if !e.Enforced {
		verdict = fmt.Sprintf("the forge does NOT enforce the gate: %d gap(s)", len(e.Gaps))
	}
	fmt.Fprintf(w, "%s:%s, release branch %s, %s mode: %s\n", e.Forge, e.Repo, e.Branch, e.Mode, verdict)
	appOnly := 0
	for i, g := range e.Gaps {
		mark := ""
		if g.AppOnly {
			mark, appOnly = "  [App mode]", appOnly+1
		}
		fmt.Fprintf(w, "\n%d. %s%s\n   problem: %s\n   fix:     %s\n", i+1, g.Setting, mark, g.Problem, g.Fix)
	}
	if appOnly > 0 {
		fmt.Fprintf(w, "\nToken mode: %d gap(s) only App mode closes: a required check bound to patchgate's App (tokens can\n"+
			"post any status), release tags only patchgate may create, deployments that wait for patchgate's\n"+
			"protection rule. Configure github.app_id and github.private_key_file.\n", appOnly)
	}
	_, err := fmt.Fprintln(w)
	return err
}
