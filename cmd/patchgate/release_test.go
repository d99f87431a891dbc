package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// TestReleaseEndToEnd continues the verification scenario through the release
// gate, driven only as users would: webhooks, the HTTP API and the CLI. A fix is
// verified, merged and verified again on main; patchgate proposes a candidate;
// a release manager approves it with the CLI and promotes it; the tag and the
// release appear on the forge at exactly the candidate's SHA; the ticket is
// released; and the audit chain holds.
func TestReleaseEndToEnd(t *testing.T) {
	requireDocker(t)
	owner := "rel-" + randomID()
	app := startApp(t, func(c *Config) {
		c.Repos[0].TicketKeys = []string{"PAY"}
		c.Runners.Owner, c.Runners.Workers, c.Runners.Heartbeat = owner, 1, time.Second
		c.ReleaseManagers = map[string][]string{"github": {"alice"}}
	})
	repo := newGitRepo(t, app.forge, testRepo)
	config := "suites:\n  regression:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\nrelease:\n  branch: main\n  approvals: 1\n"
	base := repo.commit("calc", map[string][]byte{
		"go.mod":            payments(t, "go.mod.txt"),
		"calc/calc.go":      payments(t, "calc.go.buggy"),
		"calc/calc_test.go": payments(t, "calc_test.go.txt"),
		".patchgate.yml":    []byte(config),
	})
	repo.git("checkout", "-q", "-b", "fix/PAY-7")
	fixed := repo.commit("calc: round half away from zero", map[string][]byte{"calc/calc.go": payments(t, "calc.go.fixed")})
	t0 := time.Now().Add(-time.Hour)
	app.openPR(t, "opened", 7, "PAY-7: fix rounding", "Fixes PAY-7", "fix/PAY-7", fixed, "", t0)
	if v := app.waitVerification(t, fixed, final, 5*time.Minute); v.State != patchgate.RunSuccess {
		t.Fatalf("fix: got %s (%s)", v.State, v.Reason)
	}

	// Merge, as the forge would report it: the PR closes merged, main moves.
	repo.git("checkout", "-q", "main")
	repo.git("merge", "-q", "--no-ff", "-m", "Merge pull request #7 from fix/PAY-7", "fix/PAY-7")
	merge := repo.git("rev-parse", "HEAD")
	app.forge.AddCommit(testRepo, merge, map[string][]byte{"calc/calc.go": payments(t, "calc.go.fixed")}, "Merge pull request #7", "dev", base, fixed)
	app.forge.SetBranch(testRepo, "main", merge)
	app.sendGitHub(t, "pull_request", "merged-7", fixture(t, "github/pull_request/closed.api.github.com.3.json", func(p map[string]any) {
		p["number"] = 7
		pr := obj(p, "pull_request")
		pr["number"], pr["title"], pr["body"], pr["merged"], pr["merge_commit_sha"], pr["state"] = 7, "PAY-7: fix rounding", "Fixes PAY-7", true, merge, "closed"
		pr["updated_at"] = t0.Add(time.Minute).UTC().Format(time.RFC3339)
		obj(pr, "head")["sha"], obj(pr, "head")["ref"], obj(pr, "base")["ref"] = fixed, "fix/PAY-7", "main"
	}), testSecret)
	app.sendGitHub(t, "push", "push-main", fixture(t, "github/push/none.api.github.com.5.json", func(p map[string]any) {
		p["ref"], p["before"], p["after"] = "refs/heads/main", base, merge
		commit := p["commits"].([]any)[0].(map[string]any)
		commit["id"], commit["message"] = merge, "Merge pull request #7 from fix/PAY-7"
		obj(p, "head_commit")["id"] = merge
	}), testSecret)
	if v := app.waitVerification(t, merge, final, 5*time.Minute); v.State != patchgate.RunSuccess {
		t.Fatalf("post-merge: got %s (%s)", v.State, v.Reason)
	}
	if v := app.ticket(t, "PAY-7"); v.Ticket.State != patchgate.TicketFixMerged {
		t.Fatalf("PAY-7 after the post-merge run: got %s, want fix_merged", v.Ticket.State)
	}

	// patchgate proposed a candidate on its own.
	var list struct{ Releases []patchgate.Candidate }
	deadline := time.Now().Add(30 * time.Second)
	for len(list.Releases) == 0 && time.Now().Before(deadline) {
		app.api(t, http.MethodGet, "/api/v1/releases?state=open", nil, &list)
		time.Sleep(100 * time.Millisecond)
	}
	if len(list.Releases) != 1 || list.Releases[0].SHA != merge {
		t.Fatalf("got candidates %+v, want one at the merge commit", list.Releases)
	}
	id := strconv.FormatInt(list.Releases[0].ID, 10)
	var created struct{ Secret string }
	app.registerUsers([]string{"github:alice"})
	if code := app.api(t, http.MethodPost, "/api/v1/tokens", map[string]any{"name": "alice", "role": "release-manager", "users": []string{"github:alice"}}, &created); code != http.StatusCreated {
		t.Fatalf("create alice's token: got %d", code)
	}
	manager := created.Secret
	cli := func(args ...string) string {
		return runCLI(t, append(args, "--server", app.url, "--token", manager)...)
	}
	if out := cli("release", "show", id); !strings.Contains(out, "releasable") || !strings.Contains(out, "PAY-7") {
		t.Fatalf("release show: got\n%s", out)
	}
	viewer := app.createToken(t, "viewer", patchgate.RoleViewer)
	if err := runCLIErr(t, "release", "approve", id, "--server", app.url, "--token", viewer); patchgate.ErrorCode(err) != patchgate.EFORBIDDEN {
		t.Fatalf("approval by a viewer: got %v, want forbidden", err)
	}
	cli("release", "approve", id)
	out := cli("release", "promote", id)
	if !strings.Contains(out, "promoted release-"+merge[:7]) {
		t.Fatalf("promote: got %q", out)
	}
	if again := cli("release", "promote", id); again != out {
		t.Fatalf("second promote: got %q, want the same %q", again, out)
	}
	if tags := app.forge.Tags(testRepo); tags["release-"+merge[:7]] != merge || len(tags) != 1 {
		t.Fatalf("got tags %v, want one at the merge commit", tags)
	}
	if rels := app.forge.Releases(testRepo); len(rels) != 1 || !strings.Contains(rels[0].Body, "PAY-7") || !strings.Contains(rels[0].Body, "alice") {
		t.Fatalf("got releases %+v, want one whose notes list PAY-7 and its approver", rels)
	}
	if v := app.ticket(t, "PAY-7"); v.Ticket.State != patchgate.TicketReleased {
		t.Fatalf("PAY-7: got %s, want released", v.Ticket.State)
	}
	var audit struct {
		Entries []patchgate.AuditEntry `json:"entries"`
	}
	app.api(t, http.MethodGet, "/api/v1/audit?limit=500", nil, &audit)
	actions := map[string]string{}
	for _, e := range audit.Entries {
		actions[e.Action] = e.Actor
	}
	if actions["approval.created"] != "alice" || actions["release.promoted"] != "alice" || actions["verdict"] == "" {
		t.Fatalf("audit actions %v: want approval and promotion by alice, and verdicts", actions)
	}
	var verify struct {
		OK      bool  `json:"ok"`
		Checked int64 `json:"checked"`
	}
	if code := app.api(t, http.MethodGet, "/api/v1/audit/verify", nil, &verify); code != 200 || !verify.OK || verify.Checked != int64(len(audit.Entries)) {
		t.Fatalf("audit verify: got %d %+v for %d entries", code, verify, len(audit.Entries))
	}
	if left := leftovers(t, owner); left != "" {
		t.Fatalf("left behind: %s", left)
	}
}
