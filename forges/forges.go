// Package forges is patchgate's outbound API client for GitHub (go-github) and
// GitLab (gitlab.com/gitlab-org/api/client-go): commit statuses, the change
// comment, files and archives at a commit, and comparisons. GitHub and GitLab
// implement the root interfaces Commenter, StatusPoster, SourceFetcher and
// Comparer.
//
// Both clients share one retry helper: rate-limited answers (429, GitHub's 403
// with X-RateLimit-Remaining: 0 or a secondary-limit Retry-After) wait for
// Retry-After or the rate-limit reset, 5xx and network errors back off
// exponentially with jitter, everything else fails at once; the total waiting
// is capped by RetryPolicy.MaxWait and by ctx. Final errors carry the root error
// codes (see patchgate's forge.go).
//
// API URLs are built only from Config.BaseURL, never from anything a webhook
// payload says, and tokens are never logged.
package forges

import (
	"hash/fnv"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/patchgate/patchgate"
)

// Config configures a GitHub or GitLab client.
type Config struct {
	// BaseURL is the REST API root: "" for the public service
	// (https://api.github.com/, https://gitlab.com/api/v4/),
	// "https://ghe.example.com/api/v3/" for GitHub Enterprise,
	// "https://gitlab.example.com/api/v4/" for self-managed GitLab. A bare host
	// gets the forge's API path appended.
	BaseURL string
	// Token is the API token: sent as "Authorization: Bearer" to GitHub and as
	// PRIVATE-TOKEN to GitLab. Never logged.
	Token string
	// HTTPClient carries the requests; nil means a fresh client without a
	// timeout (requests are bounded by their ctx).
	HTTPClient *http.Client
	// Logger receives retries at debug level; nil discards.
	Logger *slog.Logger
	// Username is the login patchgate's comments are written by; "" asks the
	// forge who the token belongs to (GET /user), once. Set it for tokens that
	// cannot read /user, such as GitHub App installation tokens ("app[bot]").
	Username string
	// Retry bounds the retries of rate-limited and transient failures.
	Retry RetryPolicy
	// App, on GitHub, authenticates as a GitHub App with per-repository
	// installation tokens instead of Token (see AppConfig).
	App *AppConfig
}

// RetryPolicy bounds retries. Zero values take the defaults.
type RetryPolicy struct {
	// MaxRetries is the number of retries after the first attempt: 0 means 4,
	// a negative value disables retries.
	MaxRetries int
	// MaxWait caps the total time spent waiting between attempts of one call:
	// 0 means 30 s. A rate limit that resets later fails at once.
	MaxWait time.Duration
	// BaseDelay is the first backoff after a 5xx or network error, doubled on
	// each retry, with jitter: 0 means 500 ms.
	BaseDelay time.Duration
}

// baseURL parses and checks the configured base URL, defaulting to def.
func (c Config) baseURL(forge patchgate.Forge, def string) (*url.URL, error) {
	raw := c.BaseURL
	if raw == "" {
		raw = def
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, patchgate.Errorf(patchgate.EINVALID, "%s api_url %q: want an absolute http(s) URL without query", forge, raw)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}

func (c Config) check(forge patchgate.Forge) error {
	if forge == patchgate.GitHub && c.App != nil {
		if c.App.ID <= 0 || c.App.Key == nil {
			return patchgate.Errorf(patchgate.EINVALID, "github app: want both the App's id and its private key")
		}
		return nil
	}
	if c.Token == "" {
		return patchgate.Errorf(patchgate.EINVALID, "%s token required", forge)
	}
	return nil
}

// httpClient returns a copy of the configured client, so the forge libraries
// may wrap its transport without touching the caller's.
func (c Config) httpClient() *http.Client {
	if c.HTTPClient == nil {
		return &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	hc := *c.HTTPClient
	return &hc
}

func (c Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// checkRepo checks that repo belongs to forge; GitHub names are exactly
// owner/name.
func checkRepo(forge patchgate.Forge, repo patchgate.RepoRef) error {
	if repo.Forge != forge {
		return patchgate.Errorf(patchgate.EINVALID, "repository %s is not on %s", repo, forge)
	}
	if err := repo.Validate(); err != nil {
		return err
	}
	if forge == patchgate.GitHub && strings.Count(repo.Name, "/") != 1 {
		return patchgate.Errorf(patchgate.EINVALID, "repository %s: want owner/name", repo)
	}
	return nil
}

// checkSHA rejects anything but a full commit id, so a branch name can never be
// mistaken for the verified commit.
func checkSHA(sha string) error {
	if !patchgate.ValidSHA(sha) {
		return patchgate.Errorf(patchgate.EINVALID, "%q is not a full commit SHA", sha)
	}
	return nil
}

// checkPath accepts a relative, clean, "/"-separated file path.
func checkPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || path.Clean(p) != p || p == "." ||
		strings.HasPrefix(p, "../") || p == ".." || strings.Contains(p, "/../") {
		return patchgate.Errorf(patchgate.EINVALID, "file path %q: want a clean path relative to the repository root", p)
	}
	return nil
}

// changeLocks serialises UpsertComment per change within this process, so two
// concurrent upserts cannot both create the comment. Striped: bounded memory.
type changeLocks [64]sync.Mutex

func (l *changeLocks) lock(key string) func() {
	h := fnv.New32a()
	h.Write([]byte(key))
	m := &l[h.Sum32()%uint32(len(l))]
	m.Lock()
	return m.Unlock
}

// identity is the token's user, looked up once.
type identity struct {
	mu    sync.Mutex
	id    int64
	login string
	ok    bool
}

// get returns the cached identity or fills it with lookup; failures are not cached.
func (i *identity) get(lookup func() (int64, string, error)) (int64, string, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.ok {
		return i.id, i.login, nil
	}
	id, login, err := lookup()
	if err != nil {
		return 0, "", err
	}
	i.id, i.login, i.ok = id, login, true
	return id, login, nil
}
