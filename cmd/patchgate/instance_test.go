package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"go.yaml.in/yaml/v3"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/testenv"
)

// instance is one `patchgate serve` process with a database of its own.
type instance struct {
	cfgPath, logPath, dbPath string
	app                      *testApp
	id                       string // the database's instance id
}

// newInstance writes the configuration of a patchgate with its own database
// and the default owner, starts it and reads its instance id.
func newInstance(t *testing.T, forge *fakeforge.Forge, name string) (*instance, *os.Process) {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	in := &instance{
		cfgPath: filepath.Join(dir, "patchgate.yaml"),
		logPath: filepath.Join(dir, name+".log"),
		dbPath:  filepath.Join(dir, "patchgate.db"),
	}
	cfg := map[string]any{
		"listen":   "127.0.0.1:" + port,
		"database": "sqlite://" + in.dbPath,
		"github":   map[string]any{"api_url": forge.GitHubAPIURL(), "token": "forge-token", "webhook_secrets": []string{testSecret}},
		"repos":    []map[string]any{{"forge": "github", "name": testRepo, "ticket_keys": []string{"PAY"}}},
		"runners":  map[string]any{"workers": 1, "heartbeat": "1s", "retries": 0},
		"log":      map[string]any{"level": "debug", "format": "text"},
	}
	raw, _ := yaml.Marshal(cfg)
	if err := os.WriteFile(in.cfgPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	proc := startServe(t, in.cfgPath, in.logPath).Process
	in.app = &testApp{url: "http://127.0.0.1:" + port, forge: forge, token: adminToken(t, in.dbPath)}
	db, err := store.Open(context.Background(), "sqlite://"+in.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if in.id, err = db.InstanceID(context.Background()); err != nil {
		t.Fatal(err)
	}
	return in, proc
}

// TestTwoInstancesShareOneDaemon runs two real `patchgate serve` processes
// with their own databases and default owners on one Docker daemon. While a
// long suite runs on the first, the second runs a suite of its own (so its
// database knows a finished run with the same run id, "1-1-regression") and
// is killed and restarted several times, sweeping at every start and every
// three heartbeats: the first one's suite must survive and pass at its first
// attempt.
func TestTwoInstancesShareOneDaemon(t *testing.T) {
	requireDocker(t)
	forge := fakeforge.New()
	t.Cleanup(forge.Close)
	forge.SetToken("forge-token")
	forge.AddPullRequest(testRepo, fakeforge.PullRequest{Number: 1, Title: "PAY-1: fix", Author: "dev"})
	forge.AddPullRequest(testRepo, fakeforge.PullRequest{Number: 2, Title: "PAY-2: fix", Author: "dev"})
	repo := newGitRepo(t, forge, testRepo)
	repo.commit("base", map[string][]byte{"README": []byte("base\n")})
	suite := func(run string) []byte {
		return fmt.Appendf(nil, "suites:\n  regression:\n    image: %s\n    run: %s\n    timeout: 3m\n", testImages[0], run)
	}
	long := repo.commit("PAY-1: fix", map[string][]byte{".patchgate.yml": suite("echo long-suite-started; sleep 25; echo long-suite-done")})
	quick := repo.commit("PAY-2: fix", map[string][]byte{".patchgate.yml": suite("echo quick")})

	a, _ := newInstance(t, forge, "a")
	a.app.openPR(t, "opened", 1, "PAY-1: fix", "Fixes PAY-1", "fix/PAY-1", long, "", time.Now())
	cli, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	host, _ := os.Hostname()
	// Its first verification's runner: other tests on this daemon may have
	// runs with that id, but neither its instance id nor a bare host name.
	runner := waitRunner(t, cli, "1-1-regression", func(l map[string]string) bool {
		return l[testenv.LabelInstance] == a.id || l[testenv.LabelOwner] == host
	})
	if got, want := runner.Labels[testenv.LabelOwner], host+"-"+a.id; got != want {
		t.Errorf("owner label %q, want the host name and the instance id %q", got, want)
	}

	b, bProc := newInstance(t, forge, "b")
	if b.id == a.id {
		t.Fatalf("two databases share instance id %s", a.id)
	}
	b.app.openPR(t, "opened", 2, "PAY-2: fix", "Fixes PAY-2", "fix/PAY-2", quick, "", time.Now())
	if v := b.app.waitVerification(t, quick, final, 2*time.Minute); v.State != patchgate.RunSuccess || v.ID != 1 {
		t.Fatalf("second instance's own run: got verification %d %s (%s), want 1 success", v.ID, v.State, v.Reason)
	}
	for range 3 {
		if err := bProc.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_, _ = bProc.Wait()
		bProc = startServe(t, b.cfgPath, b.logPath).Process
		time.Sleep(3500 * time.Millisecond) // past a periodic sweep (3 heartbeats)
	}

	v := a.app.waitVerification(t, long, final, 3*time.Minute)
	if v.State != patchgate.RunSuccess || v.Attempt != 1 {
		t.Fatalf("first instance's long suite: got %s at attempt %d (%s), want success at attempt 1", v.State, v.Attempt, v.Reason)
	}
	logText := runCLI(t, "logs", fmt.Sprint(v.ID), "regression", "--server", a.app.url, "--token", a.app.token)
	if !strings.Contains(logText, "long-suite-done") || strings.Contains(logText, "could not run") {
		t.Errorf("long suite log %q, want it run once to its end", logText)
	}
	b2, _ := os.ReadFile(b.logPath)
	if strings.Contains(string(b2), "swept container") {
		t.Errorf("the second instance swept a container:\n%s", tail(string(b2), 40))
	}
}

// waitRunner waits for a running runner container of run whose labels are
// mine's.
func waitRunner(t *testing.T, cli *client.Client, run string, mine func(map[string]string) bool) (c struct {
	ID     string
	Labels map[string]string
}) {
	t.Helper()
	f := make(client.Filters).
		Add("label", testenv.LabelRun+"="+run).
		Add("label", testenv.LabelRole+"="+testenv.RoleRunner).
		Add("status", "running")
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		cs, err := cli.ContainerList(context.Background(), client.ContainerListOptions{Filters: f})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range cs.Items {
			if mine(it.Labels) {
				c.ID, c.Labels = it.ID, it.Labels
				return c
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no running runner container of run %s", run)
	return c
}
