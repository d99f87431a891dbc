// Command patchgate-load sends signed, real GitHub webhook payloads to a running
// patchgate at a fixed rate (or as fast as it can) and reports the rate it
// sustained, the acknowledgement latency percentiles and any loss.
//
//	patchgate-load -url http://127.0.0.1:8080 -secret S -rate 500 -duration 20s
//
// With -apply it starts `patchgate serve` itself, sends a burst of distinct
// pull requests and reports intake and apply side by side (rates, drain time
// after the last 202, receipt → applied percentiles):
//
//	patchgate-load -apply -burst 3000 -senders 16 -rate 0 -repeat 3
//
// Every delivery has a fresh X-GitHub-Delivery id, so each must be stored; the
// run ends with a check that the server reports every one of them.
package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	var (
		target   = flag.String("url", "http://127.0.0.1:8080", "patchgate base URL (loopback only)")
		secret   = flag.String("secret", "", "GitHub webhook secret the server accepts")
		fixture  = flag.String("payload", "webhooks/testdata/github/pull_request/opened.api.github.com.13.json", "real payload to send")
		event    = flag.String("event", "pull_request", "X-GitHub-Event")
		rate     = flag.Int("rate", 500, "deliveries per second; 0 = as fast as -concurrency allows")
		duration = flag.Duration("duration", 20*time.Second, "how long to send")
		conc     = flag.Int("concurrency", 64, "requests in flight at most")
		outJSON  = flag.Bool("json", false, "print the result as JSON")
		token    = flag.String("token", "", "viewer API token: when set, the stored deliveries are counted to prove zero loss")
		compare  = flag.Bool("compare", false, "side by side: a bare net/http + HMAC + SQLite baseline, then `patchgate serve`, each for a closed-loop maximum and at -rate")
		binary   = flag.String("patchgate", "", "with -compare: the patchgate binary to run (default: built from the module in the working directory)")
		phase    = flag.Duration("phase", 10*time.Second, "with -compare: length of each measurement")
		repeat   = flag.Int("repeat", 1, "with -compare: rounds to run; the medians are printed at the end")
		keep     = flag.Bool("keep", false, "with -compare: keep the temporary directory (databases, serve's log)")
		apply    = flag.Bool("apply", false, "intake and apply side by side: start `patchgate serve` (see -patchgate), send -burst distinct pull requests with -senders at -rate (0 = as fast as they go), wait until all are applied, report both")
		burst    = flag.Int("burst", 3000, "with -apply: deliveries to send")
		senders  = flag.Int("senders", 16, "with -apply: concurrent senders")
		repos    = flag.Int("repos", 1, "with -apply: repositories the deliveries are spread over")
		database = flag.String("database", "", "with -apply: a PostgreSQL URL to run on (a fresh schema per round); default a fresh SQLite file")
		procs    = flag.Int("processes", 1, "with -apply and -database: serve processes sharing the database")
	)
	flag.Parse()
	if *apply {
		body, err := os.ReadFile(*fixture)
		if err != nil {
			fmt.Fprintln(os.Stderr, "patchgate-load:", err)
			os.Exit(1)
		}
		if err := runApply(context.Background(), applyConfig{binary: *binary, body: body, burst: *burst, senders: max(1, *senders),
			rate: *rate, repos: max(1, *repos), database: *database, processes: max(1, *procs), repeat: max(1, *repeat), keep: *keep}, *outJSON); err != nil {
			fmt.Fprintln(os.Stderr, "patchgate-load:", err)
			os.Exit(1)
		}
		return
	}
	if *compare {
		body, err := os.ReadFile(*fixture)
		if err != nil {
			fmt.Fprintln(os.Stderr, "patchgate-load:", err)
			os.Exit(1)
		}
		if err := runCompare(context.Background(), compareConfig{binary: *binary, body: body, event: *event,
			phase: *phase, rate: *rate, concurrency: *conc, repeat: max(1, *repeat), keep: *keep}, *outJSON); err != nil {
			fmt.Fprintln(os.Stderr, "patchgate-load:", err)
			os.Exit(1)
		}
		return
	}
	if *secret == "" {
		fmt.Fprintln(os.Stderr, "patchgate-load: -secret is required")
		os.Exit(2)
	}
	body, err := os.ReadFile(*fixture)
	if err != nil {
		fmt.Fprintln(os.Stderr, "patchgate-load:", err)
		os.Exit(1)
	}
	ctx := context.Background()
	before, err := storedDeliveries(ctx, *target, *token)
	if err != nil {
		fmt.Fprintln(os.Stderr, "patchgate-load:", err)
		os.Exit(1)
	}
	res, err := run(ctx, config{
		url: *target, secret: *secret, body: body, event: *event,
		rate: *rate, duration: *duration, concurrency: *conc,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "patchgate-load:", err)
		os.Exit(1)
	}
	if *token != "" {
		after, err := storedDeliveries(ctx, *target, *token)
		if err != nil {
			fmt.Fprintln(os.Stderr, "patchgate-load:", err)
			os.Exit(1)
		}
		res.Stored = after - before
		res.Lost = res.Accepted - res.Stored
	}
	if *outJSON {
		_ = json.NewEncoder(os.Stdout).Encode(res)
	} else {
		fmt.Println(res)
	}
	if res.Errors > 0 || res.Lost > 0 {
		os.Exit(1)
	}
}

