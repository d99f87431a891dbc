package verification_test

import (
	"testing"

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
