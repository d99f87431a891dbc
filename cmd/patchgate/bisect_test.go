package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// The ledger two fixes conflict in: each adds a 1% charge to a payment,
// and the charges together may not exceed 1%.
const (
	ledgerGo      = "package ledger\n\n// Total is what a payment of amount costs, with the fee and the surcharge.\nfunc Total(amount int) int { return amount + Fee(amount) + Surcharge(amount) }\n"
	feeNone       = "package ledger\n\nfunc Fee(amount int) int { return 0 }\n"
	feeOnePercent = "package ledger\n\nfunc Fee(amount int) int { return amount / 100 }\n"
	surchargeNone = "package ledger\n\nfunc Surcharge(amount int) int { return 0 }\n"
	surchargeOne  = "package ledger\n\nfunc Surcharge(amount int) int { return amount / 100 }\n"
	ledgerTest    = "package ledger\n\nimport \"testing\"\n\nfunc TestLedgerTotals(t *testing.T) {\n\tif got := Total(1000); got < 990 || got > 1010 {\n\t\tt.Fatalf(\"Total(1000) = %d, want within 1%% of 1000\", got)\n\t}\n}\n\nfunc TestLedgerZero(t *testing.T) {\n\tif Total(0) != 0 {\n\t\tt.Fatal(\"Total(0) != 0\")\n\t}\n}\n"
)

// mergeInto merges branch into main with a merge commit, mirrors it onto
// the fake forge with its whole tree, and returns its SHA.
func (r *gitRepo) mergeInto(branch, message string) string {
	r.t.Helper()
	r.git("checkout", "-q", "main")
	r.git("merge", "-q", "--no-ff", "-m", message, branch)
	sha := r.git("rev-parse", "HEAD")
	tree := map[string][]byte{}
	for _, p := range strings.Split(r.git("ls-tree", "-r", "--name-only", sha), "\n") {
		tree[p] = []byte(r.git("show", sha+":"+p) + "\n")
	}
	r.forge.AddCommit(r.name, sha, tree, message, "dev", strings.Fields(r.git("log", "-1", "--format=%P"))...)
	return sha
}

// mergePR sends the delivery of pull request number closed merged as merge.
func (a *testApp) mergePR(t *testing.T, number int, title, body, branch, head, merge string, at time.Time) {
	t.Helper()
	a.sendGitHub(t, "pull_request", fmt.Sprintf("merged-%d", number), fixture(t, "github/pull_request/closed.api.github.com.3.json", func(p map[string]any) {
		p["number"] = number
		pr := obj(p, "pull_request")
		pr["number"], pr["title"], pr["body"], pr["merged"], pr["merge_commit_sha"], pr["state"] = number, title, body, true, merge, "closed"
		pr["updated_at"] = at.UTC().Format(time.RFC3339)
		obj(pr, "head")["sha"], obj(pr, "head")["ref"], obj(pr, "base")["ref"] = head, branch, "main"
	}), testSecret)
}

