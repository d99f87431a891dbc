package forges_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
)

func annotations(n int) []patchgate.CheckAnnotation {
	out := make([]patchgate.CheckAnnotation, n)
	for i := range out {
		out[i] = patchgate.CheckAnnotation{Path: "calc/round_test.go", Line: i + 1, Title: fmt.Sprintf("TestRound%d failed", i), Message: "got 2, want 3"}
	}
	return out
}

func TestPostCheckRunAnnotationsInBatches(t *testing.T) {
	ff, clock := appForge(t)
	g := appClient(t, ff, clock, mustAppKey(t))
	repo := patchgate.RepoRef{Forge: patchgate.GitHub, Name: "acme/payments"}
	head := sha("checks")
	ff.AddCommit(repo.Name, head, nil, "m", "dev")
	ctx := context.Background()

	running := patchgate.CheckRun{Name: "patchgate/regression", ExternalID: "17", State: patchgate.StatusRunning, Title: "running"}
	if err := g.PostCheckRun(ctx, repo, head, running); err != nil {
		t.Fatalf("PostCheckRun running: %v", err)
	}
	summary := patchgate.CheckSummary(patchgate.StatusFailure, "1 passed, 120 failed", "https://patchgate.example/verifications/17")
	failed := patchgate.CheckRun{Name: "patchgate/regression", ExternalID: "17", State: patchgate.StatusFailure,
		Title: "1 passed, 120 failed", Summary: summary, DetailsURL: "https://patchgate.example/verifications/17",
		Annotations: annotations(120), Rerun: true}
	if err := g.PostCheckRun(ctx, repo, head, failed); err != nil {
		t.Fatalf("PostCheckRun failed with 120 annotations: %v", err)
	}
	runs := ff.CheckRuns(repo.Name, head)
	if len(runs) != 1 {
		t.Fatalf("check runs: got %d, want 1 (created once, then updated)", len(runs))
	}
	run := runs[0]
	if run.AppID != testAppID || run.Status != "completed" || run.Conclusion != "failure" || run.ExternalID != "17" {
		t.Errorf("check run: got app %d %s/%s external id %q, want app %d completed/failure 17", run.AppID, run.Status, run.Conclusion, run.ExternalID, testAppID)
	}
	if len(run.Annotations) != 120 || run.Annotations[119].StartLine != 120 || run.Annotations[0].AnnotationLevel != "failure" ||
		run.Annotations[0].Path != "calc/round_test.go" {
		t.Errorf("annotations: got %d (last %+v), want 120 failures on calc/round_test.go, the last on line 120", len(run.Annotations), run.Annotations[len(run.Annotations)-1])
	}
	// One create, then the update with the first 50, then 50 and 20.
	if run.Requests != 4 {
		t.Errorf("requests that wrote the check run: got %d, want 4 (create, update + 2 more batches of ≤ 50)", run.Requests)
	}
	if !strings.Contains(run.Summary, "failure") || !strings.Contains(run.Summary, "120 failed") || !strings.Contains(run.Summary, "https://patchgate.example/verifications/17") {
		t.Errorf("summary: got %q, want outcome, reason and link", run.Summary)
	}
	if len(run.Actions) != 1 || run.Actions[0].Identifier != patchgate.CheckActionRerun || run.Actions[0].Label != "Re-run" {
		t.Errorf("actions: got %+v, want the Re-run button", run.Actions)
	}

	// After a restart (an empty cache) the run is found, not made twice; a
	// new verification's run is a new check run.
	g2 := appClient(t, ff, clock, mustAppKey(t))
	ff.AddForeignCheckRun(repo.Name, head, "patchgate/regression", 99)
	if err := g2.PostCheckRun(ctx, repo, head, patchgate.CheckRun{Name: "patchgate/regression", ExternalID: "17", State: patchgate.StatusFailure, Title: "again"}); err != nil {
		t.Fatalf("PostCheckRun after restart: %v", err)
	}
	if err := g2.PostCheckRun(ctx, repo, head, patchgate.CheckRun{Name: "patchgate/regression", ExternalID: "18", State: patchgate.StatusPending, Title: "queued"}); err != nil {
		t.Fatalf("PostCheckRun of a new verification: %v", err)
	}
	var ours []fakeforge.RecordedCheckRun
	for _, r := range ff.CheckRuns(repo.Name, head) {
		if r.AppID == testAppID {
			ours = append(ours, r)
		}
	}
	if len(ours) != 2 || ours[0].Title != "again" || ours[0].ExternalID != "17" || ours[1].ExternalID != "18" || ours[1].Status != "queued" {
		t.Errorf("our check runs: got %+v, want run 17 updated and run 18 new", ours)
	}
}

