// Package fakeforge is a stateful fake of the GitHub and GitLab REST API routes
// patchgate calls, for tests. One Forge serves both APIs from one httptest server:
// GitHub under /api/v3/ (the GitHub Enterprise layout), GitLab under /api/v4/.
//
// Both APIs see the same repositories: "acme/payments" is a GitHub repository
// and a GitLab project at once, with numeric project id ProjectID(name). Tests set
// the state up (AddCommit, SetFile, AddPullRequest, AddComment, PutComment, AddTag), run real
// go-github or GitLab clients against it, and assert on the effects (Comments,
// Statuses, Tags, Releases) and on the request log (Requests, Unhandled).
//
// The fake checks the token, validates what the real forges validate where a
// client could get it wrong (status states, 140-character GitHub status
// descriptions, GitLab's refusal to repeat a status state, one tag per name and
// one release per tag), paginates like the real APIs (Link headers on GitHub,
// X-Next-Page on GitLab), and answers unknown routes with a JSON 404 that
// Unhandled records. A Forge is safe for concurrent use.
package fakeforge

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

const (
	// Token is the API token a new Forge accepts.
	Token = "fakeforge-token"
	// BotLogin is the user the token belongs to on both forges.
	BotLogin = "patchgate-bot"
	// BotID is BotLogin's numeric user id on both forges.
	BotID = 1000
	// FixtureLogin is the account the recorded GitHub deliveries name
	// (Codertocat), with the user id they give it, so that a delivery and
	// the fake's API agree on who that is.
	FixtureLogin = "Codertocat"
	FixtureID    = 21031067
)

// Forge is a fake GitHub and GitLab API server with state.
type Forge struct {
	srv *httptest.Server
	mux *http.ServeMux

	mu          sync.Mutex
	token       string
	archiveBase string           // where GitHub tarball links point; "" = this server
	repos       map[string]*repo // by lower-case full name
	byID        map[int64]*repo  // by GitLab project id
	users       map[string]int64 // login → user id
	nextID      int64            // ids of comments, statuses, releases
	nextRepo    int64
	commitSeq   int
	failures    []*failure
	requests    []string
	unhandled   []string
	app         *appState         // the GitHub App, once EnableApp (app.go)
	checkRuns   []*checkRun       // checkruns.go
	enforce     *enforcementState // deployment reviews, status checks (deployment.go)
	assets      assetStore        // release assets (assets.go)
	hooks       hookLog           // webhooks and their delivery log (hooks.go)
}

// failure is an injected error answer for the next n matching requests.
type failure struct {
	route   string // substring of "METHOD path"; "" matches every request
	n       int
	status  int
	headers map[string]string
	// after runs the handler first, so the state changes and only the answer
	// is lost (FailAfterOn).
	after bool
}

// New starts a fake forge on a local port. Close it when done.
func New() *Forge {
	f := &Forge{
		token:    Token,
		repos:    map[string]*repo{},
		byID:     map[int64]*repo{},
		users:    map[string]int64{BotLogin: BotID, FixtureLogin: FixtureID},
		nextID:   1_000_000,
		nextRepo: 1,
		mux:      http.NewServeMux(),
	}
	f.routes()
	f.srv = httptest.NewServer(f)
	return f
}

// URL is the server's root, such as "http://127.0.0.1:41234".
func (f *Forge) URL() string { return f.srv.URL }

// GitHubAPIURL is the base URL for a GitHub client (Enterprise layout).
func (f *Forge) GitHubAPIURL() string { return f.srv.URL + "/api/v3/" }

// GitLabAPIURL is the base URL for a GitLab client.
func (f *Forge) GitLabAPIURL() string { return f.srv.URL + "/api/v4/" }

// Close shuts the server down.
func (f *Forge) Close() { f.srv.Close() }

// SetToken changes the token the fake accepts.
func (f *Forge) SetToken(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.token = token
}

