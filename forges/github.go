package forges

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v60/github"
	"github.com/patchgate/patchgate"
)

// GitHub talks to github.com or a GitHub Enterprise server. It is safe for
// concurrent use.
type GitHub struct {
	client *github.Client
	// http downloads archives from the location GitHub redirects to; it carries
	// no token of its own (see Archive).
	http  *http.Client
	base  *url.URL
	token string
	retry *retrier
	log   *slog.Logger
	self  identity
	locks changeLocks
	// app is set in App mode: it holds the installation tokens.
	app       *appTransport
	checkRuns checkRunIDs
}

var (
	_ patchgate.Commenter     = (*GitHub)(nil)
	_ patchgate.StatusPoster  = (*GitHub)(nil)
	_ patchgate.SourceFetcher = (*GitHub)(nil)
	_ patchgate.Comparer      = (*GitHub)(nil)
)

// NewGitHub returns a GitHub client. An empty BaseURL is api.github.com; any
// other host is a GitHub Enterprise server, whose API lives under /api/v3/
// (appended when the URL lacks it). EINVALID for a bad URL or a missing token.
func NewGitHub(cfg Config) (*GitHub, error) {
	if err := cfg.check(patchgate.GitHub); err != nil {
		return nil, err
	}
	base, err := cfg.baseURL(patchgate.GitHub, "https://api.github.com/")
	if err != nil {
		return nil, err
	}
	hc := cfg.httpClient()
	var app *appTransport
	if cfg.App != nil {
		// The transport learns the final API root below, once Enterprise
		// path completion ran.
		app = newAppTransport(hc.Transport, nil, *cfg.App)
		hc.Transport = app
	}
	c := github.NewClient(hc)
	if app == nil {
		c = c.WithAuthToken(cfg.Token)
	}
	if base.Host != "api.github.com" {
		if c, err = c.WithEnterpriseURLs(base.String(), base.String()); err != nil {
			return nil, patchgate.Errorf(patchgate.EINVALID, "github api_url %q: %v", base, err)
		}
	}
	if app != nil {
		app.api = c.BaseURL
	}
	c.UserAgent = "patchgate"
	g := &GitHub{
		client: c, http: hc, base: c.BaseURL, token: cfg.Token,
		retry: newRetrier(patchgate.GitHub, cfg.Retry, cfg.logger()), log: cfg.logger(), app: app,
	}
	if cfg.Username != "" {
		g.self = identity{login: cfg.Username, ok: true}
	}
	return g, nil
}

// BaseURL is the API root requests go to, after Enterprise path completion.
func (g *GitHub) BaseURL() string { return g.base.String() }

// ownerName splits a checked GitHub repository name.
func ownerName(repo patchgate.RepoRef) (string, string) {
	owner, name, _ := strings.Cut(repo.Name, "/")
	return owner, name
}

// login returns the token's user login, asking GitHub once. An App writes
// as "<slug>[bot]", which only GET /app tells (installation tokens cannot
// read /user).
func (g *GitHub) login(ctx context.Context) (string, error) {
	_, login, err := g.self.get(func() (int64, string, error) {
		if g.app != nil {
			var a *github.App
			err := g.retry.do(ctx, "look up the github app", func() (*http.Response, error) {
				var resp *github.Response
				var err error
				a, resp, err = g.client.Apps.Get(ctx, "")
				return ghResp(resp), err
			})
			if err != nil {
				return 0, "", err
			}
			return 0, a.GetSlug() + "[bot]", nil
		}
		var u *github.User
		err := g.retry.do(ctx, "look up the github token's user", func() (*http.Response, error) {
			var resp *github.Response
			var err error
			u, resp, err = g.client.Users.Get(ctx, "")
			return ghResp(resp), err
		})
		if err != nil {
			return 0, "", err
		}
		return u.GetID(), u.GetLogin(), nil
	})
	return login, err
}
