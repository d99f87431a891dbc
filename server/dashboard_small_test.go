package server

import (
	"bytes"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

// renderPage renders the named page with v and returns its HTML.
func renderPage(t *testing.T, name string, v viewer) string {
	t.Helper()
	d, err := newDashboard()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := d.pages[name].ExecuteTemplate(&buf, "layout.html", v); err != nil {
		t.Fatalf("render %s: %v", name, err)
	}
	return buf.String()
}

// TestSuiteWithoutListedTests: a finished suite whose output listed no test
// (plain `go test ./...`) says so and how to list them, instead of counting
// "0 passed, 0 failed"; one that listed tests counts them.
func TestSuiteWithoutListedTests(t *testing.T) {
	pv := pageView{Title: "V", Actor: &patchgate.Principal{Name: "ops"}}
	quiet := &patchgate.SuiteRun{ID: 1, Name: "regression", State: patchgate.RunSuccess}
	html := renderPage(t, "verification", &verificationView{pageView: pv, V: &patchgate.Verification{ID: 1},
		Suites: []suiteView{{SuiteRun: quiet}}})
	if strings.Contains(html, "0 passed") || !strings.Contains(html, "does not list its tests") || !strings.Contains(html, "go test -json ./...") {
		t.Errorf("a run that listed no tests: got %q", between(html, `id="suite-0"`, "</section>"))
	}
	listed := &patchgate.SuiteRun{ID: 2, Name: "regression", State: patchgate.RunSuccess, Passed: 2}
	html = renderPage(t, "verification", &verificationView{pageView: pv, V: &patchgate.Verification{ID: 1},
		Suites: []suiteView{{SuiteRun: listed}}})
	if !strings.Contains(html, "Tests: 2 passed, 0 failed") || strings.Contains(html, "does not list its tests") {
		t.Errorf("a run that listed two tests: got %q", between(html, `id="suite-0"`, "</section>"))
	}
}

// TestClosedCandidateShowsItsState: a superseded or promoted candidate shows
// its state where an open one shows the gate, and no blockers it can no
// longer clear.
func TestClosedCandidateShowsItsState(t *testing.T) {
	pv := pageView{Title: "C", Actor: &patchgate.Principal{Name: "ops"}}
	for _, tc := range []struct {
		state      patchgate.CandidateState
		want, not  string
		releasable bool
	}{
		{patchgate.CandidateOpen, "releasable", "gate-closed", true},
		{patchgate.CandidateOpen, "Blockers", "gate-closed", false},
		{patchgate.CandidateSuperseded, "superseded by a newer candidate", "releasable", true},
		{patchgate.CandidateSuperseded, "superseded by a newer candidate", "Blockers", false},
		{patchgate.CandidatePromoted, `class="ok gate-closed">promoted`, "releasable", true},
	} {
		c := &patchgate.Candidate{ID: 3, Forge: patchgate.GitHub, Repo: "acme/pay", SHA: strings.Repeat("a", 40), Name: "v1", State: tc.state}
		eval := &patchgate.Evaluation{Releasable: tc.releasable, Needed: 1}
		if !tc.releasable {
			eval.Blockers = []patchgate.Blocker{patchgate.NewBlocker(patchgate.ReasonFixUnverified, "PAY-7: fix not verified")}
		}
		html := renderPage(t, "candidate", &candidateView{pageView: pv, Card: &candidateCard{Candidate: c, Eval: eval}})
		gate := between(html, "<h1>", "</dl>") + between(html, "</dl>", "</main>")
		if !strings.Contains(gate, tc.want) || strings.Contains(gate, tc.not) {
			t.Errorf("%s candidate (releasable %v): want %q and no %q in %q", tc.state, tc.releasable, tc.want, tc.not, gate)
		}
	}
}

// TestTicketKnownOnlyByItsKey: a ticket without a title shows its key alone,
// with no dangling colon, and says what would give it a title.
func TestTicketKnownOnlyByItsKey(t *testing.T) {
	pv := pageView{Title: "T", Actor: &patchgate.Principal{Name: "ops"}}
	bare := renderPage(t, "ticket", &ticketPageView{pageView: pv, Ticket: ticketView{Ticket: &patchgate.Ticket{ID: 2, Key: "UUID-150", Tracker: patchgate.TrackerExternal}}})
	if !strings.Contains(bare, "<h1>UUID-150</h1>") || !strings.Contains(bare, "patchgate ticket set UUID-150 --title") {
		t.Errorf("ticket without a title: got %q", between(bare, "<h1>", "</p>"))
	}
	titled := renderPage(t, "ticket", &ticketPageView{pageView: pv, Ticket: ticketView{Ticket: &patchgate.Ticket{ID: 2, Key: "PAY-7", Title: "Refunds round down", Tracker: patchgate.TrackerExternal}}})
	if !strings.Contains(titled, "<h1>PAY-7: Refunds round down</h1>") || strings.Contains(titled, `id="no-title"`) {
		t.Errorf("ticket with a title: got %q", between(titled, "<h1>", "</h1>"))
	}
}

// between is the part of s from the first start to the next end after it.
func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	part, _, _ := strings.Cut(rest, end)
	return start + part
}
