package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
)

// TestApproveCommentOnBlockedCandidateAnswersWithCodes: a release manager's
// /patchgate approve on a change of a candidate that is not releasable is
// refused, and patchgate's answer on the change lists each blocker with its
// code and next action, as the API does.
func TestApproveCommentOnBlockedCandidateAnswersWithCodes(t *testing.T) {
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

	// Only the release commit passed: the fix in #7 has no verdict.
	app.passUnderItsConfig(t, patchgate.RepoRef{Forge: patchgate.GitHub, Name: testRepo}, merge)
	manager := app.createToken(t, "ops", patchgate.RoleReleaseManager)
	var created struct{ Release patchgate.Candidate }
	req, _ := http.NewRequest(http.MethodPost, app.url+"/api/v1/releases", jsonBody(map[string]string{"repo": testRepo, "sha": merge}))
	req.Header.Set("Authorization", "Bearer "+manager)
	if code := doJSON(t, req, &created); code != http.StatusCreated || len(created.Release.Items) != 1 {
		t.Fatalf("create candidate: got %d %+v", code, created.Release)
	}

	at := time.Now().Add(time.Second).UTC().Truncate(time.Second)
	app.forge.PutComment(testRepo, fakeforge.Comment{ID: 2, Number: 7, Author: "alice", Body: "/patchgate approve", CreatedAt: at})
	app.sendGitHub(t, "issue_comment", "c-alice", fixture(t, "github/issue_comment/created.api.github.com.1.json", func(p map[string]any) {
		issue := obj(p, "issue")
		issue["number"], issue["pull_request"] = 7, map[string]any{"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/7"}
		c := obj(p, "comment")
		c["body"], c["id"] = "/patchgate approve", 2
		c["created_at"] = at.Format(time.RFC3339)
		c["updated_at"] = c["created_at"]
		obj(c, "user")["login"] = "alice"
		obj(p, "sender")["login"] = "alice"
	}), testSecret)
	app.waitProcessed(t)
	for _, c := range app.main.commenters {
		c.Wait()
	}

	unverified, _ := patchgate.ReasonFor(patchgate.ReasonFixUnverified)
	want := "candidate " + created.Release.Name + " is not releasable:\n\n" +
		"- PAY-7: fix in #7 not verified on " + head[:7] + " under the release branch's .patchgate.yml yet (`fix_unverified`) → " + unverified.Action
	if answer := app.commandAnswer(t, 7); !strings.Contains(answer, want) {
		t.Fatalf("got the command answer %q, want it listing %q", answer, want)
	}
}
