package forges_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges"
	"github.com/patchgate/patchgate/forges/fakeforge"
)

// hookReceiver stands for patchgate's webhook URL: it answers 503 while down
// and records the delivery ids (and GitLab tokens) it got while up.
type hookReceiver struct {
	*httptest.Server
	down atomic.Bool
	mu   sync.Mutex
	got  []string
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		id := r.Header.Get("X-GitHub-Delivery")
		if id == "" {
			id = r.Header.Get("Idempotency-Key") + " token=" + r.Header.Get("X-Gitlab-Token")
		}
		h.mu.Lock()
		h.got = append(h.got, id)
		h.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookReceiver) received() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.got...)
}

// TestGitLabHookEvents: GitLab's project hook events are read page by page
// (the hook found by patchgate's URL), a failed one is resent through the
// resend route and arrives with its Idempotency-Key and the hook's token; a
// project without a hook to the URL is ENOTFOUND; a GitLab before 17.x (404 on
// the events) is a NoHookLogError.
func TestGitLabHookEvents(t *testing.T) {
	ff := MustForge(t)
	ff.SetToken(fakeforge.Token)
	const project = "acme/platform/api"
	recv := newHookReceiver(t)
	ff.AddGitLabHook(project, "http://127.0.0.1:1/hook", "other")
	hookID := ff.AddGitLabHook(project, recv.URL+"/webhooks/gitlab", "gl-token")
	ctx := context.Background()

	// 105 events, more than a page: all arrive but two.
	for i := range 105 {
		recv.down.Store(i == 3 || i == 100)
		if got := ff.DeliverGitLab(project, "Merge Request Hook", fmt.Sprintf("uuid-%d", i), []byte(`{}`)); len(got) != 2 {
			t.Fatalf("delivery %d reached %d hooks, want 2 (the other URL's and patchgate's)", i, len(got))
		}
	}
	recv.down.Store(false)
	gl := forgeCases[1].MustClient(t, ff).(*forges.GitLab)
	ref := patchgate.RepoRef{Forge: patchgate.GitLab, Name: project}
	log, err := gl.HookDeliveries(ctx, ref, recv.URL+"/webhooks/gitlab/", time.Now().Add(-time.Hour), 1000)
	if err != nil {
		t.Fatalf("HookDeliveries: %v", err)
	}
	if len(log) != 105 || log[0].GUID != "uuid-104" || log[0].HookID != hookID || log[0].Event != "Merge Request Hook" {
		t.Fatalf("log: got %d entries, first %+v; want 105, newest first, of hook %d", len(log), log[0], hookID)
	}
	if n := count(ff, "GET /api/v4/projects/acme%2Fplatform%2Fapi/hooks/"); n != 2 {
		t.Errorf("event pages read: got %d, want 2", n)
	}
	picked := patchgate.ToRedeliver(log, func(string) bool { return false }, 10)
	if len(picked) != 2 || picked[0].GUID != "uuid-3" || picked[1].GUID != "uuid-100" || picked[0].StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("to redeliver: got %+v, want uuid-3 and uuid-100", picked)
	}
	if err := gl.Redeliver(ctx, ref, picked[0]); err != nil {
		t.Fatalf("Redeliver: %v", err)
	}
	got := recv.received()
	if last := got[len(got)-1]; last != "uuid-3 token=gl-token" || ff.Redeliveries("uuid-3") != 1 {
		t.Fatalf("resent: last received %q, %d resends; want uuid-3 with the hook's token, once", last, ff.Redeliveries("uuid-3"))
	}

	// A window shorter than the log stops reading.
	if short, err := gl.HookDeliveries(ctx, ref, recv.URL+"/webhooks/gitlab", time.Now().Add(time.Hour), 1000); err != nil || len(short) != 0 {
		t.Errorf("events since the future: got %d, %v; want none", len(short), err)
	}
	ff.AddRepo("acme/other")
	if _, err := gl.HookDeliveries(ctx, patchgate.RepoRef{Forge: patchgate.GitLab, Name: "acme/other"}, recv.URL+"/webhooks/gitlab", time.Time{}, 10); patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
		t.Errorf("project without patchgate's hook: got %v, want ENOTFOUND", err)
	}
	ff.SetGitLabHookEvents(false)
	_, err = gl.HookDeliveries(ctx, ref, recv.URL+"/webhooks/gitlab", time.Time{}, 10)
	var noLog *patchgate.NoHookLogError
	if !errors.As(err, &noLog) {
		t.Fatalf("GitLab without hook events: got %v, want a NoHookLogError", err)
	}
	t.Logf("older GitLab: %v", err)
}

