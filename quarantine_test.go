package patchgate

import (
	"strings"
	"testing"
	"time"
)

var qNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func testQuarantine(test string, expires time.Time) Quarantine {
	return Quarantine{Forge: GitHub, Repo: "acme/pay", Test: test, Owner: "alice", Ticket: "PAY-9",
		ExpiresAt: expires, CreatedAt: qNow, CreatedBy: "admin", Source: QuarantineAPI}
}

func TestQuarantineValidateExpiryCap(t *testing.T) {
	tests := []struct {
		name    string
		expires time.Time
		want    string // "" = valid
	}{
		{"tomorrow", qNow.Add(24 * time.Hour), ""},
		{"exactly 30 days", qNow.Add(MaxQuarantine), ""},
		{"31 days", qNow.Add(31 * 24 * time.Hour), "a quarantine lasts at most 30 days (until 2026-12-31 at the latest)"},
		{"in the past", qNow.Add(-time.Hour), "before it is created"},
		{"missing", time.Time{}, "expires_at is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := testQuarantine("TestX", tt.expires)
			err := q.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			if err == nil || ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want invalid naming %q", err, tt.want)
			}
		})
	}
	q := testQuarantine("TestX", qNow.Add(time.Hour))
	q.Owner = ""
	if err := q.Validate(); err == nil || !strings.Contains(err.Error(), "owner is required") {
		t.Errorf("no owner: got %v, want owner is required", err)
	}
	q = testQuarantine("TestX", qNow.Add(time.Hour))
	q.Ticket = " "
	if err := q.Validate(); err == nil || !strings.Contains(err.Error(), "ticket is required") {
		t.Errorf("no ticket: got %v, want ticket is required", err)
	}
}

func TestApplyQuarantines(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	until := qNow.Add(19 * 24 * time.Hour) // 2026-12-20
	failed := func(name string, attempt int) TestResult {
		return TestResult{Name: name, Status: TestFailed, Attempt: attempt}
	}
	passed := func(name string, attempt int) TestResult {
		return TestResult{Name: name, Status: TestPassed, Attempt: attempt}
	}
	tests := []struct {
		name        string
		tests       []TestResult
		quarantines []Quarantine
		flakyBefore map[string]bool
		allExcused  bool
		excused     []string
		expired     []string
		broken      []string
		failing     []string
	}{
		{
			name:        "flaky history: the failure is excused",
			tests:       []TestResult{passed("TestA", 1), failed("TestX", 1)},
			quarantines: []Quarantine{testQuarantine("TestX", until)},
			flakyBefore: map[string]bool{"TestX": true},
			allExcused:  true,
			excused:     []string{"quarantined: TestX (owner alice, PAY-9, until 2026-12-20)"},
		},
		{
			name:        "subtests are covered by their parent's quarantine",
			tests:       []TestResult{failed("TestX", 2), failed("TestX/case", 2), failed("TestX", 1), failed("TestX/case", 1)},
			quarantines: []Quarantine{testQuarantine("TestX", until)},
			flakyBefore: map[string]bool{"TestX": true},
			allExcused:  true,
			excused:     []string{"quarantined: TestX (owner alice, PAY-9, until 2026-12-20)"},
		},
		{
			name:        "broken: failed every time, never passed on a re-run",
			tests:       []TestResult{failed("TestX", 1), failed("TestX", 2)},
			quarantines: []Quarantine{testQuarantine("TestX", until)},
			broken:      []string{"TestX fails every time on 0123456: broken, not flaky; quarantine does not apply"},
			failing:     []string{"TestX"},
		},
		{
			name:        "expired: the failure counts and the blocker says so",
			tests:       []TestResult{failed("TestX", 1)},
			quarantines: []Quarantine{testQuarantine("TestX", qNow.Add(-36*time.Hour))},
			flakyBefore: map[string]bool{"TestX": true},
			expired:     []string{"quarantine of TestX expired 2026-11-30; fix it or renew it (owner alice, PAY-9)"},
			failing:     []string{"TestX"},
		},
		{
			name:        "an unquarantined failure still fails the suite",
			tests:       []TestResult{failed("TestX", 1), failed("TestY", 1)},
			quarantines: []Quarantine{testQuarantine("TestX", until)},
			flakyBefore: map[string]bool{"TestX": true},
			excused:     []string{"quarantined: TestX (owner alice, PAY-9, until 2026-12-20)"},
			failing:     []string{"TestY"},
		},
		{
			name:  "another suite's quarantine does not apply",
			tests: []TestResult{failed("TestX", 1)},
			quarantines: []Quarantine{func() Quarantine {
				q := testQuarantine("TestX", until)
				q.Suite = "integration"
				return q
			}()},
			flakyBefore: map[string]bool{"TestX": true},
			failing:     []string{"TestX"},
		},
		{
			name:        "only the last attempt's failures count",
			tests:       []TestResult{failed("TestY", 1), passed("TestY", 2), failed("TestX", 2)},
			quarantines: []Quarantine{testQuarantine("TestX", until)},
			flakyBefore: map[string]bool{"TestX": true},
			allExcused:  true,
			excused:     []string{"quarantined: TestX (owner alice, PAY-9, until 2026-12-20)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := ApplyQuarantines("unit", sha, tt.tests, tt.quarantines, tt.flakyBefore, qNow)
			check := func(what string, got, want []string) {
				t.Helper()
				if strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("%s: got %q, want %q", what, got, want)
				}
			}
			check("excused", v.Excused, tt.excused)
			check("expired", v.Expired, tt.expired)
			check("broken", v.Broken, tt.broken)
			check("failing", v.Failing, tt.failing)
			if v.AllExcused() != tt.allExcused {
				t.Errorf("AllExcused: got %v, want %v", v.AllExcused(), tt.allExcused)
			}
			for i, r := range v.Tests {
				wantQ := len(tt.excused) > 0 && (r.Name == "TestX" || strings.HasPrefix(r.Name, "TestX/"))
				if r.Quarantined != wantQ {
					t.Errorf("test %d %s: got quarantined=%v, want %v", i, r.Name, r.Quarantined, wantQ)
				}
				if tt.tests[i].Quarantined {
					t.Errorf("input test %d was modified", i)
				}
			}
		})
	}
}

