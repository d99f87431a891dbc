package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/spf13/cobra"
)

func newVerificationCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "verification", Short: "Verifications: the suites run on one commit and their verdict"}
	var (
		c      apiClient
		asJSON bool
	)
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a verification's suites, timings, failing and flaky tests, and the verdict with its reason",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return patchgate.Errorf(patchgate.EINVALID, "verification id %q: want a number (the forge's status links to it; patchgate ticket KEY shows its changes)", args[0])
			}
			var out struct {
				Verification patchgate.Verification `json:"verification"`
			}
			w := cmd.OutOrStdout()
			if done, err := c.read(cmd.Context(), fmt.Sprintf("/api/v1/verifications/%d?tests=true", id), asJSON, w, &out); done || err != nil {
				return err
			}
			printVerification(w, &out.Verification)
			return nil
		},
	}
	addAPIFlags(show, &c)
	addJSONFlag(show, &asJSON)
	cmd.AddCommand(show)
	return cmd
}

func printVerification(w io.Writer, v *patchgate.Verification) {
	stale := ""
	if v.Stale {
		stale = " (stale: the change's head moved on)"
	}
	fmt.Fprintf(w, "verification %d of %s at %s%s\n", v.ID, v.Repo, v.SHA, stale)
	fmt.Fprintf(w, "  trigger %s, attempt %d, queued %s", orDash(v.Trigger), v.Attempt, when(&v.CreatedAt))
	if v.StartedAt != nil && v.FinishedAt != nil {
		fmt.Fprintf(w, ", took %s", v.FinishedAt.Sub(*v.StartedAt).Round(time.Second))
	} else if v.Worker != "" {
		fmt.Fprintf(w, ", on %s", v.Worker)
	}
	fmt.Fprintln(w)
	if len(v.Suites) > 0 {
		tw := newTable(w)
		fmt.Fprintln(tw, "  SUITE\tREQUIRED\tSTATE\tPASSED\tFAILED\tSKIPPED\tPROVISION\tRUN\tCOLLECT\tTEARDOWN\tDESCRIPTION")
		for _, s := range v.Suites {
			req := "yes"
			if !s.Required {
				req = "no"
			}
			t := s.Timings
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", s.Name, req, suiteState(s), s.Passed, s.Failed, s.Skipped,
				dur(t.Provision), dur(t.Run), dur(t.Collect), dur(t.Teardown), oneLine(s.Description))
		}
		tw.Flush()
		for _, s := range v.Suites {
			if s.ListsNoTests() {
				fmt.Fprintf(w, "  %s: %s\n", s.Name, patchgate.HowToListTests)
			}
		}
	}
	// Failing tests first: they are why the verdict is what it is.
	var failing, flaky []string
	for _, s := range v.Suites {
		for _, t := range s.Tests {
			name := t.Name
			if t.Class != "" {
				name = t.Class + "." + t.Name
			}
			switch {
			case t.Flaky && t.Status == patchgate.TestPassed:
				flaky = append(flaky, fmt.Sprintf("  %s\t%s\tflaky: passed on attempt %d after failing", s.Name, name, t.Attempt))
			case t.Flaky:
			case t.Status == patchgate.TestFailed || t.Status == patchgate.TestErrored:
				failing = append(failing, fmt.Sprintf("  %s\t%s\t%s\t%s", s.Name, name, t.Status, oneLine(t.Message)))
			}
		}
	}
	if len(failing) > 0 {
		fmt.Fprintln(w, "failing tests:")
		tw := newTable(w)
		fmt.Fprintln(tw, strings.Join(failing, "\n"))
		tw.Flush()
	}
	if len(flaky) > 0 {
		fmt.Fprintln(w, "flaky tests (they count as passed):")
		tw := newTable(w)
		fmt.Fprintln(tw, strings.Join(flaky, "\n"))
		tw.Flush()
	}
	fmt.Fprintf(w, "verdict: %s", v.State)
	if v.Reason != "" {
		fmt.Fprintf(w, ": %s", v.Reason)
	}
	fmt.Fprintln(w)
}

// suiteState is a suite's state with why it ended early, when it did.
func suiteState(s *patchgate.SuiteRun) string {
	st := string(s.State)
	switch {
	case s.TimedOut:
		st += " (timed out)"
	case s.OOMKilled:
		st += " (out of memory)"
	case s.ExitCode != nil && *s.ExitCode != 0:
		st += fmt.Sprintf(" (exit %d)", *s.ExitCode)
	}
	return st
}

// dur renders a timing for a table, "-" when it was not measured.
func dur(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}
