package forges

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/go-github/v60/github"
	"github.com/patchgate/patchgate"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

var (
	_ patchgate.Releaser = (*GitHub)(nil)
	_ patchgate.Releaser = (*GitLab)(nil)
)

// Publishing is two steps, tag then release, and each step is one unit of
// retry that reads before it writes: after an ambiguous failure (a 502 after
// the forge stored the tag or release) the retry finds what the failed call
// made instead of making it twice. A write refused because the object already
// exists (another process got there first) reads again and compares, so
// racing publishers converge on one tag and one release. A crash between the
// steps leaves a tag at the right commit, which the next call reuses.

// checkRelease validates a PublishRelease call and defaults the name.
func checkRelease(forge patchgate.Forge, repo patchgate.RepoRef, r *patchgate.ForgeRelease) error {
	if err := checkRepo(forge, repo); err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return err
	}
	if r.Name == "" {
		r.Name = r.Tag
	}
	return nil
}

// tagConflict is the error for a tag that exists at another commit.
func tagConflict(repo patchgate.RepoRef, tag, at, want string) error {
	return patchgate.Errorf(patchgate.ECONFLICT, "tag %s in %s points at %s, not %s; patchgate never moves a tag",
		tag, repo, at, want)
}

// maxTagDepth bounds how many annotated tag objects a tag may go through
// before it reaches its commit (git allows tags of tags).
const maxTagDepth = 5

// PublishRelease implements patchgate.Releaser with a lightweight tag (a git
// ref, no tag object) and a release. A tag that exists, lightweight or
// annotated, is only ever read.
func (g *GitHub) PublishRelease(ctx context.Context, repo patchgate.RepoRef, r patchgate.ForgeRelease) (*patchgate.ForgeRelease, error) {
	if err := checkRelease(patchgate.GitHub, repo, &r); err != nil {
		return nil, err
	}
	owner, name := ownerName(repo)
	action := "tag " + r.Tag + " at " + r.SHA + " in " + repo.String()
	var at string
	err := g.retry.do(ctx, action, func() (*http.Response, error) {
		var resp *http.Response
		var err error
		if at, resp, err = g.tagCommit(ctx, owner, name, r.Tag); statusOf(resp) != http.StatusNotFound {
			return resp, err
		}
		ref := &github.Reference{Ref: github.String("refs/tags/" + r.Tag), Object: &github.GitObject{SHA: github.String(r.SHA)}}
		_, ghr, err := g.client.Git.CreateRef(ctx, owner, name, ref)
		switch {
		case err == nil:
			at = r.SHA
			return nil, nil
		case ghRefused(err, "Reference already exists"):
			at, resp, err = g.tagCommit(ctx, owner, name, r.Tag)
			return resp, err
		}
		return ghResp(ghr), err
	})
	if ghRefused(err, "Object does not exist") {
		return nil, fmt.Errorf("%w (%w)", patchgate.Errorf(patchgate.ENOTFOUND, "%s: no such commit on github", action), err)
	}
	if err != nil {
		return nil, err
	}
	if at != r.SHA {
		return nil, tagConflict(repo, r.Tag, at, r.SHA)
	}

	var rel *github.RepositoryRelease
	err = g.retry.do(ctx, "publish release "+r.Tag+" in "+repo.String(), func() (*http.Response, error) {
		var ghr *github.Response
		var err error
		rel, ghr, err = g.client.Repositories.GetReleaseByTag(ctx, owner, name, escapeSegments(r.Tag))
		if statusOf(ghResp(ghr)) == http.StatusNotFound {
			// TargetCommitish only matters should the tag vanish in between:
			// GitHub would then recreate it, at the same commit.
			rel, ghr, err = g.client.Repositories.CreateRelease(ctx, owner, name, &github.RepositoryRelease{
				TagName: &r.Tag, TargetCommitish: &r.SHA, Name: &r.Name, Body: &r.Notes,
			})
			if ghAlreadyExists(err) {
				rel, ghr, err = g.client.Repositories.GetReleaseByTag(ctx, owner, name, escapeSegments(r.Tag))
			}
		}
		if err != nil {
			return ghResp(ghr), err
		}
		if rel.GetName() != r.Name || rel.GetBody() != r.Notes {
			rel, ghr, err = g.client.Repositories.EditRelease(ctx, owner, name, rel.GetID(), &github.RepositoryRelease{
				Name: &r.Name, Body: &r.Notes,
			})
		}
		return ghResp(ghr), err
	})
	if err != nil {
		return nil, err
	}
	return ghRelease(rel, r.SHA), nil
}

