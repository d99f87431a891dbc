package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRedeliveryAfterAnOutage: the fake forge delivers to patchgate's hook
// through a front that can fail. A delivery patchgate never got (answered
// 503) is redelivered by the next reconciliation and applied; one it stored
// although the forge saw a failure (the answer was lost) and one that arrived
// are not asked for; --dry-run only lists; a second run asks for nothing.
func TestRedeliveryAfterAnOutage(t *testing.T) {
	var mode atomic.Value // "up", "down" (503, nothing stored), "lost" (stored, answer lost)
	mode.Store("up")
	var backend atomic.Pointer[url.URL]
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch mode.Load() {
		case "down":
			http.Error(w, "database unreachable", http.StatusServiceUnavailable)
			return
		case "lost":
			httputil.NewSingleHostReverseProxy(backend.Load()).ServeHTTP(httptest.NewRecorder(), r)
			http.Error(w, "gateway timeout", http.StatusGatewayTimeout)
			return
		}
		httputil.NewSingleHostReverseProxy(backend.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	app := startApp(t, func(c *Config) { c.Runners.Workers = 0; c.Reconcile.Interval = 0; c.PublicURL = front.URL })
	u, _ := url.Parse(app.url)
	backend.Store(u)
	app.forge.AddHook(testRepo, front.URL+"/webhooks/github", testSecret)

	opened := func(number int, title string) []byte {
		return fixture(t, "github/pull_request/opened.api.github.com.13.json", func(p map[string]any) {
			p["number"] = number
			pr := obj(p, "pull_request")
			pr["number"], pr["title"] = number, title
		})
	}
	if got := app.forge.Deliver(testRepo, "pull_request", "guid-arrived", opened(3, "HW-3: fix")); len(got) != 1 || got[0] != 202 {
		t.Fatalf("delivery while up: got %v, want 202", got)
	}
	mode.Store("lost")
	if got := app.forge.Deliver(testRepo, "pull_request", "guid-stored", opened(4, "HW-4: fix")); got[0] != http.StatusGatewayTimeout {
		t.Fatalf("delivery whose answer is lost: got %v", got)
	}
	mode.Store("down")
	if got := app.forge.Deliver(testRepo, "pull_request", "guid-lost", opened(5, "HW-5: fix")); got[0] != http.StatusServiceUnavailable {
		t.Fatalf("delivery while down: got %v", got)
	}
	mode.Store("up")
	app.waitProcessed(t)

	out := runCLI(t, "reconcile", "--config", reconcileConfigAt(t, app, front.URL), "--dry-run")
	if !strings.Contains(out, "would ask the forge to redeliver (dry run) 1") || !strings.Contains(out, "guid-lost") ||
		strings.Contains(out, "guid-stored") || strings.Contains(out, "guid-arrived") {
		t.Fatalf("reconcile --dry-run: got\n%s\nwant guid-lost only, not redelivered", out)
	}
	if n := app.forge.Redeliveries("guid-lost"); n != 0 {
		t.Fatalf("a dry run asked for %d redeliveries", n)
	}

	app.main.reconcile.runOnce(context.Background())
	app.waitProcessed(t)
	if ch, _ := app.change(t, 5); ch.Title != "HW-5: fix" {
		t.Fatalf("after redelivery: #5 is %+v, want the lost delivery applied", ch)
	}
	app.main.reconcile.runOnce(context.Background())
	for guid, want := range map[string]int{"guid-lost": 1, "guid-stored": 0, "guid-arrived": 0} {
		if n := app.forge.Redeliveries(guid); n != want {
			t.Errorf("%s: redelivered %d times, want %d", guid, n, want)
		}
	}
	if run, _ := app.main.reconcile.Last(); run.Redelivered != 0 {
		t.Errorf("second run: redelivered %d, want 0", run.Redelivered)
	}
	if v := metricValue(t, scrape(t, app), "patchgate_reconcile_redelivered_total"); v != 1 {
		t.Errorf("patchgate_reconcile_redelivered_total: got %v, want 1", v)
	}
}

// TestRefusedDeliveryIsRedeliveredSoon: while the database refuses to store
// deliveries, the intake answers 5xx; once it stores again, reconciliation
// runs within its retry period (not an interval later), and the refused
// delivery is redelivered and applied.
func TestRefusedDeliveryIsRedeliveredSoon(t *testing.T) {
	var backend atomic.Pointer[url.URL]
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httputil.NewSingleHostReverseProxy(backend.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Reconcile.Interval = time.Hour
		c.Reconcile.Retry = 50 * time.Millisecond
		c.PublicURL = front.URL
	})
	u, _ := url.Parse(app.url)
	backend.Store(u)
	app.forge.AddHook(testRepo, front.URL+"/webhooks/github", testSecret)

	app.main.DB.SetDeliveryCommitHook(func([]string) error { return errors.New("database unreachable (injected)") })
	body := fixture(t, "github/pull_request/opened.api.github.com.13.json", func(p map[string]any) {
		p["number"] = 6
		pr := obj(p, "pull_request")
		pr["number"], pr["title"] = 6, "HW-6: fix"
	})
	if got := app.forge.Deliver(testRepo, "pull_request", "guid-refused", body); got[0] < 500 {
		t.Fatalf("delivery while the database refuses: got %v, want 5xx", got)
	}
	app.main.DB.SetDeliveryCommitHook(nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var list struct{ Changes []struct{ Number int } }
		app.api(t, http.MethodGet, "/api/v1/changes?kind=pull_request&repo="+testRepo, nil, &list)
		if len(list.Changes) == 1 && list.Changes[0].Number == 6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the refused delivery was not redelivered and applied within 10 s of the database storing again (redelivery attempts: %d)",
				app.forge.Redeliveries("guid-refused"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	app.waitProcessed(t)
	var d struct{ Total int }
	app.api(t, http.MethodGet, "/api/v1/deliveries?forge=github&limit=1", nil, &d)
	if d.Total != 1 {
		t.Errorf("stored deliveries: got %d, want the refused one, once", d.Total)
	}
	t.Logf("redelivery attempts: %d", app.forge.Redeliveries("guid-refused"))
}
