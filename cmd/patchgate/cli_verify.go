package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/config"
	"github.com/spf13/cobra"
)

func newWorkerCommand(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "worker",
		Short: "Run verification workers only (several hosts can share one PostgreSQL queue)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			m := NewMain(cfg, newLogger(cfg.Log, os.Stderr))
			m.WorkerOnly = true
			if err := m.Run(cmd.Context()); err != nil {
				return err
			}
			<-cmd.Context().Done()
			m.Logger.Info("shutting down")
			return m.Close()
		},
	}
}

func newVerifyCommand() *cobra.Command {
	var (
		c       apiClient
		req     patchgate.VerifyRequest
		noWait  bool
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "verify --repo OWNER/NAME --sha SHA",
		Short: "Run a change head's suites again and wait for the verdict (non-zero exit unless success)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out struct {
				Verification patchgate.Verification `json:"verification"`
			}
			if err := c.do(cmd.Context(), http.MethodPost, "/api/v1/verifications", req, &out); err != nil {
				return err
			}
			v := out.Verification
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "verification %d of %s at %s: %s\n", v.ID, v.Repo, v.SHA, v.State)
			if noWait {
				return nil
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			for !v.State.Final() {
				select {
				case <-ctx.Done():
					return fmt.Errorf("verification %d is still %s after %s: follow it with patchgate logs %d SUITE --follow", v.ID, v.State, timeout, v.ID)
				case <-time.After(2 * time.Second):
				}
				if err := c.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/verifications/%d", v.ID), nil, &out); err != nil {
					return err
				}
				v = out.Verification
			}
			for _, s := range v.Suites {
				fmt.Fprintf(w, "  %-16s %-8s %s\n", s.Name, s.State, s.Description)
			}
			fmt.Fprintf(w, "verdict: %s", v.State)
			if v.Reason != "" {
				fmt.Fprintf(w, ": %s", v.Reason)
			}
			fmt.Fprintln(w)
			if v.State != patchgate.RunSuccess {
				return fmt.Errorf("verification %d ended %s: %s", v.ID, v.State, v.Reason)
			}
			return nil
		},
	}
	addAPIFlags(cmd, &c)
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "return once the verification is queued")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Hour, "how long to wait for the verdict")
	cmd.Flags().StringVar(&req.Repo, "repo", "", "repository full name")
	cmd.Flags().StringVar((*string)(&req.Forge), "forge", "", "github or gitlab (when the name is on both)")
	cmd.Flags().StringVar(&req.SHA, "sha", "", "the change's head commit SHA")
	_ = cmd.MarkFlagRequired("repo")
	_ = cmd.MarkFlagRequired("sha")
	return cmd
}

func newLogsCommand() *cobra.Command {
	var (
		c      apiClient
		follow bool
	)
	cmd := &cobra.Command{
		Use:   "logs VERIFICATION_ID SUITE",
		Short: "Print a suite's log; --follow streams it until the suite ends",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := fmt.Sprintf("/api/v1/verifications/%s/suites/%s/log", url.PathEscape(args[0]), url.PathEscape(args[1]))
			if follow {
				path += "?follow=true"
			}
			return c.stream(cmd.Context(), path, cmd.OutOrStdout())
		},
	}
	addAPIFlags(cmd, &c)
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing until the suite is final")
	return cmd
}

func newConfigCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Work with .patchgate.yml and the server configuration"}
	var server string
	check := &cobra.Command{
		Use:   "check [FILE] | check --server FILE",
		Short: "Validate a .patchgate.yml (default ./.patchgate.yml), or with --server a server configuration",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if server != "" {
				if len(args) > 0 {
					return errors.New("config check: give either FILE (a .patchgate.yml) or --server FILE, not both")
				}
				return checkServerConfig(cmd.OutOrStdout(), server)
			}
			path := config.RepoFileName
			if len(args) == 1 {
				path = args[0]
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			cfg, err := config.ParseRepoFile(path, data)
			if err != nil {
				return errors.New(strings.ReplaceAll(err.Error(), "\n", "\n  "))
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s: ok, %d suite(s)\n", path, len(cfg.Suites))
			for _, s := range cfg.Suites {
				req := "required"
				if !s.Required {
					req = "optional"
				}
				fmt.Fprintf(w, "  %s (%s): %s in %s, %d service(s), timeout %s\n", s.Name, req, s.Run, s.Image, len(s.Services), s.Timeout)
			}
			branch := cfg.Release.Branch
			if branch == "" {
				branch = "the default branch"
			}
			fmt.Fprintf(w, "  release from %s: requires %s, %d approval(s)\n", branch, strings.Join(cfg.Release.Required, ", "), cfg.Release.Approvals)
			return nil
		},
	}
	check.Flags().StringVar(&server, "server", "", "check this server configuration (patchgate.yaml) instead, with the PATCHGATE_* and ${VAR} variables of this shell")
	cmd.AddCommand(check)
	return cmd
}

// checkServerConfig reports every problem of a server configuration, or what
// it would serve. It opens no database and calls no forge: it can run before
// the first start, on the host that will run patchgate.
func checkServerConfig(w io.Writer, path string) error {
	cfg, err := CheckConfig(path, os.LookupEnv)
	if err != nil {
		return fmt.Errorf("%s: %d problem(s):\n  %s", path, len(splitErrors(err)), strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	fmt.Fprintf(w, "%s: ok: %d repositories, database %s, listening on %s\n", path, len(cfg.Repos), databaseLabel(cfg.Database), cfg.Listen)
	fmt.Fprintln(w, "  "+ceilingLine(cfg.Runners.EffectiveCeilings(localHost())))
	if len(cfg.Repos) == 0 {
		fmt.Fprintln(w, "  "+nextStepRepos)
	}
	return nil
}

// stream copies a (possibly long-lived) text answer to w.
func (c *apiClient) stream(ctx context.Context, path string, w io.Writer) error {
	if c.token == "" {
		return patchgate.Errorf(patchgate.EUNAUTHORIZED, "no API token: pass --token or set PATCHGATE_TOKEN")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(c.base, "/")+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return apiError(path, resp.StatusCode, resp.Status, raw)
	}
	_, err = io.Copy(w, resp.Body)
	return err
}
