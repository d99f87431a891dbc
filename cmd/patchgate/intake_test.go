package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/webhooks"
)

// slowDelivery opens a connection to addr and sends a webhook request's headers
// announcing a body of length bytes, but none of the body yet.
func slowDelivery(t *testing.T, addr, path string, header map[string]string, length int) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: patchgate\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", path, length)
	for k, v := range header {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	return conn
}

// readAnswer reads the response on conn; the deadline only keeps a broken
// server from hanging the test.
func readAnswer(t *testing.T, conn net.Conn) *http.Response {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read the answer: %v (was it waiting for the body?)", err)
	}
	resp.Body.Close()
	return resp
}

// heapInUse returns the live heap after a collection, and the process's RSS.
func heapInUse() (heap, rss uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseUint(f[1], 10, 64)
				rss = kb << 10
			}
		}
	}
	return ms.HeapAlloc, rss
}

// TestIntakeBoundsUnverifiedBodies plays ten slow senders with wrong GitHub
// signatures and ten with wrong GitLab tokens against a server that reads at
// most ten unverified bodies at once: the GitLab ones are refused on their
// headers, before any body; the GitHub ones take the ten places, an eleventh
// gets 503 with Retry-After, a verified GitLab delivery still goes through,
// and the server's heap grows by little while the bodies trickle in.
func TestIntakeBoundsUnverifiedBodies(t *testing.T) {
	const slots, trickle, chunk = 10, 64 << 10, 1 << 10
	app := startApp(t, func(c *Config) { c.Intake.MaxUnverified = slots })
	addr := strings.TrimPrefix(app.url, "http://")
	heap0, rss0 := heapInUse()

	// GitLab: a wrong token is refused before a byte of the body is sent.
	for i := range 10 {
		conn := slowDelivery(t, addr, "/webhooks/gitlab", map[string]string{"X-Gitlab-Event": "Push Hook",
			"X-Gitlab-Event-UUID": fmt.Sprintf("slow-gl-%d", i), "X-Gitlab-Token": "not the secret"}, 20<<20)
		if resp := readAnswer(t, conn); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("GitLab delivery %d with a wrong token: %d before its body, want 401", i, resp.StatusCode)
		}
	}

	// GitHub: the signature needs the body, so ten trickling bodies take the ten places.
	ghHeader := func(id string) map[string]string {
		return map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": id,
			"X-Hub-Signature-256": "sha256=" + strings.Repeat("0", 64)}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var sent sync.WaitGroup
	conns := make([]net.Conn, slots)
	for i := range conns {
		conns[i] = slowDelivery(t, addr, "/webhooks/github", ghHeader(fmt.Sprintf("slow-gh-%d", i)), 20<<20)
		sent.Add(1)
		conn := conns[i]
		wg.Go(func() {
			defer sent.Done()
			buf := bytes.Repeat([]byte(" "), chunk)
			for n := 0; n < trickle; n += chunk {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
				if _, err := conn.Write(buf); err != nil {
					return
				}
			}
		})
	}
	stopAll := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopAll)

	// An eleventh unverified body has no place. The ten may still be on their
	// way to the server: ask until they are all being read.
	var busy *http.Response
	for i := 0; busy == nil; i++ {
		body := []byte(`{"zen": "eleventh"}`)
		conn := slowDelivery(t, addr, "/webhooks/github", ghHeader(fmt.Sprintf("eleventh-%d", i)), len(body))
		_, _ = conn.Write(body)
		switch resp := readAnswer(t, conn); resp.StatusCode {
		case http.StatusServiceUnavailable:
			busy = resp
		case http.StatusUnauthorized: // a place was still free
			if i > 1000 {
				t.Fatal("the eleventh unverified delivery never got 503")
			}
			time.Sleep(10 * time.Millisecond)
		default:
			t.Fatalf("eleventh unverified delivery: %d, want 503 (or 401 while places are free)", resp.StatusCode)
		}
	}
	if ra := busy.Header.Get("Retry-After"); ra == "" {
		t.Errorf("503 without Retry-After")
	}

	// A verified GitLab delivery does not wait for a place.
	body := fixture(t, "gitlab/build.json", nil)
	req, _ := http.NewRequest(http.MethodPost, app.url+"/webhooks/gitlab", bytes.NewReader(body))
	req.Header.Set("X-Gitlab-Event", "Job Hook")
	req.Header.Set("X-Gitlab-Event-UUID", "verified-gl")
	req.Header.Set("X-Gitlab-Token", testSecret)
	if code, a := do(t, req); code != http.StatusAccepted {
		t.Errorf("verified GitLab delivery while the places are taken: %d %+v, want 202", code, a)
	}

	sent.Wait() // each of the ten has sent its trickle
	heap1, rss1 := heapInUse()
	growth := int64(heap1) - int64(heap0)
	t.Logf("heap %.1f MiB → %.1f MiB (%+.2f MiB), RSS %.1f MiB → %.1f MiB, with %d bodies of %d KiB being read",
		mib(heap0), mib(heap1), float64(growth)/(1<<20), mib(rss0), mib(rss1), slots, trickle>>10)
	if growth > 4<<20 {
		t.Errorf("heap grew by %.1f MiB while %d unverified bodies trickled in, want at most 4 MiB", float64(growth)/(1<<20), slots)
	}

	// Once they end, signed deliveries get places again.
	stopAll()
	for _, c := range conns {
		c.Close()
	}
	ping := fixture(t, "github/ping/none.api.github.com.1.json", nil)
	for i := 0; ; i++ {
		code, _ := app.sendGitHub(t, "ping", fmt.Sprintf("signed-%d", i), ping, testSecret)
		if code == http.StatusAccepted {
			break
		}
		if code != http.StatusServiceUnavailable || i > 1000 {
			t.Fatalf("signed GitHub delivery after the slow ones: %d, want 202", code)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// TestIntakeConfig checks intake.max_unverified's default, variable and bounds.
func TestIntakeConfig(t *testing.T) {
	for _, tc := range []struct {
		value   string // PATCHGATE_INTAKE_MAX_UNVERIFIED, "" for unset
		want    int
		wantErr string
	}{
		{value: "", want: 8},
		{value: "32", want: 32},
		{value: "0", wantErr: "config key intake.max_unverified: 0: want 1 to 1024"},
		{value: "many", wantErr: "PATCHGATE_INTAKE_MAX_UNVERIFIED: want a number"},
	} {
		t.Run(tc.value, func(t *testing.T) {
			env := func(k string) (string, bool) {
				if k == "PATCHGATE_INTAKE_MAX_UNVERIFIED" && tc.value != "" {
					return tc.value, true
				}
				return "", false
			}
			cfg, err := LoadConfig("", env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LoadConfig: %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || cfg.Intake.MaxUnverified != tc.want {
				t.Fatalf("LoadConfig: max_unverified %d, %v; want %d", cfg.Intake.MaxUnverified, err, tc.want)
			}
		})
	}
}

// TestIntakeGroupCommit: concurrent deliveries are committed in shared
// transactions (group commit), and none is answered 202 before the
// transaction holding it has committed. While the first commit is held, no
// delivery is answered; the deliveries whose commit fails are answered 5xx and
// not stored, every other one is answered 202 and stored exactly once, and a
// redelivery of a failed one is then accepted.
func TestIntakeGroupCommit(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Intake.MaxUnverified = 64 // all of them verified at once: none gets 503
	})
	body := fixture(t, "github/pull_request/opened.api.github.com.13.json", nil)
	send := func(id string) int {
		req, _ := http.NewRequest(http.MethodPost, app.url+"/webhooks/github", bytes.NewReader(body))
		req.Header.Set("X-GitHub-Event", "pull_request")
		req.Header.Set("X-GitHub-Delivery", id)
		req.Header.Set("X-Hub-Signature-256", webhooks.SignGitHub(testSecret, body))
		code, _ := do(t, req)
		return code
	}
	var (
		mu       sync.Mutex
		batches  int
		largest  int
		release  = make(chan struct{})
		answered atomic.Int32
	)
	app.main.DB.SetDeliveryCommitHook(func(ids []string) error {
		mu.Lock()
		first := batches == 0
		batches++
		largest = max(largest, len(ids))
		mu.Unlock()
		if first {
			<-release
		}
		for _, id := range ids {
			if strings.HasSuffix(id, "-fail") {
				return fmt.Errorf("injected commit failure")
			}
		}
		return nil
	})
	const n = 48
	ids := make([]string, n)
	codes := make([]int, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("group-%d", i)
		if i%8 == 5 {
			ids[i] += "-fail"
		}
	}
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			codes[i] = send(ids[i])
			answered.Add(1)
		})
	}
	time.Sleep(500 * time.Millisecond)
	if a := answered.Load(); a != 0 {
		t.Errorf("%d deliveries were answered while the first commit was held", a)
	}
	close(release)
	wg.Wait()
	app.main.DB.SetDeliveryCommitHook(nil)
	if largest < 2 {
		t.Errorf("largest batch: %d deliveries; concurrent deliveries were not committed together", largest)
	}

	var out struct{ Deliveries []patchgate.Delivery }
	app.api(t, http.MethodGet, "/api/v1/deliveries?limit=500", nil, &out)
	stored := map[string]int{}
	for _, d := range out.Deliveries {
		stored[d.ID]++
	}
	for i, id := range ids {
		fail := strings.HasSuffix(id, "-fail")
		switch {
		case fail && codes[i] < 500:
			t.Errorf("%s: commit failed, answered %d; want 5xx", id, codes[i])
		case fail && stored[id] != 0:
			t.Errorf("%s: commit failed but the delivery is stored", id)
		case !fail && codes[i] != http.StatusAccepted:
			t.Errorf("%s: answered %d, want 202", id, codes[i])
		case !fail && stored[id] != 1:
			t.Errorf("%s: acknowledged, stored %d times; want once", id, stored[id])
		}
	}
	for _, id := range ids {
		if strings.HasSuffix(id, "-fail") {
			if code := send(id); code != http.StatusAccepted {
				t.Errorf("redelivery of %s: %d, want 202", id, code)
			}
		}
	}
	app.api(t, http.MethodGet, "/api/v1/deliveries?limit=500", nil, &out)
	if len(out.Deliveries) != n {
		t.Errorf("after the redeliveries %d deliveries are stored, want %d", len(out.Deliveries), n)
	}
}

