package runners

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/patchgate/patchgate"
)

// MustReadJUnitFixture returns testdata/junit/name.
func MustReadJUnitFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "junit", name))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// counts is a report's four counters, compared as one value.
type counts struct{ passed, failed, errored, skipped int }

func countsOf(r *JUnitReport) counts { return counts{r.Passed, r.Failed, r.Errored, r.Skipped} }

func passed(class, name string, d time.Duration) patchgate.TestResult {
	return patchgate.TestResult{Class: class, Name: name, Status: patchgate.TestPassed, Duration: d}
}

func failed(class, name string, d time.Duration, msg string) patchgate.TestResult {
	return patchgate.TestResult{Class: class, Name: name, Status: patchgate.TestFailed, Duration: d, Message: msg}
}

func errored(class, name string, d time.Duration, msg string) patchgate.TestResult {
	return patchgate.TestResult{Class: class, Name: name, Status: patchgate.TestErrored, Duration: d, Message: msg}
}

func skipped(class, name string, d time.Duration) patchgate.TestResult {
	return patchgate.TestResult{Class: class, Name: name, Status: patchgate.TestSkipped, Duration: d}
}

const ms = time.Millisecond

func TestParseJUnit(t *testing.T) {
	const (
		calc  = "github.com/acme/calc"
		parse = "github.com/acme/calc/internal/parse"
		java  = "com.acme.calc.CalculatorTest"
	)
	tests := []struct {
		name   string
		file   string
		counts counts
		tests  []patchgate.TestResult
	}{
		{
			name:   "go-junit-report",
			file:   "go-junit-report.failure-in-cdata.xml",
			counts: counts{passed: 3, failed: 1, skipped: 1},
			tests: []patchgate.TestResult{
				passed(calc, "TestAdd", 0),
				at(failed(calc, "TestRound", 20*ms, "Failed"), "round_test.go", 14),
				passed(calc, "TestRound/half_even", 130*ms),
				passed(parse, "TestParse", 1*ms),
				skipped(parse, "TestParseLocale", 0),
			},
		},
		{
			name:   "gotestsum",
			file:   "gotestsum.skipped-message-attr.xml",
			counts: counts{passed: 1, failed: 2, skipped: 1},
			tests: []patchgate.TestResult{
				passed(calc, "TestAdd", 0),
				failed(calc, "TestRound", 10*ms, "Failed"),
				skipped(calc, "TestSlow", 0),
				failed(calc+"/cmd/calc", "TestMain", 0, "Failed"),
			},
		},
		{
			name:   "maven surefire",
			file:   "surefire.flaky-failure-passes-on-rerun.xml",
			counts: counts{passed: 2, failed: 1, errored: 1, skipped: 1},
			tests: []patchgate.TestResult{
				passed(java, "addsTwoNumbers", 4*ms),
				failed(java, "roundsHalfUp", 21*ms, "expected: <3> but was: <2>"),
				errored(java, "dividesByZero", 2*ms, "/ by zero"),
				skipped(java, "parsesGermanLocale", 0),
				passed(java, "fetchesRates", 1204*ms),
			},
		},
		{
			name:   "pytest",
			file:   "pytest.error-on-setup-and-xfail.xml",
			counts: counts{passed: 1, failed: 1, errored: 1, skipped: 2},
			tests: []patchgate.TestResult{
				passed("tests.test_calc", "test_add", 1*ms),
				failed("tests.test_calc", "test_round[2.5-3]", 2*ms, "assert 2 == 3\n +  where 2 = round(2.5)"),
				skipped("tests.test_calc", "test_windows_paths", 0),
				skipped("tests.test_calc", "test_float_bug", 1*ms),
				errored("tests.test_db", "test_query", 4*ms, `failed on setup with "ConnectionRefusedError: [Errno 111] Connection refused"`),
			},
		},
		{
			name:   "jest-junit",
			file:   "jest-junit.failure-body-without-message.xml",
			counts: counts{passed: 2, failed: 1, skipped: 1},
			tests: []patchgate.TestResult{
				passed("Calculator adds two numbers", "Calculator adds two numbers", 4*ms),
				failed("Calculator rounds half up", "Calculator rounds half up", 6*ms, "Error: expect(received).toBe(expected) // Object.is equality"),
				skipped("Calculator parses locales", "Calculator parses locales", 0),
				passed("format pads with zeros", "format pads with zeros", 1*ms),
			},
		},
		{
			name:   "bare testsuite root",
			file:   "bare-testsuite-root.xml",
			counts: counts{passed: 2},
			tests: []patchgate.TestResult{
				passed("CalcTests", "testAdd", 1*ms),
				passed("CalcTests", "testSub", 2*ms),
			},
		},
		{
			name:   "nested testsuites",
			file:   "nested-testsuites-phpunit.xml",
			counts: counts{passed: 2, failed: 1},
			tests: []patchgate.TestResult{
				passed("Tests.Unit.CalcTest", "testAdd", 4*ms),
				failed("Tests.Unit.CalcTest", "testRound", 6*ms, `Tests\Unit\CalcTest::testRound`),
				passed("Tests.Unit.FormatTest", "testPad", 2*ms),
			},
		},
		{
			name:   "failure message attr vs body",
			file:   "failure-message-attr-vs-body.xml",
			counts: counts{failed: 4},
			tests: []patchgate.TestResult{
				failed("Msg", "attrWins", 100*ms, "the attribute"),
				failed("Msg", "bodyFirstLine", 100*ms, "first line of the body"),
				failed("Msg", "emptyAttrFallsBack", 100*ms, "from the body"),
				failed("Msg", "noMessageAtAll", 100*ms, ""),
			},
		},
		{
			name:   "error, skipped and both at once",
			file:   "outcomes-error-skipped-and-combinations.xml",
			counts: counts{failed: 2, errored: 2, skipped: 1},
			tests: []patchgate.TestResult{
				errored("Out", "errored", 100*ms, "NullPointerException"),
				skipped("Out", "skipped", 100*ms),
				failed("Out", "failedAndSkipped", 100*ms, "but it ran and failed"),
				failed("Out", "failedAndErrored", 100*ms, "assertion failed"),
				errored("Out", "erroredAndSkipped", 100*ms, "setup blew up"),
			},
		},
		{
			name:   "missing and unreadable times",
			file:   "times-missing-empty-comma-and-odd.xml",
			counts: counts{passed: 8},
			tests: []patchgate.TestResult{
				passed("T", "missing", 0),
				passed("T", "empty", 0),
				passed("T", "comma", 0),
				passed("T", "grouped", 0),
				passed("T", "negative", 0),
				passed("T", "nan", 0),
				passed("T", "huge", 0),
				passed("T", "spaced", 2250*ms),
			},
		},
		{
			name: "empty report",
			file: "empty-testsuites.xml",
		},
		{
			name:   "utf-8 byte order mark",
			file:   "utf8-bom-windows-producer.xml",
			counts: counts{passed: 1},
			tests:  []patchgate.TestResult{passed("B", "withBOM", 500*ms)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseJUnit(MustReadJUnitFixture(t, tt.file))
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if got := countsOf(r); got != tt.counts {
				t.Errorf("got counts %+v, want %+v", got, tt.counts)
			}
			if len(r.Tests) != len(tt.tests) {
				t.Fatalf("got %d tests %+v, want %d", len(r.Tests), r.Tests, len(tt.tests))
			}
			for i := range tt.tests {
				if r.Tests[i] != tt.tests[i] {
					t.Errorf("test %d: got %+v, want %+v", i, r.Tests[i], tt.tests[i])
				}
			}
		})
	}
}

