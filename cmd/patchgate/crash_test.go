package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
	"github.com/patchgate/patchgate/store"
	"go.yaml.in/yaml/v3"
)

// helperConfigEnv makes the test binary act as `patchgate serve` with that
// config, so a test can SIGKILL a real patchgate process.
const helperConfigEnv = "PATCHGATE_TEST_SERVE_CONFIG"

func TestMain(m *testing.M) {
	if path := os.Getenv(helperConfigEnv); path != "" {
		os.Exit(serveForTest(path))
	}
	code := m.Run()
	closeBrowser()
	os.Exit(code)
}

func serveForTest(path string) int {
	cfg, err := LoadConfig(path, os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	m := NewMain(cfg, newLogger(cfg.Log, os.Stderr))
	m.ConfigPath = path
	if err := m.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	select {} // until killed
}

// TestKilledMidRunIsRerun kills patchgate with SIGKILL while a suite runs,
// starts it again, and checks that the verification is run again to its end
// and that no container or network of the dead run is left behind.
func TestKilledMidRunIsRerun(t *testing.T) {
	requireDocker(t)
	forge := fakeforge.New()
	t.Cleanup(forge.Close)
	forge.SetToken("forge-token")
	forge.AddPullRequest(testRepo, fakeforge.PullRequest{Number: 3, Title: "PAY-3: fix", Author: "dev"})

	dir := t.TempDir()
	owner := "crash-" + randomID()
	port := freePort(t)
	cfg := map[string]any{
		"listen":   "127.0.0.1:" + port,
		"database": "sqlite://" + filepath.Join(dir, "patchgate.db"),
		"github":   map[string]any{"api_url": forge.GitHubAPIURL(), "token": "forge-token", "webhook_secrets": []string{testSecret}},
		"repos":    []map[string]any{{"forge": "github", "name": testRepo, "ticket_keys": []string{"PAY"}}},
		"runners":  map[string]any{"workers": 1, "owner": owner, "heartbeat": "1s"},
		"log":      map[string]any{"level": "debug", "format": "text"},
	}
	raw, _ := yaml.Marshal(cfg)
	cfgPath := filepath.Join(dir, "patchgate.yaml")
	if err := os.WriteFile(cfgPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}

	repo := newGitRepo(t, forge, testRepo)
	repo.commit("calc", map[string][]byte{
		"go.mod":            payments(t, "go.mod.txt"),
		"calc/calc.go":      payments(t, "calc.go.buggy"),
		"calc/calc_test.go": payments(t, "calc_test.go.txt"),
		".patchgate.yml":    []byte("suites:\n  regression:\n    image: patchgate-test/runner:go1.26\n    run: sleep 6 && go test ./...\n"),
	})
	head := repo.commit("calc: round half away from zero", map[string][]byte{"calc/calc.go": payments(t, "calc.go.fixed")})

	logPath := filepath.Join(dir, "serve.log")
	first := startServe(t, cfgPath, logPath)
	app := &testApp{url: "http://127.0.0.1:" + port, forge: forge, token: adminToken(t, filepath.Join(dir, "patchgate.db"))}
	app.openPR(t, "opened", 3, "PAY-3: fix", "Fixes PAY-3", "fix/PAY-3", head, "", time.Now())

	running := app.waitVerification(t, head, func(v patchgate.Verification) bool { return v.State == patchgate.RunRunning }, 2*time.Minute)
	deadline := time.Now().Add(time.Minute)
	for leftovers(t, owner) == "" && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if leftovers(t, owner) == "" {
		t.Fatal("no environment came up before the kill")
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()

	startServe(t, cfgPath, logPath)
	done := app.waitVerification(t, head, final, 5*time.Minute)
	if done.ID != running.ID || done.State != patchgate.RunSuccess || done.Attempt != 2 {
		t.Fatalf("after restart: got verification %d attempt %d %s (%s), want %d attempt 2 success", done.ID, done.Attempt, done.State, done.Reason, running.ID)
	}
	if left := leftovers(t, owner); left != "" {
		t.Fatalf("left behind after the restart: %s", left)
	}
}

// startServe runs the test binary as a patchgate server and waits until it
// answers /healthz; the process is killed when the test ends.
func startServe(t *testing.T, cfgPath, logPath string) *exec.Cmd {
	t.Helper()
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperConfigEnv+"="+cfgPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("server log:\n%s", tail(string(b), 60))
		}
	})
	raw, _ := os.ReadFile(cfgPath)
	var cfg struct{ Listen string }
	_ = yaml.Unmarshal(raw, &cfg)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + cfg.Listen + "/healthz")
		if err == nil {
			resp.Body.Close()
			return cmd
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("patchgate did not start")
	return nil
}

// adminToken creates an admin token directly in the database, as
// `patchgate token create` does.
func adminToken(t *testing.T, dbPath string) string {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite://"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.AuditKey, err = readAuditKey(dbPath + ".audit-key"); err != nil {
		t.Fatal(err)
	}
	secret, hash, _ := patchgate.NewTokenSecret()
	if err := store.NewTokenService(db).CreateToken(context.Background(), &patchgate.Token{Name: "admin-" + randomID(), Role: patchgate.RoleAdmin, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	return secret
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func tail(s string, lines int) string {
	all := strings.Split(s, "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
