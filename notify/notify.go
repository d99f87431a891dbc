// Package notify sends patchgate's outbound webhooks: a JSON body signed with
// HMAC-SHA256 the way GitHub signs its deliveries, so a deployment system can
// verify it with the code it already has.
package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Webhook posts events to one URL.
type Webhook struct {
	URL    string
	Secret string
	Client *http.Client
	// Attempts bounds tries per event (default 3); 5xx and network errors are
	// retried with backoff, 4xx are not.
	Attempts int
}

// Sign returns the X-Patchgate-Signature-256 value for body.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Send posts payload as event; the delivery id is fresh per event and the same
// across its retries, so the receiver can deduplicate.
func (w *Webhook) Send(ctx context.Context, event string, payload any) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encode %s webhook: %w", event, err)
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	client := w.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	attempts := w.Attempts
	if attempts <= 0 {
		attempts = 3
	}
	var last error
	for i := range attempts {
		if i > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(1<<i) * 500 * time.Millisecond):
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("%s webhook: %w", event, err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "patchgate")
		req.Header.Set("X-Patchgate-Event", event)
		req.Header.Set("X-Patchgate-Delivery", hex.EncodeToString(id[:]))
		req.Header.Set("X-Patchgate-Signature-256", Sign(w.Secret, body))
		resp, err := client.Do(req)
		if err != nil {
			last = err
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode < 300 {
			return nil
		}
		last = fmt.Errorf("%s webhook: %s", event, resp.Status)
		if resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
			return last
		}
	}
	return fmt.Errorf("%s webhook after %d attempts: %w", event, attempts, last)
}
