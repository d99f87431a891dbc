package runners

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
)

// goState is what reading go test output keeps between lines.
type goState struct {
	// goPending are plain-output tests waiting for their package line, which
	// comes after them and names their class.
	goPending []patchgate.TestResult
	// goCurrent is the test a -v "=== RUN/NAME/CONT" line announced; goMsgs
	// holds the first "file.go:N:" line each announced test printed, which
	// -v output shows before the test's "--- FAIL" line.
	goCurrent string
	goMsgs    map[string]string
	// goTimedOut is the panic message while the tests a timeout interrupted
	// are listed.
	goTimedOut string
	// goMsgFor is the pending test whose message an indented line after its
	// FAIL line gives.
	goMsgFor int
	// goFailedPkgs are the packages in which -json output named a failed
	// test, so that a package failing without one is reported by itself.
	goFailedPkgs map[string]bool
	// goBuilding is the package a "# pkg [pkg.test]" header announced the
	// compiler errors of; goBuildErrs holds each package's first one, the
	// build error of its "[build failed]" line (a proof's "does not build
	// without the fix" names what is missing). -json output keys them by
	// the build's import path ("pkg [pkg.test]"), its "build-output" events
	// carrying them.
	goBuilding  string
	goBuildErrs map[string]string
}

var (
	// "--- FAIL: TestX/sub (0.01s)", indented for subtests.
	goResult = regexp.MustCompile(`^\s*--- (FAIL|PASS|SKIP): (\S+) \((\d+(?:\.\d+)?)s\)`)
	// "ok  \tpkg\t0.01s", "FAIL\tpkg\t0.01s", "FAIL\tpkg [build failed]".
	goPackage = regexp.MustCompile(`^(ok  |FAIL)\t(\S+)(?:\t(.*)| (\[[^\]]*\]))?$`)
	// "=== RUN   TestX", also NAME and CONT when parallel tests interleave.
	goRun = regexp.MustCompile(`^=== (?:RUN|NAME|CONT)\s+(\S+)`)
	// "panic: test timed out after 1s", then "\trunning tests:" and one
	// "\t\tTestX (1s)" line per test still running.
	goTimeout    = regexp.MustCompile(`^panic: (test timed out after \S+)`)
	goTimedOutAt = regexp.MustCompile(`^\t\t(\S+) \(.*\)$`)
	// "    calc_test.go:12: got 3, want 4".
	// The file and line become the failure's annotation on the forge.
	goMessage = regexp.MustCompile(`^\s+([\w./-]+\.go):(\d+): (.+)$`)
	// "# example.com/m/calc [example.com/m/calc.test]" before its compiler
	// errors, "calc/round_test.go:8:9: undefined: RoundCents".
	goBuildHeader = regexp.MustCompile(`^# (\S+)(?: \[\S+\])?$`)
	goBuildError  = regexp.MustCompile(`^[\w./-]+\.go:\d+(?::\d+)?: .+$`)
)

// goPendingMessage gives the pending test goMsgFor its message from line, an
// indented "file.go:N: message" or a "panic: " line; it reports whether line
// was used up.
func (l *TestLog) goPendingMessage(line string) bool {
	msg := ""
	if m := goMessage.FindStringSubmatch(line); m != nil {
		msg = goLocated(m)
	} else if strings.HasPrefix(line, "panic: ") {
		msg = line
	} else {
		if !strings.HasPrefix(line, " ") {
			l.msgKind = msgNone // the test's indented output ended
		}
		return false
	}
	if i := l.goMsgFor; i < len(l.goPending) && l.goPending[i].Message == "" {
		goSetMessage(&l.goPending[i], truncateUTF8(strings.TrimSpace(msg), maxJUnitMessage))
	}
	l.msgKind = msgNone
	return true
}

