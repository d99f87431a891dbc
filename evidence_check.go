package patchgate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// EvidenceWant is what the auditor expects a pack to be about; empty fields
// expect nothing.
type EvidenceWant struct {
	// SHA is the release commit (a prefix of at least 7 characters will do).
	SHA string
	Tag string
}

// EvidenceReport is what a pack shows, for the human summary and --json.
type EvidenceReport struct {
	Release EvidenceRelease `json:"release"`
	Policy  ReleasePolicy   `json:"policy"`
	// PolicySources say where each policy value came from.
	PolicySources map[string]PolicySource `json:"policy_sources,omitempty"`
	Suites        []EvidenceTestResult    `json:"suites"`
	Tickets       []EvidenceTicket        `json:"tickets"`
	Proofs        []EvidenceFixProof      `json:"proofs"`
	// Combination is each ticket's proof tests on the release commit, and
	// the culprit bisection if one ran; nil when the pack holds none.
	Combination *EvidenceCombination `json:"combination,omitempty"`
	Approvers   []EvidenceApprover   `json:"approvers"`
	Authors     []EvidenceAuthor     `json:"authors"`
	AuditHead   AuditHead            `json:"audit_head"`
	KeyIDs      []string             `json:"key_ids"`
	Statements  int                  `json:"statements"`
	// Problems are why the pack does not hold; empty when it does.
	Problems []string `json:"problems"`
}

// CheckEvidence judges a pack whose signatures verified: every statement is
// about the release commit and tag (and want's), every required suite passed
// there, every ticket has a fail-to-pass proof when the recorded policy
// required proof, the approvals meet the recorded policy with distinct people
// (by forge user id) who are not authors, the policy matches its digest, and
// the verification summary, last, decided PASSED over exactly the pack's other
// statements. Each problem is a sentence naming the statement (by line).
func CheckEvidence(p *EvidencePack, want EvidenceWant) EvidenceReport {
	r := EvidenceReport{Suites: []EvidenceTestResult{}, Tickets: []EvidenceTicket{}, Proofs: []EvidenceFixProof{},
		Approvers: []EvidenceApprover{}, KeyIDs: []string{}, Problems: []string{}}
	bad := func(format string, args ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, args...)) }
	if p == nil || len(p.Statements) == 0 {
		bad("the pack holds no statement")
		return r
	}
	r.Statements = len(p.Statements)
	var approval *EvidenceApproval
	var summary *EvidenceSummary
	approvals, summaries := 0, 0
	for i := range p.Statements {
		st := &p.Statements[i]
		for _, k := range st.KeyIDs {
			if !slices.Contains(r.KeyIDs, k) {
				r.KeyIDs = append(r.KeyIDs, k)
			}
		}
		switch {
		case st.Approval != nil:
			approvals++
			approval = st.Approval
		case st.Summary != nil:
			summaries++
			summary = st.Summary
			if i != len(p.Statements)-1 {
				bad("line %d: the verification summary is not the pack's last statement: statements were moved or added after it", st.Line)
			}
		case st.TestResult == nil && st.FixProof == nil && st.Combination == nil:
			bad("line %d: unknown predicate type %q: a pack holds only patchgate's statements", st.Line, st.PredicateType)
		}
	}
	switch approvals {
	case 0:
		bad("the pack has no release-approval statement (%s): the approvals and the release policy are missing", PredicateReleaseApproval)
		return r
	case 1:
	default:
		bad("the pack has %d release-approval statements: a pack has exactly one", approvals)
	}
	if summaries != 1 {
		bad("the pack has %d verification summaries (%s): a pack has exactly one, its last line", summaries, PredicateVerificationSummary)
	}
	rel := approval.Release
	r.Release, r.Policy, r.Tickets, r.Authors = rel, approval.Policy, approval.Tickets, approval.Authors
	r.PolicySources = approval.PolicySources
	if !ValidSHA(rel.SHA) {
		bad("the release-approval statement names no release commit (%q)", rel.SHA)
		return r
	}
	if want.SHA != "" && (len(want.SHA) < 7 || !strings.HasPrefix(rel.SHA, strings.ToLower(want.SHA))) {
		bad("the pack is about commit %s, not %s", rel.SHA, want.SHA)
	}
	if want.Tag != "" && rel.Tag != want.Tag {
		bad("the pack is about tag %s, not %s", rel.Tag, want.Tag)
	}
	for _, st := range p.Statements {
		if why := subjectProblem(st.Subject, rel); why != "" {
			bad("line %d (%s): %s", st.Line, statementName(st), why)
		}
	}
	checkSuites(p, approval, &r, bad)
	checkProofs(p, approval, &r, bad)
	checkCombination(p, approval, &r, bad)
	checkApprovals(approval, &r, bad)
	if summary != nil {
		checkSummary(p, approval, summary, &r, bad)
	}
	return r
}

