package patchgate_test

import (
	"reflect"
	"testing"

	"github.com/patchgate/patchgate"
)

// TestReleaseProofBlockers: a fix's proving tests must pass again in the
// candidate's own run; each that does not is a blocker naming the ticket
// and the test, and a run that lists no passing tests cannot be read.
func TestReleaseProofBlockers(t *testing.T) {
	fix := patchgate.Fix{Ticket: "PAY-7", Change: "#42"}
	round := patchgate.ProofTest{File: "calc/calc_test.go", Name: "TestRound", Language: patchgate.LangGo}
	floor := patchgate.ProofTest{File: "calc/floor_test.go", Name: "TestFloor", Language: patchgate.LangGo}
	proves := func(tt patchgate.ProofTest) patchgate.ProofRecord {
		return patchgate.ProofRecord{ProofTest: tt, Base: patchgate.ProofFailed, Head: patchgate.ProofPassed}
	}
	holds := &patchgate.Proof{State: patchgate.ProofHolds, Tests: []patchgate.ProofRecord{
		proves(round),
		// Passed without the fix too: it proves nothing, so the release
		// need not show it.
		{ProofTest: floor, Base: patchgate.ProofPassed, Head: patchgate.ProofPassed},
	}}
	pass := func(class, name string) patchgate.TestResult {
		return patchgate.TestResult{Class: class, Name: name, Status: patchgate.TestPassed}
	}
	fail := func(class, name, msg string) patchgate.TestResult {
		return patchgate.TestResult{Class: class, Name: name, Status: patchgate.TestFailed, Message: msg}
	}
	const cand = "4444444444444444444444444444444444444444"
	tests := []struct {
		name    string
		proof   *patchgate.Proof
		results []patchgate.TestResult
		want    []patchgate.Blocker // Code, Message, Ticket, Change compared
	}{
		{"passes in the release", holds, []patchgate.TestResult{pass("acme/calc", "TestRound"), pass("acme/calc", "TestFloor")}, nil},
		{"a subtest passes", holds, []patchgate.TestResult{pass("acme/calc", "TestRound/half_up")}, nil},
		{"fails in the release", holds, []patchgate.TestResult{fail("acme/calc", "TestRound", "Round(2.5) = 2, want 3"), pass("acme/calc", "TestFloor")},
			[]patchgate.Blocker{{Code: patchgate.ReasonProofBrokenInRelease, Ticket: "PAY-7", Change: "#42",
				Message: "PAY-7: fix in #42: proof test calc/calc_test.go:TestRound fails in the release on 4444444: Round(2.5) = 2, want 3"}}},
		{"one failing subtest fails it", holds, []patchgate.TestResult{pass("acme/calc", "TestRound/a"), fail("acme/calc", "TestRound/b", "")},
			[]patchgate.Blocker{{Code: patchgate.ReasonProofBrokenInRelease, Ticket: "PAY-7", Change: "#42",
				Message: "PAY-7: fix in #42: proof test calc/calc_test.go:TestRound fails in the release on 4444444"}}},
		{"absent from a run that lists tests", holds, []patchgate.TestResult{pass("acme/calc", "TestFloor")},
			[]patchgate.Blocker{{Code: patchgate.ReasonProofBrokenInRelease, Ticket: "PAY-7", Change: "#42",
				Message: "PAY-7: fix in #42: proof test calc/calc_test.go:TestRound did not run in the release on 4444444"}}},
		{"in another package only", holds, []patchgate.TestResult{pass("acme/ledger", "TestRound")},
			[]patchgate.Blocker{{Code: patchgate.ReasonProofBrokenInRelease, Ticket: "PAY-7", Change: "#42",
				Message: "PAY-7: fix in #42: proof test calc/calc_test.go:TestRound did not run in the release on 4444444"}}},
		{"skipped in the release", holds, []patchgate.TestResult{{Class: "acme/calc", Name: "TestRound", Status: patchgate.TestSkipped}, pass("acme/calc", "TestFloor")},
			[]patchgate.Blocker{{Code: patchgate.ReasonProofBrokenInRelease, Ticket: "PAY-7", Change: "#42",
				Message: "PAY-7: fix in #42: proof test calc/calc_test.go:TestRound is skipped in the release on 4444444"}}},
		{"quarantined failure still fails it", holds, []patchgate.TestResult{{Class: "acme/calc", Name: "TestRound", Status: patchgate.TestFailed, Quarantined: true}, pass("acme/calc", "TestFloor")},
			[]patchgate.Blocker{{Code: patchgate.ReasonProofBrokenInRelease, Ticket: "PAY-7", Change: "#42",
				Message: "PAY-7: fix in #42: proof test calc/calc_test.go:TestRound fails in the release on 4444444"}}},
		{"flaky: the retry's pass counts", holds, []patchgate.TestResult{
			{Class: "acme/calc", Name: "TestRound", Status: patchgate.TestFailed, Flaky: true, Attempt: 1},
			{Class: "acme/calc", Name: "TestRound", Status: patchgate.TestPassed, Flaky: true, Attempt: 2}}, nil},
		{"package does not build", holds, []patchgate.TestResult{pass("acme/ledger", "TestTotals"),
			{Class: "acme/calc", Status: patchgate.TestErrored, Kind: patchgate.PackageBuild, Package: "acme/calc", Message: "undefined: Round"}},
			[]patchgate.Blocker{{Code: patchgate.ReasonProofBrokenInRelease, Ticket: "PAY-7", Change: "#42",
				Message: "PAY-7: fix in #42: proof test calc/calc_test.go:TestRound does not build in the release on 4444444: undefined: Round"}}},
		{"a run that lists no tests", holds, []patchgate.TestResult{},
			[]patchgate.Blocker{{Code: patchgate.ReasonProofUnlistedInRelease, Ticket: "PAY-7", Change: "#42",
				Message: "PAY-7: fix in #42: the candidate's run on 4444444 lists no passing tests, so its proof tests (calc/calc_test.go:TestRound) cannot be checked in the release"}}},
		{"a run that names only other failures", holds, []patchgate.TestResult{fail("acme/ledger", "TestTotals", "")},
			[]patchgate.Blocker{{Code: patchgate.ReasonProofUnlistedInRelease, Ticket: "PAY-7", Change: "#42",
				Message: "PAY-7: fix in #42: the candidate's run on 4444444 lists no passing tests, so its proof tests (calc/calc_test.go:TestRound) cannot be checked in the release"}}},
		{"a failure is read even from a run that lists no passes", holds, []patchgate.TestResult{fail("acme/calc", "TestRound", "")},
			[]patchgate.Blocker{{Code: patchgate.ReasonProofBrokenInRelease, Ticket: "PAY-7", Change: "#42",
				Message: "PAY-7: fix in #42: proof test calc/calc_test.go:TestRound fails in the release on 4444444"}}},
		{"no proof: ProofBlocker's to say", nil, nil, nil},
		{"a proof that does not hold: ProofBlocker's to say", &patchgate.Proof{State: patchgate.ProofNone, Tests: []patchgate.ProofRecord{proves(round)}}, nil, nil},
		{"a holding proof that names no test", &patchgate.Proof{State: patchgate.ProofHolds}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := patchgate.ReleaseProofBlockers(fix, tt.proof, cand, tt.results)
			for i := range got {
				if r, _ := patchgate.ReasonFor(got[i].Code); got[i].Action != r.Action || r.Action == "" {
					t.Errorf("blocker %d: action %q, want the code's %q", i, got[i].Action, r.Action)
				}
				got[i].Action = ""
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestReleaseProofBlockersNamesEachBrokenTest: two proving tests broken in
// the release are two blockers, each naming its test.
func TestReleaseProofBlockersNamesEachBrokenTest(t *testing.T) {
	a := patchgate.ProofTest{File: "calc/calc_test.go", Name: "TestRound", Language: patchgate.LangGo}
	b := patchgate.ProofTest{File: "tests/test_ledger.py", Name: "test_totals", Language: patchgate.LangPython}
	proof := &patchgate.Proof{State: patchgate.ProofHolds, Tests: []patchgate.ProofRecord{
		{ProofTest: a, Base: patchgate.ProofFailed, Head: patchgate.ProofPassed},
		{ProofTest: b, Base: patchgate.ProofNotBuilt, Head: patchgate.ProofPassed}}}
	got := patchgate.ReleaseProofBlockers(patchgate.Fix{Ticket: "PAY-9", Change: "!43"}, proof, "abcdef1234", []patchgate.TestResult{
		{Class: "calc", Name: "TestRound", Status: patchgate.TestFailed},
		{Class: "tests.test_ledger", Name: "test_totals[eur]", Status: patchgate.TestErrored},
		{Class: "tests.test_ledger", Name: "test_other", Status: patchgate.TestPassed}})
	want := []string{
		"PAY-9: fix in !43: proof test calc/calc_test.go:TestRound fails in the release on abcdef1",
		"PAY-9: fix in !43: proof test tests/test_ledger.py:test_totals fails in the release on abcdef1",
	}
	if msgs := patchgate.BlockerMessages(got); !reflect.DeepEqual(msgs, want) {
		t.Errorf("got %q, want %q", msgs, want)
	}
}
