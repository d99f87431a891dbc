package patchgate_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

const (
	evSHA  = "1111111111111111111111111111111111111111"
	evFix  = "2222222222222222222222222222222222222222"
	evBase = "3333333333333333333333333333333333333333"
)

// evidenceSource is a promotion: PAY-7 fixed in #42 by dave; alice (twice,
// by two tokens), bob, a withdrawn carol and an approval of an older commit;
// two approvals and proof required.
func evidenceSource() patchgate.EvidenceSource {
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	withdrawn := at.Add(time.Hour)
	policy := patchgate.EffectivePolicy{ReleasePolicy: patchgate.ReleasePolicy{Approvals: 2, RequireProof: true, Required: []string{"regression"}}}
	return patchgate.EvidenceSource{
		Candidate: &patchgate.Candidate{ID: 1, Forge: patchgate.GitHub, Repo: "acme/payments", SHA: evSHA, Name: "v1.6.0",
			Items: []*patchgate.CandidateItem{{Change: &patchgate.Change{Kind: patchgate.ChangePullRequest, Number: 42, Author: "Dave", HeadSHA: evFix},
				Ticket: &patchgate.Ticket{Key: "PAY-7"}}},
			Approvals: []*patchgate.Approval{
				{Approver: "alice", ApproverID: 1, SHA: evSHA, Token: "a1", Via: "api", CreatedAt: at},
				{Approver: "Alice", ApproverID: 1, SHA: evSHA, Token: "a2", Via: "cli", CreatedAt: at},
				{Approver: "bob", ApproverID: 2, SHA: evSHA, Via: "comment", CreatedAt: at},
				{Approver: "carol", ApproverID: 3, SHA: evSHA, Token: "c", Via: "api", CreatedAt: at, WithdrawnAt: &withdrawn},
				{Approver: "erin", ApproverID: 5, SHA: evFix, Token: "e", Via: "api", CreatedAt: at},
			}},
		Evaluation: &patchgate.Evaluation{Releasable: true, Policy: &policy, Verification: &patchgate.Verification{ID: 5, SHA: evSHA,
			Suites: []*patchgate.SuiteRun{{ID: 50, Name: "regression", State: patchgate.RunSuccess}}}},
		Tests: map[int64][]patchgate.TestResult{50: {{Class: "calc", Name: "TestRound", Status: patchgate.TestPassed}}},
		Proofs: map[string]*patchgate.Proof{"PAY-7": {VerificationID: 6, BaseSHA: evBase, State: patchgate.ProofHolds, Tests: []patchgate.ProofRecord{
			{ProofTest: patchgate.ProofTest{File: "calc_test.go", Name: "TestRound", Language: patchgate.LangGo}, Base: patchgate.ProofNotBuilt, Head: patchgate.ProofPassed},
			{ProofTest: patchgate.ProofTest{File: "calc_test.go", Name: "TestOld"}, Base: patchgate.ProofPassed, Head: patchgate.ProofPassed},
		}}},
		UserIDs:   map[string]int64{"alice": 1, "bob": 2, "dave": 4},
		AuditHead: patchgate.AuditHead{Seq: 9, Hash: strings.Repeat("a", 64)},
		At:        at,
	}
}

// packOf lays content out as the evidence adapter does, each statement about
// the release commit and tag, with made-up digests the summary lists.
func packOf(t *testing.T, c patchgate.EvidenceContent) *patchgate.EvidencePack {
	t.Helper()
	subject := []patchgate.EvidenceDescriptor{
		{Name: "github:acme/payments", Digest: map[string]string{"gitCommit": c.Release.SHA, "sha1": c.Release.SHA}},
		{Name: "refs/tags/" + c.Release.Tag, Digest: map[string]string{"gitCommit": c.Release.SHA}},
	}
	p := &patchgate.EvidencePack{}
	add := func(st patchgate.EvidenceStatement) {
		st.Line, st.Subject, st.KeyIDs = len(p.Statements)+1, subject, []string{"k"}
		st.SHA256 = fmt.Sprintf("%064x", st.Line)
		p.Statements = append(p.Statements, st)
	}
	for i := range c.TestResults {
		add(patchgate.EvidenceStatement{PredicateType: patchgate.PredicateTestResult, TestResult: &c.TestResults[i]})
	}
	for i := range c.FixProofs {
		add(patchgate.EvidenceStatement{PredicateType: patchgate.PredicateFixProof, FixProof: &c.FixProofs[i]})
	}
	add(patchgate.EvidenceStatement{PredicateType: patchgate.PredicateReleaseApproval, Approval: &c.Approval})
	add(patchgate.EvidenceStatement{PredicateType: patchgate.PredicateReleaseCombination, Combination: &c.Combination})
	s := c.Summary
	for _, st := range p.Statements {
		s.Inputs = append(s.Inputs, patchgate.EvidenceReference{URI: fmt.Sprintf("%s%d", patchgate.EvidenceStatementURI, st.Line), SHA256: st.SHA256})
	}
	s.Inputs = append(s.Inputs, patchgate.EvidenceReference{URI: fmt.Sprintf("%s%d", patchgate.EvidenceAuditHeadURI, s.AuditHead.Seq), SHA256: s.AuditHead.Hash})
	add(patchgate.EvidenceStatement{PredicateType: patchgate.PredicateVerificationSummary, Summary: &s})
	return p
}