func TestParseJUnitRejects(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string // in the message
	}{
		{"malformed XML", MustReadJUnitFixture(t, "malformed-truncated-mid-write.xml"), "XML syntax error"},
		{"wrong root", MustReadJUnitFixture(t, "wrong-root-html.xml"), "root is <html>"},
		{"empty input", nil, "no root element"},
		{"prolog only", []byte(`<?xml version="1.0"?>` + "\n"), "no root element"},
		{"second root", []byte(`<testsuites/><testsuites/>`), "second root element"},
		{"mismatched end tag", []byte(`<testsuite><testcase></testsuite>`), "XML syntax error"},
		{"undefined entity", []byte(`<testsuite><testcase name="&nbsp;"/></testsuite>`), "entity"},
		{"internal DTD entity", []byte(`<!DOCTYPE t [<!ENTITY a "aaaaaaaa">]><testsuite><testcase name="&a;"/></testsuite>`), "entity"},
		{"unsupported encoding", []byte(`<?xml version="1.0" encoding="ISO-8859-1"?><testsuite/>`), "ISO-8859-1"},
		{"invalid UTF-8", []byte("<testsuite><testcase name=\"\xff\"/></testsuite>"), "UTF-8"},
		{"nested too deep", nested(maxJUnitDepth + 1), "deeper than 32"},
		{"too many test cases", cases(MaxJUnitTests + 1), "too many test cases"},
		{"too large", make([]byte, MaxJUnitBytes+1), "more than the 52428800 allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseJUnit(tt.data)
			if err == nil {
				t.Fatalf("got report %+v, want an error", r)
			}
			if code := patchgate.ErrorCode(err); code != patchgate.EINVALID {
				t.Errorf("got code %q, want %q", code, patchgate.EINVALID)
			}
			if msg := patchgate.ErrorMessage(err); !strings.Contains(msg, tt.want) {
				t.Errorf("got message %q, want it to contain %q", msg, tt.want)
			}
		})
	}
}

