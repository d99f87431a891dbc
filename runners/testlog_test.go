package runners

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/patchgate/patchgate"
)

// MustReadTestLog returns testdata/testlog/name.
func MustReadTestLog(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "testlog", name))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func mustParseTestLog(tb testing.TB, data []byte) *JUnitReport {
	tb.Helper()
	r, err := ParseTestLog(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestParseTestLog(t *testing.T) {
	const uuid = "example.com/ids/uuid"
	tests := []struct {
		name   string
		file   string
		counts counts
		// failing are the failed and errored tests, in order.
		failing []patchgate.TestResult
		// description is what a failed run with exit code 1 shows.
		description string
	}{
		{
			name:   "go test plain",
			file:   "go-test.plain.build-failure-panic-subtests.txt",
			counts: counts{failed: 4, errored: 1},
			failing: []patchgate.TestResult{
				notBuilt("example.com/ids/broken", "build failed: broken/broken_test.go:5:28: undefined: undefined", "broken/broken_test.go:5:28: undefined: undefined"),
				failed("example.com/ids/panics", "TestNilMap", 0, "panic: assignment to entry in nil map [recovered, repanicked]"),
				at(failed(uuid, "TestVersion7Monotonicity", 0, "got 0190a4b1 after 0190a4b2, want increasing"), "uuid_test.go", 8),
				failed(uuid, "TestVersion7MonotonicityStrict", 0, ""),
				at(failed(uuid, "TestVersion7MonotonicityStrict/same_millisecond", 0, "counter did not advance"), "uuid_test.go", 12),
			},
			description: "failed: example.com/ids/broken [build failed], TestNilMap, TestVersion7Monotonicity, TestVersion7MonotonicityStrict (exit 1)",
		},
		{
			name:   "go test -v",
			file:   "go-test.verbose.build-failure-panic-subtests.txt",
			counts: counts{passed: 3, failed: 4, errored: 1, skipped: 1},
			failing: []patchgate.TestResult{
				notBuilt("example.com/ids/broken", "build failed: broken/broken_test.go:5:28: undefined: undefined", "broken/broken_test.go:5:28: undefined: undefined"),
				failed("example.com/ids/panics", "TestNilMap", 0, "panic: assignment to entry in nil map [recovered, repanicked]"),
				at(failed(uuid, "TestVersion7Monotonicity", 0, "got 0190a4b1 after 0190a4b2, want increasing"), "uuid_test.go", 8),
				failed(uuid, "TestVersion7MonotonicityStrict", 0, ""),
				at(failed(uuid, "TestVersion7MonotonicityStrict/same_millisecond", 0, "counter did not advance"), "uuid_test.go", 12),
			},
		},
		{
			name:   "go test -json",
			file:   "go-test.json.build-failure-panic-subtests.txt",
			counts: counts{passed: 3, failed: 4, errored: 1, skipped: 1},
			failing: []patchgate.TestResult{
				notBuilt("example.com/ids/broken", "build failed: example.com/ids/broken [example.com/ids/broken.test]", "broken/broken_test.go:5:28: undefined: undefined"),
				failed("example.com/ids/panics", "TestNilMap", 0, "panic: assignment to entry in nil map [recovered, repanicked]"),
				at(failed(uuid, "TestVersion7Monotonicity", 0, "got 0190a4b1 after 0190a4b2, want increasing"), "uuid_test.go", 8),
				at(failed(uuid, "TestVersion7MonotonicityStrict/same_millisecond", 0, "counter did not advance"), "uuid_test.go", 12),
				failed(uuid, "TestVersion7MonotonicityStrict", 0, ""),
			},
		},
		{
			name:        "go test timeout",
			file:        "go-test.plain.timeout-names-no-failing-test.txt",
			counts:      counts{failed: 1},
			failing:     []patchgate.TestResult{failed("example.com/slow/slow", "TestHangs", 0, "test timed out after 1s")},
			description: "failed: TestHangs (exit 1)",
		},
		{
			name:   "pytest default",
			file:   "pytest.default-summary-failed-and-setup-error.txt",
			counts: counts{failed: 1, errored: 1},
			failing: []patchgate.TestResult{
				failed("tests.test_ids", "test_version7_monotonicity", 0, "assert 2 < 1"),
				errored("tests.test_ids", "test_database_roundtrip", 0, "ConnectionError: db unreachable"),
			},
			description: "failed: test_version7_monotonicity, test_database_roundtrip (exit 1)",
		},
		{
			name:   "pytest -v",
			file:   "pytest.verbose-classes-params-xfail.txt",
			counts: counts{passed: 2, failed: 2, skipped: 2},
			failing: []patchgate.TestResult{
				failed("tests.test_ids.TestVersion7", "test_monotonicity", 0, "AssertionError: assert 2 < 1"),
				failed("tests.test_ids.TestVersion7", "test_strict[same_ms]", 0, "assert False"),
			},
		},
		{
			name:   "cargo test",
			file:   "cargo-test.unit-and-integration-panics.txt",
			counts: counts{passed: 3, failed: 3, skipped: 1},
			failing: []patchgate.TestResult{
				failed("src/lib.rs", "tests::version7_monotonicity", 0, "assertion failed: a < b"),
				failed("src/lib.rs", "tests::version7_monotonicity_strict", 0, "assertion `left == right` failed: counter did not advance"),
				failed("Doc-tests ids", "src/lib.rs - new_v7 (line 5)", 0, "called `Option::unwrap()` on a `None` value"),
			},
			description: "failed: tests::version7_monotonicity, tests::version7_monotonicity_strict, src/lib.rs - new_v7 (line 5) (exit 1)",
		},
		{
			name:   "jest",
			file:   "jest.verbose-nested-describe-and-summary.txt",
			counts: counts{passed: 2, failed: 2, errored: 1, skipped: 1},
			failing: []patchgate.TestResult{
				failed("src/ids.test.js", "uuid › version7 › monotonicity", 0, "expect(received).toBeLessThan(expected)"),
				failed("src/ids.test.js", "uuid › version7 › monotonicity strict", 0, "counter did not advance"),
				notLoaded("src/db.test.js", "Test suite failed to run", "src/db.test.js", "Cannot find module 'pg' from 'src/db.test.js'"),
			},
		},
		{
			name:   "vitest with colours",
			file:   "vitest.default-reporter-ansi.txt",
			counts: counts{passed: 1, failed: 2, skipped: 1},
			failing: []patchgate.TestResult{
				failed("src/ids.test.ts", "uuid > version7 > monotonicity", 0, "expected 2 to be less than 1"),
				failed("src/ids.test.ts", "uuid > version7 > monotonicity strict", 0, "counter did not advance"),
			},
		},
		{
			name:        "JUnit XML printed into the log",
			file:        "junit-xml-printed-by-the-suite.txt",
			counts:      counts{passed: 1, failed: 1, skipped: 1},
			failing:     []patchgate.TestResult{at(failed(uuid, "TestVersion7Monotonicity", 0, "Failed"), "uuid_test.go", 8)},
			description: "failed: TestVersion7Monotonicity (exit 1)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := MustReadTestLog(t, tt.file)
			r := mustParseTestLog(t, data)
			if got := countsOf(r); got != tt.counts {
				t.Errorf("got counts %+v, want %+v", got, tt.counts)
			}
			var failing []patchgate.TestResult
			for _, tr := range r.Tests {
				if tr.Status == patchgate.TestFailed || tr.Status == patchgate.TestErrored {
					failing = append(failing, tr)
				}
			}
			if len(failing) != len(tt.failing) {
				t.Fatalf("got failing %+v, want %+v", failing, tt.failing)
			}
			for i := range failing {
				if failing[i] != tt.failing[i] {
					t.Errorf("failing[%d]: got %+v, want %+v", i, failing[i], tt.failing[i])
				}
			}
			if tt.description != "" {
				if got := describeFailures(failingTests(r), "exit 1"); got != tt.description {
					t.Errorf("got description %q, want %q", got, tt.description)
				}
			}
			// The same log written a byte at a time reads the same.
			var l TestLog
			for i := range data {
				l.Write(data[i : i+1])
			}
			if got := l.Report(); !sameReport(got, r) {
				t.Errorf("byte-by-byte: got %+v, want %+v", got.Tests, r.Tests)
			}
		})
	}
}

// notBuilt is the result of Go package pkg whose tests did not compile.
func notBuilt(pkg, msg, buildErr string) patchgate.TestResult {
	t := errored("", pkg+" [build failed]", 0, msg)
	t.Kind, t.Package, t.BuildError = patchgate.PackageBuild, pkg, buildErr
	return t
}

// notLoaded is the result of a test file that failed to load.
func notLoaded(class, name, file, msg string) patchgate.TestResult {
	t := errored(class, name, 0, msg)
	t.Kind, t.File = patchgate.SuiteSetup, file
	return t
}

func sameReport(a, b *JUnitReport) bool {
	if countsOf(a) != countsOf(b) || len(a.Tests) != len(b.Tests) {
		return false
	}
	for i := range a.Tests {
		if a.Tests[i] != b.Tests[i] {
			return false
		}
	}
	return true
}

func TestParseTestLogGoDurationsAndPassingPackages(t *testing.T) {
	log := "=== RUN   TestA\n--- PASS: TestA (1.25s)\n=== RUN   TestB\n    b_test.go:3: boom\n--- FAIL: TestB (0.01s)\nFAIL\n" +
		"FAIL\texample.com/a\t1.3s\nok  \texample.com/b\t(cached)\n?   \texample.com/c\t[no test files]\n"
	r := mustParseTestLog(t, []byte(log))
	want := []patchgate.TestResult{
		passed("example.com/a", "TestA", 1250*ms),
		at(failed("example.com/a", "TestB", 10*ms, "boom"), "b_test.go", 3),
	}
	if len(r.Tests) != len(want) || r.Tests[0] != want[0] || r.Tests[1] != want[1] {
		t.Errorf("got %+v, want %+v", r.Tests, want)
	}
}

func TestParseTestLogBounds(t *testing.T) {
	t.Run("a line too long to match is skipped, not the next", func(t *testing.T) {
		var b bytes.Buffer
		b.WriteString("--- FAIL: TestHuge (0.00s)" + strings.Repeat("x", 2*maxLogLine) + "\n")
		b.WriteString("--- FAIL: TestAfter (0.00s)\nFAIL\texample.com/a\t0.1s\n")
		r := mustParseTestLog(t, b.Bytes())
		if len(r.Tests) != 1 || r.Tests[0].Name != "TestAfter" {
			t.Errorf("got %+v, want TestAfter only", r.Tests)
		}
	})
	t.Run("names and messages are cut", func(t *testing.T) {
		long := strings.Repeat("é", maxLogName)
		r := mustParseTestLog(t, []byte("FAILED tests/test_x.py::test_"+long+" - "+strings.Repeat("m", 3*maxJUnitMessage)+"\n"))
		if len(r.Tests) != 1 {
			t.Fatalf("got %d tests, want 1", len(r.Tests))
		}
		tr := r.Tests[0]
		if len(tr.Name) > maxLogName || !utf8.ValidString(tr.Name) || len(tr.Message) > maxJUnitMessage {
			t.Errorf("got name of %d bytes (valid %v), message of %d, want at most %d and %d", len(tr.Name), utf8.ValidString(tr.Name), len(tr.Message), maxLogName, maxJUnitMessage)
		}
	})
	t.Run("at most MaxJUnitTests tests", func(t *testing.T) {
		var l TestLog
		line := []byte("test t::x ... ok\n")
		for i := range MaxJUnitTests + 10 {
			l.Write([]byte("test t::x" + strings.Repeat("y", i%7) + string(rune('a'+i%26)) + "_" + itoa(i) + " ... ok\n"))
		}
		l.Write(line)
		if r := l.Report(); len(r.Tests) != MaxJUnitTests {
			t.Errorf("got %d tests, want %d", len(r.Tests), MaxJUnitTests)
		}
	})
	t.Run("an XML declaration of something else ends the capture", func(t *testing.T) {
		r := mustParseTestLog(t, []byte("<?xml version=\"1.0\"?>\n<project>\n</project>\nline\nline\n--- FAIL: TestX (0.00s)\n"))
		if len(r.Tests) != 1 || r.Tests[0].Name != "TestX" {
			t.Errorf("got %+v, want TestX", r.Tests)
		}
	})
}

func itoa(i int) string { return fmt.Sprintf("%06d", i) }

func TestDescribeFailures(t *testing.T) {
	many := make([]string, 30)
	for i := range many {
		many[i] = "TestVersion7Monotonicity" + itoa(i)
	}
	tests := []struct {
		name  string
		names []string
		tail  string
		want  string
	}{
		{"two", []string{"TestVersion7Monotonicity", "TestVersion7MonotonicityStrict"}, "exit 1",
			"failed: TestVersion7Monotonicity, TestVersion7MonotonicityStrict (exit 1)"},
		{"no tail", []string{"TestA"}, "", "failed: TestA"},
		{"more than fit", many, "exit 2",
			"failed: TestVersion7Monotonicity000000, TestVersion7Monotonicity000001, TestVersion7Monotonicity000002 and 27 more (exit 2)"},
		{"one huge name", []string{strings.Repeat("N", 300), "TestB"}, "timed out",
			"failed: " + strings.Repeat("N", 140-len("failed: ")-len(" and 1 more")-len(" (timed out)")-1) + "… and 1 more (timed out)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := describeFailures(tt.names, tt.tail)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > patchgate.MaxStatusDescription {
				t.Errorf("got %d characters, want at most %d", n, patchgate.MaxStatusDescription)
			}
		})
	}
}

