package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// quarantineTests are real Go tests: TestLedger is seeded flaky (it fails on
// the first run of a commit and passes on the re-run), TestBroken fails
// every time.
const quarantineTests = `package calc

import (
	"os"
	"testing"
)

func TestLedger(t *testing.T) {
	if os.Getenv("PATCHGATE_ATTEMPT") == "1" {
		t.Fatal("timed out waiting for the ledger (seeded flake)")
	}
}

func TestBroken(t *testing.T) {
	t.Fatal("the ledger is wrong (seeded breakage)")
}
`

// TestQuarantineExcusesOnlyFlakyTests runs real go test suites in real
// containers through the whole patchgate. The first head shows TestLedger
// flaky (it passes on the re-run). The second head quarantines TestLedger and
// TestBroken in .patchgate.yml and runs without re-runs for TestLedger: its
// failure is excused, reported as quarantined, and its suite passes; TestBroken
// fails on both attempts, has no flaky history, and is not excused. The API
// then refuses to quarantine TestBroken as flaky, naming the evidence.
func TestQuarantineExcusesOnlyFlakyTests(t *testing.T) {
	requireDocker(t)
	app := startApp(t, func(c *Config) {
		c.Repos[0].TicketKeys = []string{"PAY"}
		c.Runners.Heartbeat = time.Second
	})
	repo := newGitRepo(t, app.forge, testRepo)
	repo.commit("base", map[string][]byte{"README": []byte("base\n")})
	suite := func(name, run string, retries int) string {
		return fmt.Sprintf("  %s:\n    image: patchgate-test/runner:go1.26\n    run: %s\n    timeout: 5m\n    flaky_retries: %d\n", name, run, retries)
	}
	first := repo.commit("PAY-1: fix", map[string][]byte{
		".patchgate.yml":      []byte("suites:\n" + suite("unit", "go test -count=1 -v -run TestLedger ./...", 1)),
		"go.mod":              []byte("module example.com/calc\n\ngo 1.26\n"),
		"calc/ledger_test.go": []byte(quarantineTests),
	})
	app.openPR(t, "opened", 1, "PAY-1: fix", "Fixes PAY-1", "fix/PAY-1", first, "", time.Now())
	if v := app.waitVerification(t, first, final, 5*time.Minute); v.State != patchgate.RunSuccess {
		t.Fatalf("first head: got %s (%s), want success with TestLedger flaky", v.State, v.Reason)
	}

	until := time.Now().UTC().Add(10 * 24 * time.Hour).Format(time.DateOnly)
	config := "suites:\n" + suite("unit", "go test -count=1 -v -run TestLedger ./...", 0) +
		suite("broken", "go test -count=1 -v -run TestBroken ./...", 1) +
		"quarantine:\n" +
		"  - {test: TestLedger, suite: unit, owner: alice, ticket: PAY-9, reason: races the clock, expires: " + until + "}\n" +
		"  - {test: TestBroken, owner: bob, ticket: PAY-10, expires: " + until + "}\n"
	second := repo.commit("PAY-1: quarantine", map[string][]byte{".patchgate.yml": []byte(config)})
	app.openPR(t, "synchronize", 1, "PAY-1: fix", "Fixes PAY-1", "fix/PAY-1", second, first, time.Now())
	v := app.waitVerification(t, second, final, 6*time.Minute)

	var detail struct{ Verification patchgate.Verification }
	app.api(t, http.MethodGet, fmt.Sprintf("/api/v1/verifications/%d", v.ID), nil, &detail)
	unit, broken := suiteDescription(detail.Verification, "unit"), suiteDescription(detail.Verification, "broken")
	t.Logf("verdict %s (%s); unit: %q; broken: %q", v.State, v.Reason, unit, broken)
	if v.State != patchgate.RunFailure || v.Reason != "broken failed" {
		t.Errorf("got verdict %s (%s), want failure: broken failed", v.State, v.Reason)
	}
	if want := "passed with quarantined failures; quarantined: TestLedger (owner alice, PAY-9, until " + until + ")"; unit != want {
		t.Errorf("unit: got %q, want %q", unit, want)
	}
	if want := "TestBroken fails every time on " + second[:7] + ": broken, not flaky; quarantine does not apply; 2 attempts;"; !strings.HasPrefix(broken, want) {
		t.Errorf("broken: got %q, want it to start %q", broken, want)
	}
	for _, s := range detail.Verification.Suites {
		want := map[string]patchgate.RunState{"unit": patchgate.RunSuccess, "broken": patchgate.RunFailure}[s.Name]
		if s.State != want {
			t.Errorf("suite %s: got %s, want %s", s.Name, s.State, want)
		}
	}
	if got := lastStatus(app.forge.Statuses(testRepo, second), "patchgate/unit"); got != "success" {
		t.Errorf("status patchgate/unit: got %q, want success", got)
	}
	if got := lastStatus(app.forge.Statuses(testRepo, second), "patchgate/broken"); got != "failure" {
		t.Errorf("status patchgate/broken: got %q, want failure", got)
	}
	results := func(suite string) []patchgate.TestResult {
		var out struct{ Tests []patchgate.TestResult }
		app.api(t, http.MethodGet, fmt.Sprintf("/api/v1/verifications/%d/suites/%s/tests", v.ID, suite), nil, &out)
		return out.Tests
	}
	var got []string
	for _, tr := range append(results("unit"), results("broken")...) {
		got = append(got, fmt.Sprintf("%s attempt %d %s quarantined=%v", tr.Name, tr.Attempt, tr.Status, tr.Quarantined))
	}
	if want := "TestLedger attempt 1 failed quarantined=true, TestBroken attempt 1 failed quarantined=false, TestBroken attempt 2 failed quarantined=false"; strings.Join(got, ", ") != want {
		t.Errorf("results: got %q, want %q", strings.Join(got, ", "), want)
	}

	// TestBroken's recorded results now show it broken: no quarantine.
	err := runCLIErr(t, "quarantine", "add", "TestBroken", "--repo", testRepo, "--owner", "bob", "--ticket", "PAY-10",
		"--expires", until, "--server", app.url, "--token", app.token)
	if want := "TestBroken failed every time on " + second[:7] + " (2 of 2 runs, verification " + fmt.Sprint(v.ID) + ")"; !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "unprocessable: ") {
		t.Errorf("quarantine add TestBroken: got %v, want unprocessable (422) naming %q", err, want)
	}
	out := runCLI(t, "quarantine", "add", "TestLedger", "--repo", testRepo, "--suite", "unit", "--owner", "alice", "--ticket", "PAY-9",
		"--expires", until, "--server", app.url, "--token", app.token)
	if !strings.Contains(out, "quarantined: TestLedger (owner alice, PAY-9, until "+until+")") {
		t.Errorf("quarantine add TestLedger: got %q", out)
	}
	if out := runCLI(t, "quarantine", "list", "--repo", testRepo, "--server", app.url, "--token", app.token); !strings.Contains(out, "unit\tTestLedger\towner alice\tPAY-9\tuntil "+until) {
		t.Errorf("quarantine list: got %q", out)
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
	// Flaky in the first head's run, not in the second's: 1 of 2.
	if want := `patchgate_flake_rate{repo="github:` + testRepo + `",test="TestLedger"} 0.5`; !strings.Contains(string(body), want) {
		t.Errorf("/metrics does not contain %q", want)
	}
}
