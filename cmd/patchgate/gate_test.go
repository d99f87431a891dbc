package main

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
	"github.com/patchgate/patchgate/store"
)

// gateWorld is a whole patchgate with one fix on its fake forge: PR #7 by
// Codertocat fixes PAY-7, was merged into main at merge, and the suites passed
// on its head and on main. Tests drive it only through webhooks and the API.
type gateWorld struct {
	app               *testApp
	base, head, merge string
	t0                time.Time
}

// newGateWorld builds the world; approvals is the release policy's number.
func newGateWorld(t *testing.T, approvals int, mod func(*Config)) *gateWorld {
	t.Helper()
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Repos[0].TicketKeys = []string{"PAY"}
		c.ReleaseManagers = map[string][]string{"github": {"alice", "bob"}}
		if mod != nil {
			mod(c)
		}
	})
	w := &gateWorld{app: app, t0: time.Now().Add(-time.Hour).Truncate(time.Second)}
	repo := newGitRepo(t, app.forge, testRepo)
	config := fmt.Sprintf("suites:\n  regression:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\nrelease:\n  branch: main\n  approvals: %d\n", approvals)
	w.base = repo.commit("config", map[string][]byte{".patchgate.yml": []byte(config)})
	repo.git("checkout", "-q", "-b", "fix/PAY-7")
	w.head = repo.commit("fix", map[string][]byte{"fix.txt": []byte("fixed")})
	repo.git("checkout", "-q", "main")
	repo.git("merge", "-q", "--no-ff", "-m", "Merge #7", "fix/PAY-7")
	w.merge = repo.git("rev-parse", "HEAD")
	app.forge.AddCommit(testRepo, w.merge, map[string][]byte{"fix.txt": []byte("fixed")}, "Merge #7", "dev", w.base, w.head)
	app.forge.SetBranch(testRepo, "main", w.merge)
	app.forge.AddPullRequest(testRepo, fakeforge.PullRequest{Number: 7, Title: "PAY-7: fix", Author: "Codertocat", HeadSHA: w.head})

	app.openPR(t, "opened", 7, "PAY-7: fix", "Fixes PAY-7", "fix/PAY-7", w.head, "", w.t0)
	app.sendGitHub(t, "pull_request", "merged-7", fixture(t, "github/pull_request/closed.api.github.com.3.json", func(p map[string]any) {
		p["number"] = 7
		pr := obj(p, "pull_request")
		pr["number"], pr["title"], pr["body"], pr["merged"], pr["merge_commit_sha"] = 7, "PAY-7: fix", "Fixes PAY-7", true, w.merge
		pr["updated_at"] = w.t0.Add(time.Minute).UTC().Format(time.RFC3339)
		obj(pr, "head")["sha"], obj(pr, "head")["ref"], obj(pr, "base")["ref"] = w.head, "fix/PAY-7", "main"
	}), testSecret)
	app.waitProcessed(t)
	for _, sha := range []string{w.head, w.merge} {
		app.passUnderItsConfig(t, patchgate.RepoRef{Forge: patchgate.GitHub, Name: testRepo}, sha)
	}
	return w
}

// propose creates a candidate at sha through the API, as the admin; it
// returns the status, the candidate and the error message.
func (w *gateWorld) propose(t *testing.T, sha string) (int, patchgate.Candidate, string) {
	t.Helper()
	var out struct {
		Release patchgate.Candidate
		Error   struct{ Code, Message string }
	}
	code := w.app.api(t, http.MethodPost, "/api/v1/releases", map[string]string{"repo": testRepo, "sha": sha}, &out)
	return code, out.Release, out.Error.Message
}

// candidate proposes the merge commit and fails the test unless it is created.
func (w *gateWorld) candidate(t *testing.T) patchgate.Candidate {
	t.Helper()
	code, c, msg := w.propose(t, w.merge)
	if code != http.StatusCreated || len(c.Items) != 1 {
		t.Fatalf("create candidate: got %d %s %+v", code, msg, c)
	}
	return c
}

