package runners

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/patchgate/patchgate"
)

// Limits on what reading a suite's log may cost. The log is written by the
// code under test, so it is untrusted: these bound memory whatever it holds.
const (
	// maxLogLine is the longest line matched; the rest of a longer line is
	// skipped (no runner writes a result line that long).
	maxLogLine = 64 << 10
	// maxLogName bounds a test's name and class.
	maxLogName = 512
	// maxLogXML bounds a JUnit report printed into the log.
	maxLogXML = 16 << 20
	// maxLogPending bounds state kept per test before its result arrives
	// (go test -v output, go test -json messages).
	maxLogPending = 10_000
)

// TestLog reads a suite's log as it is written and collects per-test results
// from the failure and result lines of common test runners, for suites that
// write no JUnit report:
//
//   - go test, plain (-v or not) and -json: "--- FAIL: TestX (0.01s)", the
//     package lines ("FAIL\tpkg\t0.1s", "[build failed]"), and JSON events;
//   - pytest: -v result lines and the short test summary ("FAILED
//     tests/test_x.py::test_y - msg");
//   - cargo test: "test tests::x ... FAILED" and the panics below it;
//   - jest: the verbose tree (✓ ✕ ○) and "● Suite › test" failure headings;
//   - vitest: the tree (✓ × ↓) and " FAIL  file > suite > test";
//   - a JUnit XML report printed into the log.
//
// Classes follow what the same runner's JUnit producers write (the Go
// package, pytest's dotted module and class, the test file), so results
// from a log and from a report compare. A package that did not build or set
// up, or a test file that failed to load, is one result of that Kind (see
// patchgate.TestResult), named as the runner printed it. A test seen twice
// keeps its worst outcome. Memory is bounded by the limits above and MaxJUnitTests.
// It is safe for concurrent use.
type TestLog struct {
	mu   sync.Mutex
	line []byte // the current, unfinished line
	skip bool   // the current line is over maxLogLine: drop until its end

	tests []patchgate.TestResult
	index map[string]int // class\x00name → position in tests

	// msgFor is the test whose message the next suitable line gives.
	msgFor int
	// msgKind says which lines qualify as that message.
	msgKind msgKind

	goState
	cargoState
	jsState
	xml      []byte // a JUnit report being captured; nil when none is
	xmlRoot  string // its root element, once seen
	xmlLines int
}

// msgKind says which line after a result carries its message.
type msgKind uint8

const (
	msgNone     msgKind = iota
	msgGo               // an indented "file.go:12: message" line, for goPending
	msgNextLine         // the next non-blank line
	msgArrow            // the next line, when it starts with "→" (vitest)
)

// ParseTestLog reads a whole log; see TestLog.
func ParseTestLog(r io.Reader) (*JUnitReport, error) {
	var l TestLog
	if _, err := io.Copy(&l, r); err != nil {
		return nil, err
	}
	return l.Report(), nil
}

// Write consumes p line by line; it never fails.
func (l *TestLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if !l.skip {
			if len(l.line)+len(chunk) > maxLogLine {
				l.skip = true
				l.line = l.line[:0]
			} else {
				l.line = append(l.line, chunk...)
			}
		}
		if i < 0 {
			break
		}
		if !l.skip {
			l.consume(string(l.line))
		}
		l.line, l.skip = l.line[:0], false
		p = p[i+1:]
	}
	return n, nil
}

// Report returns the results so far, the unfinished last line included.
func (l *TestLog) Report() *JUnitReport {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.line) > 0 && !l.skip {
		l.consume(string(l.line))
		l.line = l.line[:0]
	}
	// Go tests whose package line never came (a killed run) count without it.
	l.flushGo("")
	r := &JUnitReport{Tests: append([]patchgate.TestResult(nil), l.tests...)}
	for _, t := range r.Tests {
		switch t.Status {
		case patchgate.TestPassed:
			r.Passed++
		case patchgate.TestFailed:
			r.Failed++
		case patchgate.TestErrored:
			r.Errored++
		case patchgate.TestSkipped:
			r.Skipped++
		}
	}
	return r
}

var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

// consume matches one line against every runner's patterns.
func (l *TestLog) consume(line string) {
	line = strings.TrimRight(line, "\r")
	if strings.IndexByte(line, 0x1b) >= 0 {
		line = ansiEscape.ReplaceAllString(line, "")
	}
	if l.xml != nil || startsXML(line) {
		if l.xml == nil {
			l.xmlLines = 0
		}
		l.captureXML(line)
		return
	}
	if l.message(line) {
		return
	}
	switch {
	case l.goJSON(line), l.goText(line):
	case l.pytest(line):
	case l.cargo(line):
	case l.jest(line), l.vitest(line):
	}
}

