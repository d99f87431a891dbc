package forges

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/patchgate/patchgate"
)

// AppConfig authenticates patchgate as a GitHub App instead of with a token:
// every request to a repository carries that repository's installation token,
// asked for with the App's JWT and renewed before it expires. Only an App may
// write check runs, and a check run is bound to the App's id, so another
// token with write access cannot fake the verdict the way it can post a
// commit status.
//
// This is written here rather than taken from
// github.com/bradleyfalzon/ghinstallation/v2: v2.19.0 builds on go-github v88
// and golang-jwt v4, a second copy of the GitHub API types beside the v60
// client patchgate speaks through, for what is an RS256 signature, two
// requests and a cache.
type AppConfig struct {
	// ID is the App's id ("App ID" on its settings page): the JWT's issuer.
	ID int64
	// Key is the App's private key; ParseAppKey reads GitHub's PEM file.
	Key *rsa.PrivateKey
	// Now is the clock tokens are judged by; nil is time.Now. Tests move it.
	Now func() time.Time
}

// appJWTLifetime is how long one App JWT is valid: GitHub refuses more than
// ten minutes, and the clock of the machine may be a little ahead, so iat is
// set a minute back and exp nine minutes on.
const appJWTLifetime = 9 * time.Minute

// tokenRefreshMargin renews an installation token this long before it
// expires, so that a request never leaves with a token that dies on the way
// (GitHub's last one hour).
const tokenRefreshMargin = 5 * time.Minute

// ParseAppKey reads a GitHub App's private key: GitHub's download is PKCS #1
// ("RSA PRIVATE KEY"); a PKCS #8 conversion ("PRIVATE KEY") is accepted too.
func ParseAppKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, patchgate.Errorf(patchgate.EINVALID, "github app private key: no PEM block found; use the .pem file GitHub generated on the App's settings page")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, patchgate.Errorf(patchgate.EINVALID, "github app private key: %v; use the .pem file GitHub generated on the App's settings page", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, patchgate.Errorf(patchgate.EINVALID, "github app private key is a %T, GitHub Apps sign with RSA keys: use the .pem file GitHub generated", k)
	}
	return rk, nil
}

