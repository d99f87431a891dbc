package patchgate

import (
	"strings"
	"testing"
)

func TestFailureAnnotations(t *testing.T) {
	fail := func(class, file string, line int) TestResult {
		return TestResult{Class: class, Name: "TestRound", Status: TestFailed, File: file, Line: line, Message: "got 2, want 3"}
	}
	tests := []struct {
		name     string
		repo     string
		in       TestResult
		wantPath string // "" for no annotation
	}{
		{"package inside the repository's import path", "acme/payments", fail("github.com/acme/payments/calc", "round_test.go", 42), "calc/round_test.go"},
		{"module root package", "acme/payments", fail("github.com/acme/payments", "x_test.go", 42), "x_test.go"},
		{"case of the import path differs", "Acme/Payments", fail("github.com/acme/payments/calc", "round_test.go", 42), "calc/round_test.go"},
		{"vanity import path", "acme/payments", fail("example.com/pay/calc/money", "m_test.go", 1), "calc/money/m_test.go"},
		{"GitLab nested group", "acme/platform/api", fail("gitlab.com/acme/platform/api/v2/h", "h_test.go", 3), "v2/h/h_test.go"},
		{"no line", "acme/payments", fail("github.com/acme/payments/calc", "round_test.go", 0), ""},
		{"no file", "acme/payments", fail("github.com/acme/payments/calc", "", 4), ""},
		{"passed", "acme/payments", TestResult{Class: "github.com/acme/payments", Status: TestPassed, File: "x_test.go", Line: 1}, ""},
		{"quarantined failure", "acme/payments", func() TestResult {
			r := fail("github.com/acme/payments", "x_test.go", 9)
			r.Quarantined = true
			return r
		}(), ""},
		{"package build failure", "acme/payments", TestResult{Class: "github.com/acme/payments", Status: TestFailed, Kind: PackageBuild, File: "x_test.go", Line: 1}, ""},
		{"path escaping the repository", "acme/payments", fail("github.com/acme/payments", "../../etc/x_test.go", 1), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FailureAnnotations(tt.repo, []TestResult{tt.in})
			if tt.wantPath == "" {
				if len(got) != 0 {
					t.Errorf("got %+v, want no annotation", got)
				}
				return
			}
			if len(got) != 1 || got[0].Path != tt.wantPath || got[0].Line != tt.in.Line || got[0].Message != "got 2, want 3" || got[0].Title != "TestRound failed" {
				t.Errorf("got %+v, want one on %s:%d", got, tt.wantPath, tt.in.Line)
			}
		})
	}
	many := make([]TestResult, MaxCheckAnnotations+10)
	for i := range many {
		many[i] = fail("github.com/acme/payments", "x_test.go", i+1)
	}
	if got := len(FailureAnnotations("acme/payments", many)); got != MaxCheckAnnotations {
		t.Errorf("annotations of %d failures: got %d, want the cap %d", len(many), got, MaxCheckAnnotations)
	}
}

func TestCheckSummary(t *testing.T) {
	s := CheckSummary(StatusFailure, "regression: 1 failed", "https://pg.example/verifications/3")
	for _, want := range []string{"failure", "regression: 1 failed", "`suite_failed` → read the suite's log", "(https://pg.example/verifications/3)"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary %q: want it to contain %q", s, want)
		}
	}
	if s := CheckSummary(StatusError, "runner_unavailable: no runner started it within 15m0s", ""); !strings.Contains(s, "`runner_unavailable` → check that workers run") {
		t.Errorf("summary of a run no runner started: got %q, want its code and action", s)
	}
	if s := CheckSummary(StatusSuccess, "", ""); strings.Contains(s, "Code") {
		t.Errorf("summary of a pass: got %q, want no code", s)
	}
	long := CheckSummary(StatusFailure, strings.Repeat("é", MaxCheckSummary), "")
	if len(long) > MaxCheckSummary || !strings.HasSuffix(long, "…") {
		t.Errorf("long summary: got %d bytes, want at most %d ending in …", len(long), MaxCheckSummary)
	}
}

// FuzzFailureAnnotations: whatever a test log claims, an annotation points
// at a clean path inside the repository and a positive line.
func FuzzFailureAnnotations(f *testing.F) {
	f.Add("acme/payments", "github.com/acme/payments/calc", "round_test.go", 42)
	f.Add("acme/payments", "example.com/m/x", "../../etc/passwd", 1)
	f.Add("a/b", "", "..", 3)
	f.Fuzz(func(t *testing.T, repo, class, file string, line int) {
		got := FailureAnnotations(repo, []TestResult{{Class: class, Name: "T", Status: TestFailed, File: file, Line: line}})
		for _, a := range got {
			if a.Line <= 0 || a.Path == "" || a.Path == ".." || strings.HasPrefix(a.Path, "/") || strings.HasPrefix(a.Path, "../") {
				t.Fatalf("annotation %+v from class %q file %q: want a clean path inside the repository", a, class, file)
			}
		}
	})
}
