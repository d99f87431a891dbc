package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
	"go.yaml.in/yaml/v3"
)

// jsonLines parses every line of a log written by a server whose stderr is a
// file: with log.format left to auto, each must be a JSON object.
func jsonLines(t *testing.T, logPath string) []map[string]any {
	t.Helper()
	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for i, line := range strings.Split(strings.TrimRight(string(raw), "\n"), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line %d is not JSON (stderr is not a terminal, so auto means JSON): %q", i+1, line)
			continue
		}
		out = append(out, rec)
	}
	return out
}

// findLog returns the first record with that msg.
func findLog(recs []map[string]any, msg string) map[string]any {
	for _, r := range recs {
		if r["msg"] == msg {
			return r
		}
	}
	return nil
}

// writeServeConfig writes a server configuration for startServe.
func writeServeConfig(t *testing.T, dir string, cfg map[string]any) string {
	t.Helper()
	raw, _ := yaml.Marshal(cfg)
	path := filepath.Join(dir, "patchgate.yaml")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestStartupSaysWhereAndWhatNext: a first start, with no repository and no
// token, logs in JSON (stderr is a file) where it listens, which database
// file, how many repositories, and the next step for each thing missing.
func TestStartupSaysWhereAndWhatNext(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	dbPath := filepath.Join(dir, "patchgate.db")
	cfgPath := writeServeConfig(t, dir, map[string]any{
		"listen":   "127.0.0.1:" + port,
		"database": "sqlite://" + dbPath,
		"runners":  map[string]any{"workers": 0},
	})
	logPath := filepath.Join(dir, "serve.log")
	startServe(t, cfgPath, logPath)

	// The server answers before it has logged its last start-up warning:
	// read the log until that line is there (or 5 s have passed).
	recs := jsonLines(t, logPath)
	for deadline := time.Now().Add(5 * time.Second); findLog(recs, "no API token exists: the API answers no one yet") == nil && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		recs = jsonLines(t, logPath)
	}
	start := findLog(recs, "patchgate serving")
	if start == nil {
		t.Fatalf("no start-up line in %v", recs)
	}
	if start["url"] != "http://127.0.0.1:"+port || start["database"] != dbPath || start["repos"] != float64(0) {
		t.Errorf("start-up line %v: want url http://127.0.0.1:%s, database %s, repos 0", start, port, dbPath)
	}
	if r := findLog(recs, "no repositories configured: patchgate has nothing to gate yet"); r == nil || !strings.Contains(r["next_step"].(string), "add repos:") {
		t.Errorf("no repositories: got %v, want the next step", r)
	}
	r := findLog(recs, "no API token exists: the API answers no one yet")
	if want := "next step: patchgate token create --name admin --role admin --config " + cfgPath; r == nil || r["next_step"] != want {
		t.Errorf("no token: got %v, want next_step %q", r, want)
	}

	// With a repository and a token, the server says neither.
	dir2 := t.TempDir()
	port2 := freePort(t)
	forge := fakeforge.New()
	t.Cleanup(forge.Close)
	cfgPath2 := writeServeConfig(t, dir2, map[string]any{
		"listen":   "127.0.0.1:" + port2,
		"database": "sqlite://" + filepath.Join(dir2, "patchgate.db"),
		"github":   map[string]any{"api_url": forge.GitHubAPIURL(), "token": "forge-token", "webhook_secrets": []string{testSecret}},
		"repos":    []map[string]any{{"forge": "github", "name": testRepo}},
		"runners":  map[string]any{"workers": 0},
	})
	first := startServe(t, cfgPath2, filepath.Join(dir2, "first.log"))
	_ = first.Process.Kill()
	_, _ = first.Process.Wait()
	adminToken(t, filepath.Join(dir2, "patchgate.db"))
	logPath2 := filepath.Join(dir2, "second.log")
	startServe(t, cfgPath2, logPath2)
	recs = jsonLines(t, logPath2)
	if start := findLog(recs, "patchgate serving"); start == nil || start["repos"] != float64(1) {
		t.Errorf("start-up line %v, want repos 1", start)
	}
	for _, r := range recs {
		if _, ok := r["next_step"]; ok {
			t.Errorf("with a repository and a token: got %v, want no next step", r)
		}
	}
}

