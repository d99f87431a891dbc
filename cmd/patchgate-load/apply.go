package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // -database postgres://…
)

// applyConfig is one intake-and-apply run (-apply).
type applyConfig struct {
	binary  string // patchgate binary; built from the module when empty
	body    []byte // the pull_request payload each delivery is made from
	burst   int    // deliveries sent
	senders int    // concurrent senders
	rate    int    // deliveries per second; 0 = as fast as the senders go
	repos   int    // repositories the deliveries are spread over
	// database is a PostgreSQL URL to run on (each round in a fresh schema);
	// empty: a fresh SQLite file per round.
	database string
	// processes is how many `serve` processes share the database (PostgreSQL
	// only); the senders spread the deliveries over them, as a load balancer.
	processes int
	repeat    int
	keep      bool
}

// applyResult is one run's intake and apply figures, side by side.
type applyResult struct {
	Sent, Accepted, Errors int
	// IntakePerSecond is 202s per second from the first send to the last 202.
	IntakePerSecond float64 `json:"intake_per_second"`
	AckP50ms        float64 `json:"ack_p50_ms"`
	AckP99ms        float64 `json:"ack_p99_ms"`
	// AppliedPerSecond is deliveries applied per second from the first
	// receipt to the last apply, as the server stamped them.
	AppliedPerSecond float64 `json:"applied_per_second"`
	// DrainSeconds is how long after the last 202 the last delivery was
	// applied (server clock for both).
	DrainSeconds float64 `json:"drain_s"`
	// QueueP50ms and QueueP99ms are receipt → applied (received_at →
	// processed_at of each delivery row).
	QueueP50ms float64        `json:"queue_p50_ms"`
	QueueP99ms float64        `json:"queue_p99_ms"`
	QueueMaxMs float64        `json:"queue_max_ms"`
	Outcomes   map[string]int `json:"outcomes"`
}

// runApply starts `patchgate serve` on a fresh SQLite database for each
// round, sends the burst of distinct pull requests (each its own PR number,
// head and ticket), waits until the processor has applied every stored
// delivery and reports intake and apply side by side. The apply figures are
// the server's own stamps in the database (received_at at intake,
// processed_at when the processor recorded the outcome), read once the run is
// over, so reading them costs the server nothing while it works.
func runApply(ctx context.Context, c applyConfig, asJSON bool) error {
	if c.processes > 1 && c.database == "" {
		return fmt.Errorf("-processes %d needs -database postgres://…: serve processes share a PostgreSQL database", c.processes)
	}
	dir, cleanup, err := workDir(ctx, "patchgate-load-apply-", c.keep, &c.binary)
	if err != nil {
		return err
	}
	defer cleanup()
	bodies, repos, err := burstBodies(c.body, c.burst, c.repos)
	if err != nil {
		return err
	}
	var results []applyResult
	for i := range c.repeat {
		fmt.Fprintf(os.Stderr, "patchgate-load: round %d/%d: %d deliveries over %d repositories …\n", i+1, c.repeat, c.burst, len(repos))
		r, err := measureApply(ctx, c, filepath.Join(dir, fmt.Sprintf("apply-%d", i)), bodies, repos)
		if err != nil {
			return err
		}
		results = append(results, r)
		if !asJSON {
			printApply(os.Stdout, fmt.Sprintf("round %d", i+1), r, c)
		}
	}
	if asJSON {
		return json.NewEncoder(os.Stdout).Encode(results)
	}
	if len(results) > 1 {
		printApply(os.Stdout, fmt.Sprintf("median of %d rounds", len(results)), medianApply(results), c)
	}
	return nil
}

// burstBodies makes n distinct pull_request deliveries from body: PR 1000+i,
// its own head and branch, titled with ticket HW-(i+1), in one of repos
// repositories named after body's.
func burstBodies(body []byte, n, repos int) ([][]byte, []string, error) {
	base, err := repoOf(body)
	if err != nil {
		return nil, nil, err
	}
	names := []string{base}
	for r := 1; r < repos; r++ {
		names = append(names, fmt.Sprintf("%s-%d", base, r))
	}
	out := make([][]byte, n)
	for i := range n {
		var p map[string]any
		if err := json.Unmarshal(body, &p); err != nil {
			return nil, nil, err
		}
		pr, ok1 := p["pull_request"].(map[string]any)
		repo, ok2 := p["repository"].(map[string]any)
		if !ok1 || !ok2 {
			return nil, nil, fmt.Errorf("the payload is not a pull_request delivery (no pull_request or repository object)")
		}
		head, _ := pr["head"].(map[string]any)
		if head == nil {
			return nil, nil, fmt.Errorf("the payload's pull_request has no head")
		}
		p["number"] = 1000 + i
		pr["number"], pr["title"] = 1000+i, fmt.Sprintf("HW-%d: fix number %d", i+1, i)
		pr["updated_at"] = time.Now().UTC().Format(time.RFC3339)
		head["sha"], head["ref"] = fmt.Sprintf("%040x", 0xabc000000+i), fmt.Sprintf("fix-%d", i)
		repo["full_name"] = names[i%len(names)]
		if out[i], err = json.Marshal(p); err != nil {
			return nil, nil, err
		}
	}
	return out, names, nil
}