func TestBrokenNotFlaky(t *testing.T) {
	const a, b = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	tests := []struct {
		name     string
		outcomes []TestOutcome
		broken   bool
	}{
		{"no history", nil, false},
		{"failed twice on one commit", []TestOutcome{{4, a, TestFailed, false}, {4, a, TestFailed, false}}, true},
		{"failed once on each of two commits", []TestOutcome{{4, a, TestFailed, false}, {5, b, TestFailed, false}}, false},
		{"failed, then passed on the same commit", []TestOutcome{{4, a, TestFailed, true}, {4, a, TestPassed, true}, {5, b, TestFailed, false}, {5, b, TestFailed, false}}, false},
		{"failed twice, passed in another verification of the commit", []TestOutcome{{4, a, TestFailed, false}, {4, a, TestFailed, false}, {6, a, TestPassed, false}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evidence, broken := BrokenNotFlaky("TestX", tt.outcomes)
			if broken != tt.broken {
				t.Fatalf("got broken=%v (%q), want %v", broken, evidence, tt.broken)
			}
			if broken && !strings.Contains(evidence, "TestX failed every time on aaaaaaa (2 of 2 runs, verification 4)") {
				t.Errorf("got evidence %q, want it to name the commit and the verification", evidence)
			}
		})
	}
}

func TestQuarantinedTestsAndExpiredBlockers(t *testing.T) {
	live := testQuarantine("TestLive", qNow.Add(time.Hour))
	other := testQuarantine("TestOther", qNow.Add(time.Hour))
	other.Suite = "integration"
	ended := testQuarantine("TestEnded", qNow.Add(-time.Hour))
	qs := []Quarantine{live, other, ended}
	if got := strings.Join(QuarantinedTests(qs, "unit", qNow), ","); got != "TestLive" {
		t.Errorf("QuarantinedTests(unit): got %q, want TestLive", got)
	}
	if got := strings.Join(QuarantinedTests(qs, "integration", qNow), ","); got != "TestLive,TestOther" {
		t.Errorf("QuarantinedTests(integration): got %q, want TestLive,TestOther", got)
	}
	want := "quarantine of TestEnded expired 2026-12-01; fix it or renew it (owner alice, PAY-9)"
	got := QuarantineBlockers(append(qs, ended), qNow)
	if len(got) != 1 || got[0].Message != want || got[0].Code != ReasonQuarantineExpired || got[0].Ticket != "PAY-9" {
		t.Errorf("QuarantineBlockers: got %+v, want one quarantine_expired about PAY-9 saying %q", got, want)
	}
}