// statementName says which statement a line is, in words.
func statementName(st EvidenceStatement) string {
	switch {
	case st.TestResult != nil:
		return "test result of suite " + st.TestResult.Suite
	case st.FixProof != nil:
		return "fix-proof of " + st.FixProof.Ticket
	case st.Approval != nil:
		return "release approval"
	case st.Combination != nil:
		return "release combination"
	case st.Summary != nil:
		return "verification summary"
	}
	return st.PredicateType
}

// subjectProblem says why a statement's subject is not the release commit
// and its tag, "" when it is.
func subjectProblem(subject []EvidenceDescriptor, rel EvidenceRelease) string {
	if len(subject) == 0 {
		return "it has no subject"
	}
	commit, tag := false, false
	for _, d := range subject {
		for alg, v := range d.Digest {
			if alg != "gitCommit" && alg != "sha1" {
				return fmt.Sprintf("its subject %q has a %s digest: a pack's subjects are commits", d.Name, alg)
			}
			if !strings.EqualFold(v, rel.SHA) {
				return fmt.Sprintf("its subject %q is commit %s, not the release commit %s", d.Name, v, rel.SHA)
			}
		}
		if len(d.Digest) == 0 {
			return fmt.Sprintf("its subject %q has no digest", d.Name)
		}
		commit = commit || d.Digest["gitCommit"] != ""
		tag = tag || d.Name == "refs/tags/"+rel.Tag
	}
	switch {
	case !commit:
		return "its subject has no gitCommit digest of the release commit"
	case !tag:
		return "its subject does not name the release tag refs/tags/" + rel.Tag
	}
	return ""
}

// checkSuites: every required suite has exactly one test result, PASSED (or
// WARNED: only quarantined tests failed) and consistent with its tests.
func checkSuites(p *EvidencePack, approval *EvidenceApproval, r *EvidenceReport, bad func(string, ...any)) {
	count := map[string]int{}
	for _, st := range p.Statements {
		tr := st.TestResult
		if tr == nil {
			continue
		}
		r.Suites = append(r.Suites, *tr)
		count[tr.Suite]++
		switch tr.Result {
		case EvidencePassed:
			if len(tr.Failed) > 0 || len(tr.Quarantined) > 0 {
				bad("line %d: suite %s is recorded PASSED but lists failed tests (%s)", st.Line, tr.Suite, strings.Join(append(slices.Clone(tr.Failed), tr.Quarantined...), ", "))
			}
		case EvidenceWarned:
			if len(tr.Failed) > 0 {
				bad("line %d: suite %s is recorded WARNED but lists failed tests that were not quarantined (%s)", st.Line, tr.Suite, strings.Join(tr.Failed, ", "))
			}
		case EvidenceFailed:
			if slices.Contains(approval.Policy.Required, tr.Suite) {
				bad("line %d: required suite %s FAILED on the release commit", st.Line, tr.Suite)
			}
		default:
			bad("line %d: suite %s has result %q: want PASSED, WARNED or FAILED", st.Line, tr.Suite, tr.Result)
		}
	}
	for _, name := range approval.Policy.Required {
		switch count[name] {
		case 0:
			bad("required suite %s has no test result in the pack", name)
		case 1:
		default:
			bad("required suite %s has %d test results: a pack has one per suite", name, count[name])
		}
	}
}

