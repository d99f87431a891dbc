package patchgate

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// EvidenceSource is what a promotion knows when it writes its pack: the
// candidate with its items and approvals, the gate's evaluation that let it
// through, the test results of its suites, its tickets' proofs and the people
// pinned to forge user ids.
type EvidenceSource struct {
	Candidate  *Candidate
	Evaluation *Evaluation
	// Tests holds each suite run's test results by suite run id.
	Tests map[int64][]TestResult
	// Proofs holds each ticket's proof by ticket key.
	Proofs map[string]*Proof
	// UserIDs holds the forge user id of each login (lower case) patchgate
	// pinned.
	UserIDs map[string]int64
	// Authors are everyone the author rule counts as having written the
	// candidate (openers, commit authors, co-authors, pushers); nil counts
	// the changes' openers only.
	Authors    []EvidenceAuthor
	AuditHead  AuditHead
	ReleaseURL string
	// PublicURL is patchgate's own URL, for links to its verifications.
	PublicURL string
	At        time.Time
}

// BuildEvidence turns what the gate decided on into the statements of the
// release's pack. It reports an error, naming what is missing, when the
// evaluation holds no policy (the gate never promotes without one).
func BuildEvidence(src EvidenceSource) (EvidenceContent, error) {
	c, ev := src.Candidate, src.Evaluation
	if c == nil || ev == nil || ev.Policy == nil {
		return EvidenceContent{}, Errorf(EINVALID, "evidence pack: the candidate's evaluation has no release policy: evaluate it before promotion")
	}
	rel := EvidenceRelease{Forge: c.Forge, Repo: c.Repo, Tag: c.Name, SHA: c.SHA, BaseSHA: c.BaseSHA, URL: src.ReleaseURL}
	out := EvidenceContent{Release: rel}
	out.Combination = EvidenceCombination{SHA: c.SHA, Tickets: []EvidenceCombinationTicket{}, Bisection: ev.Bisection}
	var releaseTests []TestResult
	if v := ev.Verification; v != nil {
		out.Combination.VerificationID = v.ID
		for _, run := range v.Suites {
			out.TestResults = append(out.TestResults, evidenceTestResult(v, run, src.Tests[run.ID], src.PublicURL))
			releaseTests = append(releaseTests, src.Tests[run.ID]...)
		}
	}
	policy := ev.Policy.ReleasePolicy
	policy.Required = slices.Clone(policy.Required)
	digest := ReleasePolicyDigest(policy)
	person := func(login string) EvidencePerson {
		l := strings.ToLower(login)
		return EvidencePerson{Login: l, UserID: src.UserIDs[l]}
	}
	approval := EvidenceApproval{Release: rel, Tickets: []EvidenceTicket{}, Authors: []EvidenceAuthor{},
		Approvals: []EvidenceApprover{}, Policy: policy, PolicySources: ev.Policy.Sources, PolicyDigest: digest,
		PromotedBy: c.PromotedBy, PromotedAt: src.At}
	addAuthor := func(login, change string) {
		if login != "" && !slices.ContainsFunc(approval.Authors, func(a EvidenceAuthor) bool { return SamePerson(a.Login, login) && a.Change == change }) {
			approval.Authors = append(approval.Authors, EvidenceAuthor{EvidencePerson: person(login), Change: change})
		}
	}
	for _, a := range src.Authors {
		addAuthor(a.Login, a.Change)
	}
	for _, item := range c.Items {
		ch := item.Change
		if ch == nil {
			continue
		}
		name := evidenceChangeName(ch)
		addAuthor(ch.Author, name)
		if item.Ticket == nil {
			continue
		}
		key := item.Ticket.Key
		approval.Tickets = append(approval.Tickets, EvidenceTicket{Key: key, Change: name, HeadSHA: ch.HeadSHA})
		if p := src.Proofs[key]; p != nil {
			out.FixProofs = append(out.FixProofs, evidenceFixProof(key, name, ch.HeadSHA, p))
			if tests := ProvingTests(p); len(tests) > 0 {
				out.Combination.Tickets = append(out.Combination.Tickets, evidenceCombination(key, name, tests, releaseTests))
			}
		}
	}
	seen := map[string]bool{}
	for _, a := range c.Approvals {
		l := strings.ToLower(a.Approver)
		if !a.Counts(c.SHA) || seen[l] {
			continue
		}
		seen[l] = true
		approval.Approvals = append(approval.Approvals, EvidenceApprover{EvidencePerson: person(a.Approver),
			Token: a.Token, Via: a.Via, At: a.CreatedAt.UTC(), SHA: a.SHA})
	}
	out.Approval = approval
	out.Summary = EvidenceSummary{
		VerifierID: EvidenceVerifierID, TimeVerified: src.At, ResourceURI: evidenceResourceURI(rel),
		PolicyURI: EvidencePolicyURI + string(c.Forge) + "/" + c.Repo, PolicyDigest: digest,
		Result: EvidencePassed, AuditHead: src.AuditHead,
	}
	return out, nil
}

