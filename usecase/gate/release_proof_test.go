package gate_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
)

// addFix merges a second fix into the release branch: ticket key fixed by
// pull request number (by dev) at head, merged by the commit that becomes
// the new candidate commit (its first parent the old one, so it keeps its
// .patchgate.yml).
func (w *releaseWorld) addFix(number int, key, head, merge string) *patchgate.Change {
	w.t.Helper()
	ctx := context.Background()
	title := key + ": fix"
	w.forge.AddCommit(relRepo, head, map[string][]byte{"fix" + key + ".go": []byte("fix")}, title, "dev", w.base)
	w.forge.AddCommit(relRepo, merge, nil, "Merge "+key, "dev", w.cand, head)
	w.forge.AddPullRequest(relRepo, fakeforge.PullRequest{Number: number, Title: title, Author: "dev", HeadSHA: head})
	w.forge.SetBranch(relRepo, "main", merge)
	w.cand = merge
	pr, _, err := w.changes.ApplyChangeUpdate(ctx, patchgate.ChangeUpdate{
		Forge: patchgate.GitHub, Repo: relRepo, Kind: patchgate.ChangePullRequest, Number: number, Title: title,
		SourceBranch: "fix/" + key, TargetBranch: "main", HeadSHA: head, Author: "dev",
		State: patchgate.ChangeMerged, MergeCommitSHA: merge, UpdatedAt: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	tk, err := w.tickets.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: key, Labels: []string{}, Severity: patchgate.SeverityHigh, State: patchgate.TicketFixMerged})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, _, err := w.links.SyncExtractedLinks(ctx, pr.ID, []patchgate.LinkSource{patchgate.SourceTitle},
		[]*patchgate.Link{{TicketID: tk.ID, ChangeID: pr.ID, Kind: patchgate.LinkFixes, Source: patchgate.SourceTitle, Provenance: "Fixes " + key, CreatedBy: "patchgate"}}); err != nil {
		w.t.Fatal(err)
	}
	return pr
}

// run records a verification of sha with the regression suite in state and
// its test results, as a worker would have; a live state leaves it running.
func (w *releaseWorld) run(sha string, changeID int64, state patchgate.RunState, tests []patchgate.TestResult) *patchgate.Verification {
	w.t.Helper()
	ctx := context.Background()
	cfg, err := w.configs.Read(ctx, patchgate.RepoRef{Forge: patchgate.GitHub, Name: relRepo}, w.cand)
	if err != nil {
		w.t.Fatal(err)
	}
	v, _, err := w.vs.CreateVerification(ctx, &patchgate.Verification{
		Forge: patchgate.GitHub, Repo: relRepo, SHA: sha, ChangeID: changeID, ConfigRef: sha, ConfigDigest: cfg.Digest,
		Trigger: "test", Suites: []*patchgate.SuiteRun{{Name: "regression", Required: true, Image: "golang:1.26"}},
	})
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.vs.ClaimVerification(ctx, v.ID, v.Attempt, "w"); err != nil {
		w.t.Fatal(err)
	}
	s := v.Suites[0]
	s.State, s.Description, s.Tests = state, "tests", tests
	if err := w.vs.UpdateSuiteRun(ctx, s); err != nil {
		w.t.Fatal(err)
	}
	if state.Final() {
		if err := w.vs.FinishVerification(ctx, v.ID, state, "test"); err != nil {
			w.t.Fatal(err)
		}
	}
	return v
}

// proveAlone records that the fix verified by v is proved alone by test:
// it failed without the fix and passed with it.
func (w *releaseWorld) proveAlone(v *patchgate.Verification, test patchgate.ProofTest) {
	w.t.Helper()
	proof := patchgate.Proof{VerificationID: v.ID, BaseSHA: w.base, State: patchgate.ProofHolds, RequireProof: true,
		Description: "1 test fails without the fix and passes with it",
		Tests: []patchgate.ProofRecord{{ProofTest: test, Base: patchgate.ProofFailed, Head: patchgate.ProofPassed,
			Verdict: "fails without the fix and passes with it"}}}
	if err := w.vs.SaveProof(context.Background(), &proof); err != nil {
		w.t.Fatal(err)
	}
}