// FindRelease implements patchgate.Releaser; the SHA is read from the tag,
// since a release's target_commitish may name a branch.
func (g *GitHub) FindRelease(ctx context.Context, repo patchgate.RepoRef, tag string) (*patchgate.ForgeRelease, error) {
	if err := checkRepo(patchgate.GitHub, repo); err != nil {
		return nil, err
	}
	if err := patchgate.ValidateTagName(tag); err != nil {
		return nil, err
	}
	owner, name := ownerName(repo)
	var rel *github.RepositoryRelease
	err := g.retry.do(ctx, "find release "+tag+" in "+repo.String(), func() (*http.Response, error) {
		var resp *github.Response
		var err error
		rel, resp, err = g.client.Repositories.GetReleaseByTag(ctx, owner, name, escapeSegments(tag))
		return ghResp(resp), err
	})
	if err != nil {
		return nil, err
	}
	var at string
	err = g.retry.do(ctx, "read tag "+tag+" in "+repo.String(), func() (*http.Response, error) {
		var resp *http.Response
		var err error
		if at, resp, err = g.tagCommit(ctx, owner, name, tag); statusOf(resp) == http.StatusNotFound {
			return nil, nil
		}
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	return ghRelease(rel, at), nil
}

// tagCommit returns the commit tag points at, following annotated tag objects.
// A 404 response means there is no such tag (or repository). One attempt.
func (g *GitHub) tagCommit(ctx context.Context, owner, name, tag string) (string, *http.Response, error) {
	ref, resp, err := g.client.Git.GetRef(ctx, owner, name, "tags/"+tag)
	if err != nil {
		return "", ghResp(resp), err
	}
	obj := ref.GetObject()
	for range maxTagDepth {
		if obj.GetType() != "tag" {
			break
		}
		t, resp, err := g.client.Git.GetTag(ctx, owner, name, obj.GetSHA())
		if err != nil {
			return "", ghResp(resp), err
		}
		obj = t.GetObject()
	}
	if obj.GetType() != "commit" {
		// A tag of a tree or blob, or tags nested too deep: it is not at a
		// commit, so it is not at the one asked for either.
		return obj.GetType() + " " + obj.GetSHA(), nil, nil
	}
	return obj.GetSHA(), nil, nil
}

// ghRefused reports whether err is GitHub's 422 with message msg.
func ghRefused(err error, msg string) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response != nil &&
		er.Response.StatusCode == http.StatusUnprocessableEntity && strings.Contains(er.Message, msg)
}

// ghAlreadyExists reports whether err is GitHub's 422 for a second release of a tag.
func ghAlreadyExists(err error) bool {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	for _, e := range er.Errors {
		if e.Code == "already_exists" {
			return true
		}
	}
	return false
}

// escapeSegments escapes each "/"-separated segment of a tag for a URL path:
// go-github puts GetReleaseByTag's tag into the path as given, where "#", "?"
// or "%" would change which release is asked for.
func escapeSegments(tag string) string {
	parts := strings.Split(tag, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

func ghRelease(rel *github.RepositoryRelease, sha string) *patchgate.ForgeRelease {
	return &patchgate.ForgeRelease{
		Tag: rel.GetTagName(), SHA: sha, Name: rel.GetName(), Notes: rel.GetBody(),
		URL: rel.GetHTMLURL(), ID: strconv.FormatInt(rel.GetID(), 10),
	}
}

// PublishRelease implements patchgate.Releaser with a lightweight tag (no
// message) and a release. A tag that exists, lightweight or annotated, is only
// ever read.
func (g *GitLab) PublishRelease(ctx context.Context, repo patchgate.RepoRef, r patchgate.ForgeRelease) (*patchgate.ForgeRelease, error) {
	if err := checkRelease(patchgate.GitLab, repo, &r); err != nil {
		return nil, err
	}
	action := "tag " + r.Tag + " at " + r.SHA + " in " + repo.String()
	var at string
	err := g.retry.do(ctx, action, func() (*http.Response, error) {
		t, resp, err := g.client.Tags.GetTag(repo.Name, r.Tag, gitlab.WithContext(ctx))
		if statusOf(glResp(resp)) == http.StatusNotFound {
			t, resp, err = g.client.Tags.CreateTag(repo.Name,
				&gitlab.CreateTagOptions{TagName: &r.Tag, Ref: &r.SHA}, gitlab.WithContext(ctx))
			if glRefused(err, "already exists") {
				t, resp, err = g.client.Tags.GetTag(repo.Name, r.Tag, gitlab.WithContext(ctx))
			}
		}
		if err != nil {
			return glResp(resp), err
		}
		if at = t.Target; t.Commit != nil {
			at = t.Commit.ID // the commit behind an annotated tag's object
		}
		return nil, nil
	})
	if glRefused(err, "Target "+r.SHA+" is invalid") {
		return nil, fmt.Errorf("%w (%w)", patchgate.Errorf(patchgate.ENOTFOUND, "%s: no such commit on gitlab", action), err)
	}
	if err != nil {
		return nil, err
	}
	if at != r.SHA {
		return nil, tagConflict(repo, r.Tag, at, r.SHA)
	}

	var rel *gitlab.Release
	err = g.retry.do(ctx, "publish release "+r.Tag+" in "+repo.String(), func() (*http.Response, error) {
		var resp *gitlab.Response
		var err error
		rel, resp, err = g.client.Releases.GetRelease(repo.Name, r.Tag, gitlab.WithContext(ctx))
		if statusOf(glResp(resp)) == http.StatusNotFound {
			// Ref only matters should the tag vanish in between: GitLab would
			// then recreate it, at the same commit.
			rel, resp, err = g.client.Releases.CreateRelease(repo.Name, &gitlab.CreateReleaseOptions{
				TagName: &r.Tag, Name: &r.Name, Description: &r.Notes, Ref: &r.SHA,
			}, gitlab.WithContext(ctx))
			var er *gitlab.ErrorResponse
			if errors.As(err, &er) && er.HasStatusCode(http.StatusConflict) {
				rel, resp, err = g.client.Releases.GetRelease(repo.Name, r.Tag, gitlab.WithContext(ctx))
			}
		}
		if err != nil {
			return glResp(resp), err
		}
		if rel.Name != r.Name || rel.Description != r.Notes {
			rel, resp, err = g.client.Releases.UpdateRelease(repo.Name, r.Tag,
				&gitlab.UpdateReleaseOptions{Name: &r.Name, Description: &r.Notes}, gitlab.WithContext(ctx))
		}
		return glResp(resp), err
	})
	if err != nil {
		return nil, err
	}
	out := glRelease(rel)
	out.SHA = r.SHA
	return out, nil
}

// FindRelease implements patchgate.Releaser; GitLab reports the tag's commit
// with the release.
func (g *GitLab) FindRelease(ctx context.Context, repo patchgate.RepoRef, tag string) (*patchgate.ForgeRelease, error) {
	if err := checkRepo(patchgate.GitLab, repo); err != nil {
		return nil, err
	}
	if err := patchgate.ValidateTagName(tag); err != nil {
		return nil, err
	}
	var rel *gitlab.Release
	err := g.retry.do(ctx, "find release "+tag+" in "+repo.String(), func() (*http.Response, error) {
		var resp *gitlab.Response
		var err error
		rel, resp, err = g.client.Releases.GetRelease(repo.Name, tag, gitlab.WithContext(ctx))
		return glResp(resp), err
	})
	if err != nil {
		return nil, err
	}
	return glRelease(rel), nil
}

// glRefused reports whether err is GitLab's 400 whose message contains msg.
func glRefused(err error, msg string) bool {
	var er *gitlab.ErrorResponse
	return errors.As(err, &er) && er.HasStatusCode(http.StatusBadRequest) && strings.Contains(er.Message, msg)
}

func glRelease(rel *gitlab.Release) *patchgate.ForgeRelease {
	return &patchgate.ForgeRelease{
		Tag: rel.TagName, SHA: rel.Commit.ID, Name: rel.Name, Notes: rel.Description,
		URL: rel.Links.Self, ID: rel.TagName,
	}
}