// goText reads plain go test output.
func (l *TestLog) goText(line string) bool {
	if l.goTimedOut != "" {
		if m := goTimedOutAt.FindStringSubmatch(line); m != nil {
			if len(l.goPending) < maxLogPending {
				l.goPending = append(l.goPending, patchgate.TestResult{Name: m[1], Status: patchgate.TestFailed, Message: l.goTimedOut})
			}
			return true
		}
		if line != "\trunning tests:" {
			l.goTimedOut = ""
		}
	}
	if m := goTimeout.FindStringSubmatch(line); m != nil {
		l.goTimedOut = m[1]
		return true
	}
	if m := goResult.FindStringSubmatch(line); m != nil {
		t := patchgate.TestResult{Name: m[2], Duration: goSeconds(m[3])}
		switch m[1] {
		case "FAIL":
			t.Status = patchgate.TestFailed
			goSetMessage(&t, l.goMsgs[m[2]])
		case "SKIP":
			t.Status = patchgate.TestSkipped
		default:
			t.Status = patchgate.TestPassed
		}
		if len(l.goPending) < maxLogPending {
			l.goPending = append(l.goPending, t)
			if t.Status == patchgate.TestFailed && t.Message == "" {
				// Without -v the test's output follows its FAIL line.
				l.goMsgFor, l.msgKind = len(l.goPending)-1, msgGo
			}
		}
		return true
	}
	if m := goRun.FindStringSubmatch(line); m != nil {
		l.goCurrent = m[1]
		return true
	}
	if m := goBuildHeader.FindStringSubmatch(line); m != nil && validGoPackage(m[1]) {
		l.goBuilding = m[1]
		return true
	}
	if l.goBuilding != "" {
		if l.keepBuildError(l.goBuilding, line) {
			return true
		}
		l.goBuilding = ""
	}
	if m := goPackage.FindStringSubmatch(line); m != nil && validGoPackage(m[2]) {
		l.flushGo(m[2])
		if m[1] == "FAIL" && !l.lastPackageFailedTests(m[2]) {
			t := patchgate.TestResult{Name: m[2], Status: patchgate.TestErrored, Message: "the package failed without a failing test"}
			if m[4] != "" {
				t.Name += " " + m[4] // [build failed], [setup failed]
			}
			switch m[4] {
			case "[build failed]":
				t.Kind, t.Package = patchgate.PackageBuild, m[2]
				if e, ok := l.goBuildErrs[m[2]]; ok {
					t.Message, t.BuildError = "build failed: "+e, e
				}
			case "[setup failed]":
				t.Kind, t.Package = patchgate.PackageSetup, m[2]
			}
			l.add(t)
		}
		return true
	}
	if l.goCurrent != "" {
		if m := goMessage.FindStringSubmatch(line); m != nil {
			if l.goMsgs == nil {
				l.goMsgs = map[string]string{}
			}
			if _, ok := l.goMsgs[l.goCurrent]; !ok && len(l.goMsgs) < maxLogPending {
				l.goMsgs[l.goCurrent] = truncateUTF8(goLocated(m), maxJUnitMessage)
			}
		}
	}
	return false
}

// keepBuildError keeps line as the first compiler error of build when it is
// one; it reports whether it is.
func (l *TestLog) keepBuildError(build, line string) bool {
	if !goBuildError.MatchString(line) {
		return false
	}
	if l.goBuildErrs == nil {
		l.goBuildErrs = map[string]string{}
	}
	if _, ok := l.goBuildErrs[build]; !ok && len(l.goBuildErrs) < maxLogPending {
		l.goBuildErrs[build] = truncateUTF8(line, maxJUnitMessage)
	}
	return true
}

// validGoPackage tells an import path from the words that may follow "ok" or
// "FAIL" at the start of other runners' lines.
func validGoPackage(s string) bool {
	return s != "" && !strings.ContainsAny(s, "()[]:,") && !strings.HasPrefix(s, "-")
}

// lastPackageFailedTests reports whether the package just flushed had a
// failed test.
func (l *TestLog) lastPackageFailedTests(pkg string) bool {
	for i := len(l.tests) - 1; i >= 0 && l.tests[i].Class == pkg; i-- {
		if l.tests[i].Status == patchgate.TestFailed {
			return true
		}
	}
	return false
}

