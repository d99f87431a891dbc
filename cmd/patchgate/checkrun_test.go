package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges"
	"github.com/patchgate/patchgate/forges/fakeforge"
)

const testAppID = 5150

// startAppMode starts patchgate as the GitHub App testAppID, installed on
// testRepo, with its key in a file only its owner reads.
func startAppMode(t *testing.T, mod func(*Config)) (*testApp, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	forge := fakeforge.New()
	t.Cleanup(forge.Close)
	forge.SetToken("forge-token")
	forge.EnableApp(testAppID, "patchgate", &key.PublicKey)
	forge.InstallApp(testRepo)
	app := startAppOn(t, forge, func(c *Config) {
		c.GitHub.Token, c.GitHub.AppID, c.GitHub.PrivateKeyFile = "", testAppID, keyFile
		if mod != nil {
			mod(c)
		}
	})
	return app, key
}

// pressRerun sends GitHub's check_run requested_action delivery for run id
// on head, pressed by sender (whose account id the delivery names).
func pressRerun(t *testing.T, app *testApp, delivery string, runID int64, head, sender string, senderID int64) {
	t.Helper()
	body := fixture(t, "github/check_run/rerequested.api.github.com.7.json", func(p map[string]any) {
		p["action"] = "requested_action"
		p["requested_action"] = map[string]any{"identifier": patchgate.CheckActionRerun}
		cr := obj(p, "check_run")
		// The payload's claims, which patchgate reads back instead.
		cr["id"], cr["head_sha"], cr["name"] = runID, head, "patchgate/verdict"
		obj(cr, "app")["id"] = testAppID
		obj(p, "repository")["full_name"] = testRepo
		obj(p, "sender")["login"], obj(p, "sender")["id"] = sender, senderID
	})
	if code, a := app.sendGitHub(t, "check_run", delivery, body, testSecret); code != http.StatusAccepted || a.Status != "accepted" {
		t.Fatalf("check_run delivery %s: got %d %+v, want 202 accepted", delivery, code, a)
	}
	app.waitProcessed(t)
}

