package patchgate

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// A green run proves that a fix does not break the suites, not that it fixes
// the bug. A proof runs the tests a fix adds or changes on the fix's base with
// only those test files applied (the fix left out) and on its head: it holds
// when at least one of them fails without the fix and all pass with it.

// ProofState is what a fail-to-pass proof showed.
type ProofState string

// Proof states.
const (
	// ProofHolds: at least one changed test fails without the fix, and every
	// one passes with it.
	ProofHolds ProofState = "holds"
	// ProofNone: nothing shows the fix is needed: no changed test, or every
	// changed test passes without the fix too.
	ProofNone ProofState = "none"
	// ProofFailure: a changed test fails with the fix (or a test that passed
	// on the base fails on the head: a regression).
	ProofFailure ProofState = "failure"
	// ProofError: the proof could not be judged: a side on which no test ran,
	// a named test absent from the results, an infrastructure fault.
	ProofError ProofState = "error"
)

// StatusState is the commit status (patchgate/proof) that shows s: only a
// holding proof is a success.
func (s ProofState) StatusState() StatusState {
	switch s {
	case ProofHolds:
		return StatusSuccess
	case ProofNone, ProofFailure:
		return StatusFailure
	}
	return StatusError
}

// ProofStatusContext is the commit status context of the proof.
const ProofStatusContext = "patchgate/proof"

// TestLanguage names the convention a test file follows.
type TestLanguage string

// Test languages, by file convention.
const (
	LangGo     TestLanguage = "go"     // *_test.go; tests are func TestX
	LangPython TestLanguage = "python" // test_*.py, *_test.py; tests are def test_x
	LangJS     TestLanguage = "js"     // *.test.ts|tsx|js|jsx|mjs|cjs; file level
	LangJVM    TestLanguage = "jvm"    // anything under src/test/; file level (the class)
)

// ProofTest is one test a change adds or modifies. Name is "" for a
// file-level test (JavaScript and JVM test files: every test in the file
// counts as one).
type ProofTest struct {
	File     string       `json:"file"`
	Name     string       `json:"name,omitempty"`
	Language TestLanguage `json:"language"`
}

// String names the test in words: "calc/calc_test.go:TestRound", or the file.
func (t ProofTest) String() string {
	if t.Name == "" {
		return t.File
	}
	return t.File + ":" + t.Name
}

// ProofOutcome is a changed test's outcome on one side of a proof.
type ProofOutcome string

// Proof outcomes.
const (
	ProofPassed   ProofOutcome = "passed"
	ProofFailed   ProofOutcome = "failed"
	ProofNotBuilt ProofOutcome = "not_built" // its package or file did not build
	ProofSkipped  ProofOutcome = "skipped"
	ProofMissing  ProofOutcome = "missing" // not in the results: it did not run
)

// ProofRecord is one changed test with its outcome on the base (the fix left
// out) and on the head.
type ProofRecord struct {
	ProofTest
	Base        ProofOutcome `json:"base"`
	BaseMessage string       `json:"base_message,omitempty"`
	Head        ProofOutcome `json:"head"`
	HeadMessage string       `json:"head_message,omitempty"`
	// Verdict says in words what this test shows: "fails without the fix
	// and passes with it", "does not build without the fix", "passes without
	// the fix", "fails with the fix".
	Verdict string `json:"verdict"`
}

// Proof is the fail-to-pass evidence of one verification.
type Proof struct {
	VerificationID int64 `json:"verification_id"`
	// BaseSHA is the commit the changed tests ran on without the fix.
	BaseSHA     string        `json:"base_sha,omitempty"`
	State       ProofState    `json:"state"`
	Description string        `json:"description"`
	Tests       []ProofRecord `json:"tests"`
	// Regressions are tests that passed on the base and fail on the head.
	Regressions []string `json:"regressions,omitempty"`
	// Excluded are changed tests left out because they are quarantined: a
	// quarantined test never serves as proof.
	Excluded []string `json:"excluded,omitempty"`
	// RequireProof records release.require_proof as configured when the proof
	// ran: with it, the fix counts only when the proof holds.
	RequireProof bool      `json:"require_proof"`
	CreatedAt    time.Time `json:"created_at"`
}

// ProofService stores the proof of a verification. Implementations are safe
// for concurrent use.
type ProofService interface {
	// SaveProof stores p for its verification, replacing an earlier one (a
	// re-run attempt).
	SaveProof(ctx context.Context, p *Proof) error
	// FindProof returns the proof of a verification; ENOTFOUND when it has
	// none (the change fixes no ticket, or the proof has not run yet).
	FindProof(ctx context.Context, verificationID int64) (*Proof, error)
}

// NoProof is the proof of a change that adds or modifies no test.
func NoProof(why string) Proof {
	d := "no regression test"
	if why != "" {
		d += ": " + why
	}
	return Proof{State: ProofNone, Description: d, Tests: []ProofRecord{}}
}