// TestAppHookDeliveries: in App mode the log is the App's hook's
// (GET /app/hook/deliveries with the JWT, cursor paging), whatever the
// repository, and a redelivery goes through the App's route; the plain token
// may not read it.
func TestAppHookDeliveries(t *testing.T) {
	ff, clock := appForge(t)
	recv := newHookReceiver(t)
	ff.AddAppHook(recv.URL+"/webhooks/github", "app-secret")
	ff.AddRepo("acme/not-installed")
	for i := range 120 {
		recv.down.Store(i == 7)
		if got := ff.Deliver("acme/payments", "pull_request", fmt.Sprintf("app-guid-%d", i), []byte(`{}`)); len(got) != 1 {
			t.Fatalf("delivery %d reached %d hooks, want the App's", i, len(got))
		}
	}
	if got := ff.Deliver("acme/not-installed", "pull_request", "elsewhere", []byte(`{}`)); len(got) != 0 {
		t.Fatalf("a repository the App is not installed on reached %d hooks", len(got))
	}
	recv.down.Store(false)
	g := appClient(t, ff, clock, mustAppKey(t))
	if !g.SharedHook() {
		t.Fatal("App mode: SharedHook() is false, want one log for every repository")
	}
	ctx := context.Background()
	ref := patchgate.RepoRef{Forge: patchgate.GitHub, Name: "acme/payments"}
	log, err := g.HookDeliveries(ctx, ref, "https://patchgate.example/webhooks/github", time.Now().Add(-time.Hour), 1000)
	if err != nil {
		t.Fatalf("HookDeliveries: %v", err)
	}
	if len(log) != 120 || log[0].GUID != "app-guid-119" || log[0].HookID != 0 {
		t.Fatalf("log: got %d entries, first %+v; want 120 of the App's hook, newest first", len(log), log[0])
	}
	if n := count(ff, "GET /api/v3/app/hook/deliveries"); n != 2 {
		t.Errorf("pages read: got %d, want 2", n)
	}
	picked := patchgate.ToRedeliver(log, func(string) bool { return false }, 10)
	if len(picked) != 1 || picked[0].GUID != "app-guid-7" {
		t.Fatalf("to redeliver: got %+v, want app-guid-7", picked)
	}
	if err := g.Redeliver(ctx, ref, picked[0]); err != nil {
		t.Fatalf("Redeliver: %v", err)
	}
	if n := count(ff, fmt.Sprintf("POST /api/v3/app/hook/deliveries/%d/attempts", picked[0].ID)); n != 1 || ff.Redeliveries("app-guid-7") != 1 {
		t.Fatalf("redelivery: %d App route requests, %d attempts; want one of each", n, ff.Redeliveries("app-guid-7"))
	}
	if got := recv.received(); got[len(got)-1] != "app-guid-7" {
		t.Errorf("last received: got %q, want app-guid-7", got[len(got)-1])
	}

	req, _ := http.NewRequest(http.MethodGet, ff.GitHubAPIURL()+"app/hook/deliveries", nil)
	req.Header.Set("Authorization", "token "+fakeforge.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the App's deliveries with a plain token: got %d, want 401", resp.StatusCode)
	}
}
