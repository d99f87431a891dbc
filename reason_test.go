package patchgate_test

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// TestEveryReasonCodeRenders builds a blocker of every code in the table the
// way the gate does, and checks its code, sentence, action and subject: the
// strings patchgate printed before blockers had codes are now rendered from
// them, word for word.
func TestEveryReasonCodeRenders(t *testing.T) {
	const sha = "9c1af72d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b"
	fix := patchgate.Fix{Ticket: "PAY-7", Change: "#42"}
	run := func(name string, state patchgate.RunState, desc string) *patchgate.Verification {
		return &patchgate.Verification{ID: 3, State: state, Suites: []*patchgate.SuiteRun{{Name: name, State: state, Description: desc}}}
	}
	suite := func(f patchgate.Fix, v *patchgate.Verification, required ...string) patchgate.Blocker {
		t.Helper()
		bs := patchgate.SuiteBlockers(f, v, required, sha)
		if len(bs) != 1 {
			t.Fatalf("SuiteBlockers: got %+v, want one blocker", bs)
		}
		return bs[0]
	}
	proof := func(p *patchgate.Proof) patchgate.Blocker {
		t.Helper()
		b, blocked := patchgate.ProofBlocker(fix, p)
		if !blocked {
			t.Fatalf("ProofBlocker(%+v): not blocked, want a blocker", p)
		}
		return b
	}
	_, loosened := patchgate.MergeReleasePolicy(patchgate.ReleasePolicy{Approvals: 2},
		patchgate.ReleaseRequest{Policy: patchgate.ReleasePolicy{Approvals: 1}, Set: map[string]bool{patchgate.PolicyApprovals: true}})
	if len(loosened) != 1 {
		t.Fatalf("MergeReleasePolicy: got %+v, want one blocker", loosened)
	}
	promotedAt := time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)
	noTest := patchgate.NoProof("")
	broken := patchgate.Proof{State: patchgate.ProofError, Description: "no test ran on the head"}
	holds := &patchgate.Proof{State: patchgate.ProofHolds, Tests: []patchgate.ProofRecord{{Base: patchgate.ProofFailed, Head: patchgate.ProofPassed,
		ProofTest: patchgate.ProofTest{File: "calc/calc_test.go", Name: "TestRound", Language: patchgate.LangGo}}}}
	inRelease := func(results ...patchgate.TestResult) patchgate.Blocker {
		t.Helper()
		bs := patchgate.ReleaseProofBlockers(fix, holds, sha, results)
		if len(bs) != 1 {
			t.Fatalf("ReleaseProofBlockers: got %+v, want one blocker", bs)
		}
		return bs[0]
	}
	expired := patchgate.QuarantineBlockers([]patchgate.Quarantine{{Test: "TestLedger", Owner: "alice", Ticket: "PAY-9",
		ExpiresAt: promotedAt.Add(-time.Hour)}}, promotedAt)
	tests := []struct {
		name         string
		got          patchgate.Blocker
		code         patchgate.ReasonCode
		message      string
		ticket, chng string
	}{
		{"config", patchgate.ConfigUnusableBlocker(sha, "line 3: unknown key suits"), patchgate.ReasonConfigUnusable,
			"no usable .patchgate.yml at 9c1af72: line 3: unknown key suits", "", ""},
		{"policy loosened", loosened[0], patchgate.ReasonPolicyLoosened,
			"`.patchgate.yml` asks approvals: 1; the server requires at least 2", "", ""},
		{"candidate unverified", suite(patchgate.Fix{}, nil, "unit"), patchgate.ReasonCandidateUnverified,
			"not verified on 9c1af72 under the release branch's .patchgate.yml yet", "", ""},
		{"fix unverified", suite(fix, nil, "unit"), patchgate.ReasonFixUnverified,
			"PAY-7: fix in #42 not verified on 9c1af72 under the release branch's .patchgate.yml yet", "PAY-7", "#42"},
		{"suite not run", suite(fix, run("unit", patchgate.RunSuccess, ""), "unit", "integration"), patchgate.ReasonSuiteNotRun,
			"PAY-7: fix in #42 `integration` was not run on 9c1af72", "PAY-7", "#42"},
		{"suite running", suite(fix, run("unit", patchgate.RunRunning, ""), "unit"), patchgate.ReasonSuiteRunning,
			"PAY-7: fix in #42 `unit` still running on 9c1af72", "PAY-7", "#42"},
		{"suite failed", suite(patchgate.Fix{}, run("unit", patchgate.RunFailure, "1 failed"), "unit"), patchgate.ReasonSuiteFailed,
			"failed `unit` on 9c1af72", "", ""},
		{"suite error", suite(fix, run("unit", patchgate.RunError, "image missing"), "unit"), patchgate.ReasonVerificationError,
			"PAY-7: fix in #42 `unit` ended error on 9c1af72", "PAY-7", "#42"},
		{"verification error", suite(fix, &patchgate.Verification{ID: 3, State: patchgate.RunError, Reason: "forge unreachable"}), patchgate.ReasonVerificationError,
			"PAY-7: fix in #42 verification 3 on 9c1af72 ended error: forge unreachable", "PAY-7", "#42"},
		{"runner unavailable", suite(fix, run("unit", patchgate.RunError, patchgate.RunnerUnavailableDescription(15*time.Minute)), "unit"),
			patchgate.ReasonRunnerUnavailable,
			"PAY-7: fix in #42 `unit` never started on 9c1af72: runner_unavailable: no runner started it within 15m0s", "PAY-7", "#42"},
		{"runner unavailable, never planned", patchgate.RunnerUnavailableBlocker(fix, &patchgate.Verification{ID: 4, SHA: sha, State: patchgate.RunError,
			Reason: patchgate.RunnerUnavailableDescription(time.Minute)}), patchgate.ReasonRunnerUnavailable,
			"PAY-7: fix in #42 verification 4 on 9c1af72 never started: runner_unavailable: no runner started it within 1m0s", "PAY-7", "#42"},
		{"proof missing", proof(nil), patchgate.ReasonProofMissing, "PAY-7: fix in #42 has no fail-to-pass proof", "PAY-7", "#42"},
		{"proof error", proof(&broken), patchgate.ReasonProofMissing, "PAY-7: fix in #42 has no proof: no test ran on the head", "PAY-7", "#42"},
		{"proof not failing", proof(&noTest), patchgate.ReasonProofNotFailing, "PAY-7: fix in #42 adds no test that fails without it", "PAY-7", "#42"},
		{"proof broken in release", inRelease(patchgate.TestResult{Class: "acme/calc", Name: "TestRound", Status: patchgate.TestFailed}),
			patchgate.ReasonProofBrokenInRelease, "PAY-7: fix in #42: proof test calc/calc_test.go:TestRound fails in the release on 9c1af72", "PAY-7", "#42"},
		{"proof unlisted in release", inRelease(), patchgate.ReasonProofUnlistedInRelease,
			"PAY-7: fix in #42: the candidate's run on 9c1af72 lists no passing tests, so its proof tests (calc/calc_test.go:TestRound) cannot be checked in the release", "PAY-7", "#42"},
		{"reopened", patchgate.ReopenedBlocker(fix), patchgate.ReasonTicketReopened, "PAY-7: reopened after merge", "PAY-7", "#42"},
		{"quarantine expired", expired[0], patchgate.ReasonQuarantineExpired,
			"quarantine of TestLedger expired 2026-12-07; fix it or renew it (owner alice, PAY-9)", "PAY-9", ""},
		{"approvals", patchgate.ApprovalsBlocker("v1.4.2", 1, 2), patchgate.ReasonApprovalsMissing,
			"candidate v1.4.2 has 1 of the 2 approvals it needs", "", ""},
		{"approvals, one without a forge user id", patchgate.ApprovalsBlocker("v1.4.2", 1, 2, "bob"), patchgate.ReasonApprovalsMissing,
			"candidate v1.4.2 has 1 of the 2 approvals it needs; the approval by bob has no forge user id (given before ids were pinned) and does not count: withdraw it and approve again with a token that pins the id", "", ""},
		{"approvals, two without a forge user id", patchgate.ApprovalsBlocker("v1.4.2", 0, 2, "bob", "carol"), patchgate.ReasonApprovalsMissing,
			"candidate v1.4.2 has 0 of the 2 approvals it needs; the approvals by bob, carol have no forge user id (given before ids were pinned) and do not count: withdraw them and approve again with a token that pins the id", "", ""},
		{"superseded", patchgate.SupersededBlocker("acme/pay"), patchgate.ReasonSuperseded,
			"superseded by a newer candidate of acme/pay: release that one", "", ""},
		{"promoted", patchgate.PromotedBlocker(&promotedAt, "https://forge/acme/pay/releases/v1"), patchgate.ReasonAlreadyPromoted,
			"already promoted on 2026-12-07 09:30 UTC: https://forge/acme/pay/releases/v1", "", ""},
		{"not evaluated", patchgate.SummarizeCandidate(&patchgate.Candidate{State: patchgate.CandidateOpen}, nil).Blockers[0],
			patchgate.ReasonNotEvaluated, "not evaluated", "", ""},
		{"bisecting", patchgate.BisectionBlocker(&patchgate.Bisection{State: patchgate.BisectionRunning, Points: 5}), patchgate.ReasonReleaseBisecting,
			"every fix passed alone but the release fails: bisecting its 5 merges to find the one it fails from", "", ""},
		{"culprit found", patchgate.BisectionBlocker(&patchgate.Bisection{State: patchgate.BisectionFound, Points: 5,
			Culprit: &patchgate.BisectPoint{SHA: sha, Change: "#43", Ticket: "PAY-9"}, Tests: []string{"TestLedgerTotals"}}),
			patchgate.ReasonReleaseCulpritFound, "the release fails from #43 (PAY-9) on: TestLedgerTotals", "PAY-9", "#43"},
		{"bisection stopped", patchgate.BisectionBlocker(&patchgate.Bisection{State: patchgate.BisectionInconclusive, Points: 5,
			Reason: "verification 8 of #43 (PAY-9) ended error: could not run unit"}), patchgate.ReasonReleaseBisectStopped,
			"the bisection of its 5 merges ended inconclusive: verification 8 of #43 (PAY-9) ended error: could not run unit", "", ""},
	}
	covered := map[patchgate.ReasonCode]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			covered[tt.got.Code] = true
			reason, ok := patchgate.ReasonFor(tt.code)
			if !ok {
				t.Fatalf("code %q is not in the table", tt.code)
			}
			want := patchgate.Blocker{Code: tt.code, Message: tt.message, Action: reason.Action, Ticket: tt.ticket, Change: tt.chng}
			if tt.got != want {
				t.Errorf("got %+v,\nwant %+v", tt.got, want)
			}
			if line := tt.got.String(); line != fmt.Sprintf("%s (%s) → %s", tt.message, tt.code, reason.Action) {
				t.Errorf("String: got %q", line)
			}
			if md := patchgate.BlockersMarkdown([]patchgate.Blocker{tt.got, tt.got}); md != fmt.Sprintf("- %s (`%s`) → %s\n- %[1]s (`%[2]s`) → %[3]s", tt.message, tt.code, reason.Action) {
				t.Errorf("BlockersMarkdown: got %q", md)
			}
		})
	}
	for _, r := range patchgate.Reasons {
		// A deployment's decision is no blocker: TestDecideDeployment
		// renders each deploy_ code.
		if !covered[r.Code] && !strings.HasPrefix(string(r.Code), "deploy_") {
			t.Errorf("code %q has no rendering test", r.Code)
		}
	}
}

