package fakeforge

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// appState is the fake's GitHub App: its public key, its installations and
// the installation tokens it issued. Nil until EnableApp.
type appState struct {
	id   int64
	slug string
	pub  *rsa.PublicKey
	now  func() time.Time
	ttl  time.Duration
	// installations maps a repository (lower case) to its installation id.
	installations map[string]int64
	// tokens maps an issued installation token to what it may do.
	tokens map[string]issuedToken
	issued int
	// permissions maps "repo\x00login" (lower case) to the collaborator's
	// permission: admin, maintain, write, triage, read; missing is none.
	permissions map[string]string
}

type issuedToken struct {
	installation int64
	expires      time.Time
}

// EnableApp makes the fake know a GitHub App with id, whose JWTs it verifies
// against pub, writing as slug+"[bot]". Installation tokens live an hour, as
// on GitHub, unless SetInstallationTokenTTL says otherwise.
func (f *Forge) EnableApp(id int64, slug string, pub *rsa.PublicKey) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.app = &appState{id: id, slug: slug, pub: pub, now: time.Now, ttl: time.Hour,
		installations: map[string]int64{}, tokens: map[string]issuedToken{}, permissions: map[string]string{}}
}

// SetAppClock sets the clock JWTs and installation tokens are judged by, so
// that tests can move past an expiry without waiting.
func (f *Forge) SetAppClock(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.app.now = now
}

// SetInstallationTokenTTL sets how long the installation tokens issued from
// now on live.
func (f *Forge) SetInstallationTokenTTL(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.app.ttl = d
}

// InstallApp installs the App on repoName and returns the installation id;
// installing it on a second repository makes another installation, as for
// repositories of different owners.
func (f *Forge) InstallApp(repoName string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.app == nil || f.app.pub == nil {
		panic("fakeforge: InstallApp before EnableApp")
	}
	f.repo(repoName)
	id := f.id()
	f.app.installations[strings.ToLower(repoName)] = id
	return id
}

// InstallationTokensIssued counts the installation tokens the fake issued.
func (f *Forge) InstallationTokensIssued() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.app.issued
}

// AppBotLogin is the login the App's writes show: slug+"[bot]".
func (f *Forge) AppBotLogin() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.app.slug + "[bot]"
}

// SetPermission gives login the collaborator permission perm on repoName
// (admin, maintain, write, triage, read), as the collaborator permission
// route reports it.
func (f *Forge) SetPermission(repoName, login, perm string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.userID(login)
	if f.app == nil {
		f.app = &appState{now: time.Now, ttl: time.Hour, installations: map[string]int64{}, tokens: map[string]issuedToken{}, permissions: map[string]string{}}
	}
	f.app.permissions[strings.ToLower(repoName+"\x00"+login)] = perm
}

// appRoutes registers the App's routes: GET /app, the installation lookup,
// installation tokens, and the collaborator permission check.
func (f *Forge) appRoutes(gh func(string, http.HandlerFunc)) {
	gh("GET /app", f.ghApp)
	gh("GET /repos/{owner}/{repo}/installation", f.ghRepoInstallation)
	gh("GET /app/installations", f.ghListInstallations)
	gh("POST /app/installations/{id}/access_tokens", f.ghAccessToken)
	gh("GET /repos/{owner}/{repo}/collaborators/{login}/permission", f.ghPermission)
}

// appAuthorized decides the requests that are the App's business: /app
// routes and the installation lookup want a valid JWT; an installation token
// is good until it expires, and only for its installation's repositories.
// decided is false for anything else, which the plain token decides. f.mu is
// held.
func (f *Forge) appAuthorized(api apiKind, r *http.Request) (ok, decided bool) {
	if api != apiGitHub || f.app == nil || f.app.pub == nil {
		return false, false
	}
	rest := strings.TrimPrefix(r.URL.Path, "/api/v3/")
	owner, name, tail := splitRepoPath(rest)
	bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if rest == "app" || strings.HasPrefix(rest, "app/") || (owner != "" && tail == "installation") {
		return f.validJWT(bearer), true
	}
	tok, isInstallation := f.app.tokens[bearer]
	if !isInstallation {
		return false, false
	}
	if !f.app.now().Before(tok.expires) {
		return false, true
	}
	if owner == "" {
		return true, true
	}
	return f.app.installations[strings.ToLower(owner+"/"+name)] == tok.installation, true
}

// splitRepoPath splits "repos/{owner}/{name}/tail…".
func splitRepoPath(p string) (owner, name, tail string) {
	parts := strings.SplitN(p, "/", 4)
	if len(parts) < 3 || parts[0] != "repos" {
		return "", "", ""
	}
	if len(parts) == 4 {
		tail = parts[3]
	}
	return parts[1], parts[2], tail
}

