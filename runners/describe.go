package runners

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/patchgate/patchgate"
)

// failingTests returns the names (without class) of r's failed and errored
// tests in report order, leaving out a Go subtest ("TestX/case") when its
// parent failed too: the parent's name already says where to look.
func failingTests(r *JUnitReport) []string {
	if r == nil {
		return nil
	}
	failed := map[string]bool{}
	for _, t := range r.Tests {
		if t.Status == patchgate.TestFailed || t.Status == patchgate.TestErrored {
			failed[t.Class+"\x00"+t.Name] = true
		}
	}
	var names []string
	seen := map[string]bool{}
	for _, t := range r.Tests {
		if !failed[t.Class+"\x00"+t.Name] || seen[t.Name] {
			continue
		}
		if parent, _, ok := strings.Cut(t.Name, "/"); ok && failed[t.Class+"\x00"+parent] {
			continue
		}
		seen[t.Name] = true
		names = append(names, t.Name)
	}
	return names
}

// describeFailures renders "failed: TestA, TestB and 3 more (exit 1)" within
// patchgate.MaxStatusDescription characters: as many names as fit, the
// count of the rest, then tail in parentheses when not empty.
func describeFailures(names []string, tail string) string {
	return describeNames("failed: ", names, tail)
}

// describeNames renders prefix and names like describeFailures does.
func describeNames(prefix string, names []string, tail string) string {
	suffix := ""
	if tail != "" {
		suffix = " (" + tail + ")"
	}
	limit := patchgate.MaxStatusDescription - utf8.RuneCountInString(suffix)
	var b strings.Builder
	b.WriteString(prefix)
	for i, name := range names {
		sep := ""
		if i > 0 {
			sep = ", "
		}
		more := ""
		if rest := len(names) - i - 1; rest > 0 {
			more = fmt.Sprintf(" and %d more", rest)
		}
		if utf8.RuneCountInString(b.String()+sep+name+more) > limit {
			if i == 0 {
				// Not even one name fits: cut it, it still says where to look.
				room := limit - utf8.RuneCountInString(b.String()+more) - 1
				b.WriteString(cutRunes(name, max(room, 0)) + "…" + more)
			} else {
				fmt.Fprintf(&b, " and %d more", len(names)-i)
			}
			break
		}
		b.WriteString(sep + name)
	}
	return b.String() + suffix
}

// cutRunes returns the first n characters of s.
func cutRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// describeFromLog records the tests a suite's log named, for a suite without a
// JUnit report, and names its first failing tests in the description of a
// failed run: "failed: TestA, TestB (exit 1)". A passing exit code stays a
// pass: reading a log is a heuristic, and only a report overrides the command.
func describeFromLog(s *patchgate.SuiteRun, report *JUnitReport) {
	if report == nil || len(report.Tests) == 0 {
		return
	}
	s.Tests = report.Tests
	s.Passed, s.Failed, s.Skipped = report.Passed, report.Failed+report.Errored, report.Skipped
	names := failingTests(report)
	if s.State != patchgate.RunFailure || len(names) == 0 {
		return
	}
	tail := s.Description // "timed out", "killed: out of memory"
	if !s.TimedOut && !s.OOMKilled && s.ExitCode != nil {
		tail = fmt.Sprintf("exit %d", *s.ExitCode)
	}
	s.Description = describeFailures(names, tail)
}
