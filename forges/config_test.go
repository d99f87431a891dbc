package forges_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges"
	"github.com/patchgate/patchgate/forges/fakeforge"
)

func TestGitHubEnterpriseBaseURL(t *testing.T) {
	ff := MustForge(t)
	head := sha("ghe")
	ff.AddCommit("acme/payments", head, nil, "m", "dev")
	tests := []struct {
		name string
		base string
	}{
		{"full", ff.URL() + "/api/v3/"},
		{"no trailing slash", ff.URL() + "/api/v3"},
		{"bare host", ff.URL()},
		{"bare host with slash", ff.URL() + "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ff.ResetRequests()
			cfg := fastConfig()
			cfg.BaseURL = tt.base
			g, err := forges.NewGitHub(cfg)
			if err != nil {
				t.Fatalf("NewGitHub: %v", err)
			}
			if got, want := g.BaseURL(), ff.URL()+"/api/v3/"; got != want {
				t.Errorf("BaseURL: got %q, want %q", got, want)
			}
			err = g.PostStatus(context.Background(), patchgate.RepoRef{Forge: patchgate.GitHub, Name: "acme/payments"}, head,
				patchgate.CommitStatus{Context: "patchgate", State: patchgate.StatusSuccess})
			if err != nil {
				t.Fatalf("PostStatus: %v", err)
			}
			want := []string{"POST /api/v3/repos/acme/payments/statuses/" + head}
			if got := ff.Requests(); !slices.Equal(got, want) {
				t.Errorf("requests: got %q, want %q", got, want)
			}
		})
	}
}

func TestGitLabBaseURLAndNestedGroups(t *testing.T) {
	ff := MustForge(t)
	const repo = "acme/platform/team.api" // nested group, and a dot GitLab escapes too
	head := sha("gl")
	ff.AddCommit(repo, head, tree, "m", "dev")
	for _, base := range []string{ff.URL() + "/api/v4/", ff.URL() + "/api/v4", ff.URL()} {
		t.Run(base, func(t *testing.T) {
			ff.ResetRequests()
			cfg := fastConfig()
			cfg.BaseURL = base
			g, err := forges.NewGitLab(cfg)
			if err != nil {
				t.Fatalf("NewGitLab: %v", err)
			}
			if got, want := g.BaseURL(), ff.URL()+"/api/v4/"; got != want {
				t.Errorf("BaseURL: got %q, want %q", got, want)
			}
			ref := patchgate.RepoRef{Forge: patchgate.GitLab, Name: repo}
			if err := g.PostStatus(context.Background(), ref, head, patchgate.CommitStatus{Context: "patchgate", State: patchgate.StatusRunning}); err != nil {
				t.Fatalf("PostStatus: %v", err)
			}
			if _, err := g.FileAt(context.Background(), ref, "cmd/app/main.go", head); err != nil {
				t.Fatalf("FileAt: %v", err)
			}
			want := []string{
				"POST /api/v4/projects/acme%2Fplatform%2Fteam%2Eapi/statuses/" + head,
				"GET /api/v4/projects/acme%2Fplatform%2Fteam%2Eapi/repository/files/cmd%2Fapp%2Fmain%2Ego/raw",
			}
			if got := ff.Requests(); !slices.Equal(got, want) {
				t.Errorf("requests: got %q, want %q", got, want)
			}
		})
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  forges.Config
	}{
		{"no token", forges.Config{BaseURL: "https://ghe.example.com/api/v3/"}},
		{"no scheme", forges.Config{Token: "t", BaseURL: "ghe.example.com/api/v3/"}},
		{"ftp", forges.Config{Token: "t", BaseURL: "ftp://ghe.example.com/"}},
		{"query", forges.Config{Token: "t", BaseURL: "https://ghe.example.com/api/v3/?x=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := forges.NewGitHub(tt.cfg); patchgate.ErrorCode(err) != patchgate.EINVALID {
				t.Errorf("NewGitHub: got %v, want %s", err, patchgate.EINVALID)
			}
			if _, err := forges.NewGitLab(tt.cfg); patchgate.ErrorCode(err) != patchgate.EINVALID {
				t.Errorf("NewGitLab: got %v, want %s", err, patchgate.EINVALID)
			}
		})
	}
}

func TestPublicDefaults(t *testing.T) {
	gh, err := forges.NewGitHub(forges.Config{Token: "t"})
	if err != nil {
		t.Fatalf("NewGitHub: %v", err)
	}
	if got, want := gh.BaseURL(), "https://api.github.com/"; got != want {
		t.Errorf("github BaseURL: got %q, want %q", got, want)
	}
	gl, err := forges.NewGitLab(forges.Config{Token: "t"})
	if err != nil {
		t.Fatalf("NewGitLab: %v", err)
	}
	if got, want := gl.BaseURL(), "https://gitlab.com/api/v4/"; got != want {
		t.Errorf("gitlab BaseURL: got %q, want %q", got, want)
	}
}

func TestRepoOfOtherForgeIsRefused(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			c := tc.MustClient(t, ff)
			other := patchgate.RepoRef{Forge: patchgate.GitHub, Name: "acme/app"}
			if tc.forge == patchgate.GitHub {
				other = patchgate.RepoRef{Forge: patchgate.GitLab, Name: "acme/app"}
			}
			ctx := context.Background()
			_, err := c.FileAt(ctx, other, "go.mod", "main")
			wantCode(t, err, patchgate.EINVALID)
			_, err = c.Compare(ctx, other, "a", "b")
			wantCode(t, err, patchgate.EINVALID)
			if got := len(ff.Requests()); got != 0 {
				t.Errorf("requests: got %d, want 0", got)
			}
		})
	}
}

func TestGitHubNestedNameIsRefused(t *testing.T) {
	ff := MustForge(t)
	c := forgeCases[0].MustClient(t, ff)
	_, err := c.FileAt(context.Background(), patchgate.RepoRef{Forge: patchgate.GitHub, Name: "a/b/c"}, "go.mod", "main")
	wantCode(t, err, patchgate.EINVALID)
}

func TestConfiguredUsernameSkipsLookup(t *testing.T) {
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			ff.AddPullRequest(tc.repo, fakeforge.PullRequest{Number: 2})
			cfg := fastConfig()
			cfg.Username = fakeforge.BotLogin
			c := tc.new(t, ff, cfg)
			for range 2 {
				if err := c.UpsertComment(context.Background(), tc.change(2), marker, "hi"); err != nil {
					t.Fatalf("UpsertComment: %v", err)
				}
			}
			for _, r := range ff.Requests() {
				if strings.HasSuffix(r, "/user") {
					t.Errorf("requests: got %q, want no user lookup", r)
				}
			}
			if got := len(own(ff, tc.repo, 2)); got != 1 {
				t.Errorf("own comments: got %d, want 1", got)
			}
		})
	}
}