// TestCheckRunsNeedTheApp: a token can post statuses but no check runs, on
// GitHub and on the fake; the fake refuses more than 50 annotations at once.
func TestCheckRunsNeedTheApp(t *testing.T) {
	ff, clock := appForge(t)
	head := sha("token-mode")
	ff.AddCommit("acme/payments", head, nil, "m", "dev")
	g := forgeCases[0].MustClient(t, ff).(interface {
		PostCheckRun(context.Context, patchgate.RepoRef, string, patchgate.CheckRun) error
	})
	err := g.PostCheckRun(context.Background(), patchgate.RepoRef{Forge: patchgate.GitHub, Name: "acme/payments"}, head,
		patchgate.CheckRun{Name: "patchgate/verdict", State: patchgate.StatusSuccess})
	wantCode(t, err, patchgate.EFORBIDDEN)
	if !strings.Contains(err.Error(), "github.app_id") {
		t.Errorf("token mode: got %v, want it to name github.app_id", err)
	}

	raw := func(bearer string, n int) int {
		t.Helper()
		var as []string
		for i := range n {
			as = append(as, fmt.Sprintf(`{"path":"a_test.go","start_line":%d,"end_line":%d,"annotation_level":"failure","message":"m"}`, i+1, i+1))
		}
		body := fmt.Sprintf(`{"name":"x","head_sha":%q,"output":{"title":"t","summary":"s","annotations":[%s]}}`, head, strings.Join(as, ","))
		req, _ := http.NewRequest("POST", ff.GitHubAPIURL()+"repos/acme/payments/check-runs", bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer "+bearer)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := raw(fakeforge.Token, 1); got != http.StatusForbidden {
		t.Errorf("check run with a plain token: got %d, want 403", got)
	}
	app := appClient(t, ff, clock, mustAppKey(t))
	if err := app.PostStatus(context.Background(), patchgate.RepoRef{Forge: patchgate.GitHub, Name: "acme/payments"}, head,
		patchgate.CommitStatus{Context: "warm-up", State: patchgate.StatusPending}); err != nil {
		t.Fatal(err)
	}
	token := installationTokenOf(t, ff, clock)
	if got := raw(token, 50); got != http.StatusCreated {
		t.Errorf("check run with 50 annotations: got %d, want 201", got)
	}
	if got := raw(token, 51); got != http.StatusUnprocessableEntity {
		t.Errorf("check run with 51 annotations: got %d, want 422", got)
	}
}

// installationTokenOf gets an installation token for acme/payments the way
// the client does, for raw requests.
func installationTokenOf(t *testing.T, ff *fakeforge.Forge, clock *testClock) string {
	t.Helper()
	app := appJWT(t, clock)
	do := func(method, path string) map[string]any {
		req, _ := http.NewRequest(method, ff.GitHubAPIURL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+app)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		if err := jsonDecode(res, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	inst := do("GET", "repos/acme/payments/installation")
	tok := do("POST", fmt.Sprintf("app/installations/%.0f/access_tokens", inst["id"].(float64)))
	return tok["token"].(string)
}
