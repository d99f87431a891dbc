package main

import (
	"bytes"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

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
