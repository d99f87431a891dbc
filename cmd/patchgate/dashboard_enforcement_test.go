package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
	"github.com/patchgate/patchgate/runners"
)

// dashboardSession signs in to the dashboard with token, as a browser
// would, and returns a GET that answers the status and the page.
func dashboardSession(t *testing.T, app *testApp, token string) func(t *testing.T, path string) (int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	get := func(t *testing.T, path string) (int, string) {
		t.Helper()
		resp, err := client.Get(app.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	get(t, "/ui/signin")
	base, _ := url.Parse(app.url + "/ui/")
	var guard string
	for _, c := range jar.Cookies(base) {
		if c.Name == "patchgate_signin" {
			guard = c.Value
		}
	}
	resp, err := client.PostForm(app.url+"/ui/signin", url.Values{"token": {token}, "guard": {guard}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return get
}

// TestDashboardForgeEnforcement: the dashboard lists the repositories and
// shows, per repository, what `forge check` says, read from the (fake)
// forge through the real server: GitHub in token mode with its App-only
// gaps, GitLab enforced, a forge that refuses the token explained.
func TestDashboardForgeEnforcement(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Repos[0].Environments = []string{forgeCheckProdEnv}
		c.Repos = append(c.Repos, RepoConfig{Forge: "gitlab", Name: forgeCheckGitLab, Environments: []string{forgeCheckProdEnv}})
	})
	app.forge.SetProtection(testRepo, fakeforge.GitHubEnforced("main", runners.VerdictContext, forgeCheckAppIDn, forgeCheckProdEnv))
	statusURL := strings.TrimSuffix(app.main.Config.PublicURL, "/") + gitlabStatusCheckPath
	app.forge.SetProtection(forgeCheckGitLab, fakeforge.GitLabEnforced("main", statusURL, fakeforge.BotID, forgeCheckProdEnv))
	viewer := app.createToken(t, "auditor", patchgate.RoleViewer)
	get := dashboardSession(t, app, viewer)

	code, page := get(t, "/ui/repos")
	ghPage := "/ui/repos/github/" + testRepo + "/enforcement"
	glPage := "/ui/repos/gitlab/" + forgeCheckGitLab + "/enforcement"
	if code != http.StatusOK || !strings.Contains(page, `href="`+ghPage+`"`) || !strings.Contains(page, `href="`+glPage+`"`) {
		t.Fatalf("repositories page: %d, want links to both repositories' enforcement:\n%s", code, page)
	}

	code, page = get(t, ghPage)
	if code != http.StatusOK || !strings.Contains(page, "Not enforced.") || strings.Count(page, `data-app-only="true"`) != 3 ||
		!strings.Contains(page, `id="app-mode"`) || !strings.Contains(page, "github.app_id") {
		t.Errorf("github in token mode: %d, want not enforced with 3 App-mode gaps and what App mode adds:\n%s", code, page)
	}

	code, page = get(t, glPage)
	if code != http.StatusOK || !strings.Contains(page, "Enforced.") || strings.Contains(page, `id="gaps"`) {
		t.Errorf("gitlab fully protected: %d, want enforced without gaps:\n%s", code, page)
	}
	app.forge.UpdateProtection(forgeCheckGitLab, func(p *fakeforge.Protection) { p.StatusChecksMustSucceed = false })
	if code, page = get(t, glPage+"?branch=main"); code != http.StatusOK ||
		!strings.Contains(page, "<code>only_allow_merge_if_all_status_checks_passed</code>") {
		t.Errorf("gitlab without status checks must succeed: %d, want that gap:\n%s", code, page)
	}

	app.forge.FailNextOn("/branches/main/protection", 1, http.StatusForbidden, nil)
	if code, page = get(t, ghPage); code != http.StatusBadGateway || !strings.Contains(page, "could not read the forge") ||
		!strings.Contains(page, "admin rights") {
		t.Errorf("token refused: %d, want 502 saying why and what to check:\n%s", code, page)
	}
	if code, _ = get(t, "/ui/repos/github/acme/unknown/enforcement"); code != http.StatusNotFound {
		t.Errorf("unknown repository: %d, want 404", code)
	}
	for _, r := range app.forge.Requests() {
		if strings.Contains(r, "protection") && !strings.HasPrefix(r, "GET ") {
			t.Errorf("the dashboard changed forge settings: %s", r)
		}
	}
}

// TestDashboardForgeEnforcementBrowser: in a browser, a viewer reaches a
// repository's enforcement from the navigation, reads the verdict and the
// gaps, and both pages fit a 360 px screen.
func TestDashboardForgeEnforcementBrowser(t *testing.T) {
	ctx := newTab(t)
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Repos[0].Environments = []string{forgeCheckProdEnv}
	})
	p := fakeforge.GitHubEnforced("main", runners.VerdictContext, forgeCheckAppIDn, forgeCheckProdEnv)
	p.Branches["main"].EnforceAdmins = false
	app.forge.SetProtection(testRepo, p)
	signIn(t, ctx, app.url, app.createToken(t, "auditor", patchgate.RoleViewer))

	run(t, ctx, "repositories", chromedp.Click(`a[href="/ui/repos"]`), chromedp.WaitVisible(chromedp.ID("repos")),
		chromedp.Click(`#repos a`), chromedp.WaitVisible(chromedp.ID("verdict")))
	screenshot(t, ctx, "enforcement")
	verdict := text(t, ctx, "#verdict")
	gaps := text(t, ctx, "#gaps")
	if !strings.Contains(verdict, "Not enforced.") || !strings.Contains(verdict, "4 way(s)") ||
		!strings.Contains(gaps, "repository administrators can merge into main") {
		t.Errorf("verdict %q, gaps %q: want 4 gaps, admins' bypass named", verdict, gaps)
	}
	checkNarrow(t, ctx, app.url+"/ui/repos", "")
	checkNarrow(t, ctx, app.url+"/ui/repos/github/"+testRepo+"/enforcement", "enforcement-360px")
}

