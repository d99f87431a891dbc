package testenv_test

import (
	"archive/tar"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/testenv"
)

// Images built offline by scripts/images/build.sh.
const (
	runnerImage   = "patchgate-test/runner:go1.26"
	postgresImage = "patchgate-test/postgres:15"
)

// dockerUnavailable says why Docker tests cannot run; empty when they can.
var dockerUnavailable string

// docker is a raw client for inspecting what the tests' runs left behind.
var docker *client.Client

func TestMain(m *testing.M) {
	// No TESTCONTAINERS_RYUK_DISABLED here: the Runner disables Ryuk itself.
	if owner := os.Getenv(childOwnerEnv); owner != "" {
		os.Exit(runChild(owner))
	}
	flag.Parse()
	dockerUnavailable = setupDocker()
	code := m.Run()
	if docker != nil {
		docker.Close()
	}
	os.Exit(code)
}

// setupDocker connects to Docker and builds the test images unless present.
func setupDocker() string {
	if testing.Short() {
		return "-short"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return fmt.Sprintf("docker client: %v", err)
	}
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		cli.Close()
		return fmt.Sprintf("docker ping: %v", err)
	}
	docker = cli
	script, err := filepath.Abs("../scripts/images/build.sh")
	if err != nil {
		return err.Error()
	}
	cmd := exec.Command("bash", script)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		// Docker is here but the images are not: a failure, not a skip.
		fmt.Fprintf(os.Stderr, "build test images: %v\n", err)
	}
	return ""
}

// requireDocker skips t without Docker, or fails it when
// PATCHGATE_REQUIRE_DOCKER=1 says Docker tests must run.
func requireDocker(tb testing.TB) {
	tb.Helper()
	if dockerUnavailable == "" {
		return
	}
	if os.Getenv("PATCHGATE_REQUIRE_DOCKER") == "1" {
		tb.Fatalf("docker required (PATCHGATE_REQUIRE_DOCKER=1): %s", dockerUnavailable)
	}
	tb.Skipf("docker unavailable: %s", dockerUnavailable)
}

// newRunner returns a Runner with an owner of its own, so that tests running
// in parallel never see each other's resources.
func newRunner(tb testing.TB) *testenv.Runner {
	tb.Helper()
	requireDocker(tb)
	owner := fmt.Sprintf("test-%s-%d", strings.ReplaceAll(tb.Name(), "/", "-"), time.Now().UnixNano())
	r := &testenv.Runner{
		Owner:  owner,
		Logger: slog.New(slog.NewTextHandler(testWriter{tb}, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	tb.Cleanup(func() {
		r.Close()
		// Nothing of a finished run may outlive it.
		if c, n := leftovers(tb, owner, ""); c+n > 0 {
			tb.Errorf("owner %s left %d containers and %d networks", owner, c, n)
		}
	})
	return r
}

// testWriter sends slog output to the test log.
type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// leftovers counts the containers and networks labelled with owner (and run,
// when not empty).
func leftovers(tb testing.TB, owner, run string) (containers, networks int) {
	tb.Helper()
	ctx := context.Background()
	f := make(client.Filters).Add("label", testenv.LabelOwner+"="+owner)
	if run != "" {
		f.Add("label", testenv.LabelRun+"="+run)
	}
	cs, err := docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		tb.Fatal(err)
	}
	ns, err := docker.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		tb.Fatal(err)
	}
	return len(cs.Items), len(ns.Items)
}

// spec returns a runner-image spec running command.
func spec(runID, command string) patchgate.EnvironmentSpec {
	return patchgate.EnvironmentSpec{
		RunID:   runID,
		Image:   runnerImage,
		Command: command,
		Timeout: 2 * time.Minute,
		Limits:  patchgate.Limits{NanoCPUs: 1e9, MemoryBytes: 512 << 20, PIDs: 256},
	}
}

// postgres is the db service of the integration tests.
func postgres() patchgate.ServiceSpec {
	return patchgate.ServiceSpec{
		Name:         "db",
		Image:        postgresImage,
		Env:          map[string]string{"POSTGRES_PASSWORD": "test"},
		Ready:        []string{"pg_isready", "-U", "postgres", "-h", "127.0.0.1"},
		ReadyTimeout: 30 * time.Second,
	}
}

// file is one entry of a source tar.
type file struct {
	name, body, link string
	mode             int64
	dir              bool
}

// sourceTar returns an EnvironmentSpec.Source serving a tar of files.
func sourceTar(tb testing.TB, files ...file) func(context.Context) (io.ReadCloser, error) {
	tb.Helper()
	return sourceTarOwned(tb, 0, files...)
}

// sourceTarOwned is sourceTar with every entry owned by uid and gid.
func sourceTarOwned(tb testing.TB, id int, files ...file) func(context.Context) (io.ReadCloser, error) {
	tb.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, ModTime: time.Now(), Uid: id, Gid: id}
		switch {
		case f.dir:
			h.Typeflag, h.Name = tar.TypeDir, strings.TrimSuffix(f.name, "/")+"/"
		case f.link != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, f.link
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.body))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
			if f.dir {
				h.Mode = 0o755
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			tb.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.body)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	data := buf.Bytes()
	return func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}
}

// logBuffer is a log writer safe to read while a run writes to it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	// seen is closed when the log first contains mark.
	mark string
	seen chan struct{}
}

func newLogBuffer(mark string) *logBuffer { return &logBuffer{mark: mark, seen: make(chan struct{})} }

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if l.mark != "" && strings.Contains(l.buf.String(), l.mark) {
		select {
		case <-l.seen:
		default:
			close(l.seen)
		}
	}
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// runnerContainer waits for the running runner container of a run and returns
// its id.
func runnerContainer(tb testing.TB, owner, run string) string {
	tb.Helper()
	f := make(client.Filters).
		Add("label", testenv.LabelOwner+"="+owner).
		Add("label", testenv.LabelRun+"="+run).
		Add("label", testenv.LabelRole+"="+testenv.RoleRunner).
		Add("status", "running")
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		cs, err := docker.ContainerList(context.Background(), client.ContainerListOptions{Filters: f})
		if err != nil {
			tb.Fatal(err)
		}
		if len(cs.Items) == 1 {
			return cs.Items[0].ID
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("no running runner container for run %s", run)
	return ""
}