// SetArchiveBaseURL makes GitHub tarball links point at base (such as the same
// server under another host name) instead of the host the request came to, the
// way github.com sends archive downloads to codeload.github.com.
func (f *Forge) SetArchiveBaseURL(base string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.archiveBase = strings.TrimSuffix(base, "/")
}

// FailNext makes the next n requests, whatever their route, fail with status and
// headers before reaching any handler (nothing changes state). Use it for rate
// limits (429 with Retry-After; GitHub 403 with X-RateLimit-Remaining: 0 and
// X-RateLimit-Reset) and for 5xx.
func (f *Forge) FailNext(n, status int, headers map[string]string) {
	f.FailNextOn("", n, status, headers)
}

// FailNextOn is FailNext for requests whose "METHOD path" contains route, such
// as "POST /api/v3/repos/acme/app/issues/".
func (f *Forge) FailNextOn(route string, n, status int, headers map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, &failure{route: route, n: n, status: status, headers: headers})
}

// ClearFailures drops the failures still waiting to be served: the forge is
// back.
func (f *Forge) ClearFailures() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = nil
}

// FailAfterOn makes the next n requests whose "METHOD path" contains route
// take effect and then answer status instead of the handler's answer: a write
// the forge stored although the client saw it fail, as when a proxy times out
// (502, 504) after the forge committed. Use it to test that a retry does not
// write twice.
func (f *Forge) FailAfterOn(route string, n, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, &failure{route: route, n: n, status: status, after: true})
}

// Requests returns every request received, in order, as "METHOD path" with the
// path as sent on the wire (GitLab project paths stay escaped: "acme%2Fapi").
func (f *Forge) Requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

// Unhandled returns the requests that matched no route, as "METHOD path".
func (f *Forge) Unhandled() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.unhandled...)
}

// ResetRequests forgets the request log (not the state).
func (f *Forge) ResetRequests() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests, f.unhandled = nil, nil
}

// ServeHTTP records the request, checks the token, injects failures, then routes.
func (f *Forge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	line := r.Method + " " + r.URL.EscapedPath()
	api := apiOf(r.URL.Path)

	f.mu.Lock()
	f.requests = append(f.requests, line)
	authorized := api == apiNone || f.authorized(api, r)
	fail := f.takeFailure(line)
	f.mu.Unlock()

	if !authorized {
		if api == apiGitHub {
			writeJSON(w, http.StatusUnauthorized, ghError("Bad credentials"))
		} else {
			writeJSON(w, http.StatusUnauthorized, glMessage("401 Unauthorized"))
		}
		return
	}
	if fail != nil {
		if fail.after {
			f.mux.ServeHTTP(httptest.NewRecorder(), r)
		}
		for k, v := range fail.headers {
			w.Header().Set(k, v)
		}
		writeJSON(w, fail.status, map[string]string{"message": http.StatusText(fail.status)})
		return
	}
	f.mux.ServeHTTP(w, r)
}

type apiKind int

const (
	apiNone apiKind = iota // e.g. the GitHub archive download, like codeload
	apiGitHub
	apiGitLab
)

func apiOf(path string) apiKind {
	switch {
	case strings.HasPrefix(path, "/api/v3/"), strings.HasPrefix(path, "/api/uploads/"):
		return apiGitHub
	case strings.HasPrefix(path, "/api/v4/"):
		return apiGitLab
	}
	return apiNone
}

// authorized accepts "Authorization: Bearer|token <t>" on GitHub and
// "PRIVATE-TOKEN: <t>" or "Authorization: Bearer <t>" on GitLab. f.mu is held.
func (f *Forge) authorized(api apiKind, r *http.Request) bool {
	if ok, decided := f.appAuthorized(api, r); decided {
		return ok
	}
	auth := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(auth, "Bearer "); ok && t == f.token {
		return true
	}
	if api == apiGitHub {
		t, ok := strings.CutPrefix(auth, "token ")
		return ok && t == f.token
	}
	return r.Header.Get("PRIVATE-TOKEN") == f.token
}

