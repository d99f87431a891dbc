package fakeforge_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-github/v60/github"
	"github.com/patchgate/patchgate/forges/fakeforge"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

func MustForge(tb testing.TB) *fakeforge.Forge {
	tb.Helper()
	ff := fakeforge.New()
	tb.Cleanup(ff.Close)
	return ff
}

func MustGitHub(tb testing.TB, ff *fakeforge.Forge, token string) *github.Client {
	tb.Helper()
	c, err := github.NewClient(nil).WithAuthToken(token).WithEnterpriseURLs(ff.GitHubAPIURL(), ff.GitHubAPIURL())
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func MustGitLab(tb testing.TB, ff *fakeforge.Forge, token string) *gitlab.Client {
	tb.Helper()
	c, err := gitlab.NewClient(token, gitlab.WithBaseURL(ff.GitLabAPIURL()), gitlab.WithoutRetries())
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestAuth(t *testing.T) {
	ff := MustForge(t)
	tests := []struct {
		name    string
		path    string
		headers map[string]string
		want    int
	}{
		{"github bearer", "/api/v3/user", map[string]string{"Authorization": "Bearer " + fakeforge.Token}, 200},
		{"github token", "/api/v3/user", map[string]string{"Authorization": "token " + fakeforge.Token}, 200},
		{"github none", "/api/v3/user", nil, 401},
		{"github wrong", "/api/v3/user", map[string]string{"Authorization": "Bearer nope"}, 401},
		{"github private-token is not github's", "/api/v3/user", map[string]string{"PRIVATE-TOKEN": fakeforge.Token}, 401},
		{"gitlab private-token", "/api/v4/user", map[string]string{"PRIVATE-TOKEN": fakeforge.Token}, 200},
		{"gitlab bearer", "/api/v4/user", map[string]string{"Authorization": "Bearer " + fakeforge.Token}, 200},
		{"gitlab none", "/api/v4/user", nil, 401},
		{"gitlab wrong", "/api/v4/user", map[string]string{"PRIVATE-TOKEN": "nope"}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, ff.URL()+tt.path, nil)
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

func TestUnknownRouteIsRecorded(t *testing.T) {
	ff := MustForge(t)
	gh := MustGitHub(t, ff, fakeforge.Token)
	_, err := gh.Repositories.DeleteHook(context.Background(), "acme", "app", 1)
	if !isStatus(err, 404) {
		t.Fatalf("DeleteHook: got %v, want 404", err)
	}
	want := []string{"DELETE /api/v3/repos/acme/app/hooks/1"}
	if got := ff.Unhandled(); !slices.Equal(got, want) {
		t.Errorf("unhandled: got %q, want %q", got, want)
	}
	if got := ff.Requests(); !slices.Equal(got, want) {
		t.Errorf("requests: got %q, want %q", got, want)
	}
}

func isStatus(err error, status int) bool {
	var ge *github.ErrorResponse
	if errors.As(err, &ge) {
		return ge.Response.StatusCode == status
	}
	return false
}

func TestFailNextOn(t *testing.T) {
	ff := MustForge(t)
	ff.AddRepo("acme/app")
	gh := MustGitHub(t, ff, fakeforge.Token)
	ctx := context.Background()
	ff.FailNextOn("GET /api/v3/repos/acme/app/tags", 2, 502, map[string]string{"X-Test": "1"})
	if _, _, err := gh.Users.Get(ctx, ""); err != nil {
		t.Fatalf("unmatched route failed: %v", err)
	}
	for i := range 2 {
		_, resp, err := gh.Repositories.ListTags(ctx, "acme", "app", nil)
		if err == nil || resp.StatusCode != 502 || resp.Header.Get("X-Test") != "1" {
			t.Fatalf("call %d: got %v, want the injected 502", i+1, err)
		}
	}
	if _, _, err := gh.Repositories.ListTags(ctx, "acme", "app", nil); err != nil {
		t.Fatalf("third call: got %v, want success", err)
	}
}

func TestGitHubTagsAndReleases(t *testing.T) {
	ff := MustForge(t)
	const repo = "acme/app"
	a, b := "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	ff.AddCommit(repo, a, map[string][]byte{"f": []byte("1")}, "one", "dev")
	ff.AddCommit(repo, b, nil, "two", "dev", a)
	ff.SetBranch(repo, "main", b)
	gh := MustGitHub(t, ff, fakeforge.Token)
	ctx := context.Background()

	ref := &github.Reference{Ref: github.String("refs/tags/v1.0.0"), Object: &github.GitObject{SHA: github.String(a)}}
	if _, _, err := gh.Git.CreateRef(ctx, "acme", "app", ref); err != nil {
		t.Fatalf("CreateRef: %v", err)
	}
	if _, _, err := gh.Git.CreateRef(ctx, "acme", "app", ref); !isStatus(err, 422) {
		t.Errorf("CreateRef again: got %v, want 422", err)
	}
	got, _, err := gh.Git.GetRef(ctx, "acme", "app", "tags/v1.0.0")
	if err != nil || got.GetObject().GetSHA() != a {
		t.Errorf("GetRef: got %v %v, want %s", got, err, a)
	}

	rel := &github.RepositoryRelease{TagName: github.String("v1.0.0"), Name: github.String("1.0.0"), Body: github.String("notes")}
	created, _, err := gh.Repositories.CreateRelease(ctx, "acme", "app", rel)
	if err != nil {
		t.Fatalf("CreateRelease: %v", err)
	}
	if _, _, err := gh.Repositories.CreateRelease(ctx, "acme", "app", rel); !isStatus(err, 422) {
		t.Errorf("CreateRelease again: got %v, want 422", err)
	}
	// A release of a new tag creates the tag from the default branch.
	if _, _, err := gh.Repositories.CreateRelease(ctx, "acme", "app", &github.RepositoryRelease{TagName: github.String("v1.1.0")}); err != nil {
		t.Fatalf("CreateRelease v1.1.0: %v", err)
	}
	byTag, _, err := gh.Repositories.GetReleaseByTag(ctx, "acme", "app", "v1.0.0")
	if err != nil || byTag.GetID() != created.GetID() || byTag.GetBody() != "notes" {
		t.Errorf("GetReleaseByTag: got %v %v, want release %d", byTag, err, created.GetID())
	}
	list, _, err := gh.Repositories.ListReleases(ctx, "acme", "app", nil)
	if err != nil || len(list) != 2 || list[0].GetTagName() != "v1.1.0" {
		t.Errorf("ListReleases: got %v %v, want v1.1.0 then v1.0.0", list, err)
	}
	tags, _, err := gh.Repositories.ListTags(ctx, "acme", "app", nil)
	if err != nil || len(tags) != 2 {
		t.Errorf("ListTags: got %v %v, want 2", tags, err)
	}
	if want := map[string]string{"v1.0.0": a, "v1.1.0": b}; !maps.Equal(ff.Tags(repo), want) {
		t.Errorf("Tags: got %v, want %v", ff.Tags(repo), want)
	}
	if got := ff.Releases(repo); len(got) != 2 || got[0].Tag != "v1.0.0" || got[0].Author != fakeforge.BotLogin {
		t.Errorf("Releases: got %+v, want v1.0.0 and v1.1.0 by the bot", got)
	}
	if u := ff.Unhandled(); len(u) > 0 {
		t.Errorf("unhandled: got %q, want none", u)
	}
}

func TestGitLabTagsAndReleases(t *testing.T) {
	ff := MustForge(t)
	const repo = "acme/platform/api"
	a := "3333333333333333333333333333333333333333"
	ff.AddCommit(repo, a, map[string][]byte{"f": []byte("1")}, "one", "dev")
	ff.SetBranch(repo, "main", a)
	gl := MustGitLab(t, ff, fakeforge.Token)
	ctx := gitlab.WithContext(context.Background())

	opt := &gitlab.CreateTagOptions{TagName: gitlab.Ptr("v1.0.0"), Ref: gitlab.Ptr("main"), Message: gitlab.Ptr("m")}
	if _, _, err := gl.Tags.CreateTag(repo, opt, ctx); err != nil {
		t.Fatalf("CreateTag: %v", err)
	}
	if _, _, err := gl.Tags.CreateTag(repo, opt, ctx); !gitlab.HasStatusCode(err, 400) {
		t.Errorf("CreateTag again: got %v, want 400", err)
	}
	tag, _, err := gl.Tags.GetTag(repo, "v1.0.0", ctx)
	if err != nil || tag.Target != a {
		t.Errorf("GetTag: got %v %v, want target %s", tag, err, a)
	}
	rel := &gitlab.CreateReleaseOptions{TagName: gitlab.Ptr("v1.0.0"), Name: gitlab.Ptr("1.0.0"), Description: gitlab.Ptr("notes")}
	if _, _, err := gl.Releases.CreateRelease(repo, rel, ctx); err != nil {
		t.Fatalf("CreateRelease: %v", err)
	}
	if _, _, err := gl.Releases.CreateRelease(repo, rel, ctx); !gitlab.HasStatusCode(err, 409) {
		t.Errorf("CreateRelease again: got %v, want 409", err)
	}
	// By numeric project id too.
	got, _, err := gl.Releases.GetRelease(int(ff.ProjectID(repo)), "v1.0.0", ctx)
	if err != nil || got.Description != "notes" || got.Commit.ID != a {
		t.Errorf("GetRelease: got %+v %v, want notes on %s", got, err, a)
	}
	if _, _, err := gl.Releases.GetRelease(repo, "v9", ctx); err != gitlab.ErrNotFound {
		t.Errorf("GetRelease v9: got %v, want 404", err)
	}
	list, _, err := gl.Releases.ListReleases(repo, nil, ctx)
	if err != nil || len(list) != 1 {
		t.Errorf("ListReleases: got %v %v, want 1", list, err)
	}
	tags, _, err := gl.Tags.ListTags(repo, nil, ctx)
	if err != nil || len(tags) != 1 || tags[0].Release == nil {
		t.Errorf("ListTags: got %v %v, want v1.0.0 with its release", tags, err)
	}
	if u := ff.Unhandled(); len(u) > 0 {
		t.Errorf("unhandled: got %q, want none", u)
	}
}

func TestConcurrentUse(t *testing.T) {
	ff := MustForge(t)
	const repo = "acme/app"
	head := "4444444444444444444444444444444444444444"
	ff.AddCommit(repo, head, nil, "m", "dev")
	ff.AddPullRequest(repo, fakeforge.PullRequest{Number: 1})
	gh := MustGitHub(t, ff, fakeforge.Token)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			ctx := context.Background()
			st := &github.RepoStatus{State: github.String("pending"), Context: github.String("c")}
			if _, _, err := gh.Repositories.CreateStatus(ctx, "acme", "app", head, st); err != nil {
				t.Errorf("CreateStatus %d: %v", i, err)
			}
			if _, _, err := gh.Issues.CreateComment(ctx, "acme", "app", 1, &github.IssueComment{Body: github.String("x")}); err != nil {
				t.Errorf("CreateComment %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if got := ff.StatusPosts(repo, head, "c"); got != 20 {
		t.Errorf("status posts: got %d, want 20", got)
	}
	if got := len(ff.Comments(repo, 1)); got != 20 {
		t.Errorf("comments: got %d, want 20", got)
	}
}

func TestFailAfterOn(t *testing.T) {
	ff := MustForge(t)
	const repo = "acme/app"
	a := "5555555555555555555555555555555555555555"
	ff.AddCommit(repo, a, nil, "m", "dev")
	gh := MustGitHub(t, ff, fakeforge.Token)
	ctx := context.Background()
	ff.FailAfterOn("POST /api/v3/repos/acme/app/git/refs", 1, 502)
	ref := &github.Reference{Ref: github.String("refs/tags/v1"), Object: &github.GitObject{SHA: github.String(a)}}
	if _, _, err := gh.Git.CreateRef(ctx, "acme", "app", ref); !isStatus(err, 502) {
		t.Fatalf("CreateRef: got %v, want 502", err)
	}
	if got := ff.Tags(repo); got["v1"] != a {
		t.Errorf("tags after the 502: got %v, want v1 at %s (stored anyway)", got, a)
	}
	if _, _, err := gh.Git.CreateRef(ctx, "acme", "app", ref); !isStatus(err, 422) {
		t.Errorf("CreateRef again: got %v, want 422", err)
	}
}

func TestAnnotatedTagsAndReleaseEdits(t *testing.T) {
	ff := MustForge(t)
	const repo = "acme/platform/api"
	a := "6666666666666666666666666666666666666666"
	ff.AddCommit(repo, a, nil, "m", "dev")
	obj := ff.AddAnnotatedTag(repo, "v1", a, "signed")
	ctx := context.Background()

	gh := MustGitHub(t, ff, fakeforge.Token)
	ff.AddCommit("acme/gh", a, nil, "m", "dev")
	ff.AddAnnotatedTag("acme/gh", "v1", a, "signed")
	ref, _, err := gh.Git.GetRef(ctx, "acme", "gh", "tags/v1")
	if err != nil || ref.GetObject().GetType() != "tag" || ref.GetObject().GetSHA() == a {
		t.Fatalf("GetRef: got %v %v, want a tag object", ref, err)
	}
	tagObj, _, err := gh.Git.GetTag(ctx, "acme", "gh", ref.GetObject().GetSHA())
	if err != nil || tagObj.GetObject().GetSHA() != a || tagObj.GetObject().GetType() != "commit" {
		t.Errorf("GetTag: got %v %v, want the commit %s", tagObj, err, a)
	}
	rel, _, err := gh.Repositories.CreateRelease(ctx, "acme", "gh", &github.RepositoryRelease{TagName: github.String("v1"), Body: github.String("old")})
	if err != nil || rel.GetHTMLURL() == "" {
		t.Fatalf("CreateRelease: got %v %v, want a release with an html_url", rel, err)
	}
	edited, _, err := gh.Repositories.EditRelease(ctx, "acme", "gh", rel.GetID(), &github.RepositoryRelease{Body: github.String("new")})
	if err != nil || edited.GetBody() != "new" || edited.GetID() != rel.GetID() {
		t.Errorf("EditRelease: got %v %v, want release %d with body new", edited, err, rel.GetID())
	}
	if _, _, err := gh.Repositories.EditRelease(ctx, "acme", "gh", 1, &github.RepositoryRelease{}); !isStatus(err, 404) {
		t.Errorf("EditRelease of an unknown id: got %v, want 404", err)
	}

	gl := MustGitLab(t, ff, fakeforge.Token)
	glCtx := gitlab.WithContext(ctx)
	tag, _, err := gl.Tags.GetTag(repo, "v1", glCtx)
	if err != nil || tag.Target != obj || tag.Commit.ID != a {
		t.Errorf("GetTag: got %+v %v, want target %s and commit %s", tag, err, obj, a)
	}
	opt := &gitlab.CreateReleaseOptions{TagName: gitlab.Ptr("v1"), Description: gitlab.Ptr("old")}
	if _, _, err := gl.Releases.CreateRelease(repo, opt, glCtx); err != nil {
		t.Fatalf("CreateRelease: %v", err)
	}
	upd := &gitlab.UpdateReleaseOptions{Name: gitlab.Ptr("One"), Description: gitlab.Ptr("new")}
	got, _, err := gl.Releases.UpdateRelease(repo, "v1", upd, glCtx)
	if err != nil || got.Name != "One" || got.Description != "new" || got.Links.Self == "" {
		t.Errorf("UpdateRelease: got %+v %v, want name One, description new, a self link", got, err)
	}
	if _, _, err := gl.Releases.UpdateRelease(repo, "v9", upd, glCtx); err != gitlab.ErrNotFound {
		t.Errorf("UpdateRelease v9: got %v, want 404", err)
	}
	if got := ff.Releases(repo); len(got) != 1 || got[0].Body != "new" {
		t.Errorf("releases: got %+v, want one with body new", got)
	}
}