// TestAPIForgeEnforcement: GET /api/v1/repos/{forge}/{name}/enforcement
// answers what forge check prints, for a viewer; a forge that refuses
// patchgate's token is a 422 naming it, an unknown repository a 404.
func TestAPIForgeEnforcement(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Repos = append(c.Repos, RepoConfig{Forge: "gitlab", Name: forgeCheckGitLab})
	})
	statusURL := strings.TrimSuffix(app.main.Config.PublicURL, "/") + gitlabStatusCheckPath
	app.forge.SetProtection(forgeCheckGitLab, fakeforge.GitLabEnforced("release", statusURL, fakeforge.BotID))
	app.token = app.createToken(t, "auditor", patchgate.RoleViewer)

	var got forgeCheckJSON
	if code := app.api(t, http.MethodGet, "/api/v1/repos/gitlab/"+forgeCheckGitLab+"/enforcement?branch=release", nil, &got); code != http.StatusOK ||
		!got.Enforced || got.Branch != "release" || got.Gaps == nil {
		t.Errorf("gitlab on release: %d %+v; want enforced, gaps []", code, got)
	}
	got = forgeCheckJSON{}
	if code := app.api(t, http.MethodGet, "/api/v1/repos/gitlab/"+forgeCheckGitLab+"/enforcement", nil, &got); code != http.StatusOK ||
		got.Enforced || !slices.Contains(gapSettings(got), "protected_branches") {
		t.Errorf("gitlab on main: %d %+v; want main's missing protection", code, got)
	}
	app.forge.FailNextOn("/protected_tags", 1, http.StatusForbidden, nil)
	var apiErr struct {
		Error struct{ Code, Message string }
	}
	if code := app.api(t, http.MethodGet, "/api/v1/repos/gitlab/"+forgeCheckGitLab+"/enforcement", nil, &apiErr); code != http.StatusUnprocessableEntity ||
		!strings.Contains(apiErr.Error.Message, "could not read the forge's settings") {
		t.Errorf("forge refuses the token: %d %+v; want 422 naming the forge", code, apiErr)
	}
	if code := app.api(t, http.MethodGet, "/api/v1/repos/github/acme/unknown/enforcement", nil, nil); code != http.StatusNotFound {
		t.Errorf("unknown repository: %d, want 404", code)
	}
}