// takeFailure returns the injected failure for this request, if any. f.mu is held.
func (f *Forge) takeFailure(line string) *failure {
	for i, fl := range f.failures {
		if fl.route != "" && !strings.Contains(line, fl.route) {
			continue
		}
		fl.n--
		if fl.n <= 0 {
			f.failures = append(f.failures[:i], f.failures[i+1:]...)
		}
		return fl
	}
	return nil
}

// userID returns login's id, allocating one on first sight. f.mu is held.
func (f *Forge) userID(login string) int64 {
	if id, ok := f.users[login]; ok {
		return id
	}
	id := int64(2000 + len(f.users))
	f.users[login] = id
	return id
}

// lookupUser finds a known login, without regard to case, as both forges
// do. f.mu is held.
func (f *Forge) lookupUser(login string) (string, int64, bool) {
	for l, id := range f.users {
		if login != "" && strings.EqualFold(l, login) {
			return l, id, true
		}
	}
	return "", 0, false
}

// AddUser registers login (when new) and returns its user id.
func (f *Forge) AddUser(login string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.userID(login)
}

// RenameUser renames the account of login to newLogin, as the forges let a
// user do: the id stays, the old login is free for anyone to register, and
// the account's comments and pull requests show the new login.
func (f *Forge) RenameUser(login, newLogin string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.userID(login)
	delete(f.users, login)
	f.users[newLogin] = id
	for _, rp := range f.repos {
		for _, c := range rp.comments {
			if c.Author == login {
				c.Author = newLogin
			}
		}
		for _, pr := range rp.pulls {
			if pr.Author == login {
				pr.Author = newLogin
			}
		}
	}
}

// id allocates an object id. f.mu is held.
func (f *Forge) id() int64 {
	f.nextID++
	return f.nextID
}

// now is the time stamped on created objects, at the APIs' 1-second resolution.
func now() time.Time { return time.Now().UTC().Truncate(time.Second) }

