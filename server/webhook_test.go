package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/server"
	"github.com/patchgate/patchgate/store"
)

// fakeSource is a webhook source whose deliveries carry their id in X-Id and
// their secret in X-Secret, and whose bodies are {"repo": …, "ignore": …}.
// signsBody makes it verify only once the body is in, as a signature over
// the body would.
type fakeSource struct {
	source    patchgate.DeliverySource
	signsBody bool
}

var _ patchgate.WebhookSource = fakeSource{}

func (f fakeSource) Source() patchgate.DeliverySource { return f.source }

func (f fakeSource) Identify(h http.Header) (string, string, error) {
	if h.Get("X-Id") == "" {
		return "", "", patchgate.Errorf(patchgate.EINVALID, "header X-Id is missing")
	}
	return h.Get("X-Id"), "fake_event", nil
}

func (f fakeSource) SignsBody() bool { return f.signsBody }

func (f fakeSource) Verify(h http.Header, body []byte) ([]string, error) {
	if f.signsBody != (body != nil) || h.Get("X-Secret") != "secret" {
		return nil, patchgate.Errorf(patchgate.EUNAUTHORIZED, "header X-Secret does not match")
	}
	return nil, nil
}

func (f fakeSource) Peek(event string, body []byte, _ []string) (patchgate.WebhookPeek, error) {
	var p struct{ Repo, Ignore string }
	if err := json.Unmarshal(body, &p); err != nil {
		return patchgate.WebhookPeek{}, patchgate.Errorf(patchgate.EINVALID, "fake payload: %v", err)
	}
	return patchgate.WebhookPeek{Event: event, Repo: p.Repo, Action: "done", Ignored: p.Ignore}, nil
}

func (f fakeSource) Parse(string, []byte) (*patchgate.Event, string, error) {
	return nil, "", patchgate.Errorf(patchgate.EINTERNAL, "intake never parses")
}

// newIntake serves the three webhook routes from fake sources (GitHub's and
// Jira's sign the body, GitLab's sends a token) with maxUnverified places,
// storing deliveries in SQLite.
func newIntake(t *testing.T, maxUnverified int) (*httptest.Server, patchgate.DeliveryService) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "patchgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	deliveries := store.NewDeliveryService(db)
	srv := &server.Server{
		Deliveries: deliveries,
		Webhooks: patchgate.WebhookSources{
			patchgate.SourceGitHub: fakeSource{source: patchgate.SourceGitHub, signsBody: true},
			patchgate.SourceGitLab: fakeSource{source: patchgate.SourceGitLab},
			patchgate.SourceJira:   fakeSource{source: patchgate.SourceJira, signsBody: true},
		},
		MaxUnverified: maxUnverified,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts, deliveries
}

