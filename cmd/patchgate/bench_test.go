package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"

	"github.com/patchgate/patchgate/webhooks"
)

// BenchmarkWebhookAck measures a signed, real pull_request delivery from the
// request to its 202, stored durably in SQLite, with the processor applying
// deliveries in the background as it would in production.
func BenchmarkWebhookAck(b *testing.B) {
	t := &testing.T{}
	app := startApp(t, func(c *Config) { c.Runners.Workers = 0 })
	body := fixture(t, "github/pull_request/opened.api.github.com.13.json", nil)
	sig := webhooks.SignGitHub(testSecret, body)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var n atomic.Int64
	b.SetBytes(int64(len(body)))
	// Deliveries arrive concurrently (as many as intake verifies at once), so
	// that group commit and the processor's deferral are measured as they run.
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, app.url+"/webhooks/github", bytes.NewReader(body))
			req.Header.Set("X-GitHub-Event", "pull_request")
			req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("bench-%d", n.Add(1)))
			req.Header.Set("X-Hub-Signature-256", sig)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				b.Fatalf("got %d", resp.StatusCode)
			}
		}
	})
	b.StopTimer()
	_ = app.main.Close()
}

// BenchmarkWebhookToPendingStatus measures a pull_request delivery's way to the
// forge: 202, processing, .patchgate.yml read through the forge API, the
// verification stored and enqueued, and the pending verdict status posted on
// the fake forge. It reports the median and p95 in ms.
func BenchmarkWebhookToPendingStatus(b *testing.B) {
	t := &testing.T{}
	app := startApp(t, func(c *Config) { c.Runners.Workers = 0 })
	repo := newGitRepo(t, app.forge, testRepo)
	repo.commit("config", map[string][]byte{".patchgate.yml": []byte("suites:\n  unit:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\n")})
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		head := repo.commit(fmt.Sprintf("change %d", i), map[string][]byte{"f.txt": []byte(fmt.Sprint(i))})
		start := time.Now()
		app.openPR(t, "opened", 1000+i, "PAY-1: fix", "", "fix", head, "", start)
		for len(app.forge.Statuses(testRepo, head)) == 0 {
			time.Sleep(200 * time.Microsecond)
		}
		lat = append(lat, time.Since(start))
	}
	reportPercentiles(b, lat)
	_ = app.main.Close()
}

// BenchmarkQueuePickup measures how long a verification waits in the River
// queue before a worker claims it (created → started), one at a time. The
// suite's image does not exist, so each run ends right after the claim.
func BenchmarkQueuePickup(b *testing.B) {
	t := &testing.T{}
	app := startApp(t, func(c *Config) { c.Runners.Workers = 1 })
	repo := newGitRepo(t, app.forge, testRepo)
	repo.commit("config", map[string][]byte{".patchgate.yml": []byte("suites:\n  unit:\n    image: patchgate-test/absent:none\n    run: 'true'\n")})
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		head := repo.commit(fmt.Sprintf("change %d", i), map[string][]byte{"f.txt": []byte(fmt.Sprint(i))})
		app.openPR(t, "opened", 2000+i, "PAY-1: fix", "", "fix", head, "", time.Now())
		v := app.waitVerification(t, head, func(v patchgate.Verification) bool { return v.StartedAt != nil || v.State.Final() }, time.Minute)
		if v.StartedAt == nil {
			b.Fatalf("verification %d never started: %s", v.ID, v.Reason)
		}
		lat = append(lat, v.StartedAt.Sub(v.CreatedAt))
	}
	reportPercentiles(b, lat)
	_ = app.main.Close()
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*95/100]), "p95-ms")
}

// BenchmarkApplyDeliveries measures the apply path on SQLite as serve wires
// it (store, processor, dispatcher; runners off): b.N stored pull_request
// deliveries of one repository, each a distinct PR naming its own ticket, are
// committed as intake commits them, and the clock stops when none is pending.
// It reports applied deliveries per second. Profile it with
// -cpuprofile to see where the processor's time goes.
func BenchmarkApplyDeliveries(b *testing.B) {
	t := &testing.T{}
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Workers.Deliveries = DefaultConfig().Workers.Deliveries
	})
	defer app.main.Close()
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = applyBenchPayload(t, i)
	}
	deliveries := store.NewDeliveryService(app.main.DB)
	ctx := context.Background()
	b.SetBytes(int64(len(bodies[0])))
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 16 { // as 16 concurrent senders' deliveries arrive
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < b.N; i = int(next.Add(1)) - 1 {
				d := &patchgate.Delivery{Source: patchgate.SourceGitHub, ID: fmt.Sprintf("apply-bench-%d", i), Event: "pull_request",
					Action: "opened", Repo: testRepo, Payload: bodies[i]}
				if _, err := deliveries.CreateDelivery(ctx, d); err != nil {
					b.Error(err)
					return
				}
				app.main.Processor.Inbox.NotifyRepo(d.Source, d.Repo)
			}
		})
	}
	wg.Wait()
	acked := time.Since(start)
	for {
		pending, err := deliveries.PendingDeliveries(ctx, 1)
		if err != nil {
			b.Fatal(err)
		}
		if len(pending) == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "applied/s")
	b.ReportMetric((elapsed - acked).Seconds(), "drain-s")
	failed := patchgate.OutcomeFailed
	if _, n, err := deliveries.FindDeliveries(ctx, patchgate.DeliveryFilter{Outcome: &failed, Limit: 1}); err != nil || n > 0 {
		b.Fatalf("failed deliveries: %d (%v)", n, err)
	}
}

// applyBenchPayload is the recorded pull_request opened delivery made the
// i-th distinct PR: its own number, head and ticket.
func applyBenchPayload(t *testing.T, i int) []byte {
	return fixture(t, "github/pull_request/opened.api.github.com.13.json", func(p map[string]any) {
		p["number"] = 1000 + i
		pr := obj(p, "pull_request")
		pr["number"], pr["title"] = 1000+i, fmt.Sprintf("HW-%d: fix number %d", 1+i, i)
		pr["updated_at"] = time.Now().UTC().Format(time.RFC3339)
		obj(pr, "head")["sha"] = fmt.Sprintf("%040x", 0xabc000000+i)
		obj(pr, "head")["ref"] = fmt.Sprintf("fix-%d", i)
	})
}
