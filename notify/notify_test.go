package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/patchgate/patchgate/notify"
)

func TestSendSignsAndRetries(t *testing.T) {
	var calls atomic.Int32
	ids := make(chan string, 3)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if got, want := r.Header.Get("X-Patchgate-Signature-256"), notify.Sign("s3cret", body); got != want {
			t.Errorf("signature: got %s, want %s", got, want)
		}
		ids <- r.Header.Get("X-Patchgate-Delivery")
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		var p map[string]string
		if err := json.Unmarshal(body, &p); err != nil || p["tag"] != "v1" {
			t.Errorf("got body %s", body)
		}
	}))
	defer srv.Close()
	w := &notify.Webhook{URL: srv.URL, Secret: "s3cret"}
	if err := w.Send(context.Background(), "release.promoted", map[string]string{"tag": "v1"}); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 {
		t.Fatalf("got %d calls, want 2 (one retry after a 502)", calls.Load())
	}
	if a, b := <-ids, <-ids; a != b || a == "" {
		t.Fatalf("delivery ids %q and %q: want one id across retries", a, b)
	}
}

func TestSendDoesNotRetryClientErrors(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	err := (&notify.Webhook{URL: srv.URL, Secret: "x"}).Send(context.Background(), "release.promoted", map[string]string{})
	if err == nil || calls.Load() != 1 {
		t.Fatalf("got %v after %d calls, want an error after one call", err, calls.Load())
	}
}

func TestSignMatchesGitHubVector(t *testing.T) {
	// The same scheme as GitHub's documented example.
	if got := notify.Sign("It's a Secret to Everybody", []byte("Hello, World!")); got != "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17" {
		t.Fatalf("got %s", got)
	}
}