// TestParseJUnitLimits checks that reports right at the limits still parse,
// so the limits reject only what is past them.
func TestParseJUnitLimits(t *testing.T) {
	tests := []struct {
		name  string
		data  []byte
		tests int
	}{
		{"nesting depth 32", nested(maxJUnitDepth), 1},
		{"100000 test cases", cases(MaxJUnitTests), MaxJUnitTests},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseJUnit(tt.data)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if len(r.Tests) != tt.tests || r.Passed != tt.tests {
				t.Errorf("got %d tests, %d passed, want %d of each", len(r.Tests), r.Passed, tt.tests)
			}
		})
	}
}

// nested returns a report whose elements nest depth deep: suites around a
// test case around a <failure>-free child.
func nested(depth int) []byte {
	var b strings.Builder
	suites := depth - 2
	b.WriteString(strings.Repeat("<testsuite>", suites))
	b.WriteString(`<testcase name="deep"><system-out>x</system-out></testcase>`)
	b.WriteString(strings.Repeat("</testsuite>", suites))
	return []byte(b.String())
}

// cases returns a report with n passing test cases.
func cases(n int) []byte {
	var b strings.Builder
	b.WriteString("<testsuite>")
	for range n {
		b.WriteString(`<testcase name="t"/>`)
	}
	b.WriteString("</testsuite>")
	return []byte(b.String())
}