func mustBuild(t *testing.T, src patchgate.EvidenceSource) patchgate.EvidenceContent {
	t.Helper()
	c, err := patchgate.BuildEvidence(src)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBuildEvidence(t *testing.T) {
	c := mustBuild(t, evidenceSource())
	var approvers []string
	for _, a := range c.Approval.Approvals {
		approvers = append(approvers, fmt.Sprintf("%s:%d:%s", a.Login, a.UserID, a.Token))
	}
	// One person once (the first token), the withdrawn and the other
	// commit's approvals left out.
	if got, want := strings.Join(approvers, ","), "alice:1:a1,bob:2:"; got != want {
		t.Errorf("approvals: got %s, want %s", got, want)
	}
	if len(c.Approval.Authors) != 1 || c.Approval.Authors[0].Login != "dave" || c.Approval.Authors[0].UserID != 4 || c.Approval.Authors[0].Change != "#42" {
		t.Errorf("authors: got %+v, want dave (4) for #42", c.Approval.Authors)
	}
	if len(c.FixProofs) != 1 || strings.Join(c.FixProofs[0].FailToPass, ",") != "calc_test.go:TestRound" || c.FixProofs[0].HeadSHA != evFix {
		t.Errorf("fix-proof: got %+v, want TestRound (did not build without the fix) on %s", c.FixProofs, evFix)
	}
	if c.Approval.PolicyDigest != patchgate.ReleasePolicyDigest(c.Approval.Policy) || c.Summary.PolicyDigest != c.Approval.PolicyDigest {
		t.Errorf("policy digests: approval %s, summary %s", c.Approval.PolicyDigest, c.Summary.PolicyDigest)
	}
	if r := patchgate.CheckEvidence(packOf(t, c), patchgate.EvidenceWant{SHA: evSHA[:7], Tag: "v1.6.0"}); len(r.Problems) != 0 {
		t.Errorf("a built pack: got problems %q, want none", r.Problems)
	}

	failed := evidenceSource()
	failed.Evaluation.Verification.Suites[0].State = patchgate.RunFailure
	failed.Tests[50] = append(failed.Tests[50], patchgate.TestResult{Name: "TestFlaky", Status: patchgate.TestFailed, Quarantined: true})
	if tr := mustBuild(t, failed).TestResults[0]; tr.Result != patchgate.EvidenceFailed || strings.Join(tr.Quarantined, ",") != "TestFlaky" {
		t.Errorf("a failed suite: got %+v, want FAILED with its quarantined test", tr)
	}
	noPolicy := evidenceSource()
	noPolicy.Evaluation.Policy = nil
	if _, err := patchgate.BuildEvidence(noPolicy); err == nil {
		t.Error("an evaluation without a policy: got nil, want an error")
	}
}

func TestReleasePolicyDigestIgnoresSuiteOrder(t *testing.T) {
	a := patchgate.ReleasePolicy{Approvals: 2, Required: []string{"b", "a"}}
	b := patchgate.ReleasePolicy{Approvals: 2, Required: []string{"a", "b"}}
	if patchgate.ReleasePolicyDigest(a) != patchgate.ReleasePolicyDigest(b) {
		t.Error("the order of required suites changed the digest")
	}
	if patchgate.ReleasePolicyDigest(a) == patchgate.ReleasePolicyDigest(patchgate.ReleasePolicy{Approvals: 1, Required: []string{"a", "b"}}) {
		t.Error("a different approval count kept the digest")
	}
	if patchgate.ReleasePolicyDigest(patchgate.ReleasePolicy{}) != patchgate.ReleasePolicyDigest(patchgate.ReleasePolicy{Required: []string{}}) {
		t.Error("no required suites: nil and empty differ")
	}
}

func TestCheckEvidence(t *testing.T) {
	approval := func(p *patchgate.EvidencePack) *patchgate.EvidenceApproval {
		for _, st := range p.Statements {
			if st.Approval != nil {
				return st.Approval
			}
		}
		return nil
	}
	resign := func(p *patchgate.EvidencePack) { // the policy digest a forger recomputes
		a := approval(p)
		a.PolicyDigest = patchgate.ReleasePolicyDigest(a.Policy)
		p.Statements[len(p.Statements)-1].Summary.PolicyDigest = a.PolicyDigest
	}
	tests := []struct {
		name   string
		edit   func(p *patchgate.EvidencePack)
		want   patchgate.EvidenceWant
		reason string
	}{
		{"an author renamed (same forge id) approves", func(p *patchgate.EvidencePack) {
			approval(p).Approvals[1].Login, approval(p).Approvals[1].UserID = "dave-renamed", 4
		}, patchgate.EvidenceWant{}, "dave-renamed approved but wrote #42"},
		{"an author approves when the policy allows it", func(p *patchgate.EvidencePack) {
			a := approval(p)
			a.Approvals[1].Login, a.Approvals[1].UserID = "dave", 4
			a.Policy.AllowAuthorApproval = true
			resign(p)
		}, patchgate.EvidenceWant{}, ""},
		{"one person twice, once without an id", func(p *patchgate.EvidencePack) {
			approval(p).Approvals[1].Login, approval(p).Approvals[1].UserID = "alice", 0
			resign(p)
		}, patchgate.EvidenceWant{}, "1 distinct people approved the release commit; the recorded policy needs 2"},
		{"too few approvals for the policy", func(p *patchgate.EvidencePack) {
			approval(p).Policy.Approvals = 3
			resign(p)
		}, patchgate.EvidenceWant{}, "2 distinct people approved the release commit; the recorded policy needs 3"},
		{"the summary's policy digest differs", func(p *patchgate.EvidencePack) {
			p.Statements[len(p.Statements)-1].Summary.PolicyDigest = strings.Repeat("0", 64)
		}, patchgate.EvidenceWant{}, "the verification summary's policy digest"},
		{"the proof ran on another head", func(p *patchgate.EvidencePack) { p.Statements[1].FixProof.HeadSHA = evBase },
			patchgate.EvidenceWant{}, "the fix-proof of PAY-7 ran on 3333333, not on its fix #42's head 2222222"},
		{"the proof does not hold", func(p *patchgate.EvidencePack) { p.Statements[1].FixProof.State = patchgate.ProofNone },
			patchgate.EvidenceWant{}, "the fix-proof of PAY-7 is none, and the recorded policy requires one that holds"},
		{"a proof of a ticket the release lacks", func(p *patchgate.EvidencePack) { p.Statements[1].FixProof.Ticket = "PAY-8" },
			patchgate.EvidenceWant{}, "the fix-proof is of ticket PAY-8, which the release does not list"},
		{"a suite with an unknown result", func(p *patchgate.EvidencePack) { p.Statements[0].TestResult.Result = "GREEN" },
			patchgate.EvidenceWant{}, `suite regression has result "GREEN"`},
		{"a subject with another kind of digest", func(p *patchgate.EvidencePack) {
			p.Statements[0].Subject = []patchgate.EvidenceDescriptor{{Name: "x", Digest: map[string]string{"sha256": evSHA}}}
		}, patchgate.EvidenceWant{}, "line 1 (test result of suite regression): its subject \"x\" has a sha256 digest"},
		{"a subject without the tag", func(p *patchgate.EvidencePack) { p.Statements[2].Subject = p.Statements[2].Subject[:1] },
			patchgate.EvidenceWant{}, "line 3 (release approval): its subject does not name the release tag refs/tags/v1.6.0"},
		{"a decision other than PASSED", func(p *patchgate.EvidencePack) { p.Statements[len(p.Statements)-1].Summary.Result = "FAILED" },
			patchgate.EvidenceWant{}, `the verification summary's decision is "FAILED", not PASSED`},
		{"no audit head", func(p *patchgate.EvidencePack) {
			s := p.Statements[len(p.Statements)-1].Summary
			s.Inputs = s.Inputs[:len(s.Inputs)-1]
		}, patchgate.EvidenceWant{}, "the verification summary does not record the audit chain's head"},
		{"two release approvals", func(p *patchgate.EvidencePack) {
			extra := p.Statements[2]
			p.Statements = append(p.Statements[:3], extra, p.Statements[3])
		}, patchgate.EvidenceWant{}, "the pack has 2 release-approval statements"},
		{"an unknown statement", func(p *patchgate.EvidencePack) {
			p.Statements[0] = patchgate.EvidenceStatement{Line: 1, PredicateType: "https://example.com/x", Subject: p.Statements[0].Subject, SHA256: p.Statements[0].SHA256}
		}, patchgate.EvidenceWant{}, `line 1: unknown predicate type "https://example.com/x"`},
		{"a SHA prefix too short to mean anything", func(*patchgate.EvidencePack) {}, patchgate.EvidenceWant{SHA: "111"}, "the pack is about commit " + evSHA + ", not 111"},
		{"no statements", func(p *patchgate.EvidencePack) { p.Statements = nil }, patchgate.EvidenceWant{}, "the pack holds no statement"},
		{"a proof test that fails in the release", func(p *patchgate.EvidencePack) {
			p.Statements[3].Combination.Tickets[0].Tests[0].Result = patchgate.ProofFailed
		}, patchgate.EvidenceWant{}, "the proof test calc_test.go:TestRound of PAY-7 is failed on the release commit, with the other fixes"},
		{"a proof test without a result in the release", func(p *patchgate.EvidencePack) { p.Statements[3].Combination.Tickets[0].Tests = nil },
			patchgate.EvidenceWant{}, "the proof test calc_test.go:TestRound of PAY-7 has no result on the release commit"},
		{"a ticket left out of the combination", func(p *patchgate.EvidencePack) { p.Statements[3].Combination.Tickets = nil },
			patchgate.EvidenceWant{}, "the proof test calc_test.go:TestRound of PAY-7 has no result on the release commit"},
		{"no combination statement", func(p *patchgate.EvidencePack) {
			p.Statements = append(p.Statements[:3], p.Statements[4])
		}, patchgate.EvidenceWant{}, "the pack has no release-combination statement"},
		{"the combination checked on another commit", func(p *patchgate.EvidencePack) { p.Statements[3].Combination.SHA = evFix },
			patchgate.EvidenceWant{}, "line 4: the combination check ran on 2222222, not the release commit 1111111"},
		{"the combination read another run", func(p *patchgate.EvidencePack) { p.Statements[3].Combination.VerificationID = 99 },
			patchgate.EvidenceWant{}, "line 4: the combination check read verification 99"},
		{"a culprit found", func(p *patchgate.EvidencePack) {
			p.Statements[3].Combination.Bisection = &patchgate.Bisection{State: patchgate.BisectionFound,
				Culprit: &patchgate.BisectPoint{SHA: evFix, Change: "#42", Ticket: "PAY-7"}}
		}, patchgate.EvidenceWant{}, "line 4: the culprit bisection found that the release fails from #42 (PAY-7)"},
		{"no combination when the policy required no proof", func(p *patchgate.EvidencePack) {
			approval(p).Policy.RequireProof = false
			resign(p)
			gone := p.Statements[3].SHA256
			p.Statements = append(p.Statements[:3], p.Statements[4])
			s := p.Statements[3].Summary
			s.Inputs = slices.DeleteFunc(s.Inputs, func(in patchgate.EvidenceReference) bool { return in.SHA256 == gone })
		}, patchgate.EvidenceWant{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := packOf(t, mustBuild(t, evidenceSource()))
			tt.edit(p)
			r := patchgate.CheckEvidence(p, tt.want)
			if tt.reason == "" {
				if len(r.Problems) != 0 {
					t.Fatalf("got problems %q, want none", r.Problems)
				}
				return
			}
			if !strings.Contains(strings.Join(r.Problems, "\n"), tt.reason) {
				t.Fatalf("got problems %q, want one containing %q", r.Problems, tt.reason)
			}
		})
	}
}