// TestProofMustHoldInTheRelease: two fixes each proved alone (PAY-1 by
// calc's TestRound, PAY-7 by ledger's TestTotals) are released together;
// each proving test must pass again in the candidate's own run on the
// combined SHA. Through the gate, with the real SQLite store.
func TestProofMustHoldInTheRelease(t *testing.T) {
	ctx := context.Background()
	w := newReleaseWorld(t)
	pay7 := w.addFix(2, "PAY-7", sha('5'), sha('6'))
	w.forge.SetFile(relRepo, w.cand, ".patchgate.yml", []byte(releaseConfig+"  require_proof: true\n"))
	round := patchgate.ProofTest{File: "calc/calc_test.go", Name: "TestRound", Language: patchgate.LangGo}
	totals := patchgate.ProofTest{File: "ledger/ledger_test.go", Name: "TestTotals", Language: patchgate.LangGo}
	w.proveAlone(w.run(w.head, w.pr.ID, patchgate.RunSuccess, []patchgate.TestResult{
		{Class: "acme/calc", Name: "TestRound", Status: patchgate.TestPassed}}), round)
	w.proveAlone(w.run(sha('5'), pay7.ID, patchgate.RunSuccess, []patchgate.TestResult{
		{Class: "acme/ledger", Name: "TestTotals", Status: patchgate.TestPassed}}), totals)
	c := w.candidate()
	if len(c.Items) != 2 {
		t.Fatalf("the candidate includes %d fixes, want PAY-1 and PAY-7: %+v", len(c.Items), c.Items)
	}
	evaluate := func() *patchgate.Evaluation {
		t.Helper()
		ev, err := w.gate.Evaluate(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Releasable != (len(ev.Blockers) == 0) {
			t.Fatalf("releasable %v with blockers %q", ev.Releasable, ev.Blockers)
		}
		return ev
	}
	codes := func(ev *patchgate.Evaluation) string {
		var out []string
		for _, b := range ev.Blockers {
			out = append(out, string(b.Code)+" "+b.Ticket+" "+b.Message)
		}
		return strings.Join(out, "\n")
	}
	passed := func(class, name string) patchgate.TestResult {
		return patchgate.TestResult{Class: class, Name: name, Status: patchgate.TestPassed}
	}

	// Still running on the combination: suite_running holds it, and its
	// partial results are not read as tests that did not run.
	w.run(w.cand, 0, patchgate.RunRunning, []patchgate.TestResult{passed("acme/calc", "TestRound")})
	if got, want := codes(evaluate()), "suite_running  `regression` still running on 6666666"; got != want {
		t.Errorf("running:\ngot  %s\nwant %s", got, want)
	}
	if err := w.vs.FinishVerification(ctx, mustNewest(t, w, w.cand).ID, patchgate.RunCanceled, "test"); err != nil {
		t.Fatal(err)
	}

	// The combination breaks PAY-7: its proving test fails in the release,
	// and the blocker names the ticket and the test.
	w.run(w.cand, 0, patchgate.RunFailure, []patchgate.TestResult{passed("acme/calc", "TestRound"),
		{Class: "acme/ledger", Name: "TestTotals", Status: patchgate.TestFailed, Message: "ledger_test.go:12: total 9, want 10"}})
	ev := evaluate()
	want := "suite_failed  failed `regression` on 6666666\n" +
		"proof_broken_in_release PAY-7 PAY-7: fix in #2: proof test ledger/ledger_test.go:TestTotals fails in the release on 6666666: ledger_test.go:12: total 9, want 10"
	if got := codes(ev); got != want {
		t.Errorf("PAY-7 broken in the release:\ngot  %s\nwant %s", got, want)
	}
	if b := ev.Blockers[len(ev.Blockers)-1]; b.Change != "#2" || b.Action == "" {
		t.Errorf("the blocker names change %q with action %q, want #2 and the code's action", b.Change, b.Action)
	}
	if ev.Evidence["PAY-7"] != nil || ev.Evidence["PAY-1"] == nil {
		t.Errorf("evidence: got %v, want PAY-1's only", ev.Evidence)
	}

	// The suite passes but PAY-7's test was skipped in the release: the
	// suite alone would let it ship; the proof does not.
	w.run(w.cand, 0, patchgate.RunSuccess, []patchgate.TestResult{passed("acme/calc", "TestRound"),
		{Class: "acme/ledger", Name: "TestTotals", Status: patchgate.TestSkipped}})
	if got, want := codes(evaluate()), "proof_broken_in_release PAY-7 PAY-7: fix in #2: proof test ledger/ledger_test.go:TestTotals is skipped in the release on 6666666"; got != want {
		t.Errorf("PAY-7 skipped in the release:\ngot  %s\nwant %s", got, want)
	}

	// A run that lists no tests cannot show the proofs hold.
	w.run(w.cand, 0, patchgate.RunSuccess, []patchgate.TestResult{})
	// (In the order of the candidate's items.)
	want = "proof_unlisted_in_release PAY-7 PAY-7: fix in #2: the candidate's run on 6666666 lists no passing tests, so its proof tests (ledger/ledger_test.go:TestTotals) cannot be checked in the release\n" +
		"proof_unlisted_in_release PAY-1 PAY-1: fix in #1: the candidate's run on 6666666 lists no passing tests, so its proof tests (calc/calc_test.go:TestRound) cannot be checked in the release"
	if got := codes(evaluate()); got != want {
		t.Errorf("no tests listed:\ngot  %s\nwant %s", got, want)
	}

	// Both proving tests pass on the combination: releasable, and an
	// approval goes through.
	w.run(w.cand, 0, patchgate.RunSuccess, []patchgate.TestResult{passed("acme/calc", "TestRound"), passed("acme/ledger", "TestTotals/eur")})
	if ev := evaluate(); !ev.Releasable || ev.Evidence["PAY-1"] == nil || ev.Evidence["PAY-7"] == nil {
		t.Fatalf("all proofs hold in the release: got blockers %q, evidence %v", codes(ev), ev.Evidence)
	}
	if _, _, err := w.gate.Approve(ctx, c.ID, c.SHA, w.person("alice"), "api"); err != nil {
		t.Errorf("approve the releasable candidate: %v", err)
	}
}

// mustNewest returns sha's newest verification.
func mustNewest(t *testing.T, w *releaseWorld, sha string) *patchgate.Verification {
	t.Helper()
	vs, _, err := w.vs.FindVerifications(context.Background(), patchgate.VerificationFilter{SHA: &sha, Limit: 1})
	if err != nil || len(vs) == 0 {
		t.Fatalf("find the verification of %s: %v, %v", sha, vs, err)
	}
	return vs[0]
}
