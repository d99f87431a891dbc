package verification_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/usecase/verification"
)

func TestRenderProofRun(t *testing.T) {
	goTest := func(name string) patchgate.ProofTest {
		return patchgate.ProofTest{File: "calc/round_test.go", Name: name, Language: patchgate.LangGo}
	}
	tests := []struct {
		name      string
		run       string
		tests     []patchgate.ProofTest
		want      string
		wantTests int
	}{
		{"go default, anchored", "", []patchgate.ProofTest{goTest("TestA"), goTest("TestB")},
			"go test -v -count=1 -run '^(TestA|TestB)$' ./...", 2},
		{"configured", "go test -json -run '{{tests}}' ./calc/", []patchgate.ProofTest{goTest("TestA")},
			"go test -json -run '^(TestA)$' ./calc/", 1},
		{"the issue's quiet go test gets -v (passes must be listed)", "go test -run '{{tests}}' ./...", []patchgate.ProofTest{goTest("TestA")},
			"go test -v -run '^(TestA)$' ./...", 1},
		{"-v=true kept as written", "cd svc && go test -v=true -run '{{tests}}' ./...", []patchgate.ProofTest{goTest("TestA")},
			"cd svc && go test -v=true -run '^(TestA)$' ./...", 1},
		{"go file level is its package", "", []patchgate.ProofTest{{File: "calc_test.go", Language: patchgate.LangGo}},
			"go test -v -count=1 -run '^(Test.*)$' ./...", 1},
		{"python -k", "", []patchgate.ProofTest{{File: "tests/test_c.py", Name: "test_a", Language: patchgate.LangPython}, {File: "tests/test_c.py", Name: "test_b", Language: patchgate.LangPython}},
			"python -m pytest -v -k 'test_a or test_b'", 2},
		{"js files", "", []patchgate.ProofTest{{File: "src/a.test.ts", Language: patchgate.LangJS}},
			"npx jest --verbose src/a.test.ts", 1},
		{"jvm classes", "", []patchgate.ProofTest{{File: "src/test/java/com/acme/RoundTest.java", Language: patchgate.LangJVM}},
			"mvn -q test -Dtest='RoundTest'", 1},
		{"mixed: the language of most tests", "", []patchgate.ProofTest{goTest("TestA"), goTest("TestB"), {File: "src/a.test.ts", Language: patchgate.LangJS}},
			"go test -v -count=1 -run '^(TestA|TestB)$' ./...", 2},
		{"nothing to run", "", nil, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kept, got := verification.RenderProofRun(tt.run, tt.tests)
			if got != tt.want || len(kept) != tt.wantTests {
				t.Errorf("got %q with %d tests, want %q with %d", got, len(kept), tt.want, tt.wantTests)
			}
		})
	}
}

// TestRenderProofRunQuotesTests: a test's path or name with spaces, quotes or
// $(...) is one argument where {{tests}} stands, whatever quotes the command
// puts around it; it never becomes shell syntax.
func TestRenderProofRunQuotesTests(t *testing.T) {
	js := func(file string) patchgate.ProofTest {
		return patchgate.ProofTest{File: file, Language: patchgate.LangJS}
	}
	goTest := func(name string) patchgate.ProofTest {
		return patchgate.ProofTest{File: "calc/round_test.go", Name: name, Language: patchgate.LangGo}
	}
	tests := []struct {
		name  string
		run   string
		tests []patchgate.ProofTest
		want  string
	}{
		{"bare path with a space", "", []patchgate.ProofTest{js("src/a b.test.ts")},
			`npx jest --verbose 'src/a b.test.ts'`},
		{"bare paths each one argument", "", []patchgate.ProofTest{js("src/$(touch pwned).test.ts"), js("src/ok.test.ts")},
			`npx jest --verbose 'src/$(touch pwned).test.ts' src/ok.test.ts`},
		{"bare path with a quote", "", []patchgate.ProofTest{js("src/it's.test.ts")},
			`npx jest --verbose 'src/it'\''s.test.ts'`},
		{"single-quoted name with a quote", "", []patchgate.ProofTest{goTest("TestA'; touch pwned; '")},
			`go test -v -count=1 -run '^(TestA'\''; touch pwned; '\'')$' ./...`},
		{"double-quoted", `npx jest "{{tests}}"`, []patchgate.ProofTest{js("src/`id`$(id)\"\\.test.ts")},
			"npx jest \"src/\\`id\\`\\$(id)\\\"\\\\.test.ts\""},
		{"inside a command substitution in double quotes", `echo "$(ls {{tests}})"`, []patchgate.ProofTest{js("a;b.test.ts")},
			`echo "$(ls 'a;b.test.ts')"`},
		{"ANSI-C quotes", `npx jest $'{{tests}}'`, []patchgate.ProofTest{js("a'b.test.ts")},
			`npx jest $'''a'\''b.test.ts'$''`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, got := verification.RenderProofRun(tt.run, tt.tests); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// FuzzRenderProofRunQuoting runs the rendered command in a real sh: whatever
// the test file's path, the command prints exactly the arguments it should
// and runs nothing else.
func FuzzRenderProofRunQuoting(f *testing.F) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		f.Skip("no sh")
	}
	for _, s := range []string{"src/a.test.ts", "src/a b.test.ts", "src/$(touch pwned).test.ts", "it's.test.ts",
		"`touch pwned`.test.ts", `a"b\c$HOME.test.ts`, "a\nb.test.ts", "a;touch pwned;.test.ts", "*.test.ts", "$'x'.test.ts", "a)b.test.ts"} {
		f.Add(s)
	}
	// Each template prints the arguments {{tests}} makes, one per line in <>.
	templates := []struct {
		run   string
		split bool // bare: each path its own argument
	}{
		{`printf '<%s>\n' {{tests}}`, true},
		{`printf '<%s>\n' '{{tests}}'`, false},
		{`printf '<%s>\n' "{{tests}}"`, false},
		{`printf '<%s>\n' "$(printf '%s' {{tests}})"`, false}, // concatenated
		{"printf '<%s>\\n' \"`printf '%s' '{{tests}}'`\"", false},
		{`printf '<%s>\n' x{{tests}}y`, false},
	}
	f.Fuzz(func(t *testing.T, file string) {
		if file == "" || strings.ContainsAny(file, "\x00") || !utf8.ValidString(file) || strings.HasSuffix(file, "\n") {
			t.Skip() // sh cannot take NUL; $(...) drops trailing newlines
		}
		dir := t.TempDir()
		for _, tpl := range templates {
			tests := []patchgate.ProofTest{{File: file, Language: patchgate.LangJS}, {File: "b.test.ts", Language: patchgate.LangJS}}
			_, cmd := verification.RenderProofRun(tpl.run, tests)
			run := exec.Command(sh, "-c", cmd)
			run.Dir = dir
			out, err := run.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: got %v: %s", cmd, err, out)
			}
			want := "<" + file + ">\n<b.test.ts>\n"
			if !tpl.split {
				want = "<" + file + " b.test.ts>\n"
			}
			if strings.Contains(tpl.run, "$(printf") {
				want = "<" + file + "b.test.ts>\n"
			}
			if strings.HasPrefix(tpl.run, `printf '<%s>\n' x`) {
				want = "<x" + file + ">\n<b.test.tsy>\n"
			}
			if string(out) != want {
				t.Errorf("%s: got %q, want %q", cmd, out, want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				t.Fatalf("%s: ran something that created %s", cmd, entries[0].Name())
			}
		}
	})
}
