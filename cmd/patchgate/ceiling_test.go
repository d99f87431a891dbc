package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
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
