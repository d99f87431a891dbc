package fakeforge

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// hookLog holds GitHub repository webhooks and every attempt to deliver to
// them, as GitHub's hook delivery log does. f.mu guards it.
type hookLog struct {
	hooks    []*hook
	attempts []*attempt
	nextID   int64
}

type hook struct {
	id     int64
	repo   string // lower-case full name
	url    string
	secret string
}

// attempt is one delivery attempt; body and headers are kept for redelivery.
type attempt struct {
	id         int64
	hookID     int64
	guid       string
	event      string
	body       []byte
	statusCode int // 0: no answer (connection refused)
	redelivery bool
	at         time.Time
}

// AddHook adds a webhook to repo that delivers to url, signed with secret
// (X-Hub-Signature-256), and returns its id.
func (f *Forge) AddHook(repoName, url, secret string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.repo(repoName)
	f.hooks.nextID++
	f.hooks.hooks = append(f.hooks.hooks, &hook{id: f.hooks.nextID, repo: strings.ToLower(repoName), url: url, secret: secret})
	return f.hooks.nextID
}

// Deliver sends event to every hook of repo as GitHub does, and logs each
// attempt with the answer's status (0 when nothing answered, as when
// patchgate is stopped). It returns the statuses.
func (f *Forge) Deliver(repoName, event, guid string, body []byte) []int {
	f.mu.Lock()
	var hooks []*hook
	for _, h := range f.hooks.hooks {
		if h.repo == strings.ToLower(repoName) {
			hooks = append(hooks, h)
		}
	}
	f.mu.Unlock()
	var out []int
	for _, h := range hooks {
		out = append(out, f.attempt(h, event, guid, body, false))
	}
	return out
}

// attempt posts one delivery to h and logs it. f.mu is not held: the
// receiver may call the fake back.
func (f *Forge) attempt(h *hook, event, guid string, body []byte, redelivery bool) int {
	mac := hmac.New(sha256.New, []byte(h.secret))
	mac.Write(body)
	req, _ := http.NewRequest(http.MethodPost, h.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", guid)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	status := 0
	if resp, err := http.DefaultClient.Do(req); err == nil {
		status = resp.StatusCode
		resp.Body.Close()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hooks.nextID++
	f.hooks.attempts = append(f.hooks.attempts, &attempt{id: f.hooks.nextID, hookID: h.id, guid: guid, event: event,
		body: body, statusCode: status, redelivery: redelivery, at: time.Now().UTC()})
	return status
}

// Redeliveries returns how many redelivery attempts were made of guid.
func (f *Forge) Redeliveries(guid string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, a := range f.hooks.attempts {
		if a.guid == guid && a.redelivery {
			n++
		}
	}
	return n
}

func (f *Forge) hookRoutes(gh func(string, http.HandlerFunc)) {
	gh("GET /repos/{owner}/{repo}/hooks", f.ghListHooks)
	gh("GET /repos/{owner}/{repo}/hooks/{id}/deliveries", f.ghListHookDeliveries)
	gh("POST /repos/{owner}/{repo}/hooks/{id}/deliveries/{delivery}/attempts", f.ghRedeliver)
}

// hookOf finds the route's hook of the route's repository. f.mu is held.
func (f *Forge) hookOf(r *http.Request) *hook {
	repo := strings.ToLower(r.PathValue("owner") + "/" + r.PathValue("repo"))
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	for _, h := range f.hooks.hooks {
		if h.id == id && h.repo == repo {
			return h
		}
	}
	return nil
}

func (f *Forge) ghListHooks(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ghRepoOf(w, r) == nil {
		return
	}
	repo := strings.ToLower(r.PathValue("owner") + "/" + r.PathValue("repo"))
	out := []map[string]any{}
	for _, h := range f.hooks.hooks {
		if h.repo == repo {
			out = append(out, map[string]any{"id": h.id, "name": "web", "active": true,
				"config": map[string]any{"url": h.url, "content_type": "json"}})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// ghListHookDeliveries lists a hook's attempts newest first, per_page at a
// time, paged with a cursor in the Link header as GitHub does.
func (f *Forge) ghListHookDeliveries(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.hookOf(r)
	if h == nil {
		writeJSON(w, http.StatusNotFound, ghError("Not Found"))
		return
	}
	var log []*attempt
	for i := len(f.hooks.attempts) - 1; i >= 0; i-- {
		if a := f.hooks.attempts[i]; a.hookID == h.id {
			log = append(log, a)
		}
	}
	perPage, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if perPage <= 0 {
		perPage = 30
	}
	start, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
	start = min(start, len(log))
	end := min(start+perPage, len(log))
	out := []map[string]any{}
	for _, a := range log[start:end] {
		out = append(out, map[string]any{"id": a.id, "guid": a.guid, "event": a.event, "status_code": a.statusCode,
			"redelivery": a.redelivery, "delivered_at": a.at.Format(time.RFC3339), "status": http.StatusText(a.statusCode)})
	}
	if end < len(log) {
		next := *r.URL
		q := next.Query()
		q.Set("cursor", strconv.Itoa(end))
		next.RawQuery = q.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<http://%s%s>; rel="next"`, r.Host, next.String()))
	}
	writeJSON(w, http.StatusOK, out)
}

// ghRedeliver makes a new attempt of a logged delivery, answering 202 as
// GitHub does once it has queued it (the fake delivers before answering).
func (f *Forge) ghRedeliver(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	h := f.hookOf(r)
	id, _ := strconv.ParseInt(r.PathValue("delivery"), 10, 64)
	var orig *attempt
	for _, a := range f.hooks.attempts {
		if a.id == id && h != nil && a.hookID == h.id {
			orig = a
		}
	}
	f.mu.Unlock()
	if orig == nil {
		writeJSON(w, http.StatusNotFound, ghError("Not Found"))
		return
	}
	f.attempt(h, orig.event, orig.guid, orig.body, true)
	writeJSON(w, http.StatusAccepted, map[string]any{})
}
