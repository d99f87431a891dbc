package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/webhooks"
)

const (
	testSecret = "it's a test secret"
	testRepo   = "Codertocat/Hello-World"
	fixtures   = "../../webhooks/testdata"
)

// testApp is a whole patchgate, started like `patchgate serve`, on a port of its
// own with its own SQLite file, talking to a fake forge.
type testApp struct {
	main  *Main
	url   string
	token string // admin
	forge *fakeforge.Forge
}

func startApp(t *testing.T, mod func(*Config)) *testApp {
	t.Helper()
	forge := fakeforge.New()
	t.Cleanup(forge.Close)
	forge.SetToken("forge-token")
	forge.AddPullRequest(testRepo, fakeforge.PullRequest{Number: 2, Title: "Update the README with new information.", Author: "Codertocat"})
	return startAppOn(t, forge, mod)
}

// startAppOn starts a patchgate that talks to forge; several may share one
// forge (and, through mod, one database).
func startAppOn(t *testing.T, forge *fakeforge.Forge, mod func(*Config)) *testApp {
	t.Helper()
	m := startMain(t, forge, mod, false)
	secret, hash, err := patchgate.NewTokenSecret()
	if err != nil {
		t.Fatal(err)
	}
	if err := store.NewTokenService(m.DB).CreateToken(context.Background(), &patchgate.Token{Name: "test-admin-" + randomID(), Role: patchgate.RoleAdmin, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	return &testApp{main: m, url: "http://" + m.Addr(), token: secret, forge: forge}
}

// startMain runs a patchgate in this process on forge: `serve`, or with
// workerOnly `patchgate worker` (verification workers only, no HTTP server,
// no delivery processor). Its database is a fresh SQLite file unless mod
// names another; it is closed when the test ends.
func startMain(t *testing.T, forge *fakeforge.Forge, mod func(*Config), workerOnly bool) *Main {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Database = "sqlite://" + filepath.Join(t.TempDir(), "patchgate.db")
	cfg.GitHub = ForgeConfig{APIURL: forge.GitHubAPIURL(), WebURL: "https://github.com", Token: "forge-token", WebhookSecrets: []string{"old-secret-1", testSecret}}
	cfg.GitLab = ForgeConfig{APIURL: forge.GitLabAPIURL(), Token: "forge-token", WebhookSecrets: []string{testSecret}}
	cfg.Repos = []RepoConfig{{Forge: "github", Name: testRepo, TicketKeys: []string{"HW"}}}
	cfg.Workers.Deliveries = 2
	// Many tests' webhooks name heads their fake forge does not have: they
	// would be "corrected" at start. The reconcile tests turn it on.
	cfg.Reconcile.Interval = 0
	if mod != nil {
		mod(&cfg)
	}
	if cfg.Audit.KeyFile == "" {
		cfg.Audit.KeyFile = testAuditKeyFile(t, cfg.Database)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		if workerOnly {
			logger = logger.With("process", "worker")
		}
	}
	m := NewMain(cfg, logger)
	m.WorkerOnly = workerOnly
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return m
}

// fixture reads a recorded payload and applies edits to its decoded JSON.
func fixture(t *testing.T, name string, edit func(p map[string]any)) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	if edit == nil {
		return raw
	}
	var p map[string]any
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	edit(p)
	out, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// obj walks nested JSON objects: obj(p, "pull_request", "head").
func obj(p map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		p = p[k].(map[string]any)
	}
	return p
}

type ack struct {
	Delivery string `json:"delivery"`
	Status   string `json:"status"`
	Reason   string `json:"reason"`
	Error    struct {
		Code string `json:"code"`
	} `json:"error"`
}

// sendGitHub posts a signed delivery and returns the status code and the answer.
func (a *testApp) sendGitHub(t *testing.T, event, id string, body []byte, secret string) (int, ack) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.url+"/webhooks/github", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", id)
	req.Header.Set("X-Hub-Signature-256", webhooks.SignGitHub(secret, body))
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, ack) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out ack
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// api calls the JSON API as the admin and decodes the answer into out.
func (a *testApp) api(t *testing.T, method, path string, in, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.url+path, body)
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