// TestReasonTable: codes are unique, snake_case, and each says what it means
// and what to do.
func TestReasonTable(t *testing.T) {
	seen := map[patchgate.ReasonCode]bool{}
	for _, r := range patchgate.Reasons {
		if seen[r.Code] {
			t.Errorf("code %q appears twice", r.Code)
		}
		seen[r.Code] = true
		if strings.Trim(string(r.Code), "abcdefghijklmnopqrstuvwxyz_") != "" {
			t.Errorf("code %q: want lower-case snake_case", r.Code)
		}
		if r.Meaning == "" || r.Action == "" {
			t.Errorf("code %q: got meaning %q action %q, want both", r.Code, r.Meaning, r.Action)
		}
	}
	if _, ok := patchgate.ReasonFor("no_such_code"); ok {
		t.Error("ReasonFor(no_such_code): got ok, want unknown")
	}
}

// TestREADMEListsEveryReasonCode keeps the README's table of codes the
// table users read: every code with its meaning and next action.
func TestREADMEListsEveryReasonCode(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range patchgate.Reasons {
		row := fmt.Sprintf("| `%s` | %s | %s |", r.Code, r.Meaning, r.Action)
		if !strings.Contains(string(readme), row) {
			t.Errorf("README lacks the row\n%s", row)
		}
	}
}

