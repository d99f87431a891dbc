package patchgate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// MaxQuarantine is the longest a quarantine may last from its creation: a
// flaky test is a debt with a date, renewed by a person who looks at it
// again, never parked for good.
const MaxQuarantine = 30 * 24 * time.Hour

// QuarantineSource says where a quarantine was declared.
type QuarantineSource string

// Quarantine sources.
const (
	// QuarantineConfig: a quarantine: entry of the .patchgate.yml the suite
	// ran with.
	QuarantineConfig QuarantineSource = "config"
	// QuarantineAPI: created by an admin through the API, audited.
	QuarantineAPI QuarantineSource = "api"
)

// Quarantine excuses the failures of one flaky test until it expires: the
// test still runs and is reported, but its failure does not fail its suite.
// It never excuses a broken test (one that fails every time on a commit and
// never passed on a re-run), and a quarantined test never serves as proof.
type Quarantine struct {
	ID    int64  `json:"id,omitempty"`
	Forge Forge  `json:"forge"`
	Repo  string `json:"repo"`
	// Suite limits the quarantine to one suite; "" means every suite.
	Suite string `json:"suite,omitempty"`
	// Test is the test's name as the report gives it (TestX); it covers the
	// test's Go subtests (TestX/case) too.
	Test string `json:"test"`
	// Owner is who answers for the fix; Ticket tracks it (PAY-9).
	Owner     string           `json:"owner"`
	Ticket    string           `json:"ticket"`
	Reason    string           `json:"reason,omitempty"`
	ExpiresAt time.Time        `json:"expires_at"`
	CreatedBy string           `json:"created_by"`
	CreatedAt time.Time        `json:"created_at"`
	Source    QuarantineSource `json:"source"`
	// Line is where a config quarantine is declared in .patchgate.yml.
	Line int `json:"line,omitempty"`
}

// Validate checks a quarantine: who answers for it, its ticket, and an expiry
// after its creation and at most MaxQuarantine later.
func (q *Quarantine) Validate() error {
	if err := (RepoRef{Forge: q.Forge, Name: q.Repo}).Validate(); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(q.Test) == "":
		return Errorf(EINVALID, "quarantine: test is required: name the flaky test (TestX)")
	case len(q.Test) > 500:
		return Errorf(EINVALID, "quarantine: test name is longer than 500 characters")
	case strings.TrimSpace(q.Owner) == "":
		return Errorf(EINVALID, "quarantine of %s: owner is required: name who answers for the fix", q.Test)
	case strings.TrimSpace(q.Ticket) == "":
		return Errorf(EINVALID, "quarantine of %s: ticket is required: name the ticket that tracks the fix (PAY-9)", q.Test)
	case q.Source != QuarantineConfig && q.Source != QuarantineAPI:
		return Errorf(EINVALID, "quarantine of %s: source %q: want config or api", q.Test, q.Source)
	case q.ExpiresAt.IsZero():
		return Errorf(EINVALID, "quarantine of %s: expires_at is required (at most 30 days ahead)", q.Test)
	case !q.ExpiresAt.After(q.CreatedAt):
		return Errorf(EINVALID, "quarantine of %s: expires %s, before it is created", q.Test, day(q.ExpiresAt))
	}
	return CheckQuarantineExpiry(q.Test, q.CreatedAt, q.ExpiresAt)
}

// CheckQuarantineExpiry refuses an expiry more than MaxQuarantine after from,
// naming the limit and the latest allowed date.
func CheckQuarantineExpiry(test string, from, expires time.Time) error {
	if expires.Sub(from) > MaxQuarantine {
		return Errorf(EINVALID, "quarantine of %s: expires %s, more than 30 days after %s: a quarantine lasts at most 30 days (until %s at the latest); renew it when it ends",
			test, day(expires), day(from), day(from.Add(MaxQuarantine)))
	}
	return nil
}

