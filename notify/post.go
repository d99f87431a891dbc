package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/patchgate/patchgate"
)

// Post sends body, JSON, to url once: the incoming webhooks of Slack and of
// Microsoft Teams take a plain POST, no SDK. An answer of 4xx other than 429
// is permanent (EINVALID, or EUNAUTHORIZED/EFORBIDDEN/ENOTFOUND: fix the URL
// in the configuration); 5xx, 429 and network errors are worth retrying.
func Post(ctx context.Context, client *http.Client, url string, body []byte) error {
	return post(ctx, client, url, nil, body)
}

// Deliver sends body, already JSON, as event once, signed like Send; errors
// as Post's. The caller retries (an outbox).
func (w *Webhook) Deliver(ctx context.Context, event string, body []byte) error {
	var id [16]byte
	_, _ = rand.Read(id[:])
	return post(ctx, w.Client, w.URL, map[string]string{
		"X-Patchgate-Event":         event,
		"X-Patchgate-Delivery":      hex.EncodeToString(id[:]),
		"X-Patchgate-Signature-256": Sign(w.Secret, body),
	}, body)
}

func post(ctx context.Context, client *http.Client, to string, headers map[string]string, body []byte) error {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, to, bytes.NewReader(body))
	if err != nil {
		return patchgate.Errorf(patchgate.EINVALID, "post to %s: %v", redact(to), withoutURL(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "patchgate")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("post to %s: %w", redact(to), withoutURL(err))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 300 {
		return nil
	}
	msg := fmt.Sprintf("post to %s: %s %s", redact(to), resp.Status, bytes.TrimSpace(answer))
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return patchgate.Errorf(patchgate.EUNAUTHORIZED, "%s", msg)
	case resp.StatusCode == http.StatusForbidden:
		return patchgate.Errorf(patchgate.EFORBIDDEN, "%s", msg)
	case resp.StatusCode == http.StatusNotFound:
		return patchgate.Errorf(patchgate.ENOTFOUND, "%s", msg)
	case resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		return patchgate.Errorf(patchgate.EINVALID, "%s", msg)
	}
	return fmt.Errorf("%s", msg)
}

// Channels posts escalation messages: to patchgate's signed webhooks and to
// Slack- and Teams-compatible incoming webhooks.
type Channels struct{ Client *http.Client }

// Post sends body to url once: signed as event with secret when secret is
// set (Webhook.Deliver), a plain JSON POST otherwise (Post).
func (c Channels) Post(ctx context.Context, url, secret, event string, body []byte) error {
	if secret != "" {
		return (&Webhook{URL: url, Secret: secret, Client: c.Client}).Deliver(ctx, event, body)
	}
	return Post(ctx, c.Client, url, body)
}

// redact keeps a URL's scheme and host: an incoming webhook's path is its
// secret, and so are a user and password before the host; errors end up in
// logs and in the database.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "the configured URL"
	}
	if u.Path == "" && u.RawQuery == "" && u.User == nil {
		return u.Scheme + "://" + u.Host
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// withoutURL is err without the whole URL net/http repeats in a *url.Error
// ("Post \"https://hooks.slack.com/services/T/B/secret\": dial tcp …"): the
// cause alone, the caller names the redacted URL.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