// TestUnreleasableCarriesBlockers: the gate's refusal is a conflict whose
// message names the blockers and whose Blockers carry their codes, through
// wrapping.
func TestUnreleasableCarriesBlockers(t *testing.T) {
	bs := []patchgate.Blocker{patchgate.ReopenedBlocker(patchgate.Fix{Ticket: "PAY-7", Change: "#42"}),
		patchgate.SupersededBlocker("acme/pay")}
	err := fmt.Errorf("approve: %w", patchgate.Unreleasable("v1.4.2", bs))
	if got, want := patchgate.ErrorMessage(err), "candidate v1.4.2 is not releasable: PAY-7: reopened after merge; superseded by a newer candidate of acme/pay: release that one"; got != want {
		t.Errorf("message: got %q, want %q", got, want)
	}
	if patchgate.ErrorCode(err) != patchgate.ECONFLICT {
		t.Errorf("code: got %q, want conflict", patchgate.ErrorCode(err))
	}
	if got := patchgate.ErrorBlockers(err); len(got) != 2 || got[0].Code != patchgate.ReasonTicketReopened || got[1].Code != patchgate.ReasonSuperseded {
		t.Errorf("blockers: got %+v, want ticket_reopened, superseded", got)
	}
	if got := patchgate.ErrorBlockers(errors.New("disk full")); got != nil {
		t.Errorf("blockers of a plain error: got %+v, want none", got)
	}
	one := patchgate.Blocked(patchgate.ECONFLICT, patchgate.ApprovalsBlocker("v1.4.2", 0, 1))
	if one.Message != "candidate v1.4.2 has 0 of the 1 approvals it needs" || len(one.Blockers) != 1 {
		t.Errorf("Blocked: got %+v", one)
	}

	// In a comment: the sentence, then each blocker with its code and action.
	reopened, _ := patchgate.ReasonFor(patchgate.ReasonTicketReopened)
	superseded, _ := patchgate.ReasonFor(patchgate.ReasonSuperseded)
	want := "candidate v1.4.2 is not releasable:\n\n" +
		"- PAY-7: reopened after merge (`ticket_reopened`) → " + reopened.Action + "\n" +
		"- superseded by a newer candidate of acme/pay: release that one (`superseded`) → " + superseded.Action
	if got := patchgate.RefusalMarkdown(err); got != want {
		t.Errorf("RefusalMarkdown:\ngot  %q\nwant %q", got, want)
	}
	approvals, _ := patchgate.ReasonFor(patchgate.ReasonApprovalsMissing)
	if got, want := patchgate.RefusalMarkdown(one), "candidate v1.4.2 has 0 of the 1 approvals it needs (`approvals_missing`) → "+approvals.Action; got != want {
		t.Errorf("RefusalMarkdown of one blocker:\ngot  %q\nwant %q", got, want)
	}
	if got := patchgate.RefusalMarkdown(patchgate.Errorf(patchgate.EFORBIDDEN, "alice wrote #42")); got != "alice wrote #42" {
		t.Errorf("RefusalMarkdown without blockers: got %q, want the message", got)
	}
}