type config struct {
	url, secret, event string
	body               []byte
	rate               int
	duration           time.Duration
	concurrency        int
}

// Result is one load run's figures.
type Result struct {
	Sent      int64   `json:"sent"`
	Accepted  int64   `json:"accepted"`
	Errors    int64   `json:"errors"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"`
	P50ms     float64 `json:"p50_ms"`
	P90ms     float64 `json:"p90_ms"`
	P99ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
	// Stored and Lost are counted through the API when a token is given.
	Stored int64 `json:"stored"`
	Lost   int64 `json:"lost"`
}

func (r Result) String() string {
	return fmt.Sprintf("sent %d, accepted %d, errors %d in %.1fs: %.0f deliveries/s; ack p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms; stored %d, lost %d",
		r.Sent, r.Accepted, r.Errors, r.Seconds, r.PerSecond, r.P50ms, r.P90ms, r.P99ms, r.MaxMs, r.Stored, r.Lost)
}

func run(ctx context.Context, c config) (Result, error) {
	mac := hmac.New(sha256.New, []byte(c.secret))
	mac.Write(c.body)
	signature := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: c.concurrency, MaxConnsPerHost: c.concurrency},
	}
	runID := time.Now().UnixNano()

	var (
		sent, accepted, failed atomic.Int64
		mu                     sync.Mutex
		latencies              = make([]time.Duration, 0, 1<<16)
		wg                     sync.WaitGroup
		slots                  = make(chan struct{}, c.concurrency)
	)
	send := func(n int64) {
		defer wg.Done()
		defer func() { <-slots }()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"/webhooks/github", bytes.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", c.event)
		req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("load-%d-%d", runID, n))
		req.Header.Set("X-Hub-Signature-256", signature)
		start := time.Now()
		resp, err := client.Do(req)
		elapsed := time.Since(start)
		if err != nil {
			failed.Add(1)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			failed.Add(1)
			return
		}
		accepted.Add(1)
		mu.Lock()
		latencies = append(latencies, elapsed)
		mu.Unlock()
	}

	start := time.Now()
	deadline := start.Add(c.duration)
	var interval time.Duration
	if c.rate > 0 {
		interval = time.Second / time.Duration(c.rate)
	}
	for n := int64(0); time.Now().Before(deadline); n++ {
		if interval > 0 {
			// Open-loop pacing: the schedule does not wait for slow answers, so
			// latency is measured as a client at that rate would see it.
			if d := time.Until(start.Add(time.Duration(n) * interval)); d > 0 {
				time.Sleep(d)
			}
		}
		slots <- struct{}{}
		sent.Add(1)
		wg.Add(1)
		go send(n)
	}
	wg.Wait()
	elapsed := time.Since(start)

	slices.Sort(latencies)
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		i := int(float64(len(latencies)-1) * p)
		return float64(latencies[i].Microseconds()) / 1000
	}
	return Result{
		Sent: sent.Load(), Accepted: accepted.Load(), Errors: failed.Load(),
		Seconds: elapsed.Seconds(), PerSecond: float64(accepted.Load()) / elapsed.Seconds(),
		P50ms: pct(.50), P90ms: pct(.90), P99ms: pct(.99), MaxMs: pct(1),
	}, nil
}

// storedDeliveries asks the server how many deliveries it holds; 0 without a token.
func storedDeliveries(ctx context.Context, base, token string) (int64, error) {
	if token == "" {
		return 0, nil
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/deliveries?limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("count deliveries: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		Total int64 `json:"total"`
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("count deliveries: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, fmt.Errorf("count deliveries: %w", err)
	}
	return out.Total, nil
}
