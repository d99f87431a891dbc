package notify_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/notify"
)

// TestPost: one POST of the JSON given; a 4xx is permanent and a 5xx or 429
// is not; errors never carry the URL's path, an incoming webhook's secret.
func TestPost(t *testing.T) {
	status := http.StatusOK
	var got []byte
	var hdr http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		hdr = r.Header.Clone()
		w.WriteHeader(status)
	}))
	defer srv.Close()
	secretURL := srv.URL + "/services/T000/B000/s3cretpath"
	ctx := context.Background()
	if err := notify.Post(ctx, nil, secretURL, []byte(`{"text":"hi"}`)); err != nil || string(got) != `{"text":"hi"}` || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("post: %v, body %s, headers %v", err, got, hdr)
	}
	for _, tc := range []struct {
		status    int
		permanent string
	}{{400, patchgate.EINVALID}, {403, patchgate.EFORBIDDEN}, {404, patchgate.ENOTFOUND}, {429, ""}, {502, ""}} {
		status = tc.status
		err := notify.Post(ctx, nil, secretURL, []byte(`{}`))
		if err == nil || strings.Contains(err.Error(), "s3cretpath") {
			t.Fatalf("%d: got %v, want an error without the URL's path", tc.status, err)
		}
		code := patchgate.ErrorCode(err)
		if tc.permanent != "" && code != tc.permanent || tc.permanent == "" && (code == patchgate.EINVALID || code == patchgate.ENOTFOUND || code == patchgate.EFORBIDDEN) {
			t.Errorf("%d: code %q, want %q", tc.status, code, tc.permanent)
		}
	}
	status = http.StatusOK
	w := &notify.Webhook{URL: srv.URL, Secret: "s3cret-s3cret-s3cret"}
	if err := w.Deliver(ctx, "ticket.escalated", []byte(`{"action":"escalated"}`)); err != nil {
		t.Fatal(err)
	}
	if hdr.Get("X-Patchgate-Event") != "ticket.escalated" || hdr.Get("X-Patchgate-Signature-256") != notify.Sign("s3cret-s3cret-s3cret", got) || hdr.Get("X-Patchgate-Delivery") == "" {
		t.Errorf("deliver headers: %v", hdr)
	}
}

// TestPostErrorsKeepTheURLSecret: net/http repeats the whole URL in a
// connection error and in a parse error; neither reaches the message, nor
// does a user and password before the host.
func TestPostErrorsKeepTheURLSecret(t *testing.T) {
	ctx := context.Background()
	for _, raw := range []string{
		"http://127.0.0.1:1/services/T000/B000/s3cretpath",      // nothing listens: a dial error
		"http://user:s3cretpath@127.0.0.1:1/services/T000/B000", // userinfo
		"http://127.0.0.1:1/s3cretpath/%zz",                     // a parse error
	} {
		err := notify.Post(ctx, nil, raw, []byte(`{}`))
		if err == nil || strings.Contains(err.Error(), "s3cretpath") {
			t.Errorf("%s: got %v, want an error without the URL's secret", raw, err)
		}
	}
}
