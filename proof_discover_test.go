package patchgate

import (
	"slices"
	"strings"
	"testing"
)

func TestTestFileLanguage(t *testing.T) {
	tests := []struct {
		path string
		want TestLanguage
		ok   bool
	}{
		{"calc/calc_test.go", LangGo, true},
		{"calc/calc.go", "", false},
		{"tests/test_calc.py", LangPython, true},
		{"calc_test.py", LangPython, true},
		{"calc.py", "", false},
		{"src/round.test.ts", LangJS, true},
		{"web/round.test.jsx", LangJS, true},
		{"src/round.ts", "", false},
		{"src/test/java/com/acme/RoundTest.java", LangJVM, true},
		{"svc/src/test/resources/data.json", LangJVM, true},
		{"src/main/java/com/acme/Round.java", "", false},
		{"docs/testing.md", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, ok := TestFileLanguage(tt.path)
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func names(ts []ProofTest) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.String())
	}
	return out
}

func TestDiscoverTests(t *testing.T) {
	tests := []struct {
		name  string
		files []ChangedFile
		want  []string
	}{
		{name: "added go test file", files: []ChangedFile{{Path: "calc/round_test.go", Status: FileAdded, Patch: "@@ -0,0 +1,12 @@\n+package calc\n+\n+import \"testing\"\n+\n+func TestRoundHalfUp(t *testing.T) {\n+\tif Round(2.5) != 3 {\n+\t\tt.Fatal(\"x\")\n+\t}\n+}\n+\n+func helper() {}\n+func TestRoundDown(t *testing.T) {}\n"}},
			want: []string{"calc/round_test.go:TestRoundDown", "calc/round_test.go:TestRoundHalfUp"}},
		{name: "modified body, function named by the hunk header", files: []ChangedFile{{Path: "calc_test.go", Status: FileModified,
			Patch: "@@ -10,6 +10,7 @@ func TestRound(t *testing.T) {\n \tcases := []struct{}{\n+\t\t{2.5, 3},\n \t}\n }\n \n func TestOther(t *testing.T) {\n"}},
			want: []string{"calc_test.go:TestRound"}},
		{name: "change after the closing brace is not in the test", files: []ChangedFile{{Path: "calc_test.go", Status: FileModified,
			Patch: "@@ -10,4 +10,6 @@ func TestRound(t *testing.T) {\n \tx := 1\n }\n+\n+var table = 3\n"}},
			want: []string{}},
		{name: "added helper after a test is not the test", files: []ChangedFile{{Path: "calc_test.go", Status: FileModified,
			Patch: "@@ -10,3 +10,5 @@ func TestRound(t *testing.T) {\n \tx := 1\n }\n+func helper() {\n+}\n"}},
			want: []string{}},
		{name: "removed test is gone", files: []ChangedFile{{Path: "calc_test.go", Status: FileModified,
			Patch: "@@ -1,3 +1,0 @@\n-func TestOld(t *testing.T) {\n-\tt.Log(1)\n-}\n"}},
			want: []string{}},
		{name: "Testing-prefixed non-test is not a test", files: []ChangedFile{{Path: "calc_test.go", Status: FileAdded,
			Patch: "@@ -0,0 +1,1 @@\n+func Testable(t *testing.T) {}\n"}},
			want: []string{}},
		{name: "non-test files are not tests", files: []ChangedFile{{Path: "calc/round.go", Status: FileModified, Patch: "@@ -1 +1 @@\n-func TestX(\n+func TestY(\n"}},
			want: []string{}},
		{name: "removed test file adds nothing", files: []ChangedFile{{Path: "calc_test.go", Status: FileRemoved, Patch: "@@ -1 +0,0 @@\n-func TestX(t *testing.T) {}\n"}},
			want: []string{}},
		{name: "no patch: the whole file", files: []ChangedFile{{Path: "calc_test.go", Status: FileModified}},
			want: []string{"calc_test.go"}},
		{name: "python method in a class", files: []ChangedFile{{Path: "tests/test_calc.py", Status: FileModified,
			Patch: "@@ -3,4 +3,7 @@ class TestCalc:\n     def test_floor(self):\n         assert floor(1.5) == 1\n+\n+    def test_round(self):\n+        assert round_half_up(2.5) == 3\n \n def helper():\n"}},
			want: []string{"tests/test_calc.py:test_round"}},
		{name: "python change after a function ended", files: []ChangedFile{{Path: "test_calc.py", Status: FileModified,
			Patch: "@@ -1,3 +1,4 @@ def test_a():\n     pass\n \n+X = 1\n"}},
			want: []string{}},
		{name: "js file level", files: []ChangedFile{{Path: "src/round.test.ts", Status: FileModified, Patch: "@@ -1 +1 @@\n-it('a')\n+it('b')\n"}},
			want: []string{"src/round.test.ts"}},
		{name: "unsafe path left out", files: []ChangedFile{{Path: "a'b_test.go", Status: FileAdded, Patch: "@@ -0,0 +1 @@\n+func TestX(t *testing.T) {}\n"}},
			want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := names(DiscoverTests(tt.files))
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzDiscoverTests feeds untrusted diffs: discovery must not panic, must
// stay within its limits, and must name only test files and identifiers.
func FuzzDiscoverTests(f *testing.F) {
	f.Add("calc_test.go", "@@ -0,0 +1,2 @@\n+func TestX(t *testing.T) {\n+}\n")
	f.Add("tests/test_x.py", "@@ -1,2 +1,3 @@ class T:\n     def test_a(self):\n+        pass\n")
	f.Add("src/a.test.ts", "")
	f.Add("x_test.go", "@@ -1 +1 @@ func TestY(\n-\n\\ No newline at end of file\n+a")
	f.Fuzz(func(t *testing.T, path, patch string) {
		got := DiscoverTests([]ChangedFile{{Path: path, Status: FileModified, Patch: patch}})
		if len(got) > maxProofTests {
			t.Fatalf("%d tests, more than %d", len(got), maxProofTests)
		}
		for _, pt := range got {
			if pt.File != path || !safeProofPath.MatchString(pt.File) {
				t.Fatalf("test file %q from path %q", pt.File, path)
			}
			if pt.Name != "" && (strings.ContainsAny(pt.Name, " '\"|()$`\\") || len(pt.Name) > maxProofNameLen) {
				t.Fatalf("unsafe test name %q", pt.Name)
			}
		}
	})
}