// checkProofs: when the policy required proof, every ticket has a holding
// fail-to-pass proof on its fix's head; every proof is of a released ticket.
func checkProofs(p *EvidencePack, approval *EvidenceApproval, r *EvidenceReport, bad func(string, ...any)) {
	proofs := map[string]*EvidenceFixProof{}
	for _, st := range p.Statements {
		fp := st.FixProof
		if fp == nil {
			continue
		}
		r.Proofs = append(r.Proofs, *fp)
		if proofs[fp.Ticket] != nil {
			bad("line %d: ticket %s has a second fix-proof", st.Line, fp.Ticket)
		}
		proofs[fp.Ticket] = fp
		if !slices.ContainsFunc(approval.Tickets, func(t EvidenceTicket) bool { return t.Key == fp.Ticket }) {
			bad("line %d: the fix-proof is of ticket %s, which the release does not list", st.Line, fp.Ticket)
		}
	}
	for _, t := range approval.Tickets {
		fp := proofs[t.Key]
		if fp == nil {
			if approval.Policy.RequireProof {
				bad("ticket %s (fixed in %s) has no fail-to-pass proof, and the recorded policy requires proof", t.Key, t.Change)
			}
			continue
		}
		if fp.HeadSHA != t.HeadSHA {
			bad("the fix-proof of %s ran on %s, not on its fix %s's head %s", t.Key, ShortSHA(fp.HeadSHA), t.Change, ShortSHA(t.HeadSHA))
		}
		if !approval.Policy.RequireProof {
			continue
		}
		switch {
		case fp.State != ProofHolds:
			bad("the fix-proof of %s is %s, and the recorded policy requires one that holds", t.Key, fp.State)
		case len(fp.FailToPass) == 0:
			bad("the fix-proof of %s names no test that failed without the fix and passed with it", t.Key)
		}
		for _, name := range fp.FailToPass {
			i := slices.IndexFunc(fp.Tests, func(pt EvidenceProofTest) bool { return pt.Test == name })
			if i < 0 || fp.Tests[i].Head != ProofPassed || (fp.Tests[i].Base != ProofFailed && fp.Tests[i].Base != ProofNotBuilt) {
				bad("the fix-proof of %s names %s as failing without the fix and passing with it, but its outcomes do not show that", t.Key, name)
			}
		}
	}
}

// checkCombination: when the policy required proof, the pack has one
// release-combination statement about the release commit's own run, in
// which every fail-to-pass test of every ticket's proof passed with the
// other fixes; and no culprit bisection names a merge the release fails from.
func checkCombination(p *EvidencePack, approval *EvidenceApproval, r *EvidenceReport, bad func(string, ...any)) {
	n := 0
	for _, st := range p.Statements {
		if st.Combination == nil {
			continue
		}
		n++
		r.Combination = st.Combination
		if st.Combination.SHA != approval.Release.SHA {
			bad("line %d: the combination check ran on %s, not the release commit %s", st.Line, ShortSHA(st.Combination.SHA), ShortSHA(approval.Release.SHA))
		}
		if id := st.Combination.VerificationID; !slices.ContainsFunc(r.Suites, func(tr EvidenceTestResult) bool { return tr.VerificationID == id }) {
			bad("line %d: the combination check read verification %d, which no test result of the release commit is from", st.Line, id)
		}
		for _, ct := range st.Combination.Tickets {
			if !slices.ContainsFunc(approval.Tickets, func(t EvidenceTicket) bool { return t.Key == ct.Ticket }) {
				bad("line %d: the combination check names ticket %s, which the release does not list", st.Line, ct.Ticket)
			}
		}
		if b := st.Combination.Bisection; b != nil && b.State == BisectionFound && b.Culprit != nil {
			bad("line %d: the culprit bisection found that the release fails from %s", st.Line, b.Culprit)
		}
	}
	if n > 1 {
		bad("the pack has %d release-combination statements: a pack has at most one", n)
	}
	if !approval.Policy.RequireProof {
		return
	}
	if r.Combination == nil {
		bad("the pack has no release-combination statement (%s): nothing shows that each ticket's proof tests passed on the release commit with the other fixes, and the recorded policy requires proof", PredicateReleaseCombination)
		return
	}
	for _, fp := range r.Proofs {
		i := slices.IndexFunc(r.Combination.Tickets, func(ct EvidenceCombinationTicket) bool { return ct.Ticket == fp.Ticket })
		for _, name := range fp.FailToPass {
			if i < 0 {
				bad("the proof test %s of %s has no result on the release commit, and the recorded policy requires proof", name, fp.Ticket)
				continue
			}
			tests := r.Combination.Tickets[i].Tests
			j := slices.IndexFunc(tests, func(t EvidenceCombinationTest) bool { return t.Test == name })
			switch {
			case j < 0:
				bad("the proof test %s of %s has no result on the release commit, and the recorded policy requires proof", name, fp.Ticket)
			case tests[j].Result != ProofPassed:
				bad("the proof test %s of %s is %s on the release commit, with the other fixes: the fix does not hold in the release", name, fp.Ticket, tests[j].Result)
			}
		}
	}
}