// EvaluateProof judges the changed tests from their results on the base (the
// change's test files applied, its fix left out) and on the head. excluded
// holds the names of tests that may not serve as proof (quarantined); a test
// is excluded when its Name or its String() is in the set.
//
// The guards, in order: no test left is no proof, never vacuous truth; a side
// on which no test ran, or a named test absent from a side's results, is an
// error, never a pass; a test that fails with the fix, or passed without it
// and fails with it (a regression), is a failure; a test that does not build
// without the fix counts as failing there. The proof holds when every test
// passes with the fix and at least one fails (or does not build) without it.
func EvaluateProof(tests []ProofTest, base, head []TestResult, excluded map[string]bool) Proof {
	p := Proof{Tests: []ProofRecord{}}
	var kept []ProofTest
	for _, t := range tests {
		if excluded[t.Name] || excluded[t.String()] {
			p.Excluded = append(p.Excluded, t.String())
			continue
		}
		kept = append(kept, t)
	}
	if len(kept) == 0 {
		why := ""
		if len(p.Excluded) > 0 {
			why = "every changed test is quarantined (" + strings.Join(p.Excluded, ", ") + ")"
		}
		np := NoProof(why)
		np.Excluded = p.Excluded
		return np
	}
	if len(base) == 0 || len(head) == 0 {
		side := "the base (without the fix)"
		if len(base) > 0 {
			side = "the head"
		} else if len(head) == 0 {
			side = "either side"
		}
		p.State, p.Description = ProofError, "no test ran on "+side+": nothing to judge"
		for _, t := range kept {
			r := ProofRecord{ProofTest: t, Base: ProofMissing, Head: ProofMissing, Verdict: "did not run"}
			r.Base, r.BaseMessage = outcome(t, base)
			r.Head, r.HeadMessage = outcome(t, head)
			p.Tests = append(p.Tests, r)
		}
		return p
	}
	var missing, headFailed, failBase, passBase, skipped []string
	for _, t := range kept {
		r := ProofRecord{ProofTest: t}
		r.Base, r.BaseMessage = outcome(t, base)
		r.Head, r.HeadMessage = outcome(t, head)
		switch {
		case r.Base == ProofMissing || r.Head == ProofMissing:
			side := "the base"
			if r.Head == ProofMissing {
				side = "the head"
			}
			r.Verdict = "not in the results on " + side
			missing = append(missing, t.String()+" on "+side)
		case r.Head != ProofPassed && r.Head != ProofSkipped:
			r.Verdict = "fails with the fix"
			if r.Head == ProofNotBuilt {
				r.Verdict = "does not build with the fix"
			}
			if r.Base == ProofPassed {
				r.Verdict = "regression: passes without the fix and fails with it"
				p.Regressions = append(p.Regressions, t.String())
			}
			headFailed = append(headFailed, t.String())
		case r.Head == ProofSkipped:
			r.Verdict = "skipped with the fix"
			skipped = append(skipped, t.String())
		case r.Base == ProofNotBuilt:
			r.Verdict = "does not build without the fix; passes with it"
			failBase = append(failBase, t.String())
		case r.Base == ProofFailed:
			r.Verdict = "fails without the fix and passes with it"
			failBase = append(failBase, t.String())
		default:
			r.Verdict = "test passes without the fix"
			if r.Base == ProofSkipped {
				r.Verdict = "skipped without the fix"
			}
			passBase = append(passBase, t.String())
		}
		p.Tests = append(p.Tests, r)
	}
	switch {
	case len(missing) > 0:
		p.State, p.Description = ProofError, "named tests did not run: "+strings.Join(missing, ", ")
	case len(headFailed) > 0:
		p.State, p.Description = ProofFailure, "no proof: "+plural(len(headFailed), "test fails", "tests fail")+" with the fix: "+strings.Join(headFailed, ", ")
		if len(p.Regressions) > 0 {
			p.Description += "; regression: " + strings.Join(p.Regressions, ", ")
		}
	case len(failBase) > 0 && len(skipped) == 0:
		p.State, p.Description = ProofHolds, plural(len(failBase), "test fails", "tests fail")+" without the fix and pass"+map[bool]string{true: "es", false: ""}[len(failBase) == 1]+" with it"
		if len(passBase) > 0 {
			p.Description += fmt.Sprintf("; %s without it too: %s", plural(len(passBase), "passes", "pass"), strings.Join(passBase, ", "))
		}
	case len(skipped) > 0:
		p.State, p.Description = ProofNone, "no proof: skipped with the fix: "+strings.Join(skipped, ", ")
	default:
		what := "test passes"
		if len(passBase) > 1 {
			what = "tests pass"
		}
		p.State, p.Description = ProofNone, "no proof: "+what+" without the fix: "+strings.Join(passBase, ", ")
	}
	return p
}

