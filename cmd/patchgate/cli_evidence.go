package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/evidence"
	"github.com/spf13/cobra"
)

func newEvidenceCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "evidence", Short: "Print the key release evidence packs are signed with, and verify packs offline"}
	key := &cobra.Command{
		Use:   "key",
		Short: "Print the public key (PEM) that verifies patchgate's evidence packs, to publish",
		Long: "Print the public half of evidence.key_file (PATCHGATE_EVIDENCE_KEY_FILE) as a PEM \"PUBLIC KEY\" block, and\n" +
			"its key id (the hex sha256 of its DER) on standard error. Publish it where auditors find it; they pass\n" +
			"it to `patchgate evidence verify --key`. The key file is created (0600) when it does not exist yet.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			if cfg.Evidence.KeyFile == "" {
				return fmt.Errorf("an in-memory database signs with a key that lives as long as it does: set evidence.key_file (PATCHGATE_EVIDENCE_KEY_FILE) to keep one")
			}
			k, err := loadEvidenceKey(cfg, true)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "key id %s (%s)\n", k.ID(), cfg.Evidence.KeyFile)
			_, err = cmd.OutOrStdout().Write(k.PublicPEM())
			return err
		},
	}
	cmd.AddCommand(key, newEvidenceVerifyCommand())
	return cmd
}

func newEvidenceVerifyCommand() *cobra.Command {
	var keyFiles []string
	var want patchgate.EvidenceWant
	var asJSON bool
	verify := &cobra.Command{
		Use:   "verify FILE",
		Short: "Check a release's evidence pack offline: signatures, subject, proofs, approvals, policy, summary",
		Long: "Check an evidence pack (release-TAG.intoto.jsonl, from the forge release, the dashboard or\n" +
			"GET /api/v1/releases/{id}/evidence) with no database and no forge: every line is a DSSE envelope\n" +
			"exactly as patchgate wrote it, signed by one of the --key public keys (matched by key id; give\n" +
			"several across a key rotation); every statement is about the release commit and tag (and --sha,\n" +
			"--tag when given); every required suite passed there; every ticket has its fail-to-pass proof when\n" +
			"the recorded policy required proof, and its proof tests passed on the release commit itself (the\n" +
			"release-combination statement); the approvals meet the recorded policy with distinct people (by\n" +
			"forge user id) who are not authors; the policy matches its digest; and the verification summary,\n" +
			"last, decided PASSED over exactly the pack's other statements. Prints a summary (or --json) and\n" +
			"exits non-zero, naming each problem, when anything does not hold.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(keyFiles) == 0 {
				return fmt.Errorf("no --key given: pass the public key `patchgate evidence key` printed (PEM)")
			}
			var keys []*evidence.PublicKey
			for _, path := range keyFiles {
				raw, err := os.ReadFile(path)
				if err != nil {
					return fmt.Errorf("read public key %s: %w (get patchgate's key with `patchgate evidence key` on its server)", path, err)
				}
				k, err := evidence.ParsePublicKey(path, raw)
				if err != nil {
					return err
				}
				keys = append(keys, k)
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("read evidence pack %s: %w", args[0], err)
			}
			pack, problems := evidence.Open(cmd.Context(), data, keys)
			rep := patchgate.CheckEvidence(pack, want)
			rep.Problems = append(problems, rep.Problems...)
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(struct {
					File  string `json:"file"`
					Valid bool   `json:"valid"`
					patchgate.EvidenceReport
				}{args[0], len(rep.Problems) == 0, rep}); err != nil {
					return err
				}
			} else {
				printEvidenceReport(out, filepath.Base(args[0]), rep)
			}
			if n := len(rep.Problems); n > 0 {
				return fmt.Errorf("the evidence pack %s does not verify: %d problem(s), listed above", args[0], n)
			}
			return nil
		},
	}
	verify.Flags().StringArrayVar(&keyFiles, "key", nil, "a public key (PEM) the pack may be signed with; repeat for several")
	verify.Flags().StringVar(&want.Tag, "tag", "", "the release tag the pack must be about")
	verify.Flags().StringVar(&want.SHA, "sha", "", "the release commit the pack must be about (at least 7 hex digits)")
	verify.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return verify
}

