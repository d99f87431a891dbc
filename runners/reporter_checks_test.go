package runners

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges"
	"github.com/patchgate/patchgate/forges/fakeforge"
)

// TestReporterPostsCheckRunsInAppMode: with a check run writer, the verdict
// and the suite are check runs (no statuses) on the exact head, the suite's
// failed tests annotated on their files and lines as go test printed them,
// more than 50 of them, and the failed runs offer "Re-run".
func TestReporterPostsCheckRunsInAppMode(t *testing.T) {
	ff := fakeforge.New()
	defer ff.Close()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ff.EnableApp(77, "patchgate", &key.PublicKey)
	ff.InstallApp("acme/payments")
	head := strings.Repeat("ab", 20)
	ff.AddCommit("acme/payments", head, nil, "fix", "dev")
	gh, err := forges.NewGitHub(forges.Config{BaseURL: ff.GitHubAPIURL(), App: &forges.AppConfig{ID: 77, Key: key}})
	if err != nil {
		t.Fatal(err)
	}
	r := &Reporter{Statuses: map[patchgate.Forge]patchgate.StatusPoster{patchgate.GitHub: gh},
		Checks:    map[patchgate.Forge]patchgate.CheckRunPoster{patchgate.GitHub: gh},
		PublicURL: "https://patchgate.example/"}
	defer r.Close()

	// 60 failing tests, as plain go test prints them.
	var out strings.Builder
	for i := range 60 {
		fmt.Fprintf(&out, "--- FAIL: TestRound%d (0.00s)\n    round_test.go:%d: got 2, want 3\n", i, 100+i)
	}
	out.WriteString("FAIL\nFAIL\tgithub.com/acme/payments/calc\t0.01s\nFAIL\n")
	report := mustParseTestLog(t, []byte(out.String()))

	v := &patchgate.Verification{ID: 31, Forge: patchgate.GitHub, Repo: "acme/payments", SHA: head,
		State: patchgate.RunFailure, Reason: "regression failed: 60 tests"}
	s := &patchgate.SuiteRun{Name: "regression", State: patchgate.RunFailure, Description: "0 passed, 60 failed", Tests: report.Tests}
	ctx := context.Background()
	r.Queued(ctx, v)
	r.Wait()
	r.Suite(ctx, v, s)
	r.Verdict(ctx, v)
	r.Wait()

	if got := ff.Statuses("acme/payments", head); len(got) != 0 {
		t.Errorf("statuses in App mode: got %+v, want none (check runs instead)", got)
	}
	runs := map[string]fakeforge.RecordedCheckRun{}
	for _, run := range ff.CheckRuns("acme/payments", head) {
		if _, dup := runs[run.Name]; dup {
			t.Errorf("check run %s made twice for one verification", run.Name)
		}
		runs[run.Name] = run
	}
	verdict, suite := runs[VerdictContext], runs["patchgate/regression"]
	if verdict.Conclusion != "failure" || !strings.Contains(verdict.Summary, "regression failed: 60 tests") ||
		!strings.Contains(verdict.Summary, "https://patchgate.example/ui/verifications/31") || verdict.ExternalID != "31" {
		t.Errorf("verdict check run: got %+v, want a failure whose summary has the reason and the dashboard link", verdict)
	}
	if len(verdict.Actions) != 1 || verdict.Actions[0].Identifier != patchgate.CheckActionRerun {
		t.Errorf("verdict actions: got %+v, want Re-run", verdict.Actions)
	}
	if suite.Conclusion != "failure" || len(suite.Annotations) != 60 {
		t.Fatalf("suite check run: got %s with %d annotations, want failure with 60", suite.Conclusion, len(suite.Annotations))
	}
	if a := suite.Annotations[42]; a.Path != "calc/round_test.go" || a.StartLine != 142 || a.Message != "got 2, want 3" || a.Title != "TestRound42 failed" {
		t.Errorf("annotation 42: got %+v, want calc/round_test.go:142 got 2, want 3", a)
	}
}