// Covers reports whether q applies to the test named name in suite.
func (q Quarantine) Covers(suite, name string) bool {
	if q.Suite != "" && q.Suite != suite {
		return false
	}
	return name == q.Test || strings.HasPrefix(name, q.Test+"/")
}

// Expired reports whether q has ended at now.
func (q Quarantine) Expired(now time.Time) bool { return !now.Before(q.ExpiresAt) }

// Excuse describes a failure q excuses:
// "quarantined: TestX (owner alice, PAY-9, until 2026-12-20)".
func (q Quarantine) Excuse() string {
	return fmt.Sprintf("quarantined: %s (owner %s, %s, until %s)", q.Test, q.Owner, q.Ticket, day(q.ExpiresAt))
}

// ExpiredBlocker says, as a blocker, that q has ended:
// "quarantine of TestX expired 2026-11-30; fix it or renew it (owner alice, PAY-9)".
func (q Quarantine) ExpiredBlocker() string {
	return fmt.Sprintf("quarantine of %s expired %s; fix it or renew it (owner %s, %s)", q.Test, day(q.ExpiresAt), q.Owner, q.Ticket)
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// QuarantineVerdict is what the quarantines in force decide about one suite
// run's failures.
type QuarantineVerdict struct {
	// Tests are the results, those of excused tests marked Quarantined.
	Tests []TestResult
	// Excused describe the failures a quarantine excuses, one per test.
	Excused []string
	// Expired are blockers for failing tests whose quarantine has ended: their
	// failures count.
	Expired []string
	// Broken describe quarantined tests that failed every time in this run and
	// were never seen passing on a re-run: their failures count.
	Broken []string
	// Failing are the names of the failing tests no quarantine excuses.
	Failing []string
}

// AllExcused reports whether every failing test of the run is excused.
func (v QuarantineVerdict) AllExcused() bool { return len(v.Excused) > 0 && len(v.Failing) == 0 }

// ApplyQuarantines decides which failures of a suite run on sha the
// quarantines excuse at now. A failure is one of the last attempt (a test that
// failed and then passed is flaky and fails nothing). A quarantine excuses a
// test only if the test is flaky: it passed on a re-run in this run or in the
// repository's history (flakyBefore holds the names of those). A test that
// failed every time and has no such record is broken, not flaky, and stays a
// failure. An expired quarantine excuses nothing. tests is not modified.
func ApplyQuarantines(suite, sha string, tests []TestResult, quarantines []Quarantine, flakyBefore map[string]bool, now time.Time) QuarantineVerdict {
	out := QuarantineVerdict{Tests: slices.Clone(tests)}
	last := 0
	for _, t := range tests {
		last = max(last, t.Attempt)
	}
	flakyNow := map[string]bool{}
	for _, t := range tests {
		if t.Flaky {
			flakyNow[t.Name] = true
		}
	}
	excused := map[string]bool{}
	seen := map[string]bool{}
	for _, t := range tests {
		if !failedTest(t.Status) || t.Attempt != last || seen[t.Name] {
			continue
		}
		seen[t.Name] = true
		var active, ended *Quarantine
		for i := range quarantines {
			q := &quarantines[i]
			if !q.Covers(suite, t.Name) {
				continue
			}
			// Of several, the one that lasts longest speaks.
			if q.Expired(now) {
				if ended == nil || q.ExpiresAt.After(ended.ExpiresAt) {
					ended = q
				}
			} else if active == nil || q.ExpiresAt.After(active.ExpiresAt) {
				active = q
			}
		}
		switch {
		case active == nil && ended == nil:
			out.Failing = append(out.Failing, t.Name)
		case active == nil:
			out.Failing = append(out.Failing, t.Name)
			out.Expired = appendOnce(out.Expired, ended.ExpiredBlocker())
		case flakyNow[t.Name] || flakyBefore[t.Name] || flakyBefore[active.Test]:
			excused[t.Name] = true
			out.Excused = appendOnce(out.Excused, active.Excuse())
		default:
			out.Failing = append(out.Failing, t.Name)
			out.Broken = appendOnce(out.Broken, fmt.Sprintf("%s fails every time on %.7s: broken, not flaky; quarantine does not apply", t.Name, sha))
		}
	}
	for i := range out.Tests {
		if excused[out.Tests[i].Name] {
			out.Tests[i].Quarantined = true
		}
	}
	return out
}

func failedTest(st TestStatus) bool { return st == TestFailed || st == TestErrored }

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// QuarantinedTests returns the names of the tests the quarantines hold in
// suite at now, sorted: such a test never serves as proof. An expired
// quarantine holds nothing.
func QuarantinedTests(quarantines []Quarantine, suite string, now time.Time) []string {
	var names []string
	for _, q := range quarantines {
		if (q.Suite == "" || q.Suite == suite) && !q.Expired(now) && !slices.Contains(names, q.Test) {
			names = append(names, q.Test)
		}
	}
	slices.Sort(names)
	return names
}

// QuarantineBlockers returns the release blockers (quarantine_expired) of
// the quarantines that have ended at now: each must be fixed (and removed) or
// renewed.
func QuarantineBlockers(quarantines []Quarantine, now time.Time) []Blocker {
	var out []Blocker
	seen := map[string]bool{}
	for _, q := range quarantines {
		if m := q.ExpiredBlocker(); q.Expired(now) && !seen[m] {
			seen[m] = true
			out = append(out, NewBlocker(ReasonQuarantineExpired, m).About(q.Ticket, ""))
		}
	}
	return out
}

// TestOutcome is one stored result of a test, as evidence of whether it is
// flaky or broken.
type TestOutcome struct {
	VerificationID int64
	SHA            string
	Status         TestStatus
	Flaky          bool
}

// BrokenNotFlaky reports whether the recorded outcomes of test show it broken
// rather than flaky: it never passed on a re-run, and on some commit it failed
// at least twice (a re-run, or a second verification) without ever passing.
// The evidence names that commit. Without any outcome it is not broken: there
// is nothing to say so yet.
func BrokenNotFlaky(test string, outcomes []TestOutcome) (evidence string, broken bool) {
	type tally struct {
		failed, passed int
		verification   int64
	}
	bySHA := map[string]*tally{}
	var order []string
	for _, o := range outcomes {
		if o.Flaky {
			return "", false
		}
		t := bySHA[o.SHA]
		if t == nil {
			t = &tally{verification: o.VerificationID}
			bySHA[o.SHA] = t
			order = append(order, o.SHA)
		}
		switch {
		case failedTest(o.Status):
			t.failed++
		case o.Status == TestPassed:
			t.passed++
		}
	}
	for _, sha := range order {
		if t := bySHA[sha]; t.failed >= 2 && t.passed == 0 {
			return fmt.Sprintf("%s failed every time on %.7s (%d of %d runs, verification %d) and never passed on a re-run: broken, not flaky; fix it instead of quarantining it",
				test, sha, t.failed, t.failed, t.verification), true
		}
	}
	return "", false
}

// QuarantineService stores the quarantines declared through the API.
// Implementations are safe for concurrent use.
type QuarantineService interface {
	// CreateQuarantine validates and stores q (Source api), sets its ID and
	// CreatedAt, and audits it in the same transaction. EINVALID for a bad
	// entry (an expiry past 30 days names the limit); EUNPROCESSABLE when
	// the test's recorded results show it broken, not flaky; ECONFLICT when
	// the test is already quarantined in that suite.
	CreateQuarantine(ctx context.Context, q *Quarantine) error
	// FindQuarantines returns the repository's quarantines, expired ones
	// included (an expired quarantine is a blocker until removed or renewed),
	// oldest first; an empty list when there are none.
	FindQuarantines(ctx context.Context, repo RepoRef) ([]Quarantine, error)
	// DeleteQuarantine removes a quarantine of the repository, audited;
	// ENOTFOUND when it has none with that id.
	DeleteQuarantine(ctx context.Context, repo RepoRef, id int64) error
}
