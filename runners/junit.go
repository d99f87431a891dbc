package runners

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/patchgate/patchgate"
)

// Limits on a JUnit report. The report is written by the code under test, so
// it is untrusted: these bound the work and memory one report can cost us.
const (
	// MaxJUnitBytes is the largest report ParseJUnit reads; callers copying a
	// report out of a container can stop reading one byte past it.
	MaxJUnitBytes = 50 << 20
	// MaxJUnitTests is the most test cases ParseJUnit accepts in one report.
	MaxJUnitTests = 100_000

	// maxJUnitDepth bounds element nesting: real reports nest a handful of
	// levels, and the decoder keeps a frame per open element.
	maxJUnitDepth = 32
	// maxJUnitMessage bounds a failure message: it ends up in a database row and
	// a one-line commit status, not a log viewer.
	maxJUnitMessage = 1 << 10
)

// JUnitReport is the parsed summary of a JUnit XML report.
type JUnitReport struct {
	Tests   []patchgate.TestResult
	Passed  int
	Failed  int
	Errored int
	Skipped int
}

// ParseJUnit parses JUnit XML as written by go-junit-report, gotestsum, Maven
// Surefire, pytest, jest-junit and the like, returning EINVALID for anything
// that is not such a report or exceeds the limits above.
//
// The root must be <testsuites> or <testsuite>; suites may nest. A <testcase>
// counts when its parent is a suite, and its outcome comes from its direct
// <failure>, <error> and <skipped> children only: Surefire's <flakyFailure>
// (it passed on a rerun) leaves it passed, and its <rerunFailure> only repeats
// the <failure> beside it. A case with several outcomes reports the worst:
// failed, then errored, then skipped.
// The decoder streams tokens, so memory stays proportional to the input.
func ParseJUnit(data []byte) (*JUnitReport, error) {
	if len(data) > MaxJUnitBytes {
		return nil, patchgate.Errorf(patchgate.EINVALID, "junit report is %d bytes, more than the %d allowed", len(data), MaxJUnitBytes)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	var p junitParser
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// encoding/xml's messages carry the line number, which is what a
			// user needs to find the damage in their report.
			return nil, patchgate.Errorf(patchgate.EINVALID, "junit report: %v", err)
		}
		if err := p.token(tok); err != nil {
			return nil, err
		}
	}
	if !p.rootDone {
		return nil, patchgate.Errorf(patchgate.EINVALID, "junit report has no root element")
	}
	return &p.report, nil
}

// Summary renders the counts as a commit status description, "41 passed, 1
// failed, 2 skipped", leaving out zero counts other than passed.
func (r *JUnitReport) Summary() string {
	if r == nil || r.Passed+r.Failed+r.Errored+r.Skipped == 0 {
		return "no tests"
	}
	parts := []string{fmt.Sprintf("%d passed", r.Passed)}
	for _, c := range []struct {
		n    int
		word string
	}{{r.Failed, "failed"}, {r.Errored, "errored"}, {r.Skipped, "skipped"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.word))
		}
	}
	return strings.Join(parts, ", ")
}

// FailedNames returns up to n "Class.Name" of the failed and errored tests, in
// report order, so a status description can say which tests broke.
//
// When the class equals the name (jest-junit's default templates) the name is
// given once.
func (r *JUnitReport) FailedNames(n int) []string {
	if r == nil || n <= 0 {
		return nil
	}
	var names []string
	for _, t := range r.Tests {
		if len(names) == n {
			break
		}
		if t.Status != patchgate.TestFailed && t.Status != patchgate.TestErrored {
			continue
		}
		if t.Class == "" || t.Class == t.Name {
			names = append(names, t.Name)
		} else {
			names = append(names, t.Class+"."+t.Name)
		}
	}
	return names
}

// junitKind is what an open element means to the parser.
type junitKind uint8

const (
	kindOther   junitKind = iota // ignored, with everything inside it
	kindSuite                    // <testsuites> or <testsuite>
	kindCase                     // <testcase>
	kindFailure                  // <failure> directly in a test case
	kindError                    // <error> directly in a test case
	kindSkipped                  // <skipped> directly in a test case
)

