package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// TestForgeOutageDoesNotStallDeliveries: while the forge answers every comment
// call with 502, a pull request delivery is still applied and its links are
// there; the link comment is written once the forge is back. Before comments
// went through the background outbox, the delivery waited for the comment's
// retries (32 s with the forge down).
func TestForgeOutageDoesNotStallDeliveries(t *testing.T) {
	app := startApp(t, func(c *Config) { c.Runners.Workers = 0 })
	app.forge.FailNextOn("/issues/2/comments", 1_000_000, http.StatusBadGateway, nil)

	received := time.Now()
	body := fixture(t, "github/pull_request/opened.api.github.com.13.json", func(p map[string]any) {
		obj(p, "pull_request")["title"] = "HW-1: fix the greeting"
	})
	if code, ack := app.sendGitHub(t, "pull_request", "outage-1", body, testSecret); code != 202 || ack.Status != "accepted" {
		t.Fatalf("got %d %+v", code, ack)
	}
	for {
		var out struct{ Total int }
		app.api(t, http.MethodGet, "/api/v1/deliveries?outcome=pending&limit=1", nil, &out)
		if out.Total == 0 {
			break
		}
		if time.Since(received) > 20*time.Second {
			t.Fatal("the delivery is still pending with the forge down")
		}
		time.Sleep(5 * time.Millisecond)
	}
	applied := time.Since(received)
	_, links := app.change(t, 2)
	if len(links) != 1 || links[0].Ticket == nil || links[0].Ticket.Key != "HW-1" {
		t.Fatalf("with the forge down: got links %+v, want HW-1", links)
	}
	if got := app.forge.Comments(testRepo, 2); len(got) != 0 {
		t.Fatalf("the forge is down, yet %d comments are there", len(got))
	}
	t.Logf("delivery applied %v after receipt with the forge's comment API down", applied.Round(time.Millisecond))

	app.forge.ClearFailures()
	for _, c := range app.main.commenters {
		c.Wait()
	}
	if got := app.linkComments(t, 2); len(got) != 1 {
		t.Fatalf("after the forge came back: got %d link comments, want 1", len(got))
	}
	var d struct{ Deliveries []patchgate.Delivery }
	app.api(t, http.MethodGet, "/api/v1/deliveries?limit=5", nil, &d)
	for _, x := range d.Deliveries {
		if x.ID == "outage-1" && (x.Outcome != patchgate.OutcomeProcessed || x.Attempts != 1) {
			t.Fatalf("delivery: %s after %d attempts, want processed at the first", x.Outcome, x.Attempts)
		}
	}
}

// TestUnreachableForgeIsNamed: an API call that needs the forge, while the
// forge answers 503 or cannot be reached at all, answers 503 "unavailable"
// naming the forge and the cause, and the CLI prints it; never "internal
// error".
func TestUnreachableForgeIsNamed(t *testing.T) {
	app := startApp(t, func(c *Config) { c.Runners.Workers = 0 })
	sha := strings.Repeat("ab", 20)
	req := map[string]any{"forge": "github", "repo": testRepo, "sha": sha}

	app.forge.FailNextOn("/compare/", 1_000_000, http.StatusServiceUnavailable, nil)
	var out struct {
		Error struct{ Code, Message string }
	}
	code := app.api(t, http.MethodPost, "/api/v1/releases", req, &out)
	if code != http.StatusServiceUnavailable || out.Error.Code != patchgate.EUNAVAILABLE ||
		!strings.Contains(out.Error.Message, "github answered 503 Service Unavailable; retry later") {
		t.Errorf("forge answering 503: got %d %+v, want 503 unavailable naming github and its answer", code, out.Error)
	}

	app.forge.Close()
	err := runCLIErr(t, "release", "create", "--repo", testRepo, "--sha", sha, "--server", app.url, "--token", app.token)
	if msg := err.Error(); !strings.Contains(msg, "github is unreachable: dial tcp") || !strings.Contains(msg, "connection refused") ||
		strings.Contains(msg, "internal error") {
		t.Errorf("forge down, CLI: got %q, want github named as unreachable, connection refused", msg)
	}
}
