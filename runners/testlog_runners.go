package runners

import (
	"regexp"
	"strings"

	"github.com/patchgate/patchgate"
)

// pytest

var (
	// "tests/test_x.py::test_y PASSED   [ 50%]" (-v), with an optional
	// "(reason)" after SKIPPED or XFAIL.
	pytestVerbose = regexp.MustCompile(`^(\S+\.py::\S.*?) (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)(?: \(.*\))?(?:\s+\[\s*\d+%\])?\s*$`)
	// "[gw0] [ 50%] PASSED tests/test_x.py::test_y" (pytest-xdist -v).
	pytestXdist = regexp.MustCompile(`^\[gw\d+\] \[\s*\d+%\] (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\S+\.py::\S.*?)\s*$`)
	// "FAILED tests/test_x.py::test_y - assert 1 == 2" (short test summary);
	// "ERROR tests/test_x.py" for a module that failed to import.
	pytestSummary = regexp.MustCompile(`^(FAILED|ERROR) (\S+\.py(?:::\S.*?)?)(?: - (.*))?$`)
)

var pytestStatus = map[string]patchgate.TestStatus{
	"PASSED": patchgate.TestPassed, "XPASS": patchgate.TestPassed,
	"FAILED": patchgate.TestFailed, "ERROR": patchgate.TestErrored,
	"SKIPPED": patchgate.TestSkipped, "XFAIL": patchgate.TestSkipped,
}

func (l *TestLog) pytest(line string) bool {
	var status, node, msg string
	if m := pytestVerbose.FindStringSubmatch(line); m != nil {
		node, status = m[1], m[2]
	} else if m := pytestXdist.FindStringSubmatch(line); m != nil {
		status, node = m[1], m[2]
	} else if m := pytestSummary.FindStringSubmatch(line); m != nil {
		status, node, msg = m[1], m[2], m[3]
	} else {
		return false
	}
	class, name := pytestNode(node)
	t := patchgate.TestResult{Class: class, Name: name, Status: pytestStatus[status], Message: msg}
	if !strings.Contains(node, "::") {
		// "ERROR tests/test_x.py": the module failed to import (collect).
		t.Kind, t.File = patchgate.SuiteSetup, node
	}
	l.add(t)
	return true
}

// pytestNode splits a node id the way pytest's JUnit XML does:
// "tests/test_x.py::TestY::test_z[a::b]" is class "tests.test_x.TestY" and
// name "test_z[a::b]". A module alone ("tests/test_x.py") is its own name.
func pytestNode(node string) (class, name string) {
	head, params := node, ""
	if i := strings.IndexByte(node, '['); i >= 0 {
		head, params = node[:i], node[i:]
	}
	parts := strings.Split(head, "::")
	if len(parts) == 1 {
		return "", node
	}
	module := strings.ReplaceAll(strings.TrimSuffix(parts[0], ".py"), "/", ".")
	class = strings.Join(append([]string{module}, parts[1:len(parts)-1]...), ".")
	return class, parts[len(parts)-1] + params
}

// cargo test

// cargoState is what reading cargo test output keeps between lines.
type cargoState struct {
	// cargoTarget is the test binary running ("src/lib.rs", "tests/api.rs",
	// "Doc-tests ids"): the class of its tests.
	cargoTarget string
}

var (
	// "     Running unittests src/lib.rs (target/debug/deps/ids-1c2d)".
	cargoRunning = regexp.MustCompile(`^\s+Running (?:unittests )?(\S+)`)
	// "   Doc-tests ids".
	cargoDoctests = regexp.MustCompile(`^\s+(Doc-tests \S+)`)
	// "test tests::x ... FAILED", "test tests::y ... ignored, needs a db".
	cargoResult = regexp.MustCompile(`^test (.+?) \.\.\. (ok|FAILED|ignored)(?:, .*)?$`)
	// "thread 'tests::x' panicked at src/lib.rs:21:9:" (the message follows),
	// or before Rust 1.73 "thread 'tests::x' panicked at 'msg', src/lib.rs:21:9".
	cargoPanic = regexp.MustCompile(`^thread '(.+?)' panicked at (.*)$`)
)

func (l *TestLog) cargo(line string) bool {
	if m := cargoRunning.FindStringSubmatch(line); m != nil {
		l.cargoTarget = m[1]
		return true
	}
	if m := cargoDoctests.FindStringSubmatch(line); m != nil {
		l.cargoTarget = m[1]
		return true
	}
	if m := cargoResult.FindStringSubmatch(line); m != nil {
		status := map[string]patchgate.TestStatus{"ok": patchgate.TestPassed, "FAILED": patchgate.TestFailed, "ignored": patchgate.TestSkipped}[m[2]]
		name := strings.TrimSuffix(m[1], " - should panic")
		l.add(patchgate.TestResult{Class: l.cargoTarget, Name: name, Status: status})
		return true
	}
	if m := cargoPanic.FindStringSubmatch(line); m != nil {
		i, ok := l.index[l.cargoTarget+"\x00"+m[1]]
		if !ok {
			return true
		}
		if rest := m[2]; strings.HasSuffix(rest, ":") {
			l.expectMessage(i, msgNextLine)
		} else if msg, _, ok := strings.Cut(strings.TrimPrefix(rest, "'"), "', "); ok {
			l.setMessage(i, msg)
		}
		return true
	}
	return false
}