func postDelivery(t *testing.T, url, id, secret, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if id != "" {
		req.Header.Set("X-Id", id)
	}
	req.Header.Set("X-Secret", secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestWebhookIntake: every source's deliveries go through the same steps,
// answers and storage, whichever way it verifies them.
func TestWebhookIntake(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		id, secret string
		body       string
		repeat     bool
		wantCode   int
		wantStatus string
		wantSource patchgate.DeliverySource
	}{
		{name: "github accepted", path: "/webhooks/github", id: "a", secret: "secret", body: `{"repo": "acme/pay"}`,
			wantCode: 202, wantStatus: "accepted", wantSource: patchgate.SourceGitHub},
		{name: "gitlab accepted", path: "/webhooks/gitlab", id: "a", secret: "secret", body: `{"repo": "acme/pay"}`,
			wantCode: 202, wantStatus: "accepted", wantSource: patchgate.SourceGitLab},
		{name: "jira accepted", path: "/webhooks/jira", id: "a", secret: "secret", body: `{"repo": "PAY"}`,
			wantCode: 202, wantStatus: "accepted", wantSource: patchgate.SourceJira},
		{name: "jira redelivered", path: "/webhooks/jira", id: "a", secret: "secret", body: `{"repo": "PAY"}`, repeat: true,
			wantCode: 202, wantStatus: "duplicate", wantSource: patchgate.SourceJira},
		{name: "jira ignored", path: "/webhooks/jira", id: "a", secret: "secret", body: `{"repo": "ZZZ", "ignore": "not configured"}`,
			wantCode: 202, wantStatus: "ignored", wantSource: patchgate.SourceJira},
		{name: "jira without id", path: "/webhooks/jira", secret: "secret", body: `{}`, wantCode: 400},
		{name: "jira wrong secret", path: "/webhooks/jira", id: "a", secret: "wrong", body: `{}`, wantCode: 401},
		{name: "gitlab wrong token", path: "/webhooks/gitlab", id: "a", secret: "wrong", body: `{}`, wantCode: 401},
		{name: "github not JSON", path: "/webhooks/github", id: "a", secret: "secret", body: `{`, wantCode: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, deliveries := newIntake(t, 2)
			if tc.repeat {
				postDelivery(t, ts.URL+tc.path, tc.id, tc.secret, tc.body)
			}
			code, answer := postDelivery(t, ts.URL+tc.path, tc.id, tc.secret, tc.body)
			if code != tc.wantCode || code == 202 && answer["status"] != tc.wantStatus {
				t.Fatalf("got %d %v, want %d %s", code, answer, tc.wantCode, tc.wantStatus)
			}
			if code != 202 {
				return
			}
			d, err := deliveries.FindDelivery(context.Background(), tc.wantSource, tc.id)
			if err != nil {
				t.Fatalf("stored delivery: %v", err)
			}
			if wantPayload := tc.wantStatus != "ignored"; (d.Payload != nil) != wantPayload || d.Event != "fake_event" {
				t.Fatalf("stored %+v with payload %q, want event fake_event and payload %v", d, d.Payload, wantPayload)
			}
		})
	}
}

// TestWebhookIntakeSharesUnverifiedPlaces: a body read before it is verified
// takes one of Server.MaxUnverified places, whichever source signs it (the
// Jira intake once forgot to). With the one place held by a slow body of
// either signing source, the other's signed deliveries get 503 with
// Retry-After; a token source's deliveries, verified before their body is
// read, still get through.
func TestWebhookIntakeSharesUnverifiedPlaces(t *testing.T) {
	tests := []struct {
		name       string
		holder     string
		blocked    string
		notBlocked string
	}{
		{name: "jira holds, github waits", holder: "/webhooks/jira", blocked: "/webhooks/github", notBlocked: "/webhooks/gitlab"},
		{name: "github holds, jira waits", holder: "/webhooks/github", blocked: "/webhooks/jira", notBlocked: "/webhooks/gitlab"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, _ := newIntake(t, 1)
			conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			body := `{"repo": "acme/pay"}`
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: patchgate\r\nX-Id: holder\r\nX-Secret: secret\r\nContent-Length: %d\r\n\r\n%s",
				tc.holder, len(body), body[:5])
			time.Sleep(100 * time.Millisecond) // the holder's body is being read

			req, _ := http.NewRequest(http.MethodPost, ts.URL+tc.blocked, strings.NewReader(body))
			req.Header.Set("X-Id", "blocked")
			req.Header.Set("X-Secret", "secret")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("%s while %s holds the place: got %d, Retry-After %q; want 503 with Retry-After",
					tc.blocked, tc.holder, resp.StatusCode, resp.Header.Get("Retry-After"))
			}
			if code, answer := postDelivery(t, ts.URL+tc.notBlocked, "token", "secret", body); code != http.StatusAccepted {
				t.Fatalf("%s while the place is held: got %d %v, want 202", tc.notBlocked, code, answer)
			}

			fmt.Fprint(conn, body[5:])
			holder, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			holder.Body.Close()
			if holder.StatusCode != http.StatusAccepted {
				t.Fatalf("holder: got %d, want 202", holder.StatusCode)
			}
			if code, answer := postDelivery(t, ts.URL+tc.blocked, "after", "secret", body); code != http.StatusAccepted {
				t.Fatalf("%s after the holder finished: got %d %v, want 202", tc.blocked, code, answer)
			}
		})
	}
}