// printEvidenceReport writes the human summary: the verdict, then what the
// pack shows, then each problem.
func printEvidenceReport(w io.Writer, name string, rep patchgate.EvidenceReport) {
	verdict := "VALID"
	if len(rep.Problems) > 0 {
		verdict = "INVALID"
	}
	fmt.Fprintf(w, "evidence pack %s: %s\n", name, verdict)
	rel := rep.Release
	if rel.SHA != "" {
		fmt.Fprintf(w, "release %s of %s:%s at %s; %d statements signed by key %s\n", rel.Tag, rel.Forge, rel.Repo, rel.SHA,
			rep.Statements, strings.Join(rep.KeyIDs, ", "))
		p := rep.Policy
		fmt.Fprintf(w, "policy: %d approval(s) (%s), authors may approve: %v, proof required: %v (%s), required suites: %s\n",
			p.Approvals, rep.PolicySources[patchgate.PolicyApprovals], p.AllowAuthorApproval, p.RequireProof,
			rep.PolicySources[patchgate.PolicyRequireProof], strings.Join(p.Required, ", "))
	}
	for _, s := range rep.Suites {
		fmt.Fprintf(w, "suite %s %s (verification %d): %d passed, %d failed, %d quarantined; .patchgate.yml sha256 %s",
			s.Suite, s.Result, s.VerificationID, len(s.Passed), len(s.Failed), len(s.Quarantined), patchgate.ShortSHA(s.ConfigDigest))
		for img, d := range s.Images {
			fmt.Fprintf(w, "; %s %s", img, d)
		}
		fmt.Fprintln(w)
	}
	for _, t := range rep.Tickets {
		line := fmt.Sprintf("ticket %s fixed in %s at %s", t.Key, t.Change, patchgate.ShortSHA(t.HeadSHA))
		for _, p := range rep.Proofs {
			if p.Ticket == t.Key {
				line += fmt.Sprintf(": proof %s, failed on %s and passed on %s: %s", p.State, patchgate.ShortSHA(p.BaseSHA),
					patchgate.ShortSHA(p.HeadSHA), strings.Join(p.FailToPass, ", "))
			}
		}
		fmt.Fprintln(w, line)
	}
	if c := rep.Combination; c != nil {
		for _, ct := range c.Tickets {
			var tests []string
			for _, t := range ct.Tests {
				tests = append(tests, t.Test+" "+string(t.Result))
			}
			fmt.Fprintf(w, "ticket %s in the release (verification %d on %s): %s\n", ct.Ticket, c.VerificationID, patchgate.ShortSHA(c.SHA), strings.Join(tests, ", "))
		}
		if b := c.Bisection; b != nil {
			fmt.Fprintf(w, "culprit bisection over %d merges: %s", b.Points, b.State)
			if b.Culprit != nil {
				fmt.Fprintf(w, ", fails from %s at %s on %s", b.Culprit, patchgate.ShortSHA(b.Culprit.SHA), strings.Join(b.Tests, ", "))
			}
			fmt.Fprintln(w)
		}
	}
	var authors []string
	for _, a := range rep.Authors {
		authors = append(authors, a.Login+" ("+a.Change+")")
	}
	if len(authors) > 0 {
		fmt.Fprintf(w, "written by %s\n", strings.Join(authors, ", "))
	}
	for _, a := range rep.Approvers {
		who := a.Login
		if a.UserID != 0 {
			who += fmt.Sprintf(" (forge id %d)", a.UserID)
		}
		how := a.Via
		if a.Token != "" {
			how += ", token " + a.Token
		}
		fmt.Fprintf(w, "approved by %s via %s at %s on %s\n", who, how, a.At.Format("2006-01-02T15:04:05Z07:00"), patchgate.ShortSHA(a.SHA))
	}
	if rep.AuditHead.Seq > 0 {
		fmt.Fprintf(w, "audit chain head at promotion: %s\n", rep.AuditHead)
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(w, "problem:", p)
	}
}