// junitParser turns the decoder's token stream into a report, one token at a
// time, keeping only the open elements and the current test case.
type junitParser struct {
	report   JUnitReport
	open     [maxJUnitDepth]junitKind
	depth    int
	rootDone bool

	test                     patchgate.TestResult
	failed, errored, skipped bool
	failMsg, errMsg          string
	haveFailMsg, haveErrMsg  bool
	// attrMsg and line are the message of the open <failure> or <error>.
	attrMsg string
	line    firstLine
	// failAt is the "file.go:N: " a Go failure's body starts with
	// (go-junit-report, gotestsum), for the check run's annotation.
	failAt []string
}

// junitGoLocation is the location a Go test's failure text starts with.
var junitGoLocation = regexp.MustCompile(`^\s*([\w./-]+\.go):(\d+): `)

func (p *junitParser) token(tok xml.Token) error {
	switch t := tok.(type) {
	case xml.StartElement:
		return p.start(t)
	case xml.EndElement:
		p.end()
	case xml.CharData:
		if p.depth > 0 {
			if k := p.open[p.depth-1]; k == kindFailure || k == kindError {
				p.line.write(t)
			}
		}
	}
	// Comments, processing instructions and directives carry no results.
	return nil
}

func (p *junitParser) start(t xml.StartElement) error {
	if p.depth == maxJUnitDepth {
		return patchgate.Errorf(patchgate.EINVALID, "junit report nests elements deeper than %d", maxJUnitDepth)
	}
	name := t.Name.Local
	kind := kindOther
	switch {
	case p.depth == 0:
		if p.rootDone {
			return patchgate.Errorf(patchgate.EINVALID, "junit report has a second root element <%s>", name)
		}
		if name != "testsuites" && name != "testsuite" {
			return patchgate.Errorf(patchgate.EINVALID, "junit report root is <%s>, want <testsuites> or <testsuite>", name)
		}
		kind = kindSuite
	case p.open[p.depth-1] == kindSuite:
		switch name {
		case "testsuites", "testsuite":
			kind = kindSuite
		case "testcase":
			if len(p.report.Tests) == MaxJUnitTests {
				return patchgate.Errorf(patchgate.EINVALID, "junit report has too many test cases: more than %d", MaxJUnitTests)
			}
			kind = kindCase
			p.startCase(t.Attr)
		}
	case p.open[p.depth-1] == kindCase:
		switch name {
		case "failure":
			kind = kindFailure
			p.failed = true
		case "error":
			kind = kindError
			p.errored = true
		case "skipped":
			kind = kindSkipped
			p.skipped = true
		}
		if kind == kindFailure || kind == kindError {
			p.attrMsg = strings.TrimSpace(attr(t.Attr, "message"))
			p.line = firstLine{}
		}
	}
	p.open[p.depth] = kind
	p.depth++
	return nil
}

func (p *junitParser) end() {
	// The decoder checks that end tags match start tags, so depth > 0 here.
	p.depth--
	switch p.open[p.depth] {
	case kindCase:
		p.endCase()
	case kindFailure:
		if !p.haveFailMsg {
			p.failMsg, p.haveFailMsg = p.message(), true
			p.failAt = junitGoLocation.FindStringSubmatch(string(p.line.buf))
		}
	case kindError:
		if !p.haveErrMsg {
			p.errMsg, p.haveErrMsg = p.message(), true
		}
	}
	if p.depth == 0 {
		p.rootDone = true
	}
}

func (p *junitParser) startCase(attrs []xml.Attr) {
	p.test = patchgate.TestResult{
		Class:    attr(attrs, "classname"),
		Name:     attr(attrs, "name"),
		Duration: parseSeconds(attr(attrs, "time")),
	}
	p.failed, p.errored, p.skipped = false, false, false
	p.failMsg, p.errMsg = "", ""
	p.haveFailMsg, p.haveErrMsg = false, false
	p.failAt = nil
}

