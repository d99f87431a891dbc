package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/webhooks"
	"go.yaml.in/yaml/v3"
)

// TestKilledMidBurstAppliesEachDeliveryOnce sends a burst of pull_request
// deliveries (distinct PRs and tickets, one repository) to a real `patchgate
// serve`, kills it with SIGKILL while the processor works off the backlog,
// starts it again and checks that every acknowledged delivery was applied,
// once: processed after one recorded attempt, one change and one link per PR,
// one link.created audit entry per link, at most one link comment per PR, an
// audit chain that verifies and no lease left. On SQLite, and on PostgreSQL
// when PATCHGATE_TEST_POSTGRES_URL is set.
func TestKilledMidBurstAppliesEachDeliveryOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("two server processes and a burst of deliveries")
	}
	t.Run("sqlite", func(t *testing.T) {
		killMidBurst(t, "sqlite://"+filepath.Join(t.TempDir(), "patchgate.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		killMidBurst(t, postgresSchema(t))
	})
}

func killMidBurst(t *testing.T, database string) {
	const burst, senders = 600, 16
	forge := fakeforge.New()
	t.Cleanup(forge.Close)
	forge.SetToken("forge-token")
	dir := t.TempDir()
	port := freePort(t)
	keyFile := filepath.Join(dir, "audit-key")
	raw, _ := yaml.Marshal(map[string]any{
		"listen":   "127.0.0.1:" + port,
		"database": database,
		"github":   map[string]any{"api_url": forge.GitHubAPIURL(), "token": "forge-token", "webhook_secrets": []string{testSecret}},
		"repos":    []map[string]any{{"forge": "github", "name": testRepo, "ticket_keys": []string{"HW"}}},
		"runners":  map[string]any{"workers": 0},
		"workers":  map[string]any{"deliveries": 4},
		"audit":    map[string]any{"key_file": keyFile},
		"log":      map[string]any{"level": "info", "format": "text"},
	})
	cfgPath := filepath.Join(dir, "patchgate.yaml")
	if err := os.WriteFile(cfgPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "serve.log")
	first := startServe(t, cfgPath, logPath)

	db, err := store.Open(context.Background(), database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := db.SQL().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}

	// The senders stop at the kill; a delivery whose 202 arrived must be
	// applied, one whose answer did not may be stored or not.
	client := &http.Client{Timeout: 10 * time.Second}
	var (
		mu     sync.Mutex
		acked  []string
		killed atomic.Bool
		next   atomic.Int64
		wg     sync.WaitGroup
	)
	url := "http://127.0.0.1:" + port + "/webhooks/github"
	for range senders {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < burst && !killed.Load(); i = int(next.Add(1)) - 1 {
				body := applyBenchPayload(t, i)
				id := fmt.Sprintf("burst-%d", i)
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-GitHub-Event", "pull_request")
				req.Header.Set("X-GitHub-Delivery", id)
				req.Header.Set("X-Hub-Signature-256", webhooks.SignGitHub(testSecret, body))
				resp, err := client.Do(req)
				if err != nil {
					continue // the server died under this request
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusAccepted {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				}
			}
		})
	}
	// Kill once half the burst is acknowledged and the processor has applied
	// some of it but not all: mid-apply, with a backlog.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		applied := count(`SELECT count(*) FROM deliveries WHERE outcome <> 'pending'`)
		if n >= burst/2 && applied > 0 && applied < n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no moment to kill: %d acknowledged, %d applied", n, applied)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed.Store(true)
	_ = first.Wait()
	wg.Wait()
	before := count(`SELECT count(*) FROM deliveries WHERE outcome = 'pending'`)
	t.Logf("killed with %d deliveries acknowledged, %d stored, %d pending", len(acked), count(`SELECT count(*) FROM deliveries`), before)
	if before == 0 {
		t.Fatal("nothing was pending at the kill: the test did not kill mid-apply")
	}

	startServe(t, cfgPath, logPath)
	deadline = time.Now().Add(3 * time.Minute)
	for count(`SELECT count(*) FROM deliveries WHERE outcome = 'pending'`) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries still pending 3 minutes after the restart", count(`SELECT count(*) FROM deliveries WHERE outcome = 'pending'`))
		}
		time.Sleep(50 * time.Millisecond)
	}

	wrong := 0
	for _, id := range acked {
		var outcome string
		var attempts int
		if err := db.SQL().QueryRowContext(context.Background(), `SELECT outcome, attempts FROM deliveries WHERE forge = 'github' AND id = '`+id+`'`).Scan(&outcome, &attempts); err != nil {
			t.Errorf("acknowledged delivery %s: %v", id, err)
			continue
		}
		if outcome != string(patchgate.OutcomeProcessed) || attempts != 1 {
			if wrong++; wrong <= 5 {
				t.Errorf("delivery %s: %s after %d attempts, want processed after 1", id, outcome, attempts)
			}
		}
	}
	stored := count(`SELECT count(*) FROM deliveries`)
	if n := count(`SELECT count(*) FROM deliveries WHERE outcome <> 'processed' OR attempts <> 1`); n != 0 {
		t.Errorf("%d of %d stored deliveries not processed after one attempt", n, stored)
	}
	// Every stored delivery is its own PR with its own ticket.
	if n := count(`SELECT count(*) FROM changes WHERE kind = 'pull_request'`); n != stored {
		t.Errorf("%d pull requests for %d stored deliveries", n, stored)
	}
	if n := count(`SELECT count(*) FROM links`); n != stored {
		t.Errorf("%d links for %d stored deliveries, want one each", n, stored)
	}
	if n := count(`SELECT count(*) FROM (SELECT change_id FROM links GROUP BY change_id HAVING count(*) <> 1) x`); n != 0 {
		t.Errorf("%d pull requests without exactly one link", n)
	}
	if n, links := count(`SELECT count(*) FROM audit_log WHERE action = '`+patchgate.AuditLinkCreated+`'`), count(`SELECT count(*) FROM links`); n != links {
		t.Errorf("%d %s audit entries for %d links, want one each", n, patchgate.AuditLinkCreated, links)
	}
	if n := count(`SELECT count(*) FROM delivery_leases`); n != 0 {
		t.Errorf("%d repository leases left after the backlog was applied", n)
	}
	for i := range burst {
		got := 0
		for _, c := range forge.Comments(testRepo, 1000+i) {
			if strings.Contains(c.Body, "<!-- patchgate:links -->") {
				got++
			}
		}
		if got > 1 {
			t.Errorf("PR %d: %d link comments, want at most 1", 1000+i, got)
		}
	}
	if db.AuditKey, err = readAuditKey(keyFile); err != nil {
		t.Fatal(err)
	}
	if n, err := store.NewAuditService(db).VerifyAudit(context.Background()); err != nil {
		t.Errorf("audit chain after the kill and restart: %v (%d entries checked)", err, n)
	}
	t.Logf("%d acknowledged, %d stored, all applied once after the restart", len(acked), stored)
}
