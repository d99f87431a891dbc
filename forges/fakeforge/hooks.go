package fakeforge

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// hookLog holds webhooks (GitHub repository hooks, the GitHub App's hook,
// GitLab project hooks) and every attempt to deliver to them, as the forges'
// delivery logs do. f.mu guards it.
type hookLog struct {
	hooks    []*hook
	attempts []*attempt
	nextID   int64
	// noGitLabEvents makes the GitLab hook events routes answer 404, as a
	// GitLab before 17.x does.
	noGitLabEvents bool
}

type hookKind int

const (
	githubRepoHook hookKind = iota
	githubAppHook
	gitlabProjectHook
)

type hook struct {
	id     int64
	kind   hookKind
	repo   string // lower-case full name; "" for the App's hook
	url    string
	secret string // GitHub: the HMAC secret; GitLab: the X-Gitlab-Token
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

// AddAppHook sets the GitHub App's webhook (one for every repository the App
// is installed on), delivering to url signed with secret, and returns its id.
func (f *Forge) AddAppHook(url, secret string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hooks.nextID++
	f.hooks.hooks = append(f.hooks.hooks, &hook{id: f.hooks.nextID, kind: githubAppHook, url: url, secret: secret})
	return f.hooks.nextID
}

// AddGitLabHook adds a project webhook to project that delivers to url with
// X-Gitlab-Token token, and returns its id.
func (f *Forge) AddGitLabHook(project, url, token string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.repo(project)
	f.hooks.nextID++
	f.hooks.hooks = append(f.hooks.hooks, &hook{id: f.hooks.nextID, kind: gitlabProjectHook, repo: strings.ToLower(project), url: url, secret: token})
	return f.hooks.nextID
}

// SetGitLabHookEvents says whether the fake GitLab offers its hooks' events
// (GitLab 17.x and later); off, those routes answer 404.
func (f *Forge) SetGitLabHookEvents(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hooks.noGitLabEvents = !on
}

// Deliver sends event to every GitHub hook of repo as GitHub does (the
// repository's hooks, and the App's hook when the App is installed on repo),
// and logs each attempt with the answer's status (0 when nothing answered, as
// when patchgate is stopped). It returns the statuses.
func (f *Forge) Deliver(repoName, event, guid string, body []byte) []int {
	return f.deliver(repoName, event, guid, body, githubRepoHook, githubAppHook)
}

// DeliverGitLab sends event (X-Gitlab-Event, e.g. "Merge Request Hook") to
// every project hook of project as GitLab does, guid as its Idempotency-Key
// and X-Gitlab-Event-UUID, and logs each attempt like Deliver.
func (f *Forge) DeliverGitLab(project, event, guid string, body []byte) []int {
	return f.deliver(project, event, guid, body, gitlabProjectHook)
}

func (f *Forge) deliver(repoName, event, guid string, body []byte, kinds ...hookKind) []int {
	f.mu.Lock()
	var hooks []*hook
	for _, h := range f.hooks.hooks {
		if !slices.Contains(kinds, h.kind) {
			continue
		}
		installed := h.kind == githubAppHook && f.app != nil && f.app.installations[strings.ToLower(repoName)] != 0
		if h.repo == strings.ToLower(repoName) || installed {
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
	req, _ := http.NewRequest(http.MethodPost, h.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if h.kind == gitlabProjectHook {
		req.Header.Set("X-Gitlab-Event", event)
		req.Header.Set("X-Gitlab-Token", h.secret)
		req.Header.Set("X-Gitlab-Event-UUID", guid)
		req.Header.Set("Idempotency-Key", guid)
	} else {
		mac := hmac.New(sha256.New, []byte(h.secret))
		mac.Write(body)
		req.Header.Set("X-GitHub-Event", event)
		req.Header.Set("X-GitHub-Delivery", guid)
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}
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
	// The App's hook: its JWT is checked by appAuthorized, as for every /app route.
	gh("GET /app/hook/deliveries", f.ghListHookDeliveries)
	gh("POST /app/hook/deliveries/{delivery}/attempts", f.ghRedeliver)
}

// hookOf finds the route's hook: the App's on /app/hook routes, else the
// route's hook of the route's repository. f.mu is held.
func (f *Forge) hookOf(r *http.Request) *hook {
	if strings.Contains(r.URL.Path, "/app/hook/") {
		for _, h := range f.hooks.hooks {
			if h.kind == githubAppHook {
				return h
			}
		}
		return nil
	}
	repo := strings.ToLower(r.PathValue("owner") + "/" + r.PathValue("repo"))
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	for _, h := range f.hooks.hooks {
		if h.id == id && h.repo == repo && h.kind == githubRepoHook {
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
		if h.repo == repo && h.kind == githubRepoHook {
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

// glHookRoutes registers GitLab's project hook routes: the hooks, their
// events (GitLab 17.x) and resending one.
func (f *Forge) glHookRoutes(gl func(string, http.HandlerFunc)) {
	gl("GET /projects/{id}/hooks", f.glListHooks)
	gl("GET /projects/{id}/hooks/{hook}/events", f.glListHookEvents)
	gl("POST /projects/{id}/hooks/{hook}/events/{event}/resend", f.glResendHookEvent)
}

// glHookOf finds the route's project hook, answering 404 when there is none
// (or, on the events routes, when the fake plays a GitLab before 17.x).
// f.mu is held.
func (f *Forge) glHookOf(w http.ResponseWriter, r *http.Request) *hook {
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return nil
	}
	if f.hooks.noGitLabEvents {
		writeJSON(w, http.StatusNotFound, glMessage("404 Not Found"))
		return nil
	}
	id, _ := strconv.ParseInt(r.PathValue("hook"), 10, 64)
	for _, h := range f.hooks.hooks {
		if h.id == id && h.kind == gitlabProjectHook && h.repo == strings.ToLower(rp.name) {
			return h
		}
	}
	writeJSON(w, http.StatusNotFound, glMessage("404 Not Found"))
	return nil
}

func (f *Forge) glListHooks(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	out := []map[string]any{}
	for _, h := range f.hooks.hooks {
		if h.kind == gitlabProjectHook && h.repo == strings.ToLower(rp.name) {
			out = append(out, map[string]any{"id": h.id, "url": h.url, "project_id": rp.id, "push_events": true,
				"merge_requests_events": true, "note_events": true})
		}
	}
	lo, hi := paginate(w, r, len(out), 20, 100)
	writeJSON(w, http.StatusOK, out[lo:hi])
}

// glListHookEvents lists a project hook's events newest first, page by
// page, as GitLab 17.x does; an attempt without an answer shows
// "internal error", as GitLab logs a connection it could not make.
func (f *Forge) glListHookEvents(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.glHookOf(w, r)
	if h == nil {
		return
	}
	out := []map[string]any{}
	for i := len(f.hooks.attempts) - 1; i >= 0; i-- {
		a := f.hooks.attempts[i]
		if a.hookID != h.id {
			continue
		}
		status := strconv.Itoa(a.statusCode)
		if a.statusCode == 0 {
			status = "internal error"
		}
		out = append(out, map[string]any{"id": a.id, "url": h.url, "trigger": "merge_request_hooks",
			"request_headers": map[string]string{"X-Gitlab-Event": a.event, "X-Gitlab-Event-UUID": a.guid, "Idempotency-Key": a.guid,
				"X-Gitlab-Token": "[REDACTED]"},
			"request_data": string(a.body), "response_status": status, "created_at": a.at.Format(time.RFC3339Nano)})
	}
	lo, hi := paginate(w, r, len(out), 20, 100)
	writeJSON(w, http.StatusOK, out[lo:hi])
}

// glResendHookEvent makes a new attempt of a logged event, as GitLab's
// resend does (the fake delivers before answering 201).
func (f *Forge) glResendHookEvent(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	h := f.glHookOf(w, r)
	id, _ := strconv.ParseInt(r.PathValue("event"), 10, 64)
	var orig *attempt
	for _, a := range f.hooks.attempts {
		if h != nil && a.id == id && a.hookID == h.id {
			orig = a
		}
	}
	f.mu.Unlock()
	if h == nil {
		return
	}
	if orig == nil {
		writeJSON(w, http.StatusNotFound, glMessage("404 Not Found"))
		return
	}
	f.attempt(h, orig.event, orig.guid, orig.body, true)
	writeJSON(w, http.StatusCreated, map[string]any{"response_status": http.StatusCreated})
}
