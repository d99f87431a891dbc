package main

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/trackers/jira/fakejira"
)

// waitJira waits until the fake Jira's issue key satisfies ok.
func waitJira(t *testing.T, fj *fakejira.Jira, key, what string, ok func(i fakejira.Issue) bool) fakejira.Issue {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		i, _ := fj.Issue(key)
		if ok(i) {
			return i
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s never happened; issue is %+v", key, what, i)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// commentSays reports whether the issue's one patchgate comment says state.
func commentSays(state patchgate.TicketState) func(i fakejira.Issue) bool {
	return func(i fakejira.Issue) bool {
		return len(i.Comments) == 1 && strings.Contains(i.Comments[0].Body(), "is *"+string(state)+"*")
	}
}

// TestJiraEndToEnd: Jira issue PAY-7 (priority Highest) arrives by webhook;
// a PR "Fixes PAY-7" is verified, merged and released. Jira shows one
// patchgate comment, edited through the states with the evidence, and the
// two configured transitions; the ticket met its SLA.
func TestJiraEndToEnd(t *testing.T) {
	fj := fakejira.New("bot@acme.example", "jira-token")
	t.Cleanup(fj.Close)
	opened := time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Millisecond)
	fj.AddIssue(fakejira.Issue{Key: "PAY-7", Summary: "Refunds of half a cent round down", Priority: "Highest", Created: opened})
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Repos[0].TicketKeys = []string{"PAY"}
		c.ReleaseManagers = map[string][]string{"github": {"alice"}}
		c.Trackers = []TrackerConfig{jiraTracker(fj.URL())}
	})

	created := bytes.ReplaceAll(jiraFixture(t, "issue_created.priority-highest.json"),
		[]byte("2026-11-30T09:00:00.000+0000"), []byte(opened.Format("2006-01-02T15:04:05.000-0700")))
	if code, a := app.sendJira(t, "wh-created", created, jiraSecret); code != http.StatusAccepted || a.Status != "accepted" {
		t.Fatalf("webhook: got %d %+v", code, a)
	}
	app.waitProcessed(t)
	if tk := app.ticket(t, "PAY-7").Ticket; tk.Severity != patchgate.SeverityCritical || !tk.OpenedAt.Equal(opened) {
		t.Fatalf("PAY-7: got severity %s opened %s, want critical opened %s", tk.Severity, tk.OpenedAt, opened)
	}

	repo := newGitRepo(t, app.forge, testRepo)
	base := repo.commit("config", map[string][]byte{".patchgate.yml": []byte("suites:\n  regression:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\n")})
	repo.git("checkout", "-q", "-b", "fix/rounding")
	head := repo.commit("fix", map[string][]byte{"fix.txt": []byte("fixed")})
	repo.git("checkout", "-q", "main")
	repo.git("merge", "-q", "--no-ff", "-m", "Merge #7", "fix/rounding")
	merge := repo.git("rev-parse", "HEAD")
	app.forge.AddCommit(testRepo, merge, map[string][]byte{"fix.txt": []byte("fixed")}, "Merge #7", "dev", base, head)
	app.forge.SetBranch(testRepo, "main", merge) // a candidate must be on its release branch

	t0 := time.Now().Add(-time.Hour)
	app.openPR(t, "opened", 7, "Round refunds half away from zero", "Fixes PAY-7", "fix/rounding", head, "", t0)
	app.waitProcessed(t)
	waitJira(t, fj, "PAY-7", "a comment saying fix_proposed", commentSays(patchgate.TicketFixProposed))

	app.pass(t, head)
	i := waitJira(t, fj, "PAY-7", "the In Review transition", func(i fakejira.Issue) bool {
		return commentSays(patchgate.TicketFixVerified)(i) && i.Status == "In Review"
	})
	if body := i.Comments[0].Body(); !strings.Contains(body, testRepo+"#7") || !strings.Contains(body, head[:7]) || !strings.Contains(body, "success") {
		t.Fatalf("comment at fix_verified:\n%s\nwant the PR, its head and its verdict", body)
	}

	app.sendGitHub(t, "pull_request", "merged-7", fixture(t, "github/pull_request/closed.api.github.com.3.json", func(p map[string]any) {
		p["number"] = 7
		pr := obj(p, "pull_request")
		pr["number"], pr["title"], pr["body"], pr["merged"], pr["merge_commit_sha"] = 7, "Round refunds half away from zero", "Fixes PAY-7", true, merge
		pr["updated_at"] = t0.Add(time.Minute).UTC().Format(time.RFC3339)
		obj(pr, "head")["sha"], obj(pr, "head")["ref"], obj(pr, "base")["ref"] = head, "fix/rounding", "main"
	}), testSecret)
	app.waitProcessed(t)
	app.pass(t, merge)
	waitJira(t, fj, "PAY-7", "a comment saying fix_merged", commentSays(patchgate.TicketFixMerged))

	manager := app.createToken(t, "alice", patchgate.RoleReleaseManager, "github:alice")
	call := func(method, path string, in, out any) int {
		req, _ := http.NewRequest(method, app.url+path, jsonBody(in))
		req.Header.Set("Authorization", "Bearer "+manager)
		return doJSON(t, req, out)
	}
	var rel struct{ Release patchgate.Candidate }
	if code := call(http.MethodPost, "/api/v1/releases", map[string]string{"repo": testRepo, "sha": merge}, &rel); code != http.StatusCreated {
		t.Fatalf("create release: got %d", code)
	}
	id := rel.Release.ID
	if code := call(http.MethodPost, fmt.Sprintf("/api/v1/releases/%d/approve", id), map[string]string{}, nil); code >= 300 {
		t.Fatalf("approve: got %d", code)
	}
	if code := call(http.MethodPost, fmt.Sprintf("/api/v1/releases/%d/promote", id), map[string]string{}, nil); code >= 300 {
		t.Fatalf("promote: got %d", code)
	}

	i = waitJira(t, fj, "PAY-7", "the Done transition", func(i fakejira.Issue) bool {
		return commentSays(patchgate.TicketReleased)(i) && i.Status == "Done"
	})
	if len(i.Comments) != 1 {
		t.Fatalf("got %d comments, want one", len(i.Comments))
	}
	var states []string
	for _, b := range i.Comments[0].Bodies {
		for _, s := range []patchgate.TicketState{patchgate.TicketFixProposed, patchgate.TicketFixVerified, patchgate.TicketFixMerged, patchgate.TicketReleased} {
			if strings.Contains(b, "is *"+string(s)+"*") && (len(states) == 0 || states[len(states)-1] != string(s)) {
				states = append(states, string(s))
			}
		}
	}
	if got := strings.Join(states, " "); got != "fix_proposed fix_verified fix_merged released" {
		t.Fatalf("the comment went through %q, want fix_proposed fix_verified fix_merged released", got)
	}
	if strings.Join(i.Transitions, ", ") != "In Review, Done" {
		t.Fatalf("transitions %v, want In Review then Done", i.Transitions)
	}
	final := i.Comments[0].Body()
	if !strings.Contains(final, "tag release-"+merge[:7]) || !strings.Contains(final, merge[:7]) || !strings.Contains(final, "SLA met") {
		t.Fatalf("final comment:\n%s\nwant the release, its tag and SLA met", final)
	}
	var got struct {
		Ticket struct {
			patchgate.Ticket
			SLA patchgate.SLAStatus `json:"sla"`
		} `json:"ticket"`
	}
	app.api(t, http.MethodGet, fmt.Sprintf("/api/v1/tickets/%d", app.ticket(t, "PAY-7").Ticket.ID), nil, &got)
	if got.Ticket.State != patchgate.TicketReleased || got.Ticket.SLA.State != patchgate.SLAMet {
		t.Fatalf("PAY-7: got state %s SLA %s, want released, met", got.Ticket.State, got.Ticket.SLA.State)
	}
}

