package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// compareConfig is one side-by-side run (-compare).
type compareConfig struct {
	binary      string        // patchgate binary; built from the module when empty
	body        []byte        // the payload
	event       string        // its X-GitHub-Event
	phase       time.Duration // length of each measurement
	rate        int           // the fixed rate latency is measured at
	concurrency int           // workers of the closed-loop maximum-rate phase
	repeat      int
	keep        bool // keep the temporary directory (databases, serve's log)
}

// sideResult is one server's figures in a side-by-side run.
type sideResult struct {
	Max      Result         `json:"max"`       // closed loop, -concurrency workers
	Fixed    Result         `json:"fixed"`     // open loop at -rate
	Stored   int64          `json:"stored"`    // rows stored over both phases
	Outcomes map[string]int `json:"outcomes"`  // serve: deliveries by outcome at the end
	Accepted int64          `json:"accepted"`  // 202s over both phases
	Drained  float64        `json:"drained_s"` // serve: seconds the processor took to work off the max phase's backlog
}

// compareRound is one baseline run followed by one serve run.
type compareRound struct {
	Baseline sideResult `json:"baseline"`
	Serve    sideResult `json:"serve"`
	// MaxRatio is set on the median of several rounds: the median of the
	// rounds' serve/baseline maximum-rate ratios (each round's two figures
	// saw about the same machine; the medians of each side need not have).
	MaxRatio float64 `json:"max_ratio,omitempty"`
}

const compareSecret = "patchgate-load-compare-secret"

// runCompare measures the baseline handler, then a real `patchgate serve`
// (embedded SQLite, the delivery processor on, the payload's repository
// configured so deliveries are processed), each for a closed-loop maximum
// rate and for latency at a fixed rate, and prints them side by side. Both
// run in this one invocation, one after the other, so that they see the same
// machine.
func runCompare(ctx context.Context, c compareConfig, asJSON bool) error {
	repo, err := repoOf(c.body)
	if err != nil {
		return err
	}
	dir, cleanup, err := workDir(ctx, "patchgate-load-", c.keep, &c.binary)
	if err != nil {
		return err
	}
	defer cleanup()
	var rounds []compareRound
	for i := range c.repeat {
		var r compareRound
		fmt.Fprintf(os.Stderr, "patchgate-load: round %d/%d: baseline …\n", i+1, c.repeat)
		if r.Baseline, err = measureBaseline(ctx, c, filepath.Join(dir, fmt.Sprintf("baseline-%d.db", i))); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "patchgate-load: round %d/%d: patchgate serve …\n", i+1, c.repeat)
		if r.Serve, err = measureServe(ctx, c, filepath.Join(dir, fmt.Sprintf("serve-%d", i)), repo); err != nil {
			return err
		}
		rounds = append(rounds, r)
		if !asJSON {
			printRound(os.Stdout, fmt.Sprintf("round %d", i+1), r, c)
		}
	}
	if asJSON {
		return json.NewEncoder(os.Stdout).Encode(rounds)
	}
	if len(rounds) > 1 {
		printRound(os.Stdout, fmt.Sprintf("median of %d rounds", len(rounds)), medianRound(rounds), c)
	}
	for _, r := range rounds {
		if lost := r.Baseline.Accepted - r.Baseline.Stored; lost > 0 {
			return fmt.Errorf("baseline lost %d accepted deliveries", lost)
		}
		if lost := r.Serve.Accepted - r.Serve.Stored; lost > 0 {
			return fmt.Errorf("patchgate lost %d accepted deliveries", lost)
		}
	}
	return nil
}

func measureBaseline(ctx context.Context, c compareConfig, path string) (sideResult, error) {
	b, err := startBaseline(path, compareSecret)
	if err != nil {
		return sideResult{}, err
	}
	defer b.close()
	var s sideResult
	if s.Max, s.Fixed, err = measure(ctx, c, b.url()); err != nil {
		return s, err
	}
	s.Accepted = s.Max.Accepted + s.Fixed.Accepted
	s.Stored, err = b.count(ctx)
	return s, err
}