// TestNeverStarted: a commit's latest run tells why there is no evidence
// only when no runner started it and nothing newer is queued or ran.
func TestNeverStarted(t *testing.T) {
	unstarted := &patchgate.Verification{ID: 1, State: patchgate.RunError, Reason: patchgate.RunnerUnavailableDescription(time.Minute)}
	broken := &patchgate.Verification{ID: 2, State: patchgate.RunError, Reason: "image missing"}
	queued := &patchgate.Verification{ID: 3, State: patchgate.RunQueued}
	canceled := &patchgate.Verification{ID: 4, State: patchgate.RunCanceled}
	stale := &patchgate.Verification{ID: 5, State: patchgate.RunError, Stale: true, Reason: unstarted.Reason}
	tests := []struct {
		name        string
		newestFirst []*patchgate.Verification
		want        *patchgate.Verification
	}{
		{"none", nil, nil},
		{"never started", []*patchgate.Verification{unstarted}, unstarted},
		{"past a cancelled one", []*patchgate.Verification{canceled, unstarted}, unstarted},
		{"a newer run is queued", []*patchgate.Verification{queued, unstarted}, nil},
		{"it ran and broke", []*patchgate.Verification{broken, unstarted}, nil},
		{"stale", []*patchgate.Verification{stale}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := patchgate.NeverStarted(tt.newestFirst); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestHeadBlockers: a fix's progress as the tracker comment reports it, by
// the plan of its head's newest verification.
func TestHeadBlockers(t *testing.T) {
	const sha = "9c1af72d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b"
	fix := patchgate.Fix{Ticket: "PAY-7", Change: "#42"}
	planned := func(state patchgate.RunState, unit, lint patchgate.RunState) *patchgate.Verification {
		return &patchgate.Verification{ID: 9, SHA: sha, State: state, Suites: []*patchgate.SuiteRun{
			{Name: "unit", Required: true, State: unit}, {Name: "lint", State: lint}}}
	}
	tests := []struct {
		name string
		v    *patchgate.Verification
		want []string // "code: message"
	}{
		{"no verdict", nil, []string{"fix_unverified: PAY-7: fix in #42 has no verdict on 9c1af72 yet"}},
		{"passed, an optional suite failed", planned(patchgate.RunSuccess, patchgate.RunSuccess, patchgate.RunFailure), nil},
		{"running", planned(patchgate.RunRunning, patchgate.RunRunning, patchgate.RunQueued), []string{"suite_running: PAY-7: fix in #42 `unit` still running on 9c1af72"}},
		{"failed", planned(patchgate.RunFailure, patchgate.RunFailure, patchgate.RunSuccess), []string{"suite_failed: PAY-7: fix in #42 failed `unit` on 9c1af72"}},
		{"never started, unplanned", &patchgate.Verification{ID: 9, SHA: sha, State: patchgate.RunError, Reason: patchgate.RunnerUnavailableDescription(time.Minute)},
			[]string{"runner_unavailable: PAY-7: fix in #42 verification 9 on 9c1af72 never started: runner_unavailable: no runner started it within 1m0s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, b := range patchgate.HeadBlockers(fix, tt.v, sha) {
				got = append(got, string(b.Code)+": "+b.Message)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestEveryCodeUsedIsRegistered reads the module's source: every reason
// code it declares (a ReasonCode or DeployReason constant) or converts from
// a literal is in Reasons, so that each has its meaning and next action in
// the README, the API and every rendering. Only a deployment's approvals
// (DeployOK…) are no refusal and need none.
func TestEveryCodeUsedIsRegistered(t *testing.T) {
	codeType := func(e ast.Expr) bool {
		switch x := e.(type) {
		case *ast.Ident:
			return x.Name == "ReasonCode" || x.Name == "DeployReason"
		case *ast.SelectorExpr:
			return x.Sel.Name == "ReasonCode" || x.Sel.Name == "DeployReason"
		}
		return false
	}
	literal := func(e ast.Expr) (string, bool) {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(lit.Value)
		return s, err == nil
	}
	used := map[string]string{} // code → where
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.ValueSpec:
				if x.Type == nil || !codeType(x.Type) {
					return true
				}
				for i, v := range x.Values {
					if s, ok := literal(v); ok && i < len(x.Names) && !strings.HasPrefix(x.Names[i].Name, "DeployOK") {
						used[s] = fset.Position(v.Pos()).String()
					}
				}
			case *ast.CallExpr:
				if codeType(x.Fun) && len(x.Args) == 1 {
					if s, ok := literal(x.Args[0]); ok {
						used[s] = fset.Position(x.Pos()).String()
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(used) < len(patchgate.Reasons) {
		t.Fatalf("found %d codes in the source, fewer than the %d registered: the scan misses declarations", len(used), len(patchgate.Reasons))
	}
	for code, where := range used {
		if _, ok := patchgate.ReasonFor(patchgate.ReasonCode(code)); !ok {
			t.Errorf("%s: code %q is not in patchgate.Reasons: add it with its meaning and next action (and to the README's table)", where, code)
		}
	}
}