// token creates an API token naming users ("github:alice") and returns its secret.
func (w *gateWorld) token(t *testing.T, name string, role patchgate.Role, users ...string) string {
	t.Helper()
	var out struct{ Secret string }
	body := map[string]any{"name": name, "role": string(role), "users": users}
	w.app.registerUsers(users)
	if code := w.app.api(t, http.MethodPost, "/api/v1/tokens", body, &out); code != http.StatusCreated {
		t.Fatalf("create token %s: got %d", name, code)
	}
	return out.Secret
}

// call sends an API request with token and returns the status and the error
// message, if any.
func (w *gateWorld) call(t *testing.T, token, method, path string, in any) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, w.app.url+path, jsonBody(in))
	req.Header.Set("Authorization", "Bearer "+token)
	var out struct {
		Error struct{ Code, Message string }
	}
	code := doJSON(t, req, &out)
	return code, out.Error.Message
}

// approval is an approval as the API shows it.
type approval struct {
	Approver, Token, Via, SHA string
	WithdrawnAt               string `json:"withdrawn_at"`
}

func (w *gateWorld) approvals(t *testing.T, id int64) []approval {
	t.Helper()
	var out struct {
		Release struct{ Approvals []approval }
	}
	w.app.api(t, http.MethodGet, fmt.Sprintf("/api/v1/releases/%d", id), nil, &out)
	return out.Release.Approvals
}

// ghComment describes an issue_comment delivery on PR #7.
type ghComment struct {
	delivery string
	id       int64
	action   string // created (default) or edited
	author   string // comment.user.login
	sender   string // sender.login; the author when ""
	body     string
	created  time.Time // default: now
	updated  time.Time // default: created
	// onForge is who the forge says wrote the comment: the author when "";
	// noComment when the forge has no such comment.
	onForge string
}

// noComment, as ghComment.onForge, sends a comment the forge does not have.
const noComment = "-"

// send posts the comment on PR #7 as GitHub would and waits until it is processed.
func (w *gateWorld) send(t *testing.T, c ghComment) {
	t.Helper()
	w.sendOn(t, 7, c)
}

// sendOn posts the comment on PR #number.
func (w *gateWorld) sendOn(t *testing.T, number int, c ghComment) {
	t.Helper()
	if c.action == "" {
		c.action = "created"
	}
	if c.sender == "" {
		c.sender = c.author
	}
	if c.created.IsZero() {
		c.created = time.Now().Add(time.Second)
	}
	if c.updated.IsZero() {
		c.updated = c.created
	}
	switch c.onForge {
	case noComment:
	case "":
		c.onForge = c.author
		fallthrough
	default:
		w.app.forge.PutComment(testRepo, fakeforge.Comment{ID: c.id, Number: number, Author: c.onForge, Body: c.body,
			CreatedAt: c.created.UTC().Truncate(time.Second), UpdatedAt: c.updated.UTC().Truncate(time.Second)})
	}
	file := "github/issue_comment/created.api.github.com.1.json"
	if c.action == "edited" {
		file = "github/issue_comment/edited.api.github.com.7.json"
	}
	body := fixture(t, file, func(p map[string]any) {
		p["action"] = c.action
		issue := obj(p, "issue")
		issue["number"], issue["pull_request"] = number, map[string]any{"url": fmt.Sprintf("https://api.github.com/repos/Codertocat/Hello-World/pulls/%d", number)}
		cm := obj(p, "comment")
		cm["id"], cm["body"] = c.id, c.body
		cm["created_at"], cm["updated_at"] = c.created.UTC().Format(time.RFC3339), c.updated.UTC().Format(time.RFC3339)
		cm["html_url"] = fmt.Sprintf("https://github.com/Codertocat/Hello-World/pull/%d#issuecomment-%d", number, c.id)
		obj(cm, "user")["login"] = c.author
		obj(p, "sender")["login"] = c.sender
	})
	if code, ack := w.app.sendGitHub(t, "issue_comment", c.delivery, body, testSecret); code != http.StatusAccepted {
		t.Fatalf("send comment %s: got %d %+v", c.delivery, code, ack)
	}
	w.app.waitProcessed(t)
}

// delivery returns a processed delivery's outcome and reason.
func (a *testApp) delivery(t *testing.T, id string) (patchgate.DeliveryOutcome, string) {
	t.Helper()
	var out struct{ Deliveries []patchgate.Delivery }
	a.api(t, http.MethodGet, "/api/v1/deliveries?limit=500", nil, &out)
	for _, d := range out.Deliveries {
		if d.ID == id {
			return d.Outcome, d.Reason
		}
	}
	t.Fatalf("no delivery %s", id)
	return "", ""
}

