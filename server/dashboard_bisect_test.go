package server

import (
	"bytes"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// TestCandidatePageShowsTheCulprit: a candidate that fails although every
// fix passed alone shows the merge it fails from, the failing test and the
// run that showed it, next to the blocker that says so.
func TestCandidatePageShowsTheCulprit(t *testing.T) {
	d, err := newDashboard()
	if err != nil {
		t.Fatal(err)
	}
	cand := &patchgate.Candidate{ID: 3, Forge: patchgate.GitHub, Repo: "acme/pay", SHA: strings.Repeat("a", 40), Name: "v1.6.0", State: patchgate.CandidateOpen}
	bis := &patchgate.Bisection{CandidateID: 3, State: patchgate.BisectionFound, Points: 4, VerificationID: 77,
		Culprit: &patchgate.BisectPoint{SHA: strings.Repeat("b", 40), Change: "#43", Ticket: "PAY-9"}, Tests: []string{"TestLedgerTotals"}}
	ev := &patchgate.Evaluation{Bisection: bis, Blockers: []patchgate.Blocker{patchgate.BisectionBlocker(bis)}}
	v := &candidateView{pageView: pageView{Title: "T", Actor: &patchgate.Principal{Name: "ops", Role: patchgate.RoleViewer}},
		Card: &candidateCard{Candidate: cand, Eval: ev}}
	var buf bytes.Buffer
	if err := d.pages["candidate"].ExecuteTemplate(&buf, "layout.html", v); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{`data-code="release_culprit_found"`, "the release fails from #43 (PAY-9) on: TestLedgerTotals",
		`class="bisection" data-state="found"`, "<code>bbbbbbb</code>", `href="/ui/verifications/77"`, "<code>TestLedgerTotals</code>"} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %s:\n%s", want, html)
		}
	}
}
