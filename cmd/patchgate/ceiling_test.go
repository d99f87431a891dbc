package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/config"
	"github.com/patchgate/patchgate/testenv"
)

// TestOperatorCeilingIsAConfigError checks that a .patchgate.yml asking for
// more than runners.max_memory never runs: its verification records the
// configuration error, naming the ceiling, like any other config error. The
// worker finds it when it reads the file; no container is started.
func TestOperatorCeilingIsAConfigError(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 1
		c.Runners.Owner = "ceiling-" + randomID()
		c.Runners.MaxMemory = "4g"
	})
	repo := newGitRepo(t, app.forge, testRepo)
	head := repo.commit("ask for a lot", map[string][]byte{".patchgate.yml": []byte(
		"suites:\n  regression:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\n    memory: 8g\n")})
	app.openPR(t, "opened", 2, "HW-1: fix", "Fixes HW-1", "fix/HW-1", head, "", time.Now())
	app.waitProcessed(t)

	v := app.waitVerification(t, head, final, time.Minute)
	var list struct{ Verifications []patchgate.Verification }
	app.api(t, http.MethodGet, "/api/v1/verifications?sha="+head, nil, &list)
	if len(list.Verifications) != 1 {
		t.Fatalf("got %d verifications, want 1", len(list.Verifications))
	}
	want := ".patchgate.yml:5: suites.regression.memory: 8g exceeds the operator's ceiling runners.max_memory (4g)"
	if v.State != patchgate.RunError || v.Reason != want {
		t.Errorf("got %s %q, want error %q", v.State, v.Reason, want)
	}
	waitStatus(t, app, head, "exceeds the operator's ceiling")
}

// TestHostCeilingIsAConfigError checks that with no operator ceiling a
// .patchgate.yml still cannot ask for more than the host can give: memory:
// 256g is refused as a configuration error naming the ceiling derived from
// the host's memory, and saying so.
func TestHostCeilingIsAConfigError(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 1
		c.Runners.Owner = "host-ceiling-" + randomID()
	})
	repo := newGitRepo(t, app.forge, testRepo)
	head := repo.commit("ask for a lot", map[string][]byte{".patchgate.yml": []byte(
		"suites:\n  regression:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\n    memory: 256g\n")})
	app.openPR(t, "opened", 2, "HW-1: fix", "Fixes HW-1", "fix/HW-1", head, "", time.Now())
	app.waitProcessed(t)

	v := app.waitVerification(t, head, final, time.Minute)
	half := config.FormatSize(config.DefaultCeilings(localHost()).MemoryBytes)
	want := ".patchgate.yml:5: suites.regression.memory: 256g exceeds the host's ceiling runners.max_memory (" + half + ", half the host's memory; the operator set none)"
	if v.State != patchgate.RunError || v.Reason != want {
		t.Errorf("got %s %q, want error %q", v.State, v.Reason, want)
	}
}

func TestDefaultLimitsStayUnderTheCeilings(t *testing.T) {
	tests := []struct {
		name string
		rc   RunnerConfig
		want patchgate.Limits
	}{
		{"no ceilings: today's defaults", RunnerConfig{},
			patchgate.Limits{NanoCPUs: testenv.DefaultNanoCPUs, MemoryBytes: testenv.DefaultMemoryBytes, PIDs: testenv.DefaultPIDs}},
		{"ceilings above the defaults", RunnerConfig{MaxCPUs: 8, MaxMemory: "16g", MaxPIDs: 4096},
			patchgate.Limits{NanoCPUs: testenv.DefaultNanoCPUs, MemoryBytes: testenv.DefaultMemoryBytes, PIDs: testenv.DefaultPIDs}},
		{"ceilings below the defaults", RunnerConfig{MaxCPUs: 0.5, MaxMemory: "1g", MaxPIDs: 256},
			patchgate.Limits{NanoCPUs: 5e8, MemoryBytes: 1 << 30, PIDs: 256}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := defaultLimits(tt.rc.Ceilings()); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMemTotal(t *testing.T) {
	tests := []struct {
		name, meminfo string
		want          int64
	}{
		{"linux", "MemTotal:       24683748 kB\nMemFree:         1234 kB\n", 24683748 << 10},
		{"no MemTotal", "MemFree:         1234 kB\n", 0},
		{"garbled", "MemTotal: lots\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "meminfo")
			if err := os.WriteFile(path, []byte(tt.meminfo), 0o600); err != nil {
				t.Fatal(err)
			}
			if got := memTotal(path); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
	if got := memTotal(filepath.Join(t.TempDir(), "absent")); got != 0 {
		t.Errorf("absent file: got %d, want 0", got)
	}
}

// TestCeilingsAreReported checks that the start-up log and `config check
// --server` say what each ceiling is and where it came from.
func TestCeilingsAreReported(t *testing.T) {
	c := RunnerConfig{MaxMemory: "4g"}.EffectiveCeilings(config.HostResources{CPUs: 2, MemoryBytes: 16 << 30})
	var log bytes.Buffer
	logCeilings(slog.New(slog.NewTextHandler(&log, nil)), c)
	if want := `msg="runner ceilings" cpus="2 (host)" memory="4g (operator)" pids="4096 (default)" timeout="6h0m0s (default)"`; !strings.Contains(log.String(), want) {
		t.Errorf("got log %q, want %q", log.String(), want)
	}
	if got := ceilingLine(config.Ceilings{}); got != "runner ceilings: cpus none, memory none, pids none, timeout none" {
		t.Errorf("no ceilings: got %q", got)
	}

	file := writeConfig(t, "database: sqlite://"+filepath.Join(t.TempDir(), "pg.db")+"\nrunners:\n  max_memory: 4g\n")
	out, err := execCLI("config", "check", "--server", file)
	want := fmt.Sprintf("  runner ceilings: cpus %d (host), memory 4g (operator), pids 4096 (default), timeout 6h0m0s (default)\n", runtime.NumCPU())
	if err != nil || !strings.Contains(out, want) {
		t.Errorf("config check: got %q, %v; want %q", out, err, want)
	}
}