func TestRecordResultNamesFailingTestsFromTheLog(t *testing.T) {
	var log TestLog
	log.Write(MustReadTestLog(t, "go-test.plain.build-failure-panic-subtests.txt")[:0])
	log.Write([]byte("--- FAIL: TestVersion7Monotonicity (0.00s)\n--- FAIL: TestVersion7MonotonicityStrict (0.00s)\n" +
		"    --- FAIL: TestVersion7MonotonicityStrict/same_millisecond (0.00s)\nFAIL\nFAIL\texample.com/ids/uuid\t0.015s\nFAIL\n"))
	tests := []struct {
		name  string
		res   patchgate.EnvironmentResult
		junit bool
		state patchgate.RunState
		desc  string
	}{
		{"failed", patchgate.EnvironmentResult{ExitCode: 1}, false, patchgate.RunFailure,
			"failed: TestVersion7Monotonicity, TestVersion7MonotonicityStrict (exit 1)"},
		{"timed out", patchgate.EnvironmentResult{ExitCode: 137, TimedOut: true}, false, patchgate.RunFailure,
			"failed: TestVersion7Monotonicity, TestVersion7MonotonicityStrict (timed out)"},
		{"passed anyway", patchgate.EnvironmentResult{ExitCode: 0}, false, patchgate.RunSuccess, "passed"},
		{"a JUnit report wins", patchgate.EnvironmentResult{ExitCode: 1, JUnit: MustReadJUnitFixture(t, "go-junit-report.failure-in-cdata.xml")}, true, patchgate.RunFailure, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v Executor
			s := &patchgate.SuiteRun{}
			v.recordResult(s, &tt.res, &log)
			if s.State != tt.state {
				t.Errorf("got state %s, want %s", s.State, tt.state)
			}
			if tt.junit {
				if s.Tests[0].Name != "TestAdd" {
					t.Errorf("got tests %+v, want the report's", s.Tests)
				}
				return
			}
			if s.Description != tt.desc {
				t.Errorf("got description %q, want %q", s.Description, tt.desc)
			}
			if len(s.Tests) != 3 || s.Failed != 3 {
				t.Errorf("got %d tests, %d failed, want the log's 3 failed", len(s.Tests), s.Failed)
			}
		})
	}
}