// jest and vitest

// jsState is what reading jest or vitest output keeps between lines.
type jsState struct {
	jsFile string // the test file whose results follow
	jsKind jsRunner
	// jsTree is set while the indented tree of a file's tests is read; the
	// describe blocks open at each indentation are in jsStack.
	jsTree  bool
	jsStack []jsFrame
}

type jsRunner uint8

const (
	jsNone jsRunner = iota
	jsJest
	jsVitest
)

type jsFrame struct {
	indent int
	title  string
}

const maxJSDepth = 32

var (
	// "PASS src/a.test.js", "FAIL src/b.test.js (5.2 s)".
	jestFile = regexp.MustCompile(`^(PASS|FAIL) (\S+)(?: \(\d+(?:\.\d+)? m?s\))?$`)
	// "    ✓ adds (3 ms)", "    ✕ subtracts", "    ○ skipped legacy", "    ✎ todo x".
	jestTest = regexp.MustCompile(`^(\s+)([✓✕○✎]) (.+?)(?: \(\d+(?:\.\d+)? m?s\))?$`)
	// "  ● uuid › version7 monotonicity".
	jestFailure = regexp.MustCompile(`^\s+● (.+)$`)
	// " ✓ src/a.test.ts (3 tests) 5ms", " ❯ src/b.test.ts (2 tests | 1 failed) 7ms".
	vitestFile = regexp.MustCompile(`^ ?[✓❯×↓] (\S+) \(\d+ tests?`)
	// "   × uuid > version7 monotonicity 4ms".
	vitestTest = regexp.MustCompile(`^\s{2,}([✓×↓]) (.+?)(?: \d+(?:\.\d+)?m?s)?$`)
	// " FAIL  src/b.test.ts > uuid > version7 monotonicity".
	vitestFailure = regexp.MustCompile(`^\s?FAIL\s+(\S+) > (.+)$`)
	// " FAIL  src/c.test.ts [ src/c.test.ts ]": the file itself failed.
	vitestFileFailure = regexp.MustCompile(`^\s?FAIL\s+(\S+) \[ .* \]$`)
)

func (l *TestLog) jest(line string) bool {
	if m := jestFile.FindStringSubmatch(line); m != nil {
		l.jsFile, l.jsKind, l.jsTree, l.jsStack = m[2], jsJest, true, l.jsStack[:0]
		return true
	}
	if l.jsKind != jsJest {
		return false
	}
	if strings.TrimSpace(line) == "" {
		l.jsTree = false
		return false
	}
	if m := jestFailure.FindStringSubmatch(line); m != nil {
		t := patchgate.TestResult{Class: l.jsFile, Name: m[1], Status: patchgate.TestFailed}
		if m[1] == "Test suite failed to run" {
			t.Status, t.Kind, t.File = patchgate.TestErrored, patchgate.SuiteSetup, l.jsFile
		}
		l.jsTree = false
		l.expectMessage(l.add(t), msgNextLine)
		return true
	}
	if !l.jsTree {
		return false
	}
	indent := len(line) - len(strings.TrimLeft(line, " "))
	for len(l.jsStack) > 0 && l.jsStack[len(l.jsStack)-1].indent >= indent {
		l.jsStack = l.jsStack[:len(l.jsStack)-1]
	}
	m := jestTest.FindStringSubmatch(line)
	if m == nil {
		// A describe block's title: the tests below it are named after it.
		if indent > 0 && len(l.jsStack) < maxJSDepth {
			l.jsStack = append(l.jsStack, jsFrame{indent, strings.TrimSpace(line)})
		}
		return true
	}
	status := map[string]patchgate.TestStatus{"✓": patchgate.TestPassed, "✕": patchgate.TestFailed, "○": patchgate.TestSkipped, "✎": patchgate.TestSkipped}[m[2]]
	titles := make([]string, 0, len(l.jsStack)+1)
	for _, f := range l.jsStack {
		titles = append(titles, f.title)
	}
	l.add(patchgate.TestResult{Class: l.jsFile, Name: strings.Join(append(titles, m[3]), " › "), Status: status})
	return true
}

func (l *TestLog) vitest(line string) bool {
	if m := vitestFile.FindStringSubmatch(line); m != nil {
		l.jsFile, l.jsKind = m[1], jsVitest
		return true
	}
	if m := vitestFileFailure.FindStringSubmatch(line); m != nil {
		l.add(patchgate.TestResult{Class: m[1], Name: m[1], Status: patchgate.TestErrored, Kind: patchgate.SuiteSetup, File: m[1]})
		return true
	}
	if m := vitestFailure.FindStringSubmatch(line); m != nil {
		l.expectMessage(l.add(patchgate.TestResult{Class: m[1], Name: m[2], Status: patchgate.TestFailed}), msgNextLine)
		return true
	}
	if l.jsKind != jsVitest {
		return false
	}
	if m := vitestTest.FindStringSubmatch(line); m != nil {
		status := map[string]patchgate.TestStatus{"✓": patchgate.TestPassed, "×": patchgate.TestFailed, "↓": patchgate.TestSkipped}[m[1]]
		i := l.add(patchgate.TestResult{Class: l.jsFile, Name: m[2], Status: status})
		if status == patchgate.TestFailed {
			l.expectMessage(i, msgArrow)
		}
		return true
	}
	return false
}
