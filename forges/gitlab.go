package forges

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/patchgate/patchgate"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

// GitLab talks to gitlab.com or a self-managed GitLab. Projects are addressed by
// their full path ("acme/platform/api"), which the client URL-escapes. It is
// safe for concurrent use.
type GitLab struct {
	client *gitlab.Client
	base   string
	retry  *retrier
	log    *slog.Logger
	self   identity
	locks  changeLocks
}

var (
	_ patchgate.Commenter     = (*GitLab)(nil)
	_ patchgate.StatusPoster  = (*GitLab)(nil)
	_ patchgate.SourceFetcher = (*GitLab)(nil)
	_ patchgate.Comparer      = (*GitLab)(nil)
)

// NewGitLab returns a GitLab client. An empty BaseURL is gitlab.com; a URL
// without /api/v4/ gets it appended. The client library's own retries are
// turned off: the shared retry helper does that job. EINVALID for a bad URL or
// a missing token.
func NewGitLab(cfg Config) (*GitLab, error) {
	if err := cfg.check(patchgate.GitLab); err != nil {
		return nil, err
	}
	base, err := cfg.baseURL(patchgate.GitLab, "https://gitlab.com/api/v4/")
	if err != nil {
		return nil, err
	}
	c, err := gitlab.NewClient(cfg.Token,
		gitlab.WithBaseURL(base.String()),
		gitlab.WithHTTPClient(cfg.httpClient()),
		gitlab.WithoutRetries(),
		gitlab.WithURLWarningLogger(cfg.logger()),
		gitlab.WithUserAgent("patchgate"),
	)
	if err != nil {
		return nil, patchgate.Errorf(patchgate.EINVALID, "gitlab api_url %q: %v", base, err)
	}
	g := &GitLab{client: c, base: c.BaseURL().String(),
		retry: newRetrier(patchgate.GitLab, cfg.Retry, cfg.logger()), log: cfg.logger()}
	if cfg.Username != "" {
		g.self = identity{login: cfg.Username, ok: true}
	}
	return g, nil
}

// BaseURL is the API root requests go to, after /api/v4/ completion.
func (g *GitLab) BaseURL() string { return g.base }

// user returns the token's user id and username, asking GitLab once. The id is
// 0 when Config.Username was given instead.
func (g *GitLab) user(ctx context.Context) (int64, string, error) {
	return g.self.get(func() (int64, string, error) {
		var u *gitlab.User
		err := g.retry.do(ctx, "look up the gitlab token's user", func() (*http.Response, error) {
			var resp *gitlab.Response
			var err error
			u, resp, err = g.client.Users.CurrentUser(gitlab.WithContext(ctx))
			return glResp(resp), err
		})
		if err != nil {
			return 0, "", err
		}
		return u.ID, u.Username, nil
	})
}