func (a *AppConfig) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// JWT returns a fresh App JWT (RS256, iss = the App's id), which GitHub
// accepts on /app routes and on GET /repos/{o}/{r}/installation.
func (a *AppConfig) JWT() (string, error) {
	now := a.now()
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	claims, err := json.Marshal(map[string]any{
		"iat": now.Add(-time.Minute).Unix(),
		"exp": now.Add(appJWTLifetime).Unix(),
		"iss": strconv.FormatInt(a.ID, 10),
	})
	if err != nil {
		return "", err
	}
	signed := header + "." + base64.RawURLEncoding.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, a.Key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("sign the github app jwt: %w", err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// installationToken is one installation's access token.
type installationToken struct {
	token   string
	expires time.Time
}

// appTransport authenticates each request as the App: /app routes and the
// installation lookup with the JWT, everything under /repos/{owner}/{repo}/
// with that repository's installation token. Other routes (/users/{login})
// take any live installation token. Safe for concurrent use.
type appTransport struct {
	base http.RoundTripper
	api  *url.URL
	app  AppConfig

	mu sync.Mutex
	// installations maps "owner/repo" (lower case) to its installation id.
	installations map[string]int64
	tokens        map[int64]installationToken
	// fetching serialises token requests per process, so that a burst of
	// calls after expiry asks GitHub once.
	fetching sync.Mutex
}

func newAppTransport(base http.RoundTripper, api *url.URL, app AppConfig) *appTransport {
	if base == nil {
		base = http.DefaultTransport
	}
	return &appTransport{base: base, api: api, app: app,
		installations: map[string]int64{}, tokens: map[int64]installationToken{}}
}

// RoundTrip implements http.RoundTripper.
func (t *appTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rest, ok := strings.CutPrefix(req.URL.Path, t.api.Path)
	if !ok || req.URL.Host != t.api.Host {
		// Not the API (an archive download elsewhere): no credentials.
		return t.base.RoundTrip(req)
	}
	var cred string
	var err error
	switch owner, name, tail := repoOfPath(rest); {
	case rest == "app" || strings.HasPrefix(rest, "app/") || (owner != "" && tail == "installation"):
		cred, err = t.app.JWT()
	case owner != "":
		cred, err = t.repoToken(req.Context(), owner+"/"+name)
	default:
		cred, err = t.anyToken(req.Context())
	}
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+cred)
	return t.base.RoundTrip(r)
}

// repoOfPath splits "repos/{owner}/{name}/rest…".
func repoOfPath(p string) (owner, name, tail string) {
	parts := strings.SplitN(p, "/", 4)
	if len(parts) < 3 || parts[0] != "repos" || parts[1] == "" || parts[2] == "" {
		return "", "", ""
	}
	if len(parts) == 4 {
		tail = parts[3]
	}
	return parts[1], parts[2], tail
}

// repoToken returns the installation token for repo ("owner/name"), asking
// GitHub for one when there is none or it expires within tokenRefreshMargin.
func (t *appTransport) repoToken(ctx context.Context, repo string) (string, error) {
	key := strings.ToLower(repo)
	t.mu.Lock()
	id, known := t.installations[key]
	tok := t.tokens[id]
	t.mu.Unlock()
	if known && tok.fresh(t.app.now()) {
		return tok.token, nil
	}
	t.fetching.Lock()
	defer t.fetching.Unlock()
	// Another caller may have renewed it while this one waited.
	t.mu.Lock()
	id, known = t.installations[key]
	tok = t.tokens[id]
	t.mu.Unlock()
	if known && tok.fresh(t.app.now()) {
		return tok.token, nil
	}
	if !known {
		var err error
		if id, err = t.installationOf(ctx, repo); err != nil {
			return "", err
		}
	}
	tok, err := t.accessToken(ctx, id, repo)
	if err != nil {
		// The App may have been uninstalled and installed again: look the
		// installation up afresh next time.
		t.mu.Lock()
		delete(t.installations, key)
		t.mu.Unlock()
		return "", err
	}
	t.mu.Lock()
	t.installations[key], t.tokens[id] = id, tok
	t.mu.Unlock()
	return tok.token, nil
}

// fresh reports whether tok lives beyond the refresh margin at now.
func (tok installationToken) fresh(now time.Time) bool {
	return tok.token != "" && now.Add(tokenRefreshMargin).Before(tok.expires)
}

// anyToken returns some live installation token, for routes outside a
// repository (GET /users/{login}), which any installation may read. With
// none cached (the first call after a start may be such a route), it asks
// for a token of the App's first installation (GET /app/installations).
func (t *appTransport) anyToken(ctx context.Context) (string, error) {
	t.mu.Lock()
	now := t.app.now()
	for _, tok := range t.tokens {
		if tok.fresh(now) {
			t.mu.Unlock()
			return tok.token, nil
		}
	}
	t.mu.Unlock()
	var installations []struct {
		ID int64 `json:"id"`
	}
	if _, err := t.appCall(ctx, http.MethodGet, "app/installations?per_page=1", &installations); err != nil {
		return "", fmt.Errorf("list the github app's installations: %w", err)
	}
	if len(installations) == 0 {
		return "", patchgate.Errorf(patchgate.EFORBIDDEN, "github app %d is installed nowhere: install it on the repositories patchgate serves", t.app.ID)
	}
	tok, err := t.accessToken(ctx, installations[0].ID, "the app's first installation")
	if err != nil {
		return "", err
	}
	t.mu.Lock()
	t.tokens[installations[0].ID] = tok
	t.mu.Unlock()
	return tok.token, nil
}

// installationOf asks GitHub which installation of the App covers repo
// (GET /repos/{owner}/{repo}/installation, with the JWT).
func (t *appTransport) installationOf(ctx context.Context, repo string) (int64, error) {
	var out struct {
		ID int64 `json:"id"`
	}
	status, err := t.appCall(ctx, http.MethodGet, "repos/"+repo+"/installation", &out)
	if status == http.StatusNotFound {
		return 0, patchgate.Errorf(patchgate.ENOTFOUND, "github app %d is not installed on %s: install it on the repository (App settings → Install App) and grant it the repository", t.app.ID, repo)
	}
	if err != nil {
		return 0, fmt.Errorf("find the github app's installation on %s: %w", repo, err)
	}
	return out.ID, nil
}

// accessToken asks for a new installation token
// (POST /app/installations/{id}/access_tokens, with the JWT).
func (t *appTransport) accessToken(ctx context.Context, id int64, repo string) (installationToken, error) {
	var out struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if _, err := t.appCall(ctx, http.MethodPost, "app/installations/"+strconv.FormatInt(id, 10)+"/access_tokens", &out); err != nil {
		return installationToken{}, fmt.Errorf("get an installation token for %s (installation %d): %w", repo, id, err)
	}
	if out.Token == "" || out.ExpiresAt.IsZero() {
		return installationToken{}, patchgate.Errorf(patchgate.EINTERNAL, "github answered an installation token for %s without token or expires_at", repo)
	}
	return installationToken{token: out.Token, expires: out.ExpiresAt}, nil
}

// appCall sends one JWT-authenticated request and decodes its JSON answer;
// it returns the HTTP status for the caller to word a 404.
func (t *appTransport) appCall(ctx context.Context, method, path string, out any) (int, error) {
	jwt, err := t.app.JWT()
	if err != nil {
		return 0, err
	}
	p, query, _ := strings.Cut(path, "?")
	u := t.api.ResolveReference(&url.URL{Path: p, RawQuery: query})
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+jwt)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("User-Agent", "patchgate")
	res, err := t.base.RoundTrip(req)
	if err != nil {
		return 0, redactURLError(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	switch {
	case res.StatusCode == http.StatusUnauthorized:
		return res.StatusCode, patchgate.Errorf(patchgate.EUNAUTHORIZED, "github refused the app %d's JWT (%s): check github.app_id and that github.private_key_file is the App's current key", t.app.ID, res.Status)
	case res.StatusCode/100 != 2:
		return res.StatusCode, fmt.Errorf("github answered %s: %s", res.Status, strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return res.StatusCode, fmt.Errorf("read github's answer: %w", err)
	}
	return res.StatusCode, nil
}

// bearer is the credential for requests about repo that do not go through
// the client (archive downloads from the API's host): the installation
// token in App mode, else the token.
func (g *GitHub) bearer(ctx context.Context, repo patchgate.RepoRef) (string, error) {
	if g.app == nil {
		return g.token, nil
	}
	return g.app.repoToken(ctx, repo.Name)
}