// TestCheckRunRerunButton: the Re-run button of patchgate's check run, sent
// through the webhook intake, re-verifies the run's commit for a maintainer
// (GitHub role maintain, or a trusted user by id) and for nobody else; the
// re-run's verdict is a check run (not a status) with its own external id.
func TestCheckRunRerunButton(t *testing.T) {
	app, key := startAppMode(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Repos[0].TrustedUsers = []string{"carol"}
	})
	base := strings.Repeat("b", 40)
	head := strings.Repeat("c", 40)
	app.forge.AddCommit(testRepo, base, map[string][]byte{".patchgate.yml": []byte("suites:\n  unit:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\n")}, "config", "dev")
	app.forge.AddCommit(testRepo, head, map[string][]byte{"fix.txt": []byte("one")}, "fix", "stranger", base)
	app.forge.AddPullRequest(testRepo, fakeforge.PullRequest{Number: 9, Title: "HW-1: fix from a fork", Author: "stranger", HeadSHA: head})
	// A fork's PR: not verified until a maintainer says so.
	app.sendGitHub(t, "pull_request", "fork-opened", fixture(t, "github/pull_request/opened.api.github.com.13.json", func(p map[string]any) {
		p["number"] = 9
		pr := obj(p, "pull_request")
		pr["number"], pr["title"], pr["updated_at"] = 9, "HW-1: fix from a fork", time.Now().UTC().Format(time.RFC3339)
		obj(pr, "head")["sha"], obj(pr, "base")["sha"] = head, base
		headRepo := obj(pr, "head", "repo")
		headRepo["id"], headRepo["full_name"] = 99, "stranger/Hello-World"
	}), testSecret)
	app.waitProcessed(t)
	verifications := func() []patchgate.Verification {
		var list struct{ Verifications []patchgate.Verification }
		app.api(t, http.MethodGet, "/api/v1/verifications?sha="+head, nil, &list)
		return list.Verifications
	}
	if n := len(verifications()); n != 0 {
		t.Fatalf("verifications of the fork's head before anyone vouched: got %d, want 0", n)
	}
	// patchgate's App failed this head before (an earlier run's check run).
	gh, err := forges.NewGitHub(forges.Config{BaseURL: app.forge.GitHubAPIURL(), App: &forges.AppConfig{ID: testAppID, Key: key}})
	if err != nil {
		t.Fatal(err)
	}
	ref := patchgate.RepoRef{Forge: patchgate.GitHub, Name: testRepo}
	if err := gh.PostCheckRun(context.Background(), ref, head, patchgate.CheckRun{Name: "patchgate/verdict", ExternalID: "0",
		State: patchgate.StatusFailure, Title: "unit failed", Rerun: true}); err != nil {
		t.Fatal(err)
	}
	runID := app.forge.CheckRuns(testRepo, head)[0].ID

	mallory := app.forge.AddUser("mallory")
	app.forge.SetPermission(testRepo, "mallory", "write")
	alice := app.forge.AddUser("alice")
	app.forge.SetPermission(testRepo, "alice", "maintain")
	carol := app.forge.AddUser("carol")
	app.forge.SetPermission(testRepo, "carol", "read")
	foreign := app.forge.AddForeignCheckRun(testRepo, head, "other-ci", 777)

	refused := []struct {
		delivery, sender string
		senderID, runID  int64
		want             string
	}{
		{"by-a-writer", "mallory", mallory, runID, "mallory (forge user id " + strconv.FormatInt(mallory, 10) + ", role write) does not maintain"},
		{"login-of-another-account", "alice", mallory, runID, "is account " + strconv.FormatInt(alice, 10)},
		{"another-apps-run", "alice", alice, foreign, "belongs to App 777"},
		{"unknown-run", "alice", alice, 424242, "check run 424242 is not on " + testRepo},
	}
	for _, r := range refused {
		pressRerun(t, app, r.delivery, r.runID, head, r.sender, r.senderID)
		if outcome, reason := app.delivery(t, r.delivery); outcome != patchgate.OutcomeIgnored || !strings.Contains(reason, r.want) {
			t.Errorf("delivery %s: got %s %q, want ignored saying %q", r.delivery, outcome, reason, r.want)
		}
		if n := len(verifications()); n != 0 {
			t.Fatalf("after %s: got %d verifications, want 0", r.delivery, n)
		}
	}

	// alice maintains the repository on GitHub; the payload's head is not
	// what counts, the run's head as GitHub reports it is.
	pressRerun(t, app, "by-a-maintainer", runID, strings.Repeat("d", 40), "alice", alice)
	if outcome, reason := app.delivery(t, "by-a-maintainer"); outcome != patchgate.OutcomeProcessed {
		t.Fatalf("alice's re-run: got %s %q, want processed", outcome, reason)
	}
	vs := verifications()
	if len(vs) != 1 || vs[0].SHA != head {
		t.Fatalf("after alice's re-run: got %+v, want one verification of %s", vs, head[:7])
	}
	app.main.Reporter.Wait()
	var verdict *fakeforge.RecordedCheckRun
	for _, r := range app.forge.CheckRuns(testRepo, head) {
		if r.Name == "patchgate/verdict" && r.ExternalID == strconv.FormatInt(vs[0].ID, 10) {
			verdict = &r
		}
	}
	if verdict == nil || verdict.AppID != testAppID || verdict.Status != "queued" {
		t.Errorf("the re-run's verdict: got %+v, want a queued check run of the App with external id %d", verdict, vs[0].ID)
	}
	if st := app.forge.Statuses(testRepo, head); len(st) != 0 {
		t.Errorf("statuses in App mode: got %+v, want none", st)
	}

	// carol can only read on GitHub but is a trusted user in patchgate's
	// configuration: a maintainer too.
	pressRerun(t, app, "by-a-trusted-user", runID, head, "carol", carol)
	if outcome, reason := app.delivery(t, "by-a-trusted-user"); outcome != patchgate.OutcomeProcessed {
		t.Fatalf("carol's re-run: got %s %q, want processed", outcome, reason)
	}
}

// TestCheckRunButtonInTokenMode: without the App, a check_run button press
// changes nothing and the delivery says App mode is what it takes.
func TestCheckRunButtonInTokenMode(t *testing.T) {
	app := startApp(t, func(c *Config) { c.Runners.Workers = 0 })
	pressRerun(t, app, "token-mode", 1, strings.Repeat("c", 40), "alice", app.forge.AddUser("alice"))
	if outcome, reason := app.delivery(t, "token-mode"); outcome != patchgate.OutcomeIgnored || !strings.Contains(reason, "github.app_id") {
		t.Errorf("token mode: got %s %q, want ignored naming github.app_id", outcome, reason)
	}
}

// TestAppKeyFileReadableByOthersIsRefused: the App's key is refused like
// the audit key when group or others may read it.
func TestAppKeyFileReadableByOthersIsRefused(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := readAppKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("key file 0640: got %v, want a refusal saying chmod 600", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := readAppKey(path); err != nil || !got.Equal(key) {
		t.Errorf("key file 0600: got %v, want the key", err)
	}
	cfg := DefaultConfig()
	cfg.GitHub.AppID = 1
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "github.private_key_file: required with github.app_id") {
		t.Errorf("app_id without a key file: got %v, want it refused", err)
	}
	cfg = DefaultConfig()
	cfg.GitLab.AppID, cfg.GitLab.PrivateKeyFile = 1, path
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "GitHub only") {
		t.Errorf("gitlab.app_id: got %v, want it refused", err)
	}
}