// routes is the route table: every route go-github and the GitLab client call
// for patchgate, and nothing else.
func (f *Forge) routes() {
	gh := func(pattern string, h http.HandlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		f.mux.HandleFunc(method+" /api/v3"+path, h)
	}
	gh("GET /user", f.ghUser)
	gh("GET /users/{login}", f.ghUserByLogin)
	gh("GET /repos/{owner}/{repo}", f.ghRepo)
	gh("GET /repos/{owner}/{repo}/pulls/{number}", f.ghPull)
	f.hookRoutes(gh)
	// GET .../issues/{number}/comments and GET .../issues/comments/{id} overlap
	// as patterns: one route tells them apart.
	gh("GET /repos/{owner}/{repo}/issues/{a}/{b}", f.ghIssueGet)
	gh("POST /repos/{owner}/{repo}/issues/{number}/comments", f.ghCreateComment)
	gh("PATCH /repos/{owner}/{repo}/issues/comments/{id}", f.ghEditComment)
	gh("DELETE /repos/{owner}/{repo}/issues/comments/{id}", f.ghDeleteComment)
	gh("POST /repos/{owner}/{repo}/statuses/{sha}", f.ghCreateStatus)
	gh("GET /repos/{owner}/{repo}/contents/{path...}", f.ghContents)
	gh("GET /repos/{owner}/{repo}/git/blobs/{sha}", f.ghBlob)
	gh("GET /repos/{owner}/{repo}/tarball/{ref...}", f.ghTarballLink)
	gh("GET /repos/{owner}/{repo}/compare/{basehead}", f.ghCompare)
	gh("POST /repos/{owner}/{repo}/git/refs", f.ghCreateRef)
	gh("GET /repos/{owner}/{repo}/git/ref/{ref...}", f.ghGetRef)
	gh("GET /repos/{owner}/{repo}/git/tags/{sha}", f.ghGetTagObject)
	gh("GET /repos/{owner}/{repo}/tags", f.ghListTags)
	gh("POST /repos/{owner}/{repo}/releases", f.ghCreateRelease)
	gh("GET /repos/{owner}/{repo}/releases", f.ghListReleases)
	gh("GET /repos/{owner}/{repo}/releases/{id}", f.ghGetRelease)
	gh("PATCH /repos/{owner}/{repo}/releases/{id}", f.ghEditRelease)
	gh("GET /repos/{owner}/{repo}/releases/tags/{tag...}", f.ghGetReleaseByTag)
	f.appRoutes(gh)
	f.checkRunRoutes(gh)
	gh("POST /repos/{owner}/{repo}/actions/runs/{run}/deployment_protection_rule", f.ghReviewDeploymentRule)
	gh("GET /repos/{owner}/{repo}/actions/runs/{run}", f.ghGetRun)
	// Where GitHub's tarball link redirects (codeload.github.com on github.com).
	f.mux.HandleFunc("GET /_codeload/{owner}/{repo}/legacy.tar.gz/{sha}", f.ghTarball)

	gl := func(pattern string, h http.HandlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		f.mux.HandleFunc(method+" /api/v4"+path, h)
	}
	f.protectionRoutes(gh, gl)
	gl("GET /user", f.glUser)
	gl("GET /users", f.glUsers)
	gl("GET /projects/{id}", f.glProject)
	gl("GET /projects/{id}/merge_requests/{iid}", f.glMergeRequest)
	gl("GET /projects/{id}/merge_requests/{iid}/notes", f.glListNotes)
	gl("POST /projects/{id}/merge_requests/{iid}/notes", f.glCreateNote)
	gl("GET /projects/{id}/merge_requests/{iid}/notes/{note}", f.glGetNote)
	gl("PUT /projects/{id}/merge_requests/{iid}/notes/{note}", f.glUpdateNote)
	gl("DELETE /projects/{id}/merge_requests/{iid}/notes/{note}", f.glDeleteNote)
	gl("POST /projects/{id}/statuses/{sha}", f.glSetStatus)
	gl("GET /projects/{id}/repository/commits/{sha}/statuses", f.glListStatuses)
	gl("GET /projects/{id}/repository/files/{file}/raw", f.glRawFile)
	gl("GET /projects/{id}/repository/archive", f.glArchive)
	gl("GET /projects/{id}/repository/archive.tar.gz", f.glArchive)
	gl("GET /projects/{id}/repository/archive.tar", f.glArchive)
	gl("GET /projects/{id}/repository/compare", f.glCompare)
	gl("GET /projects/{id}/repository/branches/{branch}", f.glGetBranch)
	gl("POST /projects/{id}/repository/tags", f.glCreateTag)
	gl("GET /projects/{id}/repository/tags", f.glListTags)
	gl("GET /projects/{id}/repository/tags/{tag}", f.glGetTag)
	gl("POST /projects/{id}/releases", f.glCreateRelease)
	gl("GET /projects/{id}/releases", f.glListReleases)
	gl("GET /projects/{id}/releases/{tag}", f.glGetRelease)
	gl("PUT /projects/{id}/releases/{tag}", f.glUpdateRelease)
	gl("POST /projects/{id}/deployments/{deployment}/approval", f.glApproveDeployment)
	gl("GET /projects/{id}/deployments/{deployment}", f.glGetDeployment)
	gl("POST /projects/{id}/merge_requests/{iid}/status_check_responses", f.glStatusCheckResponse)
	gl("POST /projects/{id}/merge_requests/{iid}/status_checks/{check}/retry", f.glRetryStatusCheck)
	f.glHookRoutes(gl)
	f.assetRoutes()

	f.mux.HandleFunc("/", f.notFound)
}

// notFound answers and records a request no route matched.
func (f *Forge) notFound(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.unhandled = append(f.unhandled, r.Method+" "+r.URL.EscapedPath())
	f.mu.Unlock()
	writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found (no fakeforge route)"})
}