// TestLogFormatAuto: auto is text on a terminal and JSON elsewhere; json and
// text are honoured either way.
func TestLogFormatAuto(t *testing.T) {
	var buf bytes.Buffer
	newLogger(LogConfig{Level: "info", Format: "auto"}, &buf).Info("hello", "k", "v")
	if !json.Valid(bytes.TrimSpace(buf.Bytes())) {
		t.Errorf("auto to a buffer: got %q, want JSON", buf.String())
	}
	buf.Reset()
	newLogger(LogConfig{Level: "info", Format: "text"}, &buf).Info("hello", "k", "v")
	if !strings.Contains(buf.String(), "msg=hello k=v") {
		t.Errorf("text: got %q", buf.String())
	}
	file, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if isTerminal(file) {
		t.Error("a regular file is taken for a terminal")
	}
	// /dev/tty is a terminal when the test has one; without one it cannot be
	// opened, and the check above is what remains.
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		if !isTerminal(tty) {
			t.Error("/dev/tty is not taken for a terminal")
		}
	}
	if DefaultConfig().Log.Format != "auto" {
		t.Errorf("default log.format %q, want auto", DefaultConfig().Log.Format)
	}
}

// TestServeLogHasNoTestcontainersBanner runs a verification in a server whose
// stderr is a file: testcontainers' banner and progress lines go through
// patchgate's logger (at debug, as JSON), never raw into the stream.
func TestServeLogHasNoTestcontainersBanner(t *testing.T) {
	requireDocker(t)
	forge := fakeforge.New()
	t.Cleanup(forge.Close)
	forge.SetToken("forge-token")
	forge.AddPullRequest(testRepo, fakeforge.PullRequest{Number: 4, Title: "PAY-4: fix", Author: "dev"})
	dir := t.TempDir()
	port := freePort(t)
	cfgPath := writeServeConfig(t, dir, map[string]any{
		"listen":   "127.0.0.1:" + port,
		"database": "sqlite://" + filepath.Join(dir, "patchgate.db"),
		"github":   map[string]any{"api_url": forge.GitHubAPIURL(), "token": "forge-token", "webhook_secrets": []string{testSecret}},
		"repos":    []map[string]any{{"forge": "github", "name": testRepo, "ticket_keys": []string{"PAY"}}},
		"runners":  map[string]any{"workers": 1, "owner": "banner-" + randomID(), "heartbeat": "1s"},
		"log":      map[string]any{"level": "debug"},
	})
	repo := newGitRepo(t, forge, testRepo)
	repo.commit("base", map[string][]byte{"README": []byte("base\n")})
	head := repo.commit("PAY-4: fix", map[string][]byte{".patchgate.yml": []byte(
		"suites:\n  regression:\n    image: " + testImages[0] + "\n    run: echo suite-ran\n")})
	logPath := filepath.Join(dir, "serve.log")
	startServe(t, cfgPath, logPath)
	app := &testApp{url: "http://127.0.0.1:" + port, forge: forge, token: adminToken(t, filepath.Join(dir, "patchgate.db"))}
	app.openPR(t, "opened", 4, "PAY-4: fix", "Fixes PAY-4", "fix/PAY-4", head, "", time.Now())
	if v := app.waitVerification(t, head, final, 3*time.Minute); v.State != patchgate.RunSuccess {
		t.Fatalf("verification %s (%s), want success", v.State, v.Reason)
	}
	raw, _ := os.ReadFile(logPath)
	for _, banner := range []string{"Testcontainers for Go", "Connected to docker", "🐳"} {
		for _, line := range strings.Split(string(raw), "\n") {
			if strings.Contains(line, banner) && !json.Valid([]byte(line)) {
				t.Errorf("raw testcontainers output in the log: %q", line)
			}
		}
	}
	recs := jsonLines(t, logPath)
	found := false
	for _, r := range recs {
		if r["component"] == "testcontainers" && strings.Contains(r["msg"].(string), "Connected to docker") {
			found = true
		}
	}
	if !found {
		t.Error("the banner is not in the log as a debug record of component testcontainers")
	}
}

// TestDatabaseLabel: the start-up line names the SQLite file by its full path
// and PostgreSQL by host and database, never with its user or password.
func TestDatabaseLabel(t *testing.T) {
	wd, _ := os.Getwd()
	tests := []struct{ dsn, want string }{
		{"sqlite://patchgate.db", filepath.Join(wd, "patchgate.db")},
		{"sqlite:///srv/pg/patchgate.db", "/srv/pg/patchgate.db"},
		{"postgres://patchgate:hunter2@db.internal:5432/patchgate?sslmode=require", "postgres://db.internal:5432/patchgate"},
	}
	for _, tt := range tests {
		if got := databaseLabel(tt.dsn); got != tt.want {
			t.Errorf("databaseLabel(%q): got %q, want %q", tt.dsn, got, tt.want)
		}
	}
}