// flushGo records the pending plain-output tests as tests of pkg.
func (l *TestLog) flushGo(pkg string) {
	for _, t := range l.goPending {
		t.Class = pkg
		l.add(t)
	}
	if l.msgKind == msgGo {
		l.msgKind = msgNone
	}
	l.goPending = l.goPending[:0]
	l.goCurrent, l.goTimedOut = "", ""
	clear(l.goMsgs)
}

// goEvent is one line of go test -json (test2json) output.
type goEvent struct {
	Action string
	// ImportPath names the build of a "build-output" or "build-fail" event;
	// a test's "fail" event names it as FailedBuild.
	ImportPath  string
	Package     string
	Test        string
	Elapsed     float64
	Output      string
	FailedBuild string
}

// goJSON reads go test -json output.
func (l *TestLog) goJSON(line string) bool {
	if !strings.HasPrefix(line, "{") || !strings.Contains(line, `"Action"`) {
		return false
	}
	var e goEvent
	if err := json.Unmarshal([]byte(line), &e); err != nil {
		return false
	}
	if e.Action == "build-output" && e.ImportPath != "" {
		l.keepBuildError(e.ImportPath, strings.TrimRight(e.Output, "\n"))
		return true
	}
	if e.Package == "" {
		return false
	}
	status := map[string]patchgate.TestStatus{"pass": patchgate.TestPassed, "fail": patchgate.TestFailed, "skip": patchgate.TestSkipped}[e.Action]
	switch {
	case e.Action == "output" && e.Test != "":
		out := strings.TrimRight(e.Output, "\n")
		msg := ""
		if m := goMessage.FindStringSubmatch(out); m != nil {
			msg = goLocated(m)
		} else if strings.HasPrefix(out, "panic: ") {
			msg = out
		}
		if msg != "" {
			key := e.Package + "\x00" + e.Test
			if l.goMsgs == nil {
				l.goMsgs = map[string]string{}
			}
			if _, ok := l.goMsgs[key]; !ok && len(l.goMsgs) < maxLogPending {
				l.goMsgs[key] = truncateUTF8(msg, maxJUnitMessage)
			}
		}
	case status != "" && e.Test != "":
		t := patchgate.TestResult{Class: e.Package, Name: e.Test, Status: status, Duration: goDuration(e.Elapsed)}
		if status == patchgate.TestFailed {
			goSetMessage(&t, l.goMsgs[e.Package+"\x00"+e.Test])
			if l.goFailedPkgs == nil {
				l.goFailedPkgs = map[string]bool{}
			}
			if len(l.goFailedPkgs) < maxLogPending {
				l.goFailedPkgs[e.Package] = true
			}
		}
		l.add(t)
	case status == patchgate.TestFailed && !l.goFailedPkgs[e.Package]:
		t := patchgate.TestResult{Name: e.Package, Status: patchgate.TestErrored, Message: "the package failed without a failing test"}
		if e.FailedBuild != "" {
			t.Name, t.Message = e.Package+" [build failed]", "build failed: "+e.FailedBuild
			t.Kind, t.Package = patchgate.PackageBuild, e.Package
			t.BuildError = l.goBuildErrs[e.FailedBuild]
			if t.BuildError == "" {
				t.BuildError = l.goBuildErrs[e.Package] // printed as text beside the JSON
			}
		}
		l.add(t)
	}
	return true
}

func goSeconds(s string) time.Duration {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return goDuration(f)
}

func goDuration(f float64) time.Duration {
	return parseSeconds(strconv.FormatFloat(f, 'f', -1, 64))
}

// goLocated keeps a goMessage match as "file.go:N\x00message", so that the
// failure's file and line reach the result beside its message.
func goLocated(m []string) string { return m[1] + ":" + m[2] + "\x00" + m[3] }

// goSetMessage sets t's Message, and File and Line when stored carries them
// (goLocated).
func goSetMessage(t *patchgate.TestResult, stored string) {
	loc, msg, ok := strings.Cut(stored, "\x00")
	if !ok {
		t.Message = stored
		return
	}
	t.Message = msg
	file, line, _ := strings.Cut(loc, ":")
	if n, err := strconv.Atoi(line); err == nil && n > 0 {
		t.File, t.Line = file, n
	}
}
