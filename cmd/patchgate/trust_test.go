package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
)

// TestForkWaitsForOkToTest checks the security rule that a fork's code runs
// only after a maintainer approves its current head.
func TestForkWaitsForOkToTest(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0 // nothing runs; the test looks at what is queued
		c.ReleaseManagers = map[string][]string{"github": {"alice"}}
	})
	repo := newGitRepo(t, app.forge, testRepo)
	base := repo.commit("config", map[string][]byte{".patchgate.yml": []byte("suites:\n  unit:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\n")})
	// The fork's head would run anything: its own config must never be read.
	head := repo.commit("fix", map[string][]byte{".patchgate.yml": []byte("suites:\n  unit:\n    image: evil/miner\n    run: mine\n")})
	app.forge.AddPullRequest(testRepo, fakeforge.PullRequest{Number: 9, Title: "PAY-1: fix from a fork", Author: "stranger", HeadSHA: head})

	pr := fixture(t, "github/pull_request/opened.api.github.com.13.json", func(p map[string]any) {
		p["number"] = 9
		pr := obj(p, "pull_request")
		pr["number"], pr["title"] = 9, "PAY-1: fix from a fork"
		obj(pr, "head")["sha"] = head
		obj(pr, "base")["sha"] = base
		headRepo := obj(pr, "head", "repo")
		headRepo["id"], headRepo["full_name"] = 99, "stranger/Hello-World"
	})
	app.sendGitHub(t, "pull_request", "fork-opened", pr, testSecret)
	app.waitProcessed(t)

	var list struct{ Verifications []patchgate.Verification }
	app.api(t, http.MethodGet, "/api/v1/verifications?sha="+head, nil, &list)
	if len(list.Verifications) != 0 {
		t.Fatalf("got %d verifications of a fork's head before approval, want 0", len(list.Verifications))
	}
	waitStatus(t, app, head, "waiting for a maintainer")

	comment := func(id string, commentID int, author string) {
		at := time.Now().Add(time.Second).UTC().Truncate(time.Second)
		app.forge.PutComment(testRepo, fakeforge.Comment{ID: int64(commentID), Number: 9, Author: author, Body: "Looks safe.\r\n/patchgate ok-to-test", CreatedAt: at})
		body := fixture(t, "github/issue_comment/created.api.github.com.1.json", func(p map[string]any) {
			issue := obj(p, "issue")
			issue["number"], issue["pull_request"] = 9, map[string]any{"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/9"}
			c := obj(p, "comment")
			c["body"] = "Looks safe.\r\n/patchgate ok-to-test"
			c["id"] = commentID
			c["created_at"] = at.Format(time.RFC3339)
			c["updated_at"] = c["created_at"]
			obj(c, "user")["login"] = author
			obj(p, "sender")["login"] = author
		})
		app.sendGitHub(t, "issue_comment", id, body, testSecret)
		app.waitProcessed(t)
	}
	comment("c-stranger", 1, "mallory")
	app.api(t, http.MethodGet, "/api/v1/verifications?sha="+head, nil, &list)
	if len(list.Verifications) != 0 {
		t.Fatalf("a non-maintainer's ok-to-test queued %d verifications, want 0", len(list.Verifications))
	}
	comment("c-alice", 2, "alice")
	app.api(t, http.MethodGet, "/api/v1/verifications?sha="+head, nil, &list)
	if len(list.Verifications) != 1 || list.Verifications[0].State != patchgate.RunQueued || !strings.Contains(list.Verifications[0].Trigger, "alice") {
		t.Fatalf("after alice's ok-to-test: got %+v, want one queued verification triggered by alice", list.Verifications)
	}
	var detail struct{ Verification patchgate.Verification }
	app.api(t, http.MethodGet, "/api/v1/verifications/"+fmt.Sprint(list.Verifications[0].ID), nil, &detail)
	if v := detail.Verification; v.ConfigRef != base {
		t.Fatalf("got config ref %s, want the base %s", v.ConfigRef, base)
	}
	// Plan it as the worker that takes it would: the suites come from the
	// file at the base.
	if _, err := app.main.Planner.Plan(context.Background(), &detail.Verification); err != nil {
		t.Fatal(err)
	}
	app.api(t, http.MethodGet, "/api/v1/verifications/"+fmt.Sprint(list.Verifications[0].ID), nil, &detail)
	if v := detail.Verification; v.ConfigRef != base || len(v.Suites) != 1 || v.Suites[0].Image != "patchgate-test/runner:go1.26" {
		t.Fatalf("got config from %s with suites %+v, want the base's config", v.ConfigRef, v.Suites)
	}
}

func waitStatus(t *testing.T, app *testApp, sha, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, s := range app.forge.Statuses(testRepo, sha) {
			if strings.Contains(s.Description, want) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no status saying %q on %s: %+v", want, sha[:8], app.forge.Statuses(testRepo, sha))
}
