package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
)

// The images the Docker tests run, built offline by scripts/images/build.sh.
var testImages = []string{"patchgate-test/runner:go1.26", "patchgate-test/postgres:15"}

// requireDocker skips the test when Docker or the test images are missing,
// unless PATCHGATE_REQUIRE_DOCKER=1 (CI), where that is a failure.
func requireDocker(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs Docker")
	}
	fail := t.Skipf
	if os.Getenv("PATCHGATE_REQUIRE_DOCKER") == "1" {
		fail = t.Fatalf
	}
	if err := exec.Command("docker", "info").Run(); err != nil {
		fail("Docker is not reachable: %v", err)
	}
	for _, img := range testImages {
		if err := exec.Command("docker", "image", "inspect", img).Run(); err != nil {
			fail("image %s is missing: run scripts/images/build.sh", img)
		}
	}
}

// gitRepo is a real git repository whose commits are mirrored onto the fake
// forge, so patchgate fetches exactly the trees git made.
type gitRepo struct {
	t     *testing.T
	dir   string
	forge *fakeforge.Forge
	name  string
}

func newGitRepo(t *testing.T, forge *fakeforge.Forge, name string) *gitRepo {
	t.Helper()
	r := &gitRepo{t: t, dir: t.TempDir(), forge: forge, name: name}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *gitRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=Dev", "-c", "user.email=dev@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = r.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files (nil deletes), commits on the current branch and mirrors
// the commit onto the fake forge; it returns the SHA.
func (r *gitRepo) commit(message string, files map[string][]byte) string {
	r.t.Helper()
	for p, content := range files {
		full := filepath.Join(r.dir, p)
		if content == nil {
			_ = os.Remove(full)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(full, content, 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.git("add", "-A")
	r.git("commit", "-q", "-m", message)
	sha := r.git("rev-parse", "HEAD")
	var parents []string
	if p := r.git("log", "-1", "--format=%P"); p != "" {
		parents = strings.Fields(p)
	}
	tree := map[string][]byte{}
	for _, p := range strings.Split(r.git("ls-tree", "-r", "--name-only", sha), "\n") {
		tree[p] = []byte(r.git("show", sha+":"+p) + "\n")
	}
	if len(parents) > 0 {
		for _, p := range strings.Split(r.git("ls-tree", "-r", "--name-only", parents[0]), "\n") {
			if _, ok := tree[p]; !ok {
				tree[p] = nil
			}
		}
	}
	r.forge.AddCommit(r.name, sha, tree, message, "dev", parents...)
	return sha
}

func payments(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "payments", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// openPR sends a real-shaped pull_request delivery for a change from branch at head.
func (a *testApp) openPR(t *testing.T, action string, number int, title, body, branch, head, before string, at time.Time) {
	t.Helper()
	payload := fixture(t, "github/pull_request/opened.api.github.com.13.json", func(p map[string]any) {
		p["action"], p["number"] = action, number
		pr := obj(p, "pull_request")
		pr["number"], pr["title"], pr["body"], pr["updated_at"] = number, title, body, at.UTC().Format(time.RFC3339)
		obj(pr, "head")["sha"], obj(pr, "head")["ref"] = head, branch
		obj(pr, "base")["ref"] = "main"
		if before != "" {
			p["before"], p["after"] = before, head
		}
	})
	id := fmt.Sprintf("pr-%d-%s-%s", number, action, head[:8])
	if code, ack := a.sendGitHub(t, "pull_request", id, payload, testSecret); code != 202 || ack.Status != "accepted" {
		t.Fatalf("%s #%d: got %d %+v", action, number, code, ack)
	}
}

// waitVerification waits until the verification of sha reaches a final state
// (or want, when want is a live state) and returns it.
func (a *testApp) waitVerification(t *testing.T, sha string, want func(v patchgate.Verification) bool, timeout time.Duration) patchgate.Verification {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last patchgate.Verification
	for time.Now().Before(deadline) {
		var out struct{ Verifications []patchgate.Verification }
		a.api(t, http.MethodGet, "/api/v1/verifications?sha="+sha, nil, &out)
		if len(out.Verifications) > 0 {
			last = out.Verifications[0]
			if want(last) {
				return last
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("verification of %s: last seen %+v", sha[:8], last)
	return last
}

func final(v patchgate.Verification) bool { return v.State.Final() }

// leftovers lists containers and networks still labelled by this owner.
func leftovers(t *testing.T, owner string) string {
	t.Helper()
	var out bytes.Buffer
	for _, kind := range []string{"ps -a", "network ls"} {
		args := append(strings.Fields(kind), "--filter", "label=dev.patchgate.owner="+owner, "--format", "{{.Names}}")
		b, _ := exec.Command("docker", args...).Output()
		out.Write(b)
	}
	return strings.TrimSpace(out.String())
}

// TestVerificationEndToEnd is the verification issue's proof: real containers,
// a real git repository, the fake forge, and patchgate driven by webhooks.
func TestVerificationEndToEnd(t *testing.T) {
	requireDocker(t)
	owner := "e2e-" + randomID()
	app := startApp(t, func(c *Config) {
		c.Repos[0].TicketKeys = []string{"PAY"}
		c.Runners.Owner = owner
		c.Runners.Workers = 1
		c.Runners.Heartbeat = time.Second
	})
	repo := newGitRepo(t, app.forge, testRepo)
	base := repo.commit("calc: round cents", map[string][]byte{
		"go.mod":                      payments(t, "go.mod.txt"),
		"calc/calc.go":                payments(t, "calc.go.buggy"),
		"calc/calc_test.go":           payments(t, "calc_test.go.txt"),
		"calc/db_integration_test.go": payments(t, "db_integration_test.go.txt"),
		"tools/junit/main.go":         payments(t, "junit.go.txt"),
		".patchgate.yml":              payments(t, "patchgate.yml.txt"),
	})
	repo.git("checkout", "-q", "-b", "fix/PAY-7")
	fixed := repo.commit("calc: round half away from zero", map[string][]byte{"calc/calc.go": payments(t, "calc.go.fixed")})
	repo.git("checkout", "-q", "main")
	repo.git("checkout", "-q", "-b", "fix/PAY-8")
	wrong := repo.commit("calc: round up", map[string][]byte{"calc/calc.go": payments(t, "calc.go.wrong")})
	_ = base

	t0 := time.Now()
	app.openPR(t, "opened", 7, "PAY-7: fix rounding", "Fixes PAY-7", "fix/PAY-7", fixed, "", t0)
	app.openPR(t, "opened", 8, "PAY-8: round up", "Fixes PAY-8", "fix/PAY-8", wrong, "", t0)

	good := app.waitVerification(t, fixed, final, 5*time.Minute)
	if good.State != patchgate.RunSuccess {
		t.Fatalf("fixed change: got %s (%s), want success", good.State, good.Reason)
	}
	var detail struct{ Verification patchgate.Verification }
	app.api(t, http.MethodGet, fmt.Sprintf("/api/v1/verifications/%d", good.ID), nil, &detail)
	for _, s := range detail.Verification.Suites {
		if s.State != patchgate.RunSuccess || len(s.ImageDigests) == 0 {
			t.Errorf("suite %s: got %s %q digests %v, want success with image digests", s.Name, s.State, s.Description, s.ImageDigests)
		}
	}
	var tests struct{ Tests []patchgate.TestResult }
	app.api(t, http.MethodGet, fmt.Sprintf("/api/v1/verifications/%d/suites/regression/tests", good.ID), nil, &tests)
	if !hasTest(tests.Tests, "TestRoundCents", patchgate.TestPassed) {
		t.Errorf("regression tests: got %+v, want TestRoundCents passed", tests.Tests)
	}
	logOut := runCLI(t, "logs", fmt.Sprint(good.ID), "integration", "--server", app.url, "--token", app.token)
	if !strings.Contains(logOut, "TestDatabaseReachable") {
		t.Errorf("integration log: got %q, want the test's output", logOut)
	}
	for _, ctx := range []string{"patchgate/regression", "patchgate/integration", "patchgate/verdict"} {
		st := app.forge.Statuses(testRepo, fixed)
		last := lastStatus(st, ctx)
		if last != "success" {
			t.Errorf("status %s on the fixed head: got %q, want success (all: %+v)", ctx, last, st)
		}
		if n := app.forge.StatusPosts(testRepo, fixed, ctx); n > 2 {
			t.Errorf("status %s posted %d times, want at most 2", ctx, n)
		}
	}
	if v := app.ticket(t, "PAY-7"); v.Ticket.State != patchgate.TicketFixVerified {
		t.Errorf("PAY-7: got %s, want fix_verified", v.Ticket.State)
	}

	bad := app.waitVerification(t, wrong, final, 5*time.Minute)
	if bad.State != patchgate.RunFailure {
		t.Fatalf("wrong fix: got %s (%s), want failure", bad.State, bad.Reason)
	}
	app.api(t, http.MethodGet, fmt.Sprintf("/api/v1/verifications/%d", bad.ID), nil, &detail)
	if d := suiteDescription(detail.Verification, "regression"); !strings.Contains(d, "TestRoundCents") || !strings.Contains(d, "1 failed") {
		t.Errorf("regression description: got %q, want the failing test named", d)
	}
	if v := app.ticket(t, "PAY-8"); v.Ticket.State != patchgate.TicketFixProposed {
		t.Errorf("PAY-8: got %s, want fix_proposed", v.Ticket.State)
	}

	// A push during a run cancels it and makes its verdict stale.
	repo.git("checkout", "-q", "fix/PAY-8")
	slow := repo.commit("calc: investigate", map[string][]byte{"calc/slow_test.go": payments(t, "slow_test.go.txt")})
	app.openPR(t, "synchronize", 8, "PAY-8: round up", "Fixes PAY-8", "fix/PAY-8", slow, wrong, t0.Add(time.Minute))
	app.waitVerification(t, slow, func(v patchgate.Verification) bool { return v.State == patchgate.RunRunning }, 2*time.Minute)
	time.Sleep(3 * time.Second) // let the first suite's environment come up
	again := repo.commit("calc: round half away from zero", map[string][]byte{"calc/calc.go": payments(t, "calc.go.fixed"), "calc/slow_test.go": nil})
	app.openPR(t, "synchronize", 8, "PAY-8: round up", "Fixes PAY-8", "fix/PAY-8", again, slow, t0.Add(2*time.Minute))
	cancelled := app.waitVerification(t, slow, final, time.Minute)
	if cancelled.State != patchgate.RunCanceled || !cancelled.Stale {
		t.Fatalf("superseded run: got %s stale=%v, want canceled and stale", cancelled.State, cancelled.Stale)
	}
	if v := app.waitVerification(t, again, final, 5*time.Minute); v.State != patchgate.RunSuccess {
		t.Fatalf("new head: got %s (%s), want success", v.State, v.Reason)
	}
	if left := leftovers(t, owner); left != "" {
		t.Fatalf("containers or networks left behind: %s", left)
	}
}

func hasTest(tests []patchgate.TestResult, name string, status patchgate.TestStatus) bool {
	for _, tr := range tests {
		if tr.Name == name && tr.Status == status {
			return true
		}
	}
	return false
}

func suiteDescription(v patchgate.Verification, name string) string {
	for _, s := range v.Suites {
		if s.Name == name {
			return s.Description
		}
	}
	return ""
}

func lastStatus(statuses []fakeforge.RecordedStatus, context string) string {
	last := ""
	for _, s := range statuses {
		if s.Context == context {
			last = s.State
		}
	}
	return last
}
