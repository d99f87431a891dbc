package runners

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

func mustTar(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, content := range files {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(content))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readTar(t *testing.T, r io.Reader) map[string]string {
	t.Helper()
	out := map[string]string{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = string(b)
	}
}

func TestOverlayTree(t *testing.T) {
	base := mustTar(t, map[string]string{"calc/calc.go": "buggy", "calc/calc_test.go": "old test", "calc/gone_test.go": "x"})
	got := readTar(t, OverlayTree(io.NopCloser(bytes.NewReader(base)), map[string][]byte{
		"calc/calc_test.go":     []byte("new test"),
		"calc/gone_test.go":     nil,
		"calc/sub/deep_test.go": []byte("deep"),
	}))
	want := map[string]string{"calc/calc.go": "buggy", "calc/calc_test.go": "new test", "calc/": "", "calc/sub/": "", "calc/sub/deep_test.go": "deep"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, err := io.ReadAll(OverlayTree(io.NopCloser(strings.NewReader("not a tar")), nil)); err == nil {
		t.Error("a broken source read without error")
	}
}

// TestProveRunsBaseWithTestFilesAndHead: the base side runs the base tree
// with the head's test files (the fix left out), the head side the head; a
// test that fails on the first and passes on the second makes the proof hold.
// An environment that cannot run is an error proof, never a verdict.
func TestProveRunsBaseWithTestFilesAndHead(t *testing.T) {
	baseSHA, headSHA := strings.Repeat("b", 40), strings.Repeat("h", 40)
	trees := map[string][]byte{
		baseSHA: mustTar(t, map[string]string{"calc/calc.go": "buggy"}),
		headSHA: mustTar(t, map[string]string{"calc/calc.go": "fixed", "calc/round_test.go": "TestRound"}),
	}
	// The fake runner behaves like go test -v: TestRound passes only on the
	// fixed code and exists only where its file is.
	var commands []string
	env := envFunc(func(ctx context.Context, spec patchgate.EnvironmentSpec, log io.Writer) (*patchgate.EnvironmentResult, error) {
		commands = append(commands, spec.RunID+": "+spec.Command)
		src, err := spec.Source(ctx)
		if err != nil {
			return nil, err
		}
		defer src.Close()
		files := readTar(t, src)
		if files["calc/round_test.go"] == "" {
			fmt.Fprintf(log, "ok  \texample.com/m/calc\t0.01s [no tests to run]\n")
			return &patchgate.EnvironmentResult{}, nil
		}
		if files["calc/calc.go"] == "fixed" {
			fmt.Fprintf(log, "=== RUN   TestRound\n--- PASS: TestRound (0.00s)\nPASS\nok  \texample.com/m/calc\t0.01s\n")
			return &patchgate.EnvironmentResult{}, nil
		}
		fmt.Fprintf(log, "=== RUN   TestRound\n    round_test.go:9: Round(2.5) = 2, want 3\n--- FAIL: TestRound (0.00s)\nFAIL\nFAIL\texample.com/m/calc\t0.01s\n")
		return &patchgate.EnvironmentResult{ExitCode: 1}, nil
	})
	r := &Executor{
		Environments: env,
		Source: func(ctx context.Context, repo patchgate.RepoRef, sha string) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(trees[sha])), nil
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	v := &patchgate.Verification{ID: 7, Attempt: 1, Forge: patchgate.GitHub, Repo: "acme/pay", SHA: headSHA}
	round := patchgate.ProofTest{File: "calc/round_test.go", Name: "TestRound", Language: patchgate.LangGo}
	plan := &patchgate.ProofPlan{
		BaseSHA: baseSHA, Tests: []patchgate.ProofTest{round},
		Overlay: map[string][]byte{"calc/round_test.go": []byte("TestRound")},
		Suite:   patchgate.SuitePlan{Name: "regression", Spec: patchgate.EnvironmentSpec{Command: "go test -v -run '^(TestRound)$' ./..."}},
	}
	p := r.prove(context.Background(), v, plan, r.Logger)
	if p.State != patchgate.ProofHolds || p.Description != "1 test fails without the fix and passes with it" {
		t.Fatalf("got %s %q, want holds", p.State, p.Description)
	}
	if rec := p.Tests[0]; rec.BaseMessage != "Round(2.5) = 2, want 3" {
		t.Errorf("base message: got %q", rec.BaseMessage)
	}
	want := "7-1-proof-base: go test -v -run '^(TestRound)$' ./...|7-1-proof-head: go test -v -run '^(TestRound)$' ./..."
	if got := strings.Join(commands, "|"); got != want {
		t.Errorf("runs: got %q, want %q", got, want)
	}

	// Without the overlay the base has no test: not in its results, an error.
	plan.Overlay = nil
	if p := r.prove(context.Background(), v, plan, r.Logger); p.State != patchgate.ProofError {
		t.Errorf("without the test files on the base: got %s %q, want error", p.State, p.Description)
	}

	// An environment that cannot run is an error.
	r.Environments = envFunc(func(context.Context, patchgate.EnvironmentSpec, io.Writer) (*patchgate.EnvironmentResult, error) {
		return nil, fmt.Errorf("daemon gone")
	})
	if p := r.prove(context.Background(), v, plan, r.Logger); p.State != patchgate.ProofError || !strings.Contains(p.Description, "daemon gone") {
		t.Errorf("broken environment: got %s %q, want error naming the cause", p.State, p.Description)
	}

	// No changed test: no proof, and nothing runs.
	commands = nil
	r.Environments = env
	plan.Tests = nil
	if p := r.prove(context.Background(), v, plan, r.Logger); p.State != patchgate.ProofNone || p.Description != "no regression test" || len(commands) != 0 {
		t.Errorf("no test: got %s %q after %d runs, want no regression test and no run", p.State, p.Description, len(commands))
	}
}

// TestProofFromGoBuildFailure reads real go test output of a regression test
// that calls a function only the fix adds: on the base it does not build,
// which counts as failing there, in words.
func TestProofFromGoBuildFailure(t *testing.T) {
	base, err := ParseTestLog(strings.NewReader("# example.com/m/calc [example.com/m/calc.test]\n" +
		"calc/round_test.go:6:5: undefined: RoundHalfEven\n" +
		"FAIL\texample.com/m/calc [build failed]\nFAIL\n"))
	if err != nil {
		t.Fatal(err)
	}
	head, err := ParseTestLog(strings.NewReader("=== RUN   TestRoundHalfEven\n--- PASS: TestRoundHalfEven (0.00s)\nPASS\nok  \texample.com/m/calc\t0.002s\n"))
	if err != nil {
		t.Fatal(err)
	}
	test := patchgate.ProofTest{File: "calc/round_test.go", Name: "TestRoundHalfEven", Language: patchgate.LangGo}
	p := patchgate.EvaluateProof([]patchgate.ProofTest{test}, base.Tests, head.Tests, nil)
	if p.State != patchgate.ProofHolds || p.Tests[0].Base != patchgate.ProofNotBuilt ||
		p.Tests[0].Verdict != "does not build without the fix; passes with it" {
		t.Fatalf("got %s %q %+v, want holds with the base not built", p.State, p.Description, p.Tests)
	}
	if want := "build failed: calc/round_test.go:6:5: undefined: RoundHalfEven"; p.Tests[0].BaseMessage != want {
		t.Errorf("base message: got %q, want the compiler's error %q", p.Tests[0].BaseMessage, want)
	}
}

// TestProofFromRunnerFailures reads each runner's way of saying that a
// package or test file failed before its tests ran, on the base, and judges
// the proof from it: the proof decides by the results' kinds, and its words
// are the runner's message.
func TestProofFromRunnerFailures(t *testing.T) {
	goTest := patchgate.ProofTest{File: "calc/round_test.go", Name: "TestRound", Language: patchgate.LangGo}
	goHead := "--- PASS: TestRound (0.00s)\nok  \texample.com/m/calc\t0.002s\n"
	pyTest := patchgate.ProofTest{File: "tests/test_calc.py", Name: "test_round", Language: patchgate.LangPython}
	pyHead := "tests/test_calc.py::test_round PASSED [100%]\n"
	jsTest := patchgate.ProofTest{File: "src/db.test.js", Language: patchgate.LangJS}
	jsHead := "PASS src/db.test.js\n  ✓ connects (3 ms)\n\n"
	junit := func(testcase string) string {
		return "<testsuites>\n<testsuite name=\"s\">\n" + testcase + "\n</testsuite>\n</testsuites>\n"
	}
	tests := []struct {
		name      string
		test      patchgate.ProofTest
		base      string // the base side's log, or its JUnit report
		head      string
		wantBase  patchgate.ProofOutcome
		wantMsg   string
		wantState patchgate.ProofState
	}{
		{"go test -json build failure", goTest,
			`{"ImportPath":"example.com/m/calc [example.com/m/calc.test]","Action":"build-output","Output":"calc/round_test.go:6:5: undefined: Round\n"}` + "\n" +
				`{"Action":"fail","Package":"example.com/m/calc","Elapsed":0,"FailedBuild":"example.com/m/calc [example.com/m/calc.test]"}` + "\n",
			goHead, patchgate.ProofNotBuilt, "build failed: example.com/m/calc [example.com/m/calc.test]", patchgate.ProofHolds},
		{"go test setup failure", goTest, "FAIL\texample.com/m/calc [setup failed]\n",
			goHead, patchgate.ProofNotBuilt, "the package failed without a failing test", patchgate.ProofHolds},
		{"another package's build failure says nothing of the test", goTest, "FAIL\texample.com/m/other [build failed]\n",
			goHead, patchgate.ProofMissing, "", patchgate.ProofError},
		{"go build failure in a JUnit report", goTest,
			junit(`<testcase classname="" name="example.com/m/calc [build failed]"><error message="build failed: calc/round_test.go:6:5: undefined: Round"/></testcase>`),
			goHead, patchgate.ProofNotBuilt, "build failed: calc/round_test.go:6:5: undefined: Round", patchgate.ProofHolds},
		{"pytest module that does not import", pyTest, "ERROR tests/test_calc.py - ModuleNotFoundError: No module named 'calc.rounding'\n",
			pyHead, patchgate.ProofNotBuilt, "ModuleNotFoundError: No module named 'calc.rounding'", patchgate.ProofHolds},
		{"pytest module that does not import, in a JUnit report", pyTest,
			junit(`<testcase classname="tests.test_calc" name=""><error message="collection failure"/></testcase>`),
			pyHead, patchgate.ProofNotBuilt, "collection failure", patchgate.ProofHolds},
		{"jest suite that fails to run fails its file", jsTest,
			"FAIL src/db.test.js\n  ● Test suite failed to run\n\n    Cannot find module 'pg' from 'src/db.test.js'\n",
			jsHead, patchgate.ProofFailed, "Cannot find module 'pg' from 'src/db.test.js'", patchgate.ProofHolds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, head := mustParseTestLog(t, []byte(tt.base)), mustParseTestLog(t, []byte(tt.head))
			if strings.HasPrefix(tt.base, "<testsuites>") { // a report the suite wrote
				var err error
				if base, err = ParseJUnit([]byte(tt.base)); err != nil {
					t.Fatal(err)
				}
			}
			p := patchgate.EvaluateProof([]patchgate.ProofTest{tt.test}, base.Tests, head.Tests, nil)
			if p.State != tt.wantState {
				t.Fatalf("got %s %q, want %s", p.State, p.Description, tt.wantState)
			}
			if got := p.Tests[0]; got.Base != tt.wantBase || got.BaseMessage != tt.wantMsg {
				t.Errorf("base: got %s %q, want %s %q", got.Base, got.BaseMessage, tt.wantBase, tt.wantMsg)
			}
		})
	}
}