// evidenceResourceURI names the release: its page when the forge gave one.
func evidenceResourceURI(rel EvidenceRelease) string {
	if rel.URL != "" {
		return rel.URL
	}
	return fmt.Sprintf("%s:%s@%s", rel.Forge, rel.Repo, rel.Tag)
}

// evidenceChangeName is a change as its forge writes it: #42, !42, or the
// pushed branch.
func evidenceChangeName(ch *Change) string {
	switch ch.Kind {
	case ChangeMergeRequest:
		return fmt.Sprintf("!%d", ch.Number)
	case ChangePush:
		return "push " + ShortSHA(ch.HeadSHA)
	}
	return fmt.Sprintf("#%d", ch.Number)
}

// evidenceTestResult is one suite run as a test-result predicate. A
// quarantined failure is excused (it neither fails the suite nor counts as a
// pass): the run is WARNED.
func evidenceTestResult(v *Verification, run *SuiteRun, tests []TestResult, publicURL string) EvidenceTestResult {
	tr := EvidenceTestResult{Suite: run.Name, VerificationID: v.ID, ConfigDigest: v.ConfigDigest, Images: run.ImageDigests}
	if publicURL != "" {
		tr.URL = fmt.Sprintf("%s/verifications/%d", strings.TrimRight(publicURL, "/"), v.ID)
	}
	for _, t := range tests {
		name := t.Name
		if t.Class != "" {
			name = t.Class + "." + t.Name
		}
		switch {
		case t.Quarantined:
			tr.Quarantined = append(tr.Quarantined, name)
		case t.Status == TestPassed:
			tr.Passed = append(tr.Passed, name)
		case t.Status == TestFailed || t.Status == TestErrored:
			tr.Failed = append(tr.Failed, name)
		}
	}
	switch {
	case run.State != RunSuccess:
		tr.Result = EvidenceFailed
	case len(tr.Quarantined) > 0:
		tr.Result = EvidenceWarned
	default:
		tr.Result = EvidencePassed
	}
	return tr
}

// evidenceFixProof is a ticket's proof as a fix-proof predicate.
func evidenceFixProof(key, change, head string, p *Proof) EvidenceFixProof {
	fp := EvidenceFixProof{Ticket: key, Change: change, BaseSHA: p.BaseSHA, HeadSHA: head, VerificationID: p.VerificationID,
		State: p.State, FailToPass: []string{}, Tests: []EvidenceProofTest{}}
	for _, t := range p.Tests {
		fp.Tests = append(fp.Tests, EvidenceProofTest{Test: t.String(), Base: t.Base, Head: t.Head, Verdict: t.Verdict})
		if (t.Base == ProofFailed || t.Base == ProofNotBuilt) && t.Head == ProofPassed {
			fp.FailToPass = append(fp.FailToPass, t.String())
		}
	}
	return fp
}

// evidenceCombination is ticket key's proving tests as the release's own run
// has them: a failed attempt of a test that passed on a retry of the same
// commit is not its outcome (as the gate reads it, ReleaseProofBlockers).
func evidenceCombination(key, change string, tests []ProofTest, releaseTests []TestResult) EvidenceCombinationTicket {
	var results []TestResult
	for _, r := range releaseTests {
		if !(r.Flaky && (r.Status == TestFailed || r.Status == TestErrored)) {
			results = append(results, r)
		}
	}
	ct := EvidenceCombinationTicket{Ticket: key, Change: change, Tests: []EvidenceCombinationTest{}}
	for _, t := range tests {
		got, msg := outcome(t, results)
		ct.Tests = append(ct.Tests, EvidenceCombinationTest{Test: t.String(), Result: got, Message: msg})
	}
	return ct
}