// TestIntakeBurstWaitsForAPlace: a signed delivery that finds every place
// among the unverified bodies taken waits a moment for one instead of getting
// 503 at once (GitHub redelivers nothing by itself): here two bodies hold both
// places for 300 ms, then finish. Only bodies held open for longer than the
// wait cost a 503 (TestIntakeBoundsUnverifiedBodies).
func TestIntakeBurstWaitsForAPlace(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Intake.MaxUnverified = 2
	})
	addr := strings.TrimPrefix(app.url, "http://")
	filler := []byte(`{"zen": "holding a place"}`)
	var held []net.Conn
	for i := range 2 {
		conn := slowDelivery(t, addr, "/webhooks/github", map[string]string{"X-GitHub-Event": "push",
			"X-GitHub-Delivery": fmt.Sprintf("holder-%d", i), "X-Hub-Signature-256": "sha256=" + strings.Repeat("0", 64)}, len(filler))
		if _, err := conn.Write(filler[:5]); err != nil {
			t.Fatal(err)
		}
		held = append(held, conn)
	}
	time.Sleep(100 * time.Millisecond) // both bodies are being read
	go func() {
		time.Sleep(300 * time.Millisecond)
		for _, conn := range held {
			_, _ = conn.Write(filler[5:])
		}
	}()

	body := fixture(t, "github/pull_request/opened.api.github.com.13.json", nil)
	req, _ := http.NewRequest(http.MethodPost, app.url+"/webhooks/github", bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "pull_request")
	req.Header.Set("X-GitHub-Delivery", "waits-for-a-place")
	req.Header.Set("X-Hub-Signature-256", webhooks.SignGitHub(testSecret, body))
	if code, _ := do(t, req); code != http.StatusAccepted {
		t.Errorf("signed delivery while both places were held for 300 ms: got %d, want 202 after waiting", code)
	}
	for i, conn := range held {
		if resp := readAnswer(t, conn); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("holder %d (wrong signature): got %d, want 401", i, resp.StatusCode)
		}
	}
}

