package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
	"github.com/patchgate/patchgate/store"
)

// TestApproveByComment: a configured release manager approves the candidate
// that contains a PR by commenting /patchgate approve on it; anyone else's
// comment changes nothing.
func TestApproveByComment(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Repos[0].TicketKeys = []string{"PAY"}
		c.ReleaseManagers = map[string][]string{"github": {"alice"}}
	})
	repo := newGitRepo(t, app.forge, testRepo)
	base := repo.commit("config", map[string][]byte{".patchgate.yml": []byte("suites:\n  regression:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\n")})
	repo.git("checkout", "-q", "-b", "fix/PAY-7")
	head := repo.commit("fix", map[string][]byte{"fix.txt": []byte("fixed")})
	repo.git("checkout", "-q", "main")
	repo.git("merge", "-q", "--no-ff", "-m", "Merge #7", "fix/PAY-7")
	merge := repo.git("rev-parse", "HEAD")
	app.forge.AddCommit(testRepo, merge, map[string][]byte{"fix.txt": []byte("fixed")}, "Merge #7", "dev", base, head)
	app.forge.SetBranch(testRepo, "main", merge)

	t0 := time.Now().Add(-time.Hour)
	app.openPR(t, "opened", 7, "PAY-7: fix", "Fixes PAY-7", "fix/PAY-7", head, "", t0)
	app.sendGitHub(t, "pull_request", "merged-7", fixture(t, "github/pull_request/closed.api.github.com.3.json", func(p map[string]any) {
		p["number"] = 7
		pr := obj(p, "pull_request")
		pr["number"], pr["title"], pr["body"], pr["merged"], pr["merge_commit_sha"] = 7, "PAY-7: fix", "Fixes PAY-7", true, merge
		pr["updated_at"] = t0.Add(time.Minute).UTC().Format(time.RFC3339)
		obj(pr, "head")["sha"], obj(pr, "head")["ref"], obj(pr, "base")["ref"] = head, "fix/PAY-7", "main"
	}), testSecret)
	app.waitProcessed(t)

	// The suites passed on the fix and on main (recorded as a worker would).
	for _, sha := range []string{head, merge} {
		app.passUnderItsConfig(t, patchgate.RepoRef{Forge: patchgate.GitHub, Name: testRepo}, sha)
	}
	manager := app.createToken(t, "ops", patchgate.RoleReleaseManager)
	var created struct{ Release patchgate.Candidate }
	req, _ := http.NewRequest(http.MethodPost, app.url+"/api/v1/releases", jsonBody(map[string]string{"repo": testRepo, "sha": merge}))
	req.Header.Set("Authorization", "Bearer "+manager)
	if code := doJSON(t, req, &created); code != http.StatusCreated || len(created.Release.Items) != 1 {
		t.Fatalf("create candidate: got %d %+v", code, created.Release)
	}

	comment := func(id string, commentID int, author string) {
		at := time.Now().Add(time.Second).UTC().Truncate(time.Second)
		app.forge.PutComment(testRepo, fakeforge.Comment{ID: int64(commentID), Number: 7, Author: author, Body: "/patchgate approve", CreatedAt: at})
		app.sendGitHub(t, "issue_comment", id, fixture(t, "github/issue_comment/created.api.github.com.1.json", func(p map[string]any) {
			issue := obj(p, "issue")
			issue["number"], issue["pull_request"] = 7, map[string]any{"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/7"}
			c := obj(p, "comment")
			c["body"] = "/patchgate approve"
			c["id"] = commentID
			c["created_at"] = at.Format(time.RFC3339)
			c["updated_at"] = c["created_at"]
			obj(c, "user")["login"] = author
			obj(p, "sender")["login"] = author
		}), testSecret)
		app.waitProcessed(t)
	}
	approvals := func() []*patchgate.Approval {
		var out struct{ Release patchgate.Candidate }
		app.api(t, http.MethodGet, fmt.Sprintf("/api/v1/releases/%d", created.Release.ID), nil, &out)
		return out.Release.Approvals
	}
	comment("c-mallory", 1, "mallory")
	if got := approvals(); len(got) != 0 {
		t.Fatalf("after mallory's comment: got approvals %+v, want none", got)
	}
	comment("c-alice", 2, "alice")
	if got := approvals(); len(got) != 1 || got[0].Approver != "alice" || got[0].Via != "comment" || got[0].SHA != merge {
		t.Fatalf("after alice's comment: got approvals %+v, want alice's, via comment, at the merge commit", got)
	}
}

// passVerification records a verification of sha in testRepo on GitHub whose
// one suite passed.
func passVerification(t *testing.T, vs *store.VerificationService, sha string) {
	t.Helper()
	passIn(t, vs, patchgate.RepoRef{Forge: patchgate.GitHub, Name: testRepo}, sha)
}

// passIn records a verification of sha in repo whose one suite passed, as a
// worker would have.
func passIn(t *testing.T, vs *store.VerificationService, repo patchgate.RepoRef, sha string) {
	t.Helper()
	ctx := context.Background()
	suites := []*patchgate.SuiteRun{{Name: "regression", Required: true, Image: "patchgate-test/runner:go1.26"}}
	v, _, err := vs.CreateVerification(ctx, &patchgate.Verification{
		Forge: repo.Forge, Repo: repo.Name, SHA: sha, ConfigRef: sha, ConfigDigest: "manual", Trigger: "test",
		Suites: suites,
	})
	if err != nil {
		t.Fatal(err)
	}
	if v.ConfigDigest == "" {
		// A delivery queued it and no worker took it: plan it as one would.
		if v, err = vs.PlanVerification(ctx, v.ID, "manual", false, suites); err != nil {
			t.Fatal(err)
		}
	}
	if err := vs.ClaimVerification(ctx, v.ID, v.Attempt, "test"); err != nil {
		t.Fatal(err)
	}
	v.Suites[0].State = patchgate.RunSuccess
	if err := vs.UpdateSuiteRun(ctx, v.Suites[0]); err != nil {
		t.Fatal(err)
	}
	if err := vs.FinishVerification(ctx, v.ID, patchgate.RunSuccess, "passed"); err != nil {
		t.Fatal(err)
	}
}