// waitProcessed waits until no delivery is pending.
func (a *testApp) waitProcessed(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var out struct{ Total int }
		a.api(t, http.MethodGet, "/api/v1/deliveries?outcome=pending&limit=1", nil, &out)
		if out.Total == 0 {
			// Comments are written in the background; what the deliveries
			// asked for is on the forge once the outboxes are empty.
			for _, c := range a.main.commenters {
				c.Wait()
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("deliveries still pending after 20s")
}

type ticketView struct {
	Ticket patchgate.Ticket  `json:"ticket"`
	Links  []*patchgate.Link `json:"links"`
}

func (a *testApp) ticket(t *testing.T, key string) ticketView {
	t.Helper()
	var list struct{ Tickets []patchgate.Ticket }
	a.api(t, http.MethodGet, "/api/v1/tickets?key="+key, nil, &list)
	if len(list.Tickets) != 1 {
		t.Fatalf("got %d tickets with key %s, want 1", len(list.Tickets), key)
	}
	var v ticketView
	a.api(t, http.MethodGet, fmt.Sprintf("/api/v1/tickets/%d", list.Tickets[0].ID), nil, &v)
	return v
}

func (a *testApp) change(t *testing.T, number int) (patchgate.Change, []*patchgate.Link) {
	t.Helper()
	var list struct{ Changes []patchgate.Change }
	a.api(t, http.MethodGet, "/api/v1/changes?kind=pull_request&repo="+testRepo, nil, &list)
	for _, c := range list.Changes {
		if c.Number == number {
			var v struct {
				Change patchgate.Change  `json:"change"`
				Links  []*patchgate.Link `json:"links"`
			}
			a.api(t, http.MethodGet, fmt.Sprintf("/api/v1/changes/%d", c.ID), nil, &v)
			return v.Change, v.Links
		}
	}
	t.Fatalf("no change #%d", number)
	return patchgate.Change{}, nil
}

func (a *testApp) linkComments(t *testing.T, number int) []fakeforge.Comment {
	// Comments are written in the background: read what was asked for so far.
	for _, c := range a.main.commenters {
		c.Wait()
	}
	var out []fakeforge.Comment
	for _, c := range a.forge.Comments(testRepo, number) {
		if strings.Contains(c.Body, "<!-- patchgate:links -->") {
			out = append(out, c)
		}
	}
	return out
}

// createToken makes an API token through the API, as an admin would.
func (a *testApp) createToken(t *testing.T, name string, role patchgate.Role, users ...string) string {
	t.Helper()
	var out struct{ Secret string }
	body := map[string]any{"name": name, "role": string(role)}
	if len(users) > 0 {
		body["users"] = users // the person holding it: "github:alice"
	}
	a.registerUsers(users)
	if code := a.api(t, http.MethodPost, "/api/v1/tokens", body, &out); code != http.StatusCreated {
		t.Fatalf("create token: got %d", code)
	}
	return out.Secret
}

// registerUsers gives each "forge:login" an account on the fake forge, as a
// person must have before a token can pin their user id.
func (a *testApp) registerUsers(users []string) {
	for _, u := range users {
		if _, login, ok := strings.Cut(u, ":"); ok {
			a.forge.AddUser(login)
		}
	}
}

// runCLI runs a patchgate command line and returns its standard output.
func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, err := execCLI(args...)
	if err != nil {
		t.Fatalf("patchgate %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// runCLIErr runs a command line that is expected to fail.
func runCLIErr(t *testing.T, args ...string) error {
	t.Helper()
	_, err := execCLI(args...)
	if err == nil {
		t.Fatalf("patchgate %s: succeeded, want an error", strings.Join(args, " "))
	}
	return err
}

func execCLI(args ...string) (string, error) {
	cmd := newRootCommand()
	var stdout, stderr bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return stdout.String(), err
}

func jsonBody(v any) io.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}

// doJSON sends req and decodes the JSON answer into out.
func doJSON(t *testing.T, req *http.Request, out any) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("decode %s: %v", raw, err)
		}
	}
	return resp.StatusCode
}

// testAuditKeyFile is the audit key of a test's database when the test names
// none: beside an SQLite file its default, for any other database one file
// per database in the temporary directory, shared by the servers and workers
// a test starts on it (one chain, one key) — never the default
// ./patchgate.audit-key, which would land in the package's source directory.
func testAuditKeyFile(t *testing.T, database string) string {
	if path := defaultAuditKeyFile(database, "."); strings.HasPrefix(database, "sqlite://") || path == "" {
		return path
	}
	sum := sha256.Sum256([]byte(database))
	path := filepath.Join(os.TempDir(), fmt.Sprintf("patchgate-test-%x.audit-key", sum[:8]))
	t.Cleanup(func() { _ = os.Remove(path); _ = os.Remove(keyedMarkFile(path)) })
	return path
}