func measureApply(ctx context.Context, c applyConfig, dir string, bodies [][]byte, repos []string) (applyResult, error) {
	var r applyResult
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return r, err
	}
	database := "sqlite://" + filepath.Join(dir, "patchgate.db")
	driver, dsn := "sqlite", filepath.Join(dir, "patchgate.db")+"?_pragma=busy_timeout(5000)&_pragma=query_only(1)"
	if c.database != "" {
		url, drop, err := freshSchema(ctx, c.database)
		if err != nil {
			return r, err
		}
		if !c.keep {
			defer drop()
		}
		database, driver, dsn = url, "pgx", url
	}
	var cfgRepos []map[string]any
	for _, name := range repos {
		cfgRepos = append(cfgRepos, map[string]any{"forge": "github", "name": name, "ticket_keys": []string{"HW"}})
	}
	reposJSON, _ := json.Marshal(cfgRepos)
	var urls []string
	for n := range max(1, c.processes) {
		// One after the other: the first creates the audit key the others
		// read (all run in dir).
		url, stop, err := startServe(ctx, c.binary, dir, fmt.Sprintf("serve-%d.log", n), database, string(reposJSON))
		if err != nil {
			return r, err
		}
		defer stop()
		urls = append(urls, url)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return r, err
	}
	defer db.Close()
	logFile := filepath.Join(dir, "serve-0.log")

	acks, start, lastAck := sendBurst(ctx, urls, bodies, c.senders, c.rate)
	r.Sent = len(bodies)
	var latencies []time.Duration
	for _, a := range acks {
		if a.ok {
			r.Accepted++
			latencies = append(latencies, a.latency)
		} else {
			r.Errors++
		}
	}
	if r.Accepted == 0 {
		return r, fmt.Errorf("no delivery was accepted (log: %s)", logFile)
	}
	r.IntakePerSecond = float64(r.Accepted) / lastAck.Sub(start).Seconds()
	r.AckP50ms, r.AckP99ms = pctMs(latencies, .50), pctMs(latencies, .99)

	deadline := time.Now().Add(10 * time.Minute)
	for {
		var pending int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE outcome = 'pending'`).Scan(&pending); err != nil {
			return r, fmt.Errorf("count pending deliveries: %w", err)
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("%d deliveries still pending 10 minutes after the burst (log: %s)", pending, logFile)
		}
		time.Sleep(50 * time.Millisecond)
	}
	rows, err := db.QueryContext(ctx, `SELECT outcome, received_at, processed_at FROM deliveries`)
	if err != nil {
		return r, fmt.Errorf("read deliveries: %w", err)
	}
	defer rows.Close()
	r.Outcomes = map[string]int{}
	var queued []time.Duration
	var firstReceived, lastApplied time.Time
	for rows.Next() {
		var outcome string
		var received, processed any
		if err := rows.Scan(&outcome, &received, &processed); err != nil {
			return r, err
		}
		r.Outcomes[outcome]++
		rt, err1 := dbTime(received)
		pt, err2 := dbTime(processed)
		if err1 != nil || err2 != nil {
			return r, fmt.Errorf("delivery times %v, %v: %v %v", received, processed, err1, err2)
		}
		queued = append(queued, pt.Sub(rt))
		if firstReceived.IsZero() || rt.Before(firstReceived) {
			firstReceived = rt
		}
		if pt.After(lastApplied) {
			lastApplied = pt
		}
	}
	if err := rows.Err(); err != nil {
		return r, err
	}
	r.AppliedPerSecond = float64(len(queued)) / lastApplied.Sub(firstReceived).Seconds()
	r.DrainSeconds = max(0, lastApplied.Sub(lastAck).Seconds())
	r.QueueP50ms, r.QueueP99ms, r.QueueMaxMs = pctMs(queued, .50), pctMs(queued, .99), pctMs(queued, 1)
	return r, nil
}

// dbTime reads a time column: text on SQLite (patchgate's fixed layout),
// a time on PostgreSQL.
func dbTime(v any) (time.Time, error) {
	switch v := v.(type) {
	case time.Time:
		return v, nil
	case string:
		return time.Parse("2006-01-02T15:04:05.000000Z", v)
	case []byte:
		return time.Parse("2006-01-02T15:04:05.000000Z", string(v))
	}
	return time.Time{}, fmt.Errorf("not a time: %T", v)
}

// startServe starts `binary serve` in dir on database and waits until it is
// ready; stop interrupts it (and kills it if it does not stop).
func startServe(ctx context.Context, binary, dir, logName, database, repos string) (string, func(), error) {
	addr, err := freePort()
	if err != nil {
		return "", nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, logName))
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(binary, "serve")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"PATCHGATE_LISTEN="+addr,
		"PATCHGATE_DATABASE="+database,
		"PATCHGATE_GITHUB_WEBHOOK_SECRETS="+compareSecret,
		// No forge to talk to: link comments fail in the background, as they
		// would while a forge is down; applying does not wait for them.
		"PATCHGATE_GITHUB_API_URL=http://127.0.0.1:1",
		"PATCHGATE_REPOS="+repos,
		"PATCHGATE_RUNNERS_WORKERS=0",
		"PATCHGATE_PUBLIC_URL=http://"+addr,
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return "", nil, fmt.Errorf("start %s serve: %w", binary, err)
	}
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logFile.Close()
	}
	url := "http://" + addr
	if err := waitReady(ctx, url, 30*time.Second); err != nil {
		stop()
		return "", nil, fmt.Errorf("patchgate serve did not become ready (log: %s): %w", logFile.Name(), err)
	}
	return url, stop, nil
}

// freshSchema creates an empty schema on the PostgreSQL server at base and
// returns the URL that uses it and a function that drops it.
func freshSchema(ctx context.Context, base string) (string, func(), error) {
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	schema := fmt.Sprintf("patchgate_load_%d", time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create schema on %s: %w", base, err)
	}
	u, err := neturl.Parse(base)
	if err != nil {
		admin.Close()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() {
		_, _ = admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
		admin.Close()
	}, nil
}

type ackResult struct {
	ok      bool
	latency time.Duration
}

// sendBurst sends bodies to urls in turn with senders concurrent senders, paced at rate per
// second when rate > 0, and returns each one's answer, when the first was
// sent and when the last 202 came.
func sendBurst(ctx context.Context, urls []string, bodies [][]byte, senders, rate int) ([]ackResult, time.Time, time.Time) {
	client := &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: senders, MaxConnsPerHost: senders}}
	runID := time.Now().UnixNano()
	acks := make([]ackResult, len(bodies))
	var (
		next    atomic.Int64
		mu      sync.Mutex
		lastAck time.Time
		wg      sync.WaitGroup
	)
	start := time.Now()
	for range senders {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(bodies); i = int(next.Add(1)) - 1 {
				if rate > 0 {
					if d := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))); d > 0 {
						time.Sleep(d)
					}
				}
				mac := hmac.New(sha256.New, []byte(compareSecret))
				mac.Write(bodies[i])
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, urls[i%len(urls)]+"/webhooks/github", bytes.NewReader(bodies[i]))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-GitHub-Event", "pull_request")
				req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("apply-%d-%d", runID, i))
				req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
				sent := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				now := time.Now()
				acks[i] = ackResult{ok: resp.StatusCode == http.StatusAccepted, latency: now.Sub(sent)}
				if acks[i].ok {
					mu.Lock()
					if now.After(lastAck) {
						lastAck = now
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return acks, start, lastAck
}

func pctMs(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[int(float64(len(s)-1)*p)].Microseconds()) / 1000
}

func printApply(w io.Writer, title string, r applyResult, c applyConfig) {
	pace := "as fast as they go"
	if c.rate > 0 {
		pace = fmt.Sprintf("at %d/s", c.rate)
	}
	where := "SQLite"
	if c.database != "" {
		where = "PostgreSQL"
	}
	fmt.Fprintf(w, "\n%s: %d pull_request deliveries over %d repositories, %d senders %s; %s, %d serve process(es)\n",
		title, c.burst, c.repos, c.senders, pace, where, max(1, c.processes))
	fmt.Fprintf(w, "%-34s %10s %10s\n", "", "intake", "apply")
	fmt.Fprintf(w, "%-34s %10.0f %10.0f\n", "deliveries/s", r.IntakePerSecond, r.AppliedPerSecond)
	fmt.Fprintf(w, "%-34s %10.2f %10.0f\n", "p50 ms (202; receipt → applied)", r.AckP50ms, r.QueueP50ms)
	fmt.Fprintf(w, "%-34s %10.2f %10.0f\n", "p99 ms (202; receipt → applied)", r.AckP99ms, r.QueueP99ms)
	fmt.Fprintf(w, "%-34s %10s %10.1f\n", "drain after the last 202 (s)", "", r.DrainSeconds)
	fmt.Fprintf(w, "accepted %d of %d (%d errors); outcomes %v\n", r.Accepted, r.Sent, r.Errors, r.Outcomes)
}

// medianApply takes each figure's median over the rounds separately.
func medianApply(rs []applyResult) applyResult {
	med := func(get func(applyResult) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = get(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	m := rs[len(rs)/2]
	m.IntakePerSecond = med(func(r applyResult) float64 { return r.IntakePerSecond })
	m.AckP50ms = med(func(r applyResult) float64 { return r.AckP50ms })
	m.AckP99ms = med(func(r applyResult) float64 { return r.AckP99ms })
	m.AppliedPerSecond = med(func(r applyResult) float64 { return r.AppliedPerSecond })
	m.DrainSeconds = med(func(r applyResult) float64 { return r.DrainSeconds })
	m.QueueP50ms = med(func(r applyResult) float64 { return r.QueueP50ms })
	m.QueueP99ms = med(func(r applyResult) float64 { return r.QueueP99ms })
	m.QueueMaxMs = med(func(r applyResult) float64 { return r.QueueMaxMs })
	return m
}
