package protection_test

import (
	"context"
	"slices"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/usecase/protection"
)

// readerFunc is a patchgate.EnforcementReader from a function.
type readerFunc func(ctx context.Context, repo patchgate.RepoRef, branch string, envs []string) (*patchgate.ForgeSettings, error)

func (f readerFunc) ReadEnforcement(ctx context.Context, repo patchgate.RepoRef, branch string, envs []string) (*patchgate.ForgeSettings, error) {
	return f(ctx, repo, branch, envs)
}

// TestCheck: the checker asks the repository's forge for its release branch
// and mapped environments, and decides with the configured App and status
// check URL; unknown repositories and forges without a token are errors
// that say what to do.
func TestCheck(t *testing.T) {
	dir := patchgate.NewRepositoryDirectory([]*patchgate.Repository{
		{Forge: patchgate.GitHub, Name: "acme/payments", Environments: []string{"production"}},
		{Forge: patchgate.GitLab, Name: "acme/platform/api"},
	})
	var asked []string
	gh := readerFunc(func(_ context.Context, repo patchgate.RepoRef, branch string, envs []string) (*patchgate.ForgeSettings, error) {
		asked = append(asked, repo.String()+"@"+branch)
		if !slices.Equal(envs, []string{"production"}) {
			t.Errorf("environments asked: got %q, want the repository's", envs)
		}
		return &patchgate.ForgeSettings{Environments: []patchgate.EnvironmentSettings{{Name: "production", ProtectionAppIDs: []int64{9}}}}, nil
	})
	c := &protection.Checker{Readers: map[patchgate.Forge]patchgate.EnforcementReader{patchgate.GitHub: gh}, Repos: dir,
		CheckContext: "patchgate", GitHubAppID: 9, StatusCheckURL: "https://pg.example.com/webhooks/gitlab/status-check"}

	e, err := c.Check(context.Background(), "", "acme/payments", "")
	if err != nil {
		t.Fatal(err)
	}
	if e.Mode != "app" || e.Branch != "main" || e.Enforced || slices.ContainsFunc(e.Gaps, func(g patchgate.Gap) bool {
		return g.Setting == "environments/production/deployment_protection_rules"
	}) {
		t.Errorf("got %+v; want app mode on main, the environment's rule found, other gaps open", e)
	}
	if _, err := c.Check(context.Background(), patchgate.GitHub, "acme/payments", "release"); err != nil || asked[1] != "github:acme/payments@release" {
		t.Errorf("asked %q, %v; want the named branch", asked, err)
	}
	if _, err := c.Check(context.Background(), patchgate.GitHub, "acme/none", ""); patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
		t.Errorf("unknown repository: got %v, want not_found", err)
	}
	if _, err := c.Check(context.Background(), patchgate.GitLab, "acme/platform/api", ""); patchgate.ErrorCode(err) != patchgate.EINVALID {
		t.Errorf("gitlab without a token: got %v, want invalid", err)
	}
	want := c.Expectation(&patchgate.Repository{Forge: patchgate.GitLab, Name: "acme/platform/api"}, "main")
	if want.StatusCheckURL == "" || want.AppID != 0 || want.TagPattern != "v*" {
		t.Errorf("gitlab expectation %+v: want the status check URL, no App, v* tags", want)
	}
}
