package server

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// TestVerificationPageMarksFlakyAndQuarantined: the per-test results say
// which tests were flaky and which failures a quarantine excused, and the
// page shows the repository's flakiness history and its quarantines.
func TestVerificationPageMarksFlakyAndQuarantined(t *testing.T) {
	d, err := newDashboard()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	sr := &patchgate.SuiteRun{ID: 1, Name: "unit", State: patchgate.RunSuccess, StartedAt: &now, FinishedAt: &now}
	until := time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC)
	q := patchgate.Quarantine{Test: "TestLedger", Owner: "alice", Ticket: "PAY-9", ExpiresAt: until, CreatedBy: "root"}
	ended := q
	ended.Test, ended.ExpiresAt = "TestOld", time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	view := &verificationView{pageView: pageView{Title: "T", Actor: &patchgate.Principal{Name: "ops"}},
		V: &patchgate.Verification{ID: 9, Repo: "acme/pay", State: patchgate.RunSuccess},
		Suites: []suiteView{{SuiteRun: sr, Tests: []patchgate.TestResult{
			{Name: "TestFlaky", Status: patchgate.TestFailed, Attempt: 1, Flaky: true},
			{Name: "TestFlaky", Status: patchgate.TestPassed, Attempt: 2, Flaky: true},
			{Name: "TestLedger", Status: patchgate.TestFailed, Attempt: 2, Quarantined: true},
			{Name: "TestStable", Status: patchgate.TestPassed, Attempt: 2},
		}}},
		FlakyWindow: 50,
		Flaky: flakyRows([]patchgate.FlakyTest{
			{VerificationID: 9, Suite: "unit", Name: "TestFlaky"},
			{VerificationID: 8, Suite: "unit", Name: "TestLedger"},
			{VerificationID: 7, Suite: "unit", Name: "TestFlaky"},
		}),
		Quarantines: []quarantineRow{{Quarantine: q}, {Quarantine: ended, Expired: true}},
	}
	var buf bytes.Buffer
	if err := d.pages["verification"].ExecuteTemplate(&buf, "layout.html", view); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{
		`<span class="mark" data-mark="flaky">flaky: failed, then passed on retry</span>`,
		`failed (attempt 2)<br><span class="mark" data-mark="quarantined">quarantined: excused, not proof</span>`,
		`<caption>Tests that failed and then passed on a re-run, in the last 50 verifications of acme/pay</caption>`,
		`<tr><td>TestFlaky</td><td>unit</td><td>2</td><td><a href="/ui/verifications/9">verification 9</a></td></tr>`,
		`quarantined: TestLedger (owner alice, PAY-9, until 2026-12-20)`,
		`<strong class="bad">expired</strong> quarantine of TestOld expired 2026-11-30; fix it or renew it (owner alice, PAY-9)`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page does not contain %s", want)
		}
	}
	if got := strings.Count(html, `data-mark="flaky"`); got != 2 {
		t.Errorf("got %d flaky marks, want 2 (both results of TestFlaky)", got)
	}
	if got := strings.Count(html, `data-mark="quarantined"`); got != 1 {
		t.Errorf("got %d quarantined marks, want 1", got)
	}
	if i, j := strings.Index(html, "<td>TestFlaky</td><td>unit</td><td>2</td>"), strings.Index(html, "<td>TestLedger</td><td>unit</td><td>1</td>"); i < 0 || j < i {
		t.Errorf("got the history out of order (most often flaky first)")
	}
}