// commandAnswer returns patchgate's answer comment to commands on PR #number.
func (a *testApp) commandAnswer(t *testing.T, number int) string {
	t.Helper()
	var answers []string
	for _, c := range a.forge.Comments(testRepo, number) {
		if strings.Contains(c.Body, "<!-- patchgate:commands -->") {
			answers = append(answers, c.Body)
		}
	}
	if len(answers) != 1 {
		t.Fatalf("got %d command answers on #%d, want one edited in place: %q", len(answers), number, answers)
	}
	return answers[0]
}

// glTestRepo is the GitLab project of newGitLabWorld.
const glTestRepo = "gitlabhq/gitlab-test"

// gitLabWorld is a GitLab project whose MR !3, written by alice, was merged
// by bob (so its hook names the author only by id) into main at merge; the
// suites passed and a candidate at merge is open. The forge does not know !3
// until a test adds it.
type gitLabWorld struct {
	app         *testApp
	head, merge string
	candidate   patchgate.Candidate
}

func newGitLabWorld(t *testing.T) *gitLabWorld {
	t.Helper()
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Repos = append(c.Repos, RepoConfig{Forge: "gitlab", Name: glTestRepo, TicketKeys: []string{"OPS"}})
		c.ReleaseManagers = map[string][]string{"gitlab": {"alice", "bob"}}
	})
	base, head, merge := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)
	config := "suites:\n  regression:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\nrelease:\n  branch: main\n  approvals: 1\n"
	app.forge.AddCommit(glTestRepo, base, map[string][]byte{".patchgate.yml": []byte(config)}, "config", "dev")
	app.forge.AddCommit(glTestRepo, head, map[string][]byte{"fix.txt": []byte("fixed")}, "OPS-1: fix", "alice", base)
	app.forge.AddCommit(glTestRepo, merge, nil, "Merge !3", "alice", base, head)
	app.forge.SetBranch(glTestRepo, "main", merge)

	// bob merged alice's MR: the hook's user is bob, the author only an id.
	body := fixture(t, "gitlab/merge_request.json", func(p map[string]any) {
		oa := obj(p, "object_attributes")
		oa["iid"], oa["action"], oa["state"], oa["title"], oa["description"] = 3, "merge", "merged", "OPS-1: fix", "Fixes OPS-1"
		oa["target_branch"], oa["merge_commit_sha"], oa["author_id"] = "main", merge, 77
		oa["updated_at"] = time.Now().UTC().Format(time.RFC3339)
		obj(oa, "last_commit")["id"] = head
		obj(p, "user")["id"], obj(p, "user")["username"] = 5, "bob"
	})
	req, _ := http.NewRequest(http.MethodPost, app.url+"/webhooks/gitlab", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Gitlab-Event", "Merge Request Hook")
	req.Header.Set("X-Gitlab-Token", testSecret)
	req.Header.Set("X-Gitlab-Event-UUID", "mr-3-merged")
	if code, ack := do(t, req); code != http.StatusAccepted {
		t.Fatalf("merge request hook: got %d %+v", code, ack)
	}
	app.waitProcessed(t)
	for _, sha := range []string{head, merge} {
		app.passUnderItsConfig(t, patchgate.RepoRef{Forge: patchgate.GitLab, Name: glTestRepo}, sha)
	}
	var created struct {
		Release patchgate.Candidate
		Error   struct{ Message string }
	}
	if code := app.api(t, http.MethodPost, "/api/v1/releases", map[string]string{"forge": "gitlab", "repo": glTestRepo, "sha": merge}, &created); code != http.StatusCreated || len(created.Release.Items) != 1 {
		t.Fatalf("create candidate: got %d %q %+v", code, created.Error.Message, created.Release)
	}
	return &gitLabWorld{app: app, head: head, merge: merge, candidate: created.Release}
}

// glPass records a passed verification of sha in a GitLab project.
func glPass(t *testing.T, vs *store.VerificationService, repo, sha string) {
	t.Helper()
	passIn(t, vs, patchgate.RepoRef{Forge: patchgate.GitLab, Name: repo}, sha)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