// TestJiraReadOnFirstReference: a key of a Jira project first seen in a PR is
// read from Jira's REST API; while Jira is down the delivery is processed all
// the same, and the read is retried until Jira is back.
func TestJiraReadOnFirstReference(t *testing.T) {
	fj := fakejira.New("bot@acme.example", "jira-token")
	t.Cleanup(fj.Close)
	opened := time.Now().Add(-3 * time.Hour).UTC().Truncate(time.Millisecond)
	fj.AddIssue(fakejira.Issue{Key: "PAY-8", Summary: "Chargebacks lost", Priority: "High", Created: opened})
	fj.AddIssue(fakejira.Issue{Key: "PAY-9", Summary: "Double refunds", Priority: "Highest", Created: opened})
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Repos[0].TicketKeys = []string{"PAY"}
		c.Trackers = []TrackerConfig{jiraTracker(fj.URL())}
	})
	app.main.TrackerSync.Retry.Backoff = 50 * time.Millisecond

	app.openPR(t, "opened", 8, "Keep chargebacks", "Fixes PAY-8", "fix/chargebacks", strings.Repeat("8", 40), "", time.Now())
	app.waitProcessed(t)
	deadline := time.Now().Add(10 * time.Second)
	for tk := app.ticket(t, "PAY-8").Ticket; tk.Severity != patchgate.SeverityHigh; tk = app.ticket(t, "PAY-8").Ticket {
		if time.Now().After(deadline) {
			t.Fatalf("PAY-8 never read from Jira: %+v", tk)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if tk := app.ticket(t, "PAY-8").Ticket; tk.Title != "Chargebacks lost" || !tk.OpenedAt.Equal(opened) || tk.URL != fj.URL()+"/browse/PAY-8" {
		t.Fatalf("PAY-8: got %+v", tk)
	}

	fj.SetDown(true)
	start := time.Now()
	app.openPR(t, "opened", 9, "No double refunds", "Fixes PAY-9", "fix/double", strings.Repeat("9", 40), "", time.Now())
	app.waitProcessed(t)
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("processing with Jira down took %s", took)
	}
	if tk := app.ticket(t, "PAY-9").Ticket; tk.Severity != patchgate.SeverityUnknown || len(app.ticket(t, "PAY-9").Links) != 1 {
		t.Fatalf("PAY-9 while Jira is down: got %+v, want linked, severity unknown", tk)
	}
	time.Sleep(150 * time.Millisecond)
	fj.SetDown(false)
	deadline = time.Now().Add(10 * time.Second)
	for tk := app.ticket(t, "PAY-9").Ticket; tk.Severity != patchgate.SeverityCritical; tk = app.ticket(t, "PAY-9").Ticket {
		if time.Now().After(deadline) {
			t.Fatalf("PAY-9 never read after Jira came back: %+v", tk)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
