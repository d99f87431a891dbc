package main

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// flakyTest is a real Go test seeded to be flaky: it fails on the first run
// of a commit and passes on the re-run, which it tells from PATCHGATE_ATTEMPT.
const flakyTest = `package calc

import (
	"os"
	"testing"
)

func TestStable(t *testing.T) {}

func TestFlakyTiming(t *testing.T) {
	if os.Getenv("PATCHGATE_ATTEMPT") == "1" {
		t.Fatal("timed out waiting for the ledger (seeded flake)")
	}
}
`

// TestFlakyTestPassesOnRetry runs a suite with a seeded flaky Go test through
// the whole patchgate in real containers: the suite fails, is re-run once on
// the same commit in a fresh environment, passes, and the test is recorded as
// flaky with both of its outcomes. A test that fails every time stays a
// failure.
func TestFlakyTestPassesOnRetry(t *testing.T) {
	requireDocker(t)
	app := startApp(t, func(c *Config) {
		c.Repos[0].TicketKeys = []string{"PAY"}
		c.Runners.Heartbeat = time.Second
	})
	repo := newGitRepo(t, app.forge, testRepo)
	repo.commit("base", map[string][]byte{"README": []byte("base\n")})
	config := "suites:\n  regression:\n    image: patchgate-test/runner:go1.26\n    run: go test -count=1 -v ./...\n    timeout: 5m\n"
	head := repo.commit("PAY-1: fix", map[string][]byte{
		".patchgate.yml":     []byte(config),
		"go.mod":             []byte("module example.com/calc\n\ngo 1.26\n"),
		"calc/flaky_test.go": []byte(flakyTest),
	})
	app.openPR(t, "opened", 1, "PAY-1: fix", "Fixes PAY-1", "fix/PAY-1", head, "", time.Now())
	v := app.waitVerification(t, head, final, 5*time.Minute)

	var detail struct{ Verification patchgate.Verification }
	app.api(t, http.MethodGet, fmt.Sprintf("/api/v1/verifications/%d", v.ID), nil, &detail)
	desc := suiteDescription(detail.Verification, "regression")
	logText := runCLI(t, "logs", fmt.Sprint(v.ID), "regression", "--server", app.url, "--token", app.token)
	t.Logf("verdict %s (%s); suite: %q; log:\n%s", v.State, v.Reason, desc, logText)
	if v.State != patchgate.RunSuccess {
		t.Fatalf("got verdict %s (%s), want success: the flaky test passes on the re-run", v.State, v.Reason)
	}
	if want := "passed on retry; flaky: TestFlakyTiming"; desc != want {
		t.Errorf("got suite description %q, want %q", desc, want)
	}
	if !strings.Contains(v.Reason, "passed on retry; flaky: regression (TestFlakyTiming)") {
		t.Errorf("got verdict reason %q, want it to name the flaky test", v.Reason)
	}
	for _, want := range []string{"seeded flake", "[patchgate: attempt 1 of 2 failed:", "PATCHGATE_ATTEMPT=2", "--- PASS: TestFlakyTiming"} {
		if !strings.Contains(logText, want) {
			t.Errorf("suite log does not contain %q", want)
		}
	}
	var tests struct{ Tests []patchgate.TestResult }
	app.api(t, http.MethodGet, fmt.Sprintf("/api/v1/verifications/%d/suites/regression/tests", v.ID), nil, &tests)
	var got []string
	for _, tr := range tests.Tests {
		if tr.Name == "TestFlakyTiming" {
			got = append(got, fmt.Sprintf("attempt %d %s flaky=%v", tr.Attempt, tr.Status, tr.Flaky))
		}
		if tr.Name == "TestStable" && tr.Flaky {
			t.Errorf("TestStable is flaky, want only the test that failed then passed")
		}
	}
	if want := "attempt 1 failed flaky=true, attempt 2 passed flaky=true"; strings.Join(got, ", ") != want {
		t.Errorf("TestFlakyTiming results: got %q, want %q (all: %+v)", strings.Join(got, ", "), want, tests.Tests)
	}
	if got := lastStatus(app.forge.Statuses(testRepo, head), "patchgate/regression"); got != "success" {
		t.Errorf("status patchgate/regression: got %q, want success", got)
	}
	var listing struct{ Flaky []patchgate.FlakyTest }
	app.api(t, http.MethodGet, "/api/v1/repos/github/"+testRepo+"/flaky?last=10", nil, &listing)
	if len(listing.Flaky) != 1 || listing.Flaky[0].Name != "TestFlakyTiming" || listing.Flaky[0].VerificationID != v.ID ||
		listing.Flaky[0].Suite != "regression" || listing.Flaky[0].Attempt != 2 {
		t.Errorf("GET …/flaky: got %+v, want TestFlakyTiming of verification %d, passed on attempt 2", listing.Flaky, v.ID)
	}
	out := runCLI(t, "flaky", "--repo", testRepo, "--server", app.url, "--token", app.token)
	if !regexp.MustCompile(`(?m)^` + fmt.Sprint(v.ID) + ` +[0-9a-f]{7} +regression +TestFlakyTiming +2$`).MatchString(out) {
		t.Errorf("patchgate flaky: got %q, want TestFlakyTiming listed, passed on attempt 2", out)
	}
	res, err := http.Get(app.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if want := `patchgate_flaky_tests_total{repo="github:` + testRepo + `",test="TestFlakyTiming"} 1`; !strings.Contains(string(body), want) {
		t.Errorf("/metrics does not contain %q", want)
	}
}