func (p *junitParser) endCase() {
	t := p.test
	switch {
	case p.failed:
		t.Status, t.Message = patchgate.TestFailed, p.failMsg
		if p.failAt != nil {
			t.File = p.failAt[1]
			t.Line, _ = strconv.Atoi(p.failAt[2])
		}
		p.report.Failed++
	case p.errored:
		t.Status, t.Message = patchgate.TestErrored, p.errMsg
		p.report.Errored++
	case p.skipped:
		t.Status = patchgate.TestSkipped
		p.report.Skipped++
	default:
		t.Status = patchgate.TestPassed
		p.report.Passed++
	}
	classifyCase(&t)
	p.report.Tests = append(p.report.Tests, t)
}

// classifyCase gives a report's test case the kind its name says, in the
// forms the log readers name such failures and a report may carry them in:
// "pkg [build failed]" and "pkg [setup failed]" (a Go package), jest's "Test
// suite failed to run" (the class is its file), a pytest module's path as the
// name ("tests/test_x.py"), or a failing case without a name (the class is
// the module that did not import).
func classifyCase(t *patchgate.TestResult) {
	if pkg, ok := strings.CutSuffix(t.Name, " [build failed]"); ok {
		t.Kind, t.Package = patchgate.PackageBuild, pkg
		return
	}
	if pkg, ok := strings.CutSuffix(t.Name, " [setup failed]"); ok {
		t.Kind, t.Package = patchgate.PackageSetup, pkg
		return
	}
	switch {
	case t.Name == "Test suite failed to run":
		t.Kind, t.File = patchgate.SuiteSetup, t.Class
	case strings.HasSuffix(t.Name, ".py") && !strings.Contains(t.Name, "::") && !strings.Contains(t.Name, "["):
		t.Kind, t.File = patchgate.SuiteSetup, t.Name
	case t.Name == "" && t.Class != "" && (t.Status == patchgate.TestFailed || t.Status == patchgate.TestErrored):
		t.Kind, t.File = patchgate.SuiteSetup, t.Class
	}
}

// message is the open <failure> or <error>'s message attribute, or else the
// first line of its text: producers such as jest-junit put everything in the
// body, and the first line is the assertion.
func (p *junitParser) message() string {
	if p.attrMsg != "" {
		return truncateUTF8(p.attrMsg, maxJUnitMessage)
	}
	return truncateUTF8(strings.TrimSpace(string(p.line.buf)), maxJUnitMessage)
}

// firstLine keeps the first non-blank line of text arriving in pieces, and no
// more than maxJUnitMessage+1 bytes of it, however long the stack trace: the
// extra byte tells truncateUTF8 whether the cut split a character.
type firstLine struct {
	buf  []byte
	done bool
}

func (l *firstLine) write(b []byte) {
	for _, c := range b {
		switch {
		case l.done:
			return
		case c == '\n' || c == '\r':
			l.done = len(l.buf) > 0
		case len(l.buf) == 0 && (c == ' ' || c == '\t'):
			// Bodies often start with a newline and indentation.
		case len(l.buf) > maxJUnitMessage:
			l.done = true
		default:
			l.buf = append(l.buf, c)
		}
	}
}

// truncateUTF8 cuts s to at most n bytes without splitting a character, so
// the message stays valid UTF-8 for JSON and the database.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// parseSeconds reads a time attribute. Producers disagree (missing, empty,
// "1,5" from a comma locale, "1,234.5" with grouping); anything that is not a
// plain non-negative number of seconds is 0 rather than an error, because a
// wrong duration must not throw away the verdicts.
func parseSeconds(s string) time.Duration {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	// !(f >= 0) also rejects NaN; the upper bound keeps the conversion below
	// from overflowing.
	if err != nil || !(f >= 0) || f >= math.MaxInt64/float64(time.Second) {
		return 0
	}
	// Rounding, not truncating, turns "0.151" into exactly 151ms.
	return time.Duration(math.Round(f * float64(time.Second)))
}

func attr(attrs []xml.Attr, name string) string {
	for _, a := range attrs {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}