// plural is "1 test fails" or "2 tests fail".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// outcome finds t in results: its worst outcome over every matching result
// (subtests, parametrised cases, a file's tests), with the first failure's
// message; not_built when no result matches but its package or file failed
// to build; missing otherwise.
func outcome(t ProofTest, results []TestResult) (ProofOutcome, string) {
	found, failed, skippedOnly := false, false, true
	msg := ""
	for _, r := range results {
		if !t.matches(r) {
			continue
		}
		found = true
		switch r.Status {
		case TestFailed, TestErrored:
			if !failed {
				msg = r.Message
			}
			failed = true
			skippedOnly = false
		case TestPassed:
			skippedOnly = false
		}
	}
	switch {
	case failed:
		return ProofFailed, msg
	case found && skippedOnly:
		return ProofSkipped, ""
	case found:
		return ProofPassed, ""
	}
	for _, r := range results {
		if t.buildFailure(r) {
			m := r.Message
			if m == "" {
				m = "does not build"
			}
			return ProofNotBuilt, m
		}
	}
	return ProofMissing, ""
}

// matches reports whether result r is (part of) test t, by the classes and
// names the log and JUnit readers give each runner.
func (t ProofTest) matches(r TestResult) bool {
	dir := path.Dir(t.File)
	switch t.Language {
	case LangGo:
		// Class is the package import path (or "" from a plain log); subtests
		// are TestX/case. A file-level Go test (its patch unknown) is every
		// test of its package.
		if t.Name != "" && r.Name != t.Name && !strings.HasPrefix(r.Name, t.Name+"/") {
			return false
		}
		if r.aboutPackage() {
			return false
		}
		return r.Class == "" || goPackageIs(r.Class, dir)
	case LangPython:
		// Class is the dotted module (and class); parametrised cases are
		// test_x[a].
		if r.Name != t.Name && !strings.HasPrefix(r.Name, t.Name+"[") {
			return false
		}
		module := strings.ReplaceAll(strings.TrimSuffix(t.File, ".py"), "/", ".")
		// The module's dotted path depends on pytest's rootdir: compare its
		// last part (the file's own name) with the class's parts.
		last := module[strings.LastIndexByte(module, '.')+1:]
		return r.Class == "" || r.Class == module || strings.HasPrefix(r.Class, module+".") ||
			slices.Contains(strings.Split(r.Class, "."), last)
	case LangJS:
		return r.Class != "" && sameFile(r.Class, t.File)
	case LangJVM:
		return r.Class != "" && (r.Class == jvmClass(t.File) || strings.HasPrefix(r.Class, jvmClass(t.File)+"$"))
	}
	return false
}

// buildFailure reports whether r says t's package or file did not build.
func (t ProofTest) buildFailure(r TestResult) bool {
	if r.Status != TestErrored && r.Status != TestFailed {
		return false
	}
	switch t.Language {
	case LangGo:
		return r.aboutPackage() && goPackageIs(r.Package, path.Dir(t.File))
	case LangJS:
		return r.Kind == SuiteSetup && sameFile(r.File, t.File)
	case LangPython:
		// A module that does not import is named by its path (the log) or
		// its dotted module (a JUnit report).
		module := strings.ReplaceAll(strings.TrimSuffix(t.File, ".py"), "/", ".")
		return r.Kind == SuiteSetup && (r.File == t.File || r.File == module)
	}
	return false
}

// aboutPackage reports whether r is a Go package's failure to build or set
// up rather than a test's result.
func (r TestResult) aboutPackage() bool {
	return r.Kind == PackageBuild || r.Kind == PackageSetup
}

// goPackageIs reports whether import path pkg is the package in directory dir
// of the repository (the module path is unknown, so the path's tail decides).
func goPackageIs(pkg, dir string) bool {
	if dir == "." {
		return true
	}
	return pkg == dir || strings.HasSuffix(pkg, "/"+dir)
}

func sameFile(a, b string) bool {
	a, b = strings.TrimPrefix(a, "./"), strings.TrimPrefix(b, "./")
	return a == b || strings.HasSuffix(a, "/"+b) || strings.HasSuffix(b, "/"+a)
}

// jvmClass is the class a JVM test file declares by convention:
// "svc/src/test/java/com/acme/FooTest.java" is "com.acme.FooTest".
func jvmClass(file string) string {
	_, rest, ok := strings.Cut(file, "src/test/")
	if !ok {
		return ""
	}
	if _, tail, ok := strings.Cut(rest, "/"); ok { // java/, kotlin/, scala/
		rest = tail
	}
	if i := strings.LastIndexByte(rest, '.'); i > 0 {
		rest = rest[:i]
	}
	return strings.ReplaceAll(rest, "/", ".")
}

// ProofPlan is how a verification's proof runs: the changed tests, the base
// they run on with the change's test files overlaid, and the environment
// whose command runs exactly them.
type ProofPlan struct {
	// BaseSHA is the commit the tests run on without the fix.
	BaseSHA string
	// Tests are the changed tests the command runs.
	Tests []ProofTest
	// Overlay holds the change's test files as they are on the head, by path;
	// a nil content removes the file (a removed or renamed test file).
	Overlay map[string][]byte
	// Suite is the proof suite's environment; Spec.Command runs the tests.
	Suite SuitePlan
	// Excluded are the names of tests that may not serve as proof
	// (quarantined); see EvaluateProof.
	Excluded map[string]bool
	// RequireProof is release.require_proof: the fix counts only with proof.
	RequireProof bool
}
