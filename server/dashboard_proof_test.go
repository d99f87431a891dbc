package server

import (
	"bytes"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// TestVerificationPageShowsProof: the verification page says in words what
// the proof showed, per test without and with the fix, and names regressions.
func TestVerificationPageShowsProof(t *testing.T) {
	d, err := newDashboard()
	if err != nil {
		t.Fatal(err)
	}
	round := patchgate.ProofTest{File: "calc/round_test.go", Name: "TestRound", Language: patchgate.LangGo}
	ceil := patchgate.ProofTest{File: "calc/round_test.go", Name: "TestCeil", Language: patchgate.LangGo}
	p := patchgate.EvaluateProof([]patchgate.ProofTest{ceil, round},
		[]patchgate.TestResult{{Name: "TestRound", Status: patchgate.TestFailed, Message: "Round(2.5) = 2, want 3"}, {Name: "TestCeil", Status: patchgate.TestPassed}},
		[]patchgate.TestResult{{Name: "TestRound", Status: patchgate.TestPassed}, {Name: "TestCeil", Status: patchgate.TestFailed, Message: "<b>boom</b>"}}, nil)
	p.BaseSHA, p.RequireProof = strings.Repeat("b", 40), true
	view := &verificationView{pageView: pageView{Title: "V", Actor: &patchgate.Principal{Name: "ops"}}, V: &patchgate.Verification{ID: 1}, Proof: &p}
	var buf bytes.Buffer
	if err := d.pages["verification"].ExecuteTemplate(&buf, "layout.html", view); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{
		`id="proof"`, "failure</span>", "(required)", p.Description,
		"calc/round_test.go: TestRound", "Round(2.5) = 2, want 3", "fails without the fix and passes with it",
		"Regression: calc/round_test.go:TestCeil", "&lt;b&gt;boom&lt;/b&gt;",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page does not contain %q", want)
		}
	}
	view.Proof = nil
	buf.Reset()
	if err := d.pages["verification"].ExecuteTemplate(&buf, "layout.html", view); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), `id="proof"`) {
		t.Errorf("a verification without a proof shows a proof section")
	}
}