func measureServe(ctx context.Context, c compareConfig, dir, repo string) (sideResult, error) {
	var s sideResult
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return s, err
	}
	addr, err := freePort()
	if err != nil {
		return s, err
	}
	dbPath := filepath.Join(dir, "patchgate.db")
	logFile, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return s, err
	}
	defer logFile.Close()
	repos, _ := json.Marshal([]map[string]any{{"forge": "github", "name": repo}})
	cmd := exec.Command(c.binary, "serve")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"PATCHGATE_LISTEN="+addr,
		"PATCHGATE_DATABASE=sqlite://"+dbPath,
		"PATCHGATE_GITHUB_WEBHOOK_SECRETS="+compareSecret,
		"PATCHGATE_REPOS="+string(repos),
		"PATCHGATE_RUNNERS_WORKERS=0", // verifications would need Docker; the delivery processor runs
		"PATCHGATE_PUBLIC_URL=http://"+addr,
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return s, fmt.Errorf("start %s serve: %w", c.binary, err)
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	url := "http://" + addr
	if err := waitReady(ctx, url, 30*time.Second); err != nil {
		return s, fmt.Errorf("patchgate serve did not become ready (log: %s): %w", logFile.Name(), err)
	}
	db, err := sql.Open("sqlite", dbPath+"?_pragma=busy_timeout(5000)&_pragma=query_only(1)")
	if err != nil {
		return s, err
	}
	defer db.Close()

	if s.Max, err = run(ctx, config{url: url, secret: compareSecret, body: c.body, event: c.event,
		rate: 0, duration: c.phase, concurrency: c.concurrency}); err != nil {
		return s, err
	}
	// The processor works off the maximum phase's backlog before latency is
	// measured, so that the fixed-rate phase sees a steady state.
	start := time.Now()
	for time.Since(start) < 2*time.Minute {
		var pending int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE outcome = 'pending'`).Scan(&pending); err != nil {
			return s, fmt.Errorf("count pending deliveries: %w", err)
		}
		if pending == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.Drained = time.Since(start).Seconds()
	if s.Fixed, err = run(ctx, config{url: url, secret: compareSecret, body: c.body, event: c.event,
		rate: c.rate, duration: c.phase, concurrency: max(c.concurrency, 64)}); err != nil {
		return s, err
	}
	s.Accepted = s.Max.Accepted + s.Fixed.Accepted
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM deliveries`).Scan(&s.Stored); err != nil {
		return s, fmt.Errorf("count deliveries: %w", err)
	}
	rows, err := db.QueryContext(ctx, `SELECT outcome, count(*) FROM deliveries GROUP BY outcome`)
	if err != nil {
		return s, fmt.Errorf("count outcomes: %w", err)
	}
	defer rows.Close()
	s.Outcomes = map[string]int{}
	for rows.Next() {
		var o string
		var n int
		if err := rows.Scan(&o, &n); err != nil {
			return s, err
		}
		s.Outcomes[o] = n
	}
	return s, rows.Err()
}

// measure runs the two phases against url: as fast as c.concurrency workers
// go, then at c.rate.
func measure(ctx context.Context, c compareConfig, url string) (maxRes, fixed Result, err error) {
	if maxRes, err = run(ctx, config{url: url, secret: compareSecret, body: c.body, event: c.event,
		rate: 0, duration: c.phase, concurrency: c.concurrency}); err != nil {
		return
	}
	fixed, err = run(ctx, config{url: url, secret: compareSecret, body: c.body, event: c.event,
		rate: c.rate, duration: c.phase, concurrency: max(c.concurrency, 64)})
	return
}

func printRound(w io.Writer, title string, r compareRound, c compareConfig) {
	b, s := r.Baseline, r.Serve
	ratio := func(x, y float64) string {
		if y == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f×", x/y)
	}
	fmt.Fprintf(w, "\n%s (%s per phase, %d workers for the maximum, %d/s for latency)\n", title, c.phase, c.concurrency, c.rate)
	fmt.Fprintf(w, "%-26s %12s %12s %10s\n", "", "baseline", "serve", "serve/base")
	fmt.Fprintf(w, "%-26s %12.0f %12.0f %10s\n", "max sustained (202/s)", b.Max.PerSecond, s.Max.PerSecond, ratio(s.Max.PerSecond, b.Max.PerSecond))
	if r.MaxRatio > 0 {
		fmt.Fprintf(w, "%-26s %12s %12s %9.2f×\n", "  median of round ratios", "", "", r.MaxRatio)
	}
	fmt.Fprintf(w, "%-26s %12.2f %12.2f %10s\n", "  p99 at max (ms)", b.Max.P99ms, s.Max.P99ms, ratio(s.Max.P99ms, b.Max.P99ms))
	fmt.Fprintf(w, "%-26s %12.2f %12.2f %10s\n", fmt.Sprintf("p50 at %d/s (ms)", c.rate), b.Fixed.P50ms, s.Fixed.P50ms, ratio(s.Fixed.P50ms, b.Fixed.P50ms))
	fmt.Fprintf(w, "%-26s %12.2f %12.2f %10s\n", fmt.Sprintf("p99 at %d/s (ms)", c.rate), b.Fixed.P99ms, s.Fixed.P99ms, ratio(s.Fixed.P99ms, b.Fixed.P99ms))
	fmt.Fprintf(w, "%-26s %12d %12d\n", "errors (non-202)", b.Max.Errors+b.Fixed.Errors, s.Max.Errors+s.Fixed.Errors)
	fmt.Fprintf(w, "%-26s %12d %12d\n", "accepted, not stored", b.Accepted-b.Stored, s.Accepted-s.Stored)
	if len(s.Outcomes) > 0 {
		var parts []string
		for _, k := range slices.Sorted(mapsKeys(s.Outcomes)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, s.Outcomes[k]))
		}
		fmt.Fprintf(w, "serve's deliveries: %s; backlog after the maximum worked off in %.1f s\n", strings.Join(parts, ", "), s.Drained)
	}
}