func TestParseJUnitMessageTruncation(t *testing.T) {
	// "é" is two bytes, so 1 KiB falls in the middle of the 513th.
	long := "x" + strings.Repeat("é", 600)
	want := "x" + strings.Repeat("é", 511)
	tests := []struct {
		name string
		data string
	}{
		{"message attribute", `<testsuite><testcase name="t"><failure message="` + long + `"/></testcase></testsuite>`},
		{"body line", `<testsuite><testcase name="t"><error>` + long + "\nsecond line</error></testcase></testsuite>"},
		{"body line split by CDATA", `<testsuite><testcase name="t"><failure>` + long[:301] + `<![CDATA[` + long[301:] + `]]></failure></testcase></testsuite>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseJUnit([]byte(tt.data))
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			got := r.Tests[0].Message
			if !utf8.ValidString(got) {
				t.Errorf("got invalid UTF-8 %q, want a cut on a character boundary", got)
			}
			if got != want {
				t.Errorf("got %d bytes %q, want %d bytes %q", len(got), got, len(want), want)
			}
		})
	}
}

func TestJUnitReportSummary(t *testing.T) {
	tests := []struct {
		name   string
		report *JUnitReport
		want   string
	}{
		{"nil", nil, "no tests"},
		{"empty", &JUnitReport{}, "no tests"},
		{"all passed", &JUnitReport{Passed: 41}, "41 passed"},
		{"none passed", &JUnitReport{Failed: 3}, "0 passed, 3 failed"},
		{"failed and skipped", &JUnitReport{Passed: 41, Failed: 1, Skipped: 2}, "41 passed, 1 failed, 2 skipped"},
		{"everything", &JUnitReport{Passed: 1, Failed: 2, Errored: 3, Skipped: 4}, "1 passed, 2 failed, 3 errored, 4 skipped"},
		{"only skipped", &JUnitReport{Skipped: 2}, "0 passed, 2 skipped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.report.Summary(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestJUnitReportFailedNames(t *testing.T) {
	report := &JUnitReport{Tests: []patchgate.TestResult{
		passed("pkg", "TestOK", 0),
		failed("pkg", "TestRound", 0, "got 2"),
		skipped("pkg", "TestSkip", 0),
		errored("com.acme.DbTest", "connects", 0, "refused"),
		failed("", "test_no_class", 0, ""),
		failed("Calculator rounds", "Calculator rounds", 0, ""),
	}}
	tests := []struct {
		name   string
		report *JUnitReport
		n      int
		want   []string
	}{
		{"first one", report, 1, []string{"pkg.TestRound"}},
		{"all", report, 10, []string{"pkg.TestRound", "com.acme.DbTest.connects", "test_no_class", "Calculator rounds"}},
		{"zero", report, 0, nil},
		{"negative", report, -1, nil},
		{"none failed", &JUnitReport{Tests: []patchgate.TestResult{passed("pkg", "TestOK", 0)}}, 3, nil},
		{"nil report", nil, 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.report.FailedNames(tt.n); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzParseJUnit(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseJUnit(data)
		if err != nil {
			if code := patchgate.ErrorCode(err); code != patchgate.EINVALID {
				t.Fatalf("got error code %q (%v), want %q", code, err, patchgate.EINVALID)
			}
			return
		}
		if sum := r.Passed + r.Failed + r.Errored + r.Skipped; sum != len(r.Tests) {
			t.Fatalf("got %d+%d+%d+%d = %d counted, want len(Tests) = %d", r.Passed, r.Failed, r.Errored, r.Skipped, sum, len(r.Tests))
		}
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
			if len(tr.Message) > maxJUnitMessage || !utf8.ValidString(tr.Message) {
				t.Fatalf("got message %q (%d bytes), want valid UTF-8 of at most %d", tr.Message, len(tr.Message), maxJUnitMessage)
			}
			if tr.Duration < 0 {
				t.Fatalf("got duration %v, want >= 0", tr.Duration)
			}
		}
		if got != countsOf(r) {
			t.Fatalf("got counters %+v, want the statuses' %+v", countsOf(r), got)
		}
		if r.Summary() == "" {
			t.Fatal("got empty summary, want one")
		}
		if names := r.FailedNames(len(r.Tests)); len(names) != r.Failed+r.Errored {
			t.Fatalf("got %d failed names, want %d", len(names), r.Failed+r.Errored)
		}
	})
}

// TestParseJUnitKinds: a report's case named in one of the forms that say a
// package or test file failed before its tests ran gets that kind.
func TestParseJUnitKinds(t *testing.T) {
	tests := []struct {
		name     string
		testcase string
		want     patchgate.TestResult // Kind and below
	}{
		{"go build failure", `<testcase classname="" name="example.com/m/calc [build failed]"><error message="x"/></testcase>`,
			patchgate.TestResult{Kind: patchgate.PackageBuild, Package: "example.com/m/calc"}},
		{"go setup failure", `<testcase classname="" name="example.com/m/calc [setup failed]"><error message="x"/></testcase>`,
			patchgate.TestResult{Kind: patchgate.PackageSetup, Package: "example.com/m/calc"}},
		{"jest suite that fails to run", `<testcase classname="src/db.test.js" name="Test suite failed to run"><error message="x"/></testcase>`,
			patchgate.TestResult{Kind: patchgate.SuiteSetup, File: "src/db.test.js"}},
		{"pytest module by path", `<testcase classname="" name="tests/test_calc.py"><error message="x"/></testcase>`,
			patchgate.TestResult{Kind: patchgate.SuiteSetup, File: "tests/test_calc.py"}},
		{"failing case without a name", `<testcase classname="tests.test_calc" name=""><error message="x"/></testcase>`,
			patchgate.TestResult{Kind: patchgate.SuiteSetup, File: "tests.test_calc"}},
		{"passing case without a name is a test case", `<testcase classname="tests.test_calc" name=""/>`,
			patchgate.TestResult{}},
		{"failing test", `<testcase classname="example.com/m/calc" name="TestRound"><failure message="x"/></testcase>`,
			patchgate.TestResult{}},
		{"pytest parametrised by a file name is a test case", `<testcase classname="tests.test_calc" name="test_load[data/x.py]"><failure message="x"/></testcase>`,
			patchgate.TestResult{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseJUnit([]byte(`<testsuites><testsuite name="s">` + tt.testcase + `</testsuite></testsuites>`))
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Tests) != 1 {
				t.Fatalf("got %d tests, want 1", len(r.Tests))
			}
			tr := r.Tests[0]
			got := patchgate.TestResult{Kind: tr.Kind, Package: tr.Package, File: tr.File, BuildError: tr.BuildError}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