// message gives a waiting test its message when line is one; it reports
// whether line was used up.
func (l *TestLog) message(line string) bool {
	if l.msgKind == msgNone {
		return false
	}
	trimmed := strings.TrimSpace(trimDecoration(line))
	switch l.msgKind {
	case msgGo:
		return l.goPendingMessage(line)
	case msgArrow:
		l.msgKind = msgNone
		if !strings.HasPrefix(strings.TrimSpace(line), "→") {
			return false
		}
		l.setMessage(l.msgFor, trimmed)
		return true
	case msgNextLine:
		if trimmed == "" {
			return false
		}
		l.setMessage(l.msgFor, trimmed)
		l.msgKind = msgNone
		return true
	}
	return false
}

// trimDecoration drops the rules and arrows runners draw around messages.
func trimDecoration(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimLeft(s, "⎯─━→ ")
	return strings.TrimRight(s, "⎯─━ ")
}

// expectMessage makes the next line of kind k the message of test i.
func (l *TestLog) expectMessage(i int, k msgKind) {
	if i < 0 || l.tests[i].Message != "" {
		return
	}
	l.msgFor, l.msgKind = i, k
}

func (l *TestLog) setMessage(i int, msg string) {
	if i >= 0 && i < len(l.tests) && l.tests[i].Message == "" {
		l.tests[i].Message = truncateUTF8(strings.TrimSpace(msg), maxJUnitMessage)
	}
}

// statusRank orders outcomes from best to worst.
func statusRank(s patchgate.TestStatus) int {
	switch s {
	case patchgate.TestPassed:
		return 0
	case patchgate.TestSkipped:
		return 1
	case patchgate.TestErrored:
		return 2
	}
	return 3 // failed
}

// add records t, or merges it into the same test seen before (the worst
// outcome wins, a missing message, duration, kind or build error is filled
// in). It returns the
// test's position, or -1 when the report is full.
func (l *TestLog) add(t patchgate.TestResult) int {
	t.Class = truncateUTF8(t.Class, maxLogName)
	t.Name = truncateUTF8(t.Name, maxLogName)
	t.Message = truncateUTF8(t.Message, maxJUnitMessage)
	t.Package = truncateUTF8(t.Package, maxLogName)
	t.File = truncateUTF8(t.File, maxLogName)
	t.BuildError = truncateUTF8(t.BuildError, maxJUnitMessage)
	if t.Name == "" {
		return -1
	}
	if l.index == nil {
		l.index = map[string]int{}
	}
	key := t.Class + "\x00" + t.Name
	if i, ok := l.index[key]; ok {
		old := &l.tests[i]
		if statusRank(t.Status) > statusRank(old.Status) {
			old.Status = t.Status
		}
		if old.Message == "" {
			old.Message = t.Message
		}
		if old.Duration == 0 {
			old.Duration = t.Duration
		}
		if old.Kind == patchgate.TestCase {
			old.Kind, old.Package, old.File = t.Kind, t.Package, t.File
		}
		if old.BuildError == "" {
			old.BuildError = t.BuildError
		}
		return i
	}
	if len(l.tests) == MaxJUnitTests {
		return -1
	}
	l.index[key] = len(l.tests)
	l.tests = append(l.tests, t)
	return len(l.tests) - 1
}

// startsXML reports whether line opens a JUnit report.
func startsXML(line string) bool {
	s := strings.TrimSpace(line)
	return strings.HasPrefix(s, "<?xml") || strings.HasPrefix(s, "<testsuites") || strings.HasPrefix(s, "<testsuite")
}

// captureXML collects a report printed into the log until its root closes,
// then parses it with ParseJUnit. A report that does not parse, or grows
// past maxLogXML, is dropped: the log was not a report after all. Only the
// new line is searched for the root's end, so capturing stays linear.
func (l *TestLog) captureXML(line string) {
	if len(l.xml)+len(line) > maxLogXML {
		l.xml, l.xmlRoot, l.xmlLines = nil, "", 0
		return
	}
	l.xml = append(l.xml, line...)
	l.xml = append(l.xml, '\n')
	l.xmlLines++
	done := false
	if l.xmlRoot == "" {
		if i := strings.Index(line, "<testsuite"); i >= 0 {
			rest := line[i+len("<testsuite"):]
			l.xmlRoot = "testsuite"
			if strings.HasPrefix(rest, "s") {
				l.xmlRoot, rest = "testsuites", rest[1:]
			}
			if end := strings.IndexByte(rest, '>'); end > 0 && rest[end-1] == '/' {
				done = true // <testsuites/>
			}
		}
	}
	if l.xmlRoot == "" && l.xmlLines > 3 {
		l.xml = nil // an XML declaration of something else
		return
	}
	if !done && (l.xmlRoot == "" || !strings.Contains(line, "</"+l.xmlRoot+">")) {
		return
	}
	data := l.xml
	l.xml, l.xmlRoot, l.xmlLines = nil, "", 0
	r, err := ParseJUnit(data)
	if err != nil {
		return
	}
	for _, t := range r.Tests {
		l.add(t)
	}
}