func mapsKeys(m map[string]int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// medianRound takes each figure's median over the rounds separately.
func medianRound(rounds []compareRound) compareRound {
	med := func(get func(compareRound) float64) float64 {
		v := make([]float64, len(rounds))
		for i, r := range rounds {
			v[i] = get(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	medi := func(get func(compareRound) int64) int64 {
		return int64(med(func(r compareRound) float64 { return float64(get(r)) }))
	}
	var m compareRound
	m.Baseline.Max.PerSecond = med(func(r compareRound) float64 { return r.Baseline.Max.PerSecond })
	m.Serve.Max.PerSecond = med(func(r compareRound) float64 { return r.Serve.Max.PerSecond })
	m.Baseline.Max.P99ms = med(func(r compareRound) float64 { return r.Baseline.Max.P99ms })
	m.Serve.Max.P99ms = med(func(r compareRound) float64 { return r.Serve.Max.P99ms })
	m.Baseline.Fixed.P50ms = med(func(r compareRound) float64 { return r.Baseline.Fixed.P50ms })
	m.Serve.Fixed.P50ms = med(func(r compareRound) float64 { return r.Serve.Fixed.P50ms })
	m.Baseline.Fixed.P99ms = med(func(r compareRound) float64 { return r.Baseline.Fixed.P99ms })
	m.Serve.Fixed.P99ms = med(func(r compareRound) float64 { return r.Serve.Fixed.P99ms })
	m.MaxRatio = med(func(r compareRound) float64 { return r.Serve.Max.PerSecond / r.Baseline.Max.PerSecond })
	m.Baseline.Max.Errors = medi(func(r compareRound) int64 { return r.Baseline.Max.Errors + r.Baseline.Fixed.Errors })
	m.Serve.Max.Errors = medi(func(r compareRound) int64 { return r.Serve.Max.Errors + r.Serve.Fixed.Errors })
	return m
}

// repoOf returns the repository.full_name of a GitHub payload.
func repoOf(body []byte) (string, error) {
	var p struct {
		Repository struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.Repository.FullName == "" {
		return "", fmt.Errorf("the payload names no repository.full_name (want a GitHub delivery's body): %v", err)
	}
	return p.Repository.FullName, nil
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitReady(ctx context.Context, url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	var last error = errors.New("no answer")
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/readyz: %s", resp.Status)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return last
}

// workDir makes the run's temporary directory (kept and named when keep is
// set) and, unless *binary names one, builds patchgate into it.
func workDir(ctx context.Context, prefix string, keep bool, binary *string) (dir string, cleanup func(), err error) {
	if dir, err = os.MkdirTemp("", prefix); err != nil {
		return "", nil, err
	}
	cleanup = func() { _ = os.RemoveAll(dir) }
	if keep {
		fmt.Fprintln(os.Stderr, "patchgate-load: keeping", dir)
		cleanup = func() {}
	}
	if *binary == "" {
		*binary = filepath.Join(dir, "patchgate")
		fmt.Fprintln(os.Stderr, "patchgate-load: building patchgate …")
		build := exec.CommandContext(ctx, "go", "build", "-o", *binary, "github.com/patchgate/patchgate/cmd/patchgate")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			cleanup()
			return "", nil, fmt.Errorf("build patchgate (or pass -patchgate BINARY): %w", err)
		}
	}
	return dir, cleanup, nil
}
