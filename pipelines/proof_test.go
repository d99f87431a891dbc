package pipelines_test

import (
	"context"
	"github.com/patchgate/patchgate/store"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/config"
	"github.com/patchgate/patchgate/pipelines"
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
			kept, got := pipelines.RenderProofRun(tt.run, tt.tests)
			if got != tt.want || len(kept) != tt.wantTests {
				t.Errorf("got %q with %d tests, want %q with %d", got, len(kept), tt.want, tt.wantTests)
			}
		})
	}
}

func TestProofBlocker(t *testing.T) {
	who := "PAY-7: fix in #42"
	passesOnBase := patchgate.EvaluateProof([]patchgate.ProofTest{{File: "a_test.go", Name: "TestA", Language: patchgate.LangGo}},
		[]patchgate.TestResult{{Name: "TestA", Status: patchgate.TestPassed}}, []patchgate.TestResult{{Name: "TestA", Status: patchgate.TestPassed}}, nil)
	holds := patchgate.EvaluateProof([]patchgate.ProofTest{{File: "a_test.go", Name: "TestA", Language: patchgate.LangGo}},
		[]patchgate.TestResult{{Name: "TestA", Status: patchgate.TestFailed}}, []patchgate.TestResult{{Name: "TestA", Status: patchgate.TestPassed}}, nil)
	noTest := patchgate.NoProof("")
	broken := patchgate.Proof{State: patchgate.ProofError, Description: "no test ran on the head"}
	tests := []struct {
		name  string
		proof *patchgate.Proof
		want  string
	}{
		{"holds", &holds, ""},
		{"no test", &noTest, "PAY-7: fix in #42 adds no test that fails without it"},
		{"passes on base", &passesOnBase, "PAY-7: fix in #42 adds no test that fails without it (no proof: test passes without the fix: a_test.go:TestA)"},
		{"error", &broken, "PAY-7: fix in #42 has no proof: no test ran on the head"},
		{"never ran", nil, "PAY-7: fix in #42 has no fail-to-pass proof"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pipelines.ProofBlocker(who, tt.proof); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestProofPlan: for the head of a pull request that fixes a ticket, the plan
// names the tests the change adds, carries the head's test files to lay over
// the base, and runs exactly those tests in the proof suite's environment; a
// change that fixes nothing has nothing to prove.
func TestProofPlan(t *testing.T) {
	ctx := context.Background()
	w := newReleaseWorld(t)
	w.svc.Proofs = w.vs
	head := sha('5')
	w.forge.AddCommit(relRepo, head, map[string][]byte{
		"calc.go":      []byte("package calc\n\nfunc Round() {}\n"),
		"calc_test.go": []byte("package calc\n\nimport \"testing\"\n\nfunc TestRound(t *testing.T) {\n\tRound()\n}\n"),
	}, "PAY-1: fix rounding", "dev", w.base)
	cfg, err := config.ParseRepoFile(".patchgate.yml", []byte(releaseConfig))
	if err != nil {
		t.Fatal(err)
	}
	change := func(number int, title string) (*patchgate.Change, *patchgate.Verification) {
		t.Helper()
		ch, _, err := w.svc.Changes.ApplyChangeUpdate(ctx, patchgate.ChangeUpdate{
			Forge: patchgate.GitHub, Repo: relRepo, Kind: patchgate.ChangePullRequest, Number: number, Title: title,
			SourceBranch: "fix", TargetBranch: "main", HeadSHA: head, BaseSHA: w.base, Author: "dev",
			State: patchgate.ChangeOpen, UpdatedAt: time.Now(),
		})
		if err != nil {
			t.Fatal(err)
		}
		return ch, &patchgate.Verification{Forge: patchgate.GitHub, Repo: relRepo, SHA: head, ChangeID: ch.ID,
			ConfigRef: head, ConfigDigest: cfg.Digest}
	}
	fix, v := change(2, "PAY-1: fix rounding")
	if _, _, err := w.svc.Links.SyncExtractedLinks(ctx, fix.ID, []patchgate.LinkSource{patchgate.SourceTitle},
		[]*patchgate.Link{{TicketID: w.ticket.ID, ChangeID: fix.ID, Kind: patchgate.LinkFixes, Source: patchgate.SourceTitle, Provenance: "PAY-1", CreatedBy: "patchgate"}}); err != nil {
		t.Fatal(err)
	}
	plan, err := w.svc.ProofPlan(ctx, v)
	if err != nil {
		t.Fatalf("ProofPlan: %v", err)
	}
	if plan.BaseSHA != w.base || len(plan.Tests) != 1 || plan.Tests[0].String() != "calc_test.go:TestRound" {
		t.Errorf("got base %s tests %v, want %s and calc_test.go:TestRound", plan.BaseSHA, plan.Tests, w.base)
	}
	if len(plan.Overlay) != 1 || !strings.Contains(string(plan.Overlay["calc_test.go"]), "func TestRound") {
		t.Errorf("overlay: got %v, want the head's calc_test.go only (not the fix)", plan.Overlay)
	}
	if want := "go test -v -count=1 -run '^(TestRound)$' ./..."; plan.Suite.Spec.Command != want || plan.Suite.Name != "regression" {
		t.Errorf("got suite %s command %q, want regression %q", plan.Suite.Name, plan.Suite.Spec.Command, want)
	}

	// A quarantined test never serves as proof: the plan names it excluded.
	w.svc.Quarantines = store.NewQuarantineService(w.db)
	if err := w.svc.Quarantines.CreateQuarantine(ctx, &patchgate.Quarantine{Forge: patchgate.GitHub, Repo: relRepo,
		Test: "TestRound", Owner: "alice", Ticket: "PAY-9", ExpiresAt: time.Now().Add(24 * time.Hour), CreatedBy: "admin"}); err != nil {
		t.Fatal(err)
	}
	if plan, err = w.svc.ProofPlan(ctx, v); err != nil {
		t.Fatalf("ProofPlan with a quarantine: %v", err)
	}
	if !plan.Excluded["TestRound"] {
		t.Errorf("quarantined TestRound: got excluded %v, want it excluded from the proof", plan.Excluded)
	}
	w.svc.Quarantines = nil

	_, other := change(3, "refactor")
	if _, err := w.svc.ProofPlan(ctx, other); patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
		t.Errorf("a change that fixes no ticket: got %v, want ENOTFOUND", err)
	}
}