// TestIntakeBoundsUnverifiedJiraBodies: Jira's signature covers the body like
// GitHub's, so a Jira body being read before it is verified takes one of the
// intake.max_unverified places, the same places GitHub's take: with the one
// place held by a slow Jira body, a signed Jira delivery and a signed GitHub
// one get 503 with Retry-After, and once the slow body ends they get 202.
func TestIntakeBoundsUnverifiedJiraBodies(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Intake.MaxUnverified = 1
		c.Trackers = []TrackerConfig{jiraTracker("https://acme.atlassian.net")}
	})
	addr := strings.TrimPrefix(app.url, "http://")
	filler := []byte(`{"webhookEvent": "jira:issue_updated"}`)
	holder := slowDelivery(t, addr, "/webhooks/jira", map[string]string{"X-Atlassian-Webhook-Identifier": "holder",
		"X-Hub-Signature": "sha256=" + strings.Repeat("0", 64)}, len(filler))
	if _, err := holder.Write(filler[:5]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the holder's body is being read

	created := jiraFixture(t, "issue_created.priority-highest.json")
	code, a := app.sendJira(t, "while-held", created, jiraSecret)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("signed Jira delivery while a Jira body holds the one place: got %d %+v, want 503", code, a)
	}
	ping := fixture(t, "github/ping/none.api.github.com.1.json", nil)
	if code, _ := app.sendGitHub(t, "ping", "github-while-held", ping, testSecret); code != http.StatusServiceUnavailable {
		t.Fatalf("signed GitHub delivery while a Jira body holds the one place: got %d, want 503", code)
	}

	if _, err := holder.Write(filler[5:]); err != nil {
		t.Fatal(err)
	}
	if resp := readAnswer(t, holder); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("holder (wrong signature): got %d, want 401", resp.StatusCode)
	}
	if code, a := app.sendJira(t, "after-held", created, jiraSecret); code != http.StatusAccepted || a.Status != "accepted" {
		t.Fatalf("signed Jira delivery after the slow body ended: got %d %+v, want 202 accepted", code, a)
	}
}
