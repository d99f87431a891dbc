package forges_test

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges"
	"github.com/patchgate/patchgate/forges/fakeforge"
)

// client is everything a forge client implements.
type client interface {
	patchgate.Commenter
	patchgate.StatusPoster
	patchgate.SourceFetcher
	patchgate.Comparer
}

// forgeCase runs a test against one forge's real client and the fake.
type forgeCase struct {
	name  string
	forge patchgate.Forge
	// repo is the repository the case uses: GitLab's is in a nested group, so
	// every GitLab test also exercises project path escaping.
	repo string
	kind patchgate.ChangeKind
	// api is the path prefix of the forge's API on the fake.
	api string
	new func(tb testing.TB, ff *fakeforge.Forge, cfg forges.Config) client
}

var forgeCases = []forgeCase{
	{
		name: "github", forge: patchgate.GitHub, repo: "acme/payments", kind: patchgate.ChangePullRequest,
		api: "/api/v3/",
		new: func(tb testing.TB, ff *fakeforge.Forge, cfg forges.Config) client {
			tb.Helper()
			if cfg.BaseURL == "" {
				cfg.BaseURL = ff.GitHubAPIURL()
			}
			c, err := forges.NewGitHub(cfg)
			if err != nil {
				tb.Fatalf("NewGitHub: %v", err)
			}
			return c
		},
	},
	{
		name: "gitlab", forge: patchgate.GitLab, repo: "acme/platform/api", kind: patchgate.ChangeMergeRequest,
		api: "/api/v4/",
		new: func(tb testing.TB, ff *fakeforge.Forge, cfg forges.Config) client {
			tb.Helper()
			if cfg.BaseURL == "" {
				cfg.BaseURL = ff.GitLabAPIURL()
			}
			c, err := forges.NewGitLab(cfg)
			if err != nil {
				tb.Fatalf("NewGitLab: %v", err)
			}
			return c
		},
	},
}

// MustForge starts a fake forge and fails the test at cleanup if any request
// hit a route the fake does not serve.
func MustForge(tb testing.TB) *fakeforge.Forge {
	tb.Helper()
	ff := fakeforge.New()
	tb.Cleanup(func() {
		if u := ff.Unhandled(); len(u) > 0 {
			tb.Errorf("unhandled requests: got %q, want none", u)
		}
		ff.Close()
	})
	return ff
}

// fastConfig retries quickly, for tests.
func fastConfig() forges.Config {
	return forges.Config{Token: fakeforge.Token, Retry: forges.RetryPolicy{BaseDelay: time.Millisecond, MaxWait: 5 * time.Second}}
}

// MustClient returns tc's client against ff with fast retries.
func (tc forgeCase) MustClient(tb testing.TB, ff *fakeforge.Forge) client {
	tb.Helper()
	return tc.new(tb, ff, fastConfig())
}

func (tc forgeCase) ref() patchgate.RepoRef { return patchgate.RepoRef{Forge: tc.forge, Name: tc.repo} }

// writes counts the requests that change state (anything but GET) in ff's log.
func writes(ff *fakeforge.Forge) int {
	n := 0
	for _, r := range ff.Requests() {
		if !strings.HasPrefix(r, "GET ") {
			n++
		}
	}
	return n
}

// count counts the requests in ff's log that start with prefix.
func count(ff *fakeforge.Forge, prefix string) int {
	n := 0
	for _, r := range ff.Requests() {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

// sha returns a deterministic 40-hex commit id for a test label.
func sha(label string) string {
	sum := sha1.Sum([]byte(label))
	return hex.EncodeToString(sum[:])
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := patchgate.ErrorCode(err); got != code {
		t.Fatalf("error code: got %q (%v), want %q", got, err, code)
	}
}