// validJWT verifies an App JWT as GitHub does: RS256 signed by the App's
// key, iss the App's id, not expired, and expiring at most ten minutes
// ahead. f.mu is held.
func (f *Forge) validJWT(jwt string) bool {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return false
	}
	var header struct {
		Alg string `json:"alg"`
	}
	var claims struct {
		Iss json.RawMessage `json:"iss"`
		Iat int64           `json:"iat"`
		Exp int64           `json:"exp"`
	}
	if !decodeSegment(parts[0], &header) || header.Alg != "RS256" || !decodeSegment(parts[1], &claims) {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(f.app.pub, crypto.SHA256, sum[:], sig) != nil {
		return false
	}
	iss := strings.Trim(string(claims.Iss), `"`)
	now := f.app.now().Unix()
	return iss == strconv.FormatInt(f.app.id, 10) && claims.Exp > now && claims.Exp <= now+600 && claims.Iat <= now+60
}

func decodeSegment(seg string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	return err == nil && json.Unmarshal(b, v) == nil
}

// installationToken returns the installation whose token the request
// carries, if it carries one. f.mu is held.
func (f *Forge) installationOf(r *http.Request) (int64, bool) {
	if f.app == nil {
		return 0, false
	}
	bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	tok, ok := f.app.tokens[bearer]
	return tok.installation, ok
}

// actor is the login a write by request r shows: the App's bot for an
// installation token, BotLogin otherwise. f.mu is held.
func (f *Forge) actor(r *http.Request) string {
	if _, ok := f.installationOf(r); ok {
		return f.app.slug + "[bot]"
	}
	return BotLogin
}

// noApp answers 404 when the fake knows no App, as GitHub does for an App
// that does not exist. f.mu is held.
func (f *Forge) noApp(w http.ResponseWriter) bool {
	if f.app == nil || f.app.pub == nil {
		writeJSON(w, http.StatusNotFound, ghError("Not Found"))
		return true
	}
	return false
}

func (f *Forge) ghApp(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.noApp(w) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": f.app.id, "slug": f.app.slug, "name": f.app.slug})
}

func (f *Forge) ghRepoInstallation(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.noApp(w) {
		return
	}
	id, ok := f.app.installations[strings.ToLower(r.PathValue("owner")+"/"+r.PathValue("repo"))]
	if !ok {
		writeJSON(w, http.StatusNotFound, ghError("Not Found"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "app_id": f.app.id, "target_type": "Organization",
		"account": map[string]any{"login": r.PathValue("owner")}})
}

func (f *Forge) ghListInstallations(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.noApp(w) {
		return
	}
	ids := map[int64]bool{}
	var out []map[string]any
	for _, id := range f.app.installations {
		if !ids[id] {
			ids[id] = true
			out = append(out, map[string]any{"id": id, "app_id": f.app.id})
		}
	}
	slices.SortFunc(out, func(a, b map[string]any) int { return int(a["id"].(int64) - b["id"].(int64)) })
	lo, hi := paginate(w, r, len(out), 30, 100)
	writeJSON(w, http.StatusOK, append([]map[string]any{}, out[lo:hi]...))
}

func (f *Forge) ghAccessToken(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.noApp(w) {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	known := false
	for _, inst := range f.app.installations {
		known = known || inst == id
	}
	if err != nil || !known {
		writeJSON(w, http.StatusNotFound, ghError("Not Found"))
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	token := "ghs_" + hex.EncodeToString(b)
	// GitHub states expiry to the second.
	expires := f.app.now().Add(f.app.ttl).UTC().Truncate(time.Second)
	f.app.tokens[token] = issuedToken{installation: id, expires: expires}
	f.app.issued++
	writeJSON(w, http.StatusCreated, map[string]any{"token": token, "expires_at": ts(expires),
		"permissions": map[string]string{"checks": "write", "statuses": "write", "contents": "read", "pull_requests": "write"}})
}

func (f *Forge) ghPermission(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ghRepoOf(w, r) == nil {
		return
	}
	login, id, ok := f.lookupUser(r.PathValue("login"))
	if !ok {
		writeJSON(w, http.StatusNotFound, ghError("Not Found"))
		return
	}
	perm := "none"
	if f.app != nil {
		if p, ok := f.app.permissions[strings.ToLower(r.PathValue("owner")+"/"+r.PathValue("repo")+"\x00"+login)]; ok {
			perm = p
		}
	}
	// GitHub's legacy "permission" folds maintain into write and triage into
	// read; role_name keeps the precise role.
	legacy := map[string]string{"maintain": "write", "triage": "read"}[perm]
	if legacy == "" {
		legacy = perm
	}
	writeJSON(w, http.StatusOK, map[string]any{"permission": legacy, "role_name": perm,
		"user": map[string]any{"login": login, "id": id, "type": "User"}})
}