func FuzzParseTestLog(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, cut uint) {
		r := mustParseTestLog(t, data)
		var got counts
		for _, tr := range r.Tests {
			switch tr.Status {
			case patchgate.TestPassed:
				got.passed++
			case patchgate.TestFailed:
				got.failed++
			case patchgate.TestErrored:
				got.errored++
			case patchgate.TestSkipped:
				got.skipped++
			default:
				t.Fatalf("got status %q for %+v, want a valid one", tr.Status, tr)
			}
			if tr.Name == "" || len(tr.Name) > maxLogName || len(tr.Class) > maxLogName {
				t.Fatalf("got name %q class %q, want non-empty names of at most %d bytes", tr.Name, tr.Class, maxLogName)
			}
			if len(tr.Message) > maxJUnitMessage {
				t.Fatalf("got a message of %d bytes, want at most %d", len(tr.Message), maxJUnitMessage)
			}
			if tr.Duration < 0 {
				t.Fatalf("got duration %v, want >= 0", tr.Duration)
			}
		}
		if got != countsOf(r) {
			t.Fatalf("got counters %+v, want the statuses' %+v", countsOf(r), got)
		}
		if d := describeFailures(failingTests(r), "exit 1"); utf8.RuneCountInString(d) > patchgate.MaxStatusDescription {
			t.Fatalf("got description of %d characters, want at most %d: %q", utf8.RuneCountInString(d), patchgate.MaxStatusDescription, d)
		}
		// Where the writes split the log does not matter.
		var l TestLog
		i := int(cut % uint(len(data)+1))
		l.Write(data[:i])
		l.Write(data[i:])
		if split := l.Report(); !sameReport(split, r) {
			t.Fatalf("split at %d: got %+v, want %+v", i, split.Tests, r.Tests)
		}
	})
}