// samePerson compares two people by user id when both are pinned, else by
// login.
func samePerson(a, b EvidencePerson) bool {
	if a.UserID != 0 && b.UserID != 0 {
		return a.UserID == b.UserID
	}
	return SamePerson(a.Login, b.Login)
}

// checkApprovals: the approvals at the release commit come from enough
// distinct people, none an author unless the policy allows it.
func checkApprovals(approval *EvidenceApproval, r *EvidenceReport, bad func(string, ...any)) {
	var people []EvidencePerson // distinct, as the gate counts them (SameUser)
	for _, a := range approval.Approvals {
		r.Approvers = append(r.Approvers, a)
		if a.Login == "" {
			bad("an approval at %s names no person", a.At.Format("2006-01-02T15:04:05Z07:00"))
			continue
		}
		if a.SHA != approval.Release.SHA {
			bad("%s's approval is of commit %s, not the release commit %s", a.Login, ShortSHA(a.SHA), ShortSHA(approval.Release.SHA))
			continue
		}
		if !approval.Policy.AllowAuthorApproval {
			if i := slices.IndexFunc(approval.Authors, func(au EvidenceAuthor) bool { return samePerson(au.EvidencePerson, a.EvidencePerson) }); i >= 0 {
				bad("%s approved but wrote %s, and the recorded policy does not let authors approve", a.Login, approval.Authors[i].Change)
				continue
			}
		}
		if !slices.ContainsFunc(people, func(p EvidencePerson) bool { return samePerson(p, a.EvidencePerson) }) {
			people = append(people, a.EvidencePerson)
		}
	}
	if n := len(people); n < approval.Policy.Approvals {
		bad("%d distinct people approved the release commit; the recorded policy needs %d", n, approval.Policy.Approvals)
	}
	if d := ReleasePolicyDigest(approval.Policy); approval.PolicyDigest != d {
		bad("the recorded release policy does not match its digest (%s recorded, %s computed): the policy was changed", approval.PolicyDigest, d)
	}
}

// checkSummary: PASSED, the policy digest the approval records, and inputs
// that are exactly the pack's other statements, plus the audit head.
func checkSummary(p *EvidencePack, approval *EvidenceApproval, s *EvidenceSummary, r *EvidenceReport, bad func(string, ...any)) {
	r.AuditHead = s.AuditHead
	if s.Result != EvidencePassed {
		bad("the verification summary's decision is %q, not PASSED", s.Result)
	}
	if s.VerifierID != EvidenceVerifierID {
		bad("the verification summary's verifier is %q, not %s", s.VerifierID, EvidenceVerifierID)
	}
	if s.PolicyDigest != approval.PolicyDigest {
		bad("the verification summary's policy digest %s is not the recorded policy's %s", s.PolicyDigest, approval.PolicyDigest)
	}
	listed := map[string]bool{}
	audit := false
	for _, in := range s.Inputs {
		switch {
		case strings.HasPrefix(in.URI, EvidenceAuditHeadURI):
			audit = true
			if in.URI != EvidenceAuditHeadURI+strconv.FormatInt(s.AuditHead.Seq, 10) || in.SHA256 != s.AuditHead.Hash {
				bad("the verification summary's audit head input %s does not match its audit head %s", in.URI, s.AuditHead)
			}
		case strings.HasPrefix(in.URI, EvidenceStatementURI):
			listed[in.SHA256] = true
			if !slices.ContainsFunc(p.Statements, func(st EvidenceStatement) bool { return st.Summary == nil && st.SHA256 == in.SHA256 }) {
				bad("the verification summary lists attestation %s (sha256 %s), which the pack does not hold: a statement is missing or was changed", in.URI, in.SHA256)
			}
		default:
			bad("the verification summary lists an unknown input %s", in.URI)
		}
	}
	if !audit {
		bad("the verification summary does not record the audit chain's head")
	}
	for _, st := range p.Statements {
		if st.Summary == nil && !listed[st.SHA256] {
			bad("line %d (%s) is not among the verification summary's inputs: it was added after patchgate decided", st.Line, statementName(st))
		}
	}
}
