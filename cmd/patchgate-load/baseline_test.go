package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/patchgate/patchgate/webhooks"
)

// TestBaseline: the baseline does the work it is compared for, no less: a
// signed delivery is stored (once, however often it is sent), a wrong
// signature gets 401 and an announced body over the limit 413, neither stored.
func TestBaseline(t *testing.T) {
	b, err := startBaseline(filepath.Join(t.TempDir(), "b.db"), "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	body := []byte(`{"action":"opened"}`)
	send := func(id, sig string, length int64) int {
		if length > 0 {
			// Announce the body without sending it: the answer must not wait for it.
			conn, err := net.Dial("tcp", b.ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST /webhooks/github HTTP/1.1\r\nHost: b\r\nX-GitHub-Event: pull_request\r\n"+
				"X-GitHub-Delivery: %s\r\nX-Hub-Signature-256: %s\r\nContent-Length: %d\r\n\r\n", id, sig, length)
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		req, _ := http.NewRequest(http.MethodPost, b.url()+"/webhooks/github", bytes.NewReader(body))
		req.Header.Set("X-GitHub-Event", "pull_request")
		req.Header.Set("X-GitHub-Delivery", id)
		req.Header.Set("X-Hub-Signature-256", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good := webhooks.SignGitHub("s3cret", body)
	for _, c := range []struct {
		id, sig string
		length  int64
		want    int
	}{
		{"d-1", good, 0, http.StatusAccepted},
		{"d-1", good, 0, http.StatusAccepted},
		{"d-2", webhooks.SignGitHub("other", body), 0, http.StatusUnauthorized},
		{"d-3", "sha256=zz", 0, http.StatusUnauthorized},
		{"d-4", good, maxBody + 1, http.StatusRequestEntityTooLarge},
	} {
		if got := send(c.id, c.sig, c.length); got != c.want {
			t.Errorf("%s: %d, want %d", c.id, got, c.want)
		}
	}
	if n, err := b.count(context.Background()); err != nil || n != 1 {
		t.Errorf("stored %d (%v), want 1", n, err)
	}
}