// TestParseTestLogKinds: each runner's way of saying that a package or a test
// file failed before its tests ran becomes a result of that kind, naming the
// package or file and, for a build, its first compiler error; everything else
// is a test case.
func TestParseTestLogKinds(t *testing.T) {
	const calc = "example.com/m/calc"
	tests := []struct {
		name string
		log  string
		want patchgate.TestResult // the one failing result, Kind and below
	}{
		{
			name: "go test build failure with its compiler errors",
			log: "# example.com/m/calc [example.com/m/calc.test]\ncalc/round_test.go:6:5: undefined: RoundHalfEven\n" +
				"calc/round_test.go:7:5: undefined: RoundDown\nFAIL\texample.com/m/calc [build failed]\nFAIL\n",
			want: patchgate.TestResult{Kind: patchgate.PackageBuild, Package: calc, BuildError: "calc/round_test.go:6:5: undefined: RoundHalfEven"},
		},
		{
			name: "go test build failure without its compiler errors",
			log:  "FAIL\texample.com/m/calc [build failed]\n",
			want: patchgate.TestResult{Kind: patchgate.PackageBuild, Package: calc},
		},
		{
			name: "go test setup failure",
			log:  "FAIL\texample.com/m/calc [setup failed]\n",
			want: patchgate.TestResult{Kind: patchgate.PackageSetup, Package: calc},
		},
		{
			name: "go test package failing without a failing test is a test case",
			log:  "FAIL\texample.com/m/calc\t0.01s\n",
			want: patchgate.TestResult{},
		},
		{
			name: "go test failing test",
			log:  "--- FAIL: TestRound (0.00s)\nFAIL\texample.com/m/calc\t0.01s\n",
			want: patchgate.TestResult{},
		},
		{
			name: "go test -json build failure",
			log: `{"ImportPath":"example.com/m/calc [example.com/m/calc.test]","Action":"build-output","Output":"# example.com/m/calc [example.com/m/calc.test]\n"}` + "\n" +
				`{"ImportPath":"example.com/m/calc [example.com/m/calc.test]","Action":"build-output","Output":"calc/round_test.go:6:5: undefined: RoundHalfEven\n"}` + "\n" +
				`{"ImportPath":"example.com/m/calc [example.com/m/calc.test]","Action":"build-fail"}` + "\n" +
				`{"Action":"fail","Package":"example.com/m/calc","Elapsed":0,"FailedBuild":"example.com/m/calc [example.com/m/calc.test]"}` + "\n",
			want: patchgate.TestResult{Kind: patchgate.PackageBuild, Package: calc, BuildError: "calc/round_test.go:6:5: undefined: RoundHalfEven"},
		},
		{
			name: "go test -json build failure without build output",
			log:  `{"Action":"fail","Package":"example.com/m/calc","Elapsed":0,"FailedBuild":"example.com/m/calc [example.com/m/calc.test]"}` + "\n",
			want: patchgate.TestResult{Kind: patchgate.PackageBuild, Package: calc},
		},
		{
			name: "go test -json failing test",
			log:  `{"Action":"fail","Package":"example.com/m/calc","Test":"TestRound","Elapsed":0}` + "\n",
			want: patchgate.TestResult{},
		},
		{
			name: "pytest module that does not import",
			log:  "ERROR tests/test_calc.py - ModuleNotFoundError: No module named 'calc'\n",
			want: patchgate.TestResult{Kind: patchgate.SuiteSetup, File: "tests/test_calc.py"},
		},
		{
			name: "pytest test erroring at setup is a test case",
			log:  "ERROR tests/test_calc.py::test_db - ConnectionError: db unreachable\n",
			want: patchgate.TestResult{},
		},
		{
			name: "jest suite that fails to run",
			log:  "FAIL src/db.test.js\n  ● Test suite failed to run\n\n    Cannot find module 'pg' from 'src/db.test.js'\n",
			want: patchgate.TestResult{Kind: patchgate.SuiteSetup, File: "src/db.test.js"},
		},
		{
			name: "jest failing test",
			log:  "FAIL src/db.test.js\n  ● db › connects\n\n    expected true\n",
			want: patchgate.TestResult{},
		},
		{
			name: "vitest file that fails to load",
			log:  " FAIL  src/db.test.ts [ src/db.test.ts ]\n",
			want: patchgate.TestResult{Kind: patchgate.SuiteSetup, File: "src/db.test.ts"},
		},
		{
			name: "cargo failing test",
			log:  "     Running unittests src/lib.rs (target/debug/deps/ids-1c2d)\ntest tests::x ... FAILED\n",
			want: patchgate.TestResult{},
		},
		{
			name: "JUnit report printed into the log, naming a build failure",
			log: "<testsuites>\n<testsuite name=\"calc\">\n<testcase classname=\"\" name=\"example.com/m/calc [build failed]\">" +
				"<error message=\"build failed\"/></testcase>\n</testsuite>\n</testsuites>\n",
			want: patchgate.TestResult{Kind: patchgate.PackageBuild, Package: calc},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustParseTestLog(t, []byte(tt.log))
			var failing []patchgate.TestResult
			for _, tr := range r.Tests {
				if tr.Status == patchgate.TestFailed || tr.Status == patchgate.TestErrored {
					failing = append(failing, tr)
				}
			}
			if len(failing) != 1 {
				t.Fatalf("got failing %+v, want one", failing)
			}
			got := patchgate.TestResult{Kind: failing[0].Kind, Package: failing[0].Package, File: failing[0].File, BuildError: failing[0].BuildError}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// at gives a failed test the file and line its output named.
func at(t patchgate.TestResult, file string, line int) patchgate.TestResult {
	t.File, t.Line = file, line
	return t
}
