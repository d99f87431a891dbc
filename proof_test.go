package patchgate

import (
	"slices"
	"strings"
	"testing"
)

func TestEvaluateProof(t *testing.T) {
	round := ProofTest{File: "calc/calc_test.go", Name: "TestRound", Language: LangGo}
	ceil := ProofTest{File: "calc/calc_test.go", Name: "TestCeil", Language: LangGo}
	pass := func(name string) TestResult {
		return TestResult{Class: "example.com/m/calc", Name: name, Status: TestPassed}
	}
	fail := func(name, msg string) TestResult {
		return TestResult{Class: "example.com/m/calc", Name: name, Status: TestFailed, Message: msg}
	}
	other := pass("TestUnrelated")
	tests := []struct {
		name       string
		tests      []ProofTest
		base, head []TestResult
		excluded   map[string]bool
		want       ProofState
		wantDesc   string
		wantBase   []ProofOutcome
		wantRegr   []string
	}{
		{name: "holds: fails on base, passes on head", tests: []ProofTest{round},
			base: []TestResult{fail("TestRound", "got 2, want 3")}, head: []TestResult{pass("TestRound")},
			want: ProofHolds, wantDesc: "1 test fails without the fix and passes with it", wantBase: []ProofOutcome{ProofFailed}},
		{name: "holds with two tests", tests: []ProofTest{ceil, round},
			base: []TestResult{fail("TestRound", "x"), fail("TestCeil", "y")}, head: []TestResult{pass("TestRound"), pass("TestCeil")},
			want: ProofHolds, wantDesc: "2 tests fail without the fix and pass with it"},
		{name: "subtests count for their test", tests: []ProofTest{round},
			base: []TestResult{pass("TestRound/up"), fail("TestRound/half", "x")}, head: []TestResult{pass("TestRound"), pass("TestRound/half")},
			want: ProofHolds},
		{name: "does not build on base counts as failing", tests: []ProofTest{round},
			base: []TestResult{{Name: "example.com/m/calc [build failed]", Status: TestErrored, Message: "undefined: Round",
				Kind: PackageBuild, Package: "example.com/m/calc", BuildError: "calc/calc_test.go:9:2: undefined: Round"}},
			head: []TestResult{pass("TestRound")},
			want: ProofHolds, wantBase: []ProofOutcome{ProofNotBuilt}},
		{name: "test setup failing on base counts as not built", tests: []ProofTest{round},
			base: []TestResult{{Name: "example.com/m/calc [setup failed]", Status: TestErrored, Kind: PackageSetup, Package: "example.com/m/calc"}},
			head: []TestResult{pass("TestRound")},
			want: ProofHolds, wantBase: []ProofOutcome{ProofNotBuilt}},
		{name: "another package not building is no outcome", tests: []ProofTest{round},
			base: []TestResult{{Name: "example.com/m/other [build failed]", Status: TestErrored, Kind: PackageBuild, Package: "example.com/m/other"}},
			head: []TestResult{pass("TestRound")},
			want: ProofError, wantBase: []ProofOutcome{ProofMissing}},
		{name: "the decision is the kind's, not the name's", tests: []ProofTest{round},
			base: []TestResult{{Name: "example.com/m/calc [build failed]", Status: TestErrored}},
			head: []TestResult{pass("TestRound")},
			want: ProofError, wantBase: []ProofOutcome{ProofMissing}},
		{name: "a file-level go test does not build with its package", tests: []ProofTest{{File: "calc/calc_test.go", Language: LangGo}},
			base: []TestResult{{Name: "example.com/m/calc [build failed]", Status: TestErrored, Kind: PackageBuild, Package: "example.com/m/calc"}},
			head: []TestResult{pass("TestRound")},
			want: ProofHolds, wantBase: []ProofOutcome{ProofNotBuilt}},
		{name: "python module that does not import on base (log)", tests: []ProofTest{{File: "tests/test_calc.py", Name: "test_round", Language: LangPython}},
			base: []TestResult{{Name: "tests/test_calc.py", Status: TestErrored, Kind: SuiteSetup, File: "tests/test_calc.py"}},
			head: []TestResult{{Class: "tests.test_calc", Name: "test_round", Status: TestPassed}},
			want: ProofHolds, wantBase: []ProofOutcome{ProofNotBuilt}},
		{name: "python module that does not import on base (JUnit)", tests: []ProofTest{{File: "tests/test_calc.py", Name: "test_round", Language: LangPython}},
			base: []TestResult{{Class: "tests.test_calc", Status: TestErrored, Kind: SuiteSetup, File: "tests.test_calc"}},
			head: []TestResult{{Class: "tests.test_calc", Name: "test_round", Status: TestPassed}},
			want: ProofHolds, wantBase: []ProofOutcome{ProofNotBuilt}},
		{name: "js suite that fails to run on base fails its file", tests: []ProofTest{{File: "src/db.test.js", Language: LangJS}},
			base: []TestResult{{Class: "src/db.test.js", Name: "Test suite failed to run", Status: TestErrored, Kind: SuiteSetup, File: "src/db.test.js"}},
			head: []TestResult{{Class: "src/db.test.js", Name: "db › connects", Status: TestPassed}},
			want: ProofHolds, wantBase: []ProofOutcome{ProofFailed}},
		{name: "js suite setup named by file only is not built", tests: []ProofTest{{File: "src/db.test.js", Language: LangJS}},
			base: []TestResult{{Status: TestErrored, Kind: SuiteSetup, File: "src/db.test.js"}},
			head: []TestResult{{Class: "src/db.test.js", Name: "db › connects", Status: TestPassed}},
			want: ProofHolds, wantBase: []ProofOutcome{ProofNotBuilt}},
		{name: "empty set is no proof, never vacuous", tests: nil,
			base: []TestResult{other}, head: []TestResult{other}, want: ProofNone, wantDesc: "no regression test"},
		{name: "every test quarantined is no proof", tests: []ProofTest{round},
			base: []TestResult{fail("TestRound", "x")}, head: []TestResult{pass("TestRound")},
			excluded: map[string]bool{"TestRound": true}, want: ProofNone, wantDesc: "quarantined"},
		{name: "quarantined test is left out, the other proves", tests: []ProofTest{ceil, round},
			base: []TestResult{fail("TestRound", "x"), pass("TestCeil")}, head: []TestResult{pass("TestRound"), pass("TestCeil")},
			excluded: map[string]bool{"calc/calc_test.go:TestRound": true}, want: ProofNone, wantDesc: "test passes without the fix"},
		{name: "zero tests ran on base is an error", tests: []ProofTest{round},
			base: nil, head: []TestResult{pass("TestRound")}, want: ProofError, wantDesc: "no test ran on the base"},
		{name: "zero tests ran on head is an error", tests: []ProofTest{round},
			base: []TestResult{fail("TestRound", "x")}, head: []TestResult{}, want: ProofError, wantDesc: "no test ran on the head"},
		{name: "named test missing on head is an error, not a pass", tests: []ProofTest{round},
			base: []TestResult{fail("TestRound", "x")}, head: []TestResult{other}, want: ProofError, wantDesc: "did not run"},
		{name: "named test missing on base is an error", tests: []ProofTest{round},
			base: []TestResult{other}, head: []TestResult{pass("TestRound")}, want: ProofError},
		{name: "test passes on base too: no proof", tests: []ProofTest{round},
			base: []TestResult{pass("TestRound")}, head: []TestResult{pass("TestRound")},
			want: ProofNone, wantDesc: "test passes without the fix"},
		{name: "fails on base and on head: failure", tests: []ProofTest{round},
			base: []TestResult{fail("TestRound", "x")}, head: []TestResult{fail("TestRound", "x")},
			want: ProofFailure, wantDesc: "1 test fails with the fix"},
		{name: "passes on base, fails on head: regression", tests: []ProofTest{ceil, round},
			base: []TestResult{fail("TestRound", "x"), pass("TestCeil")}, head: []TestResult{pass("TestRound"), fail("TestCeil", "boom")},
			want: ProofFailure, wantDesc: "regression: calc/calc_test.go:TestCeil", wantRegr: []string{"calc/calc_test.go:TestCeil"}},
		{name: "skipped on head is no proof", tests: []ProofTest{round},
			base: []TestResult{fail("TestRound", "x")}, head: []TestResult{{Class: "example.com/m/calc", Name: "TestRound", Status: TestSkipped}},
			want: ProofNone, wantDesc: "skipped with the fix"},
		{name: "same name in another package does not count", tests: []ProofTest{round},
			base: []TestResult{{Class: "example.com/m/other", Name: "TestRound", Status: TestFailed}}, head: []TestResult{pass("TestRound")},
			want: ProofError},
		{name: "js file level", tests: []ProofTest{{File: "src/round.test.ts", Language: LangJS}},
			base: []TestResult{{Class: "src/round.test.ts", Name: "round › half up", Status: TestFailed}, {Class: "src/round.test.ts", Name: "round › down", Status: TestPassed}},
			head: []TestResult{{Class: "src/round.test.ts", Name: "round › half up", Status: TestPassed}},
			want: ProofHolds},
		{name: "python test in a class, parametrised", tests: []ProofTest{{File: "tests/test_calc.py", Name: "test_round", Language: LangPython}},
			base: []TestResult{{Class: "tests.test_calc.TestCalc", Name: "test_round[2.5]", Status: TestFailed}},
			head: []TestResult{{Class: "tests.test_calc.TestCalc", Name: "test_round[2.5]", Status: TestPassed}},
			want: ProofHolds},
		{name: "jvm class", tests: []ProofTest{{File: "src/test/java/com/acme/RoundTest.java", Language: LangJVM}},
			base: []TestResult{{Class: "com.acme.RoundTest", Name: "halfUp", Status: TestFailed}},
			head: []TestResult{{Class: "com.acme.RoundTest", Name: "halfUp", Status: TestPassed}},
			want: ProofHolds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EvaluateProof(tt.tests, tt.base, tt.head, tt.excluded)
			if got.State != tt.want {
				t.Fatalf("state: got %s (%s), want %s", got.State, got.Description, tt.want)
			}
			if !strings.Contains(got.Description, tt.wantDesc) {
				t.Errorf("description: got %q, want it to contain %q", got.Description, tt.wantDesc)
			}
			if tt.wantBase != nil {
				var base []ProofOutcome
				for _, r := range got.Tests {
					base = append(base, r.Base)
				}
				if !slices.Equal(base, tt.wantBase) {
					t.Errorf("base outcomes: got %v, want %v", base, tt.wantBase)
				}
			}
			if tt.wantRegr != nil && !slices.Equal(got.Regressions, tt.wantRegr) {
				t.Errorf("regressions: got %v, want %v", got.Regressions, tt.wantRegr)
			}
			if got.Tests == nil {
				t.Error("Tests is nil; want an empty list for JSON")
			}
		})
	}
}

func TestEvaluateProofRecordsFailureMessage(t *testing.T) {
	round := ProofTest{File: "calc_test.go", Name: "TestRound", Language: LangGo}
	got := EvaluateProof([]ProofTest{round},
		[]TestResult{{Name: "TestRound", Status: TestFailed, Message: "calc_test.go:9: got 2, want 3"}},
		[]TestResult{{Name: "TestRound", Status: TestPassed}}, nil)
	r := got.Tests[0]
	if r.Base != ProofFailed || r.BaseMessage != "calc_test.go:9: got 2, want 3" || r.Head != ProofPassed {
		t.Fatalf("got %+v, want failed on base with its message, passed on head", r)
	}
	if r.Verdict != "fails without the fix and passes with it" {
		t.Errorf("verdict: got %q", r.Verdict)
	}
}

func TestProofStateStatus(t *testing.T) {
	for s, want := range map[ProofState]StatusState{
		ProofHolds: StatusSuccess, ProofNone: StatusFailure, ProofFailure: StatusFailure, ProofError: StatusError,
	} {
		if got := s.StatusState(); got != want {
			t.Errorf("%s: got %s, want %s", s, got, want)
		}
	}
}