// TestCulpritBisectionEndToEnd: two fixes of one Go package each pass alone
// (PAY-7 charges a 1% card fee, PAY-9 a 1% FX surcharge) and conflict
// together: TestLedgerTotals allows 1% of charges in all. Both are merged and one push
// brings them to main, whose run fails. The release manager's candidate is
// blocked, and patchgate bisects the merges with real containers: it
// verifies the first merge commit (PAY-7 alone on main: passes) and names
// the second merge, #9 (PAY-9), with the failing test, in the API, the CLI
// and the audit.
func TestCulpritBisectionEndToEnd(t *testing.T) {
	requireDocker(t)
	owner := "bisect-" + randomID()
	app := startApp(t, func(c *Config) {
		c.Repos[0].TicketKeys = []string{"PAY"}
		c.Runners.Owner, c.Runners.Workers, c.Runners.Heartbeat = owner, 2, time.Second
		c.ReleaseManagers = map[string][]string{"github": {"alice"}}
	})
	repo := newGitRepo(t, app.forge, testRepo)
	config := "suites:\n  unit:\n    image: patchgate-test/runner:go1.26\n    run: go test -count=1 -v ./...\n    timeout: 5m\n    flaky_retries: 0\nrelease:\n  branch: main\n  approvals: 1\n"
	base := repo.commit("ledger", map[string][]byte{
		".patchgate.yml":        []byte(config),
		"go.mod":                []byte("module example.com/ledger\n\ngo 1.26\n"),
		"ledger/ledger.go":      []byte(ledgerGo),
		"ledger/fee.go":         []byte(feeNone),
		"ledger/surcharge.go":   []byte(surchargeNone),
		"ledger/ledger_test.go": []byte(ledgerTest),
	})
	fix := func(branch, message string, files map[string][]byte) string {
		repo.git("checkout", "-q", "-B", branch, base)
		return repo.commit(message, files)
	}
	fee := fix("fix/PAY-7", "PAY-7: charge the 1% fee", map[string][]byte{"ledger/fee.go": []byte(feeOnePercent)})
	surcharge := fix("fix/PAY-9", "PAY-9: charge the 1% FX surcharge", map[string][]byte{"ledger/surcharge.go": []byte(surchargeOne)})
	t0 := time.Now().Add(-time.Hour)
	app.openPR(t, "opened", 7, "PAY-7: charge the fee", "Fixes PAY-7", "fix/PAY-7", fee, "", t0)
	app.openPR(t, "opened", 9, "PAY-9: charge the FX surcharge", "Fixes PAY-9", "fix/PAY-9", surcharge, "", t0)
	for _, head := range []string{fee, surcharge} {
		if v := app.waitVerification(t, head, final, 8*time.Minute); v.State != patchgate.RunSuccess {
			t.Fatalf("a fix alone: got %s (%s), want success", v.State, v.Reason)
		}
	}

	// Both merged; one push brings them to main, whose run fails.
	first := repo.mergeInto("fix/PAY-7", "Merge pull request #7 from fix/PAY-7")
	second := repo.mergeInto("fix/PAY-9", "Merge pull request #9 from fix/PAY-9")
	app.forge.SetBranch(testRepo, "main", second)
	app.mergePR(t, 7, "PAY-7: charge the fee", "Fixes PAY-7", "fix/PAY-7", fee, first, t0.Add(time.Minute))
	app.mergePR(t, 9, "PAY-9: charge the FX surcharge", "Fixes PAY-9", "fix/PAY-9", surcharge, second, t0.Add(2*time.Minute))
	app.sendGitHub(t, "push", "push-main", fixture(t, "github/push/none.api.github.com.5.json", func(p map[string]any) {
		p["ref"], p["before"], p["after"] = "refs/heads/main", base, second
		commit := p["commits"].([]any)[0].(map[string]any)
		commit["id"], commit["message"] = second, "Merge pull request #9 from fix/PAY-9"
		obj(p, "head_commit")["id"] = second
	}), testSecret)
	if v := app.waitVerification(t, second, final, 8*time.Minute); v.State != patchgate.RunFailure {
		t.Fatalf("main with both fixes: got %s (%s), want failure", v.State, v.Reason)
	}
	app.waitProcessed(t)

	app.registerUsers([]string{"github:alice"})
	var created struct{ Secret string }
	if code := app.api(t, http.MethodPost, "/api/v1/tokens", map[string]any{"name": "alice", "role": "release-manager", "users": []string{"github:alice"}}, &created); code != http.StatusCreated {
		t.Fatalf("create alice's token: got %d", code)
	}
	cli := func(args ...string) string {
		return runCLI(t, append(args, "--server", app.url, "--token", created.Secret)...)
	}
	out := cli("release", "create", "--repo", testRepo, "--sha", second, "--name", "v1.6.0")
	var list struct{ Releases []patchgate.Candidate }
	app.api(t, http.MethodGet, "/api/v1/releases?state=open", nil, &list)
	if len(list.Releases) != 1 || list.Releases[0].SHA != second {
		t.Fatalf("release create said %q; open candidates %+v, want one at %s", out, list.Releases, second[:8])
	}
	id := list.Releases[0].ID

	// The bisection verifies the first merge commit: the prefix with PAY-7 alone.
	probe := app.waitVerification(t, first, final, 8*time.Minute)
	if probe.State != patchgate.RunSuccess || !strings.Contains(probe.Trigger, "bisect of candidate v1.6.0") {
		t.Fatalf("the run of the first merge: %s (%s) by %q, want success by the bisection", probe.State, probe.Reason, probe.Trigger)
	}
	var show struct {
		Evaluation patchgate.Evaluation `json:"evaluation"`
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		app.api(t, http.MethodGet, "/api/v1/releases/"+strconv.FormatInt(id, 10), nil, &show)
		if b := show.Evaluation.Bisection; b != nil && b.State != patchgate.BisectionRunning {
			break
		}
	}
	b := show.Evaluation.Bisection
	if b == nil || b.State != patchgate.BisectionFound || b.Culprit.SHA != second || b.Culprit.Change != "#9" || b.Culprit.Ticket != "PAY-9" {
		t.Fatalf("bisection: got %+v, want the culprit #9 (PAY-9) at %s", b, second[:8])
	}
	var culprit *patchgate.Blocker
	for i, bl := range show.Evaluation.Blockers {
		if bl.Code == patchgate.ReasonReleaseCulpritFound {
			culprit = &show.Evaluation.Blockers[i]
		}
	}
	if want := "the release fails from #9 (PAY-9) on: TestLedgerTotals"; culprit == nil || culprit.Message != want || show.Evaluation.Releasable {
		t.Fatalf("blockers %+v: want %q", show.Evaluation.Blockers, want)
	}
	if out := cli("release", "show", strconv.FormatInt(id, 10)); !strings.Contains(out, "the release fails from #9 (PAY-9) on: TestLedgerTotals") ||
		!strings.Contains(out, "release_culprit_found") || !strings.Contains(out, "bisection: found over 2 merges") {
		t.Fatalf("release show:\n%s", out)
	}
	var audit struct {
		Entries []patchgate.AuditEntry `json:"entries"`
	}
	app.api(t, http.MethodGet, "/api/v1/audit?action=bisection.finished", nil, &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].Detail["culprit"] != "#9 (PAY-9)" || audit.Entries[0].Detail["tests"] != "TestLedgerTotals" {
		t.Fatalf("audit: got %+v, want one bisection.finished naming #9 (PAY-9) and TestLedgerTotals", audit.Entries)
	}
	if left := leftovers(t, owner); left != "" {
		t.Fatalf("left behind: %s", left)
	}
}
