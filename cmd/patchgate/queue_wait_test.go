package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// TestNoRunnerEndsThePendingStatus: a server whose workers run elsewhere, and
// none does: the verification a pull request queued is not left pending for
// ever; after runners.max_queue_wait its verdict status is an error coded
// runner_unavailable, and the API says so too.
func TestNoRunnerEndsThePendingStatus(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Runners.MaxQueueWait = time.Second
		c.Repos[0].TicketKeys = []string{"PAY"}
	})
	repo := newGitRepo(t, app.forge, testRepo)
	repo.commit("config", map[string][]byte{".patchgate.yml": []byte("suites:\n  regression:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\n")})
	repo.git("checkout", "-q", "-b", "fix/PAY-7")
	head := repo.commit("fix", map[string][]byte{"fix.txt": []byte("fixed")})
	queuedAt := time.Now()
	app.openPR(t, "opened", 7, "PAY-7: fix", "Fixes PAY-7", "fix/PAY-7", head, "", queuedAt)
	app.waitProcessed(t)

	state, desc := app.waitStatus(t, head, "patchgate/verdict")
	const why = "runner_unavailable: no runner started it within 1s"
	if state != "error" || desc != why {
		t.Fatalf("verdict status: got %s %q, want error %q", state, desc, why)
	}
	if waited := time.Since(queuedAt); waited < time.Second {
		t.Errorf("ended after %s, before max_queue_wait (1s)", waited)
	}
	var out struct{ Verifications []patchgate.Verification }
	app.api(t, http.MethodGet, "/api/v1/verifications?sha="+head, nil, &out)
	if len(out.Verifications) != 1 || out.Verifications[0].State != patchgate.RunError || out.Verifications[0].Reason != why {
		t.Errorf("GET /verifications: got %+v, want one error with reason %q", out.Verifications, why)
	}
}

// TestMaxQueueWaitDefaultsTo15m: with no setting, a run waits 15 minutes for
// a worker; PATCHGATE_RUNNERS_MAX_QUEUE_WAIT sets it.
func TestMaxQueueWaitDefaultsTo15m(t *testing.T) {
	cfg, err := LoadConfig("", envOf(nil))
	if err != nil || cfg.Runners.MaxQueueWait != 15*time.Minute {
		t.Fatalf("default: got %v, %v; want 15m", cfg.Runners.MaxQueueWait, err)
	}
	cfg, err = LoadConfig("", envOf(map[string]string{"PATCHGATE_RUNNERS_MAX_QUEUE_WAIT": "2h"}))
	if err != nil || cfg.Runners.MaxQueueWait != 2*time.Hour {
		t.Fatalf("from the environment: got %v, %v; want 2h", cfg.Runners.MaxQueueWait, err)
	}
}
