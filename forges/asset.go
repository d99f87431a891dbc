package forges

import (
	"bytes"
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
	_ patchgate.ReleaseAssets = (*GitHub)(nil)
	_ patchgate.ReleaseAssets = (*GitLab)(nil)
)

// Attaching an asset reads before it writes, like publishing: an asset of
// the name already on the release is kept, so a retried promotion (or a
// racing one) attaches the evidence pack once.

// AttachReleaseAsset implements patchgate.ReleaseAssets with GitHub's release
// asset upload (uploads.github.com, or /api/uploads/ on GitHub Enterprise).
func (g *GitHub) AttachReleaseAsset(ctx context.Context, repo patchgate.RepoRef, rel *patchgate.ForgeRelease, name, mediaType string, data []byte) (string, error) {
	if err := checkRepo(patchgate.GitHub, repo); err != nil {
		return "", err
	}
	id, err := strconv.ParseInt(rel.ID, 10, 64)
	if err != nil {
		return "", patchgate.Errorf(patchgate.EINVALID, "release %s in %s has no GitHub release id (%q): publish it first", rel.Tag, repo, rel.ID)
	}
	owner, repoName := ownerName(repo)
	var link string
	err = g.retry.do(ctx, "attach "+name+" to release "+rel.Tag+" in "+repo.String(), func() (*http.Response, error) {
		found, resp, err := g.findAsset(ctx, owner, repoName, id, name)
		if err != nil || found != "" {
			link = found
			return resp, err
		}
		u := g.uploadURL() + fmt.Sprintf("repos/%s/%s/releases/%d/assets?name=%s", url.PathEscape(owner), url.PathEscape(repoName), id, url.QueryEscape(name))
		req, err := g.client.NewUploadRequest(u, bytes.NewReader(data), int64(len(data)), mediaType)
		if err != nil {
			return nil, err
		}
		asset := new(github.ReleaseAsset)
		ghr, err := g.client.Do(ctx, req, asset)
		if ghAlreadyExists(err) { // a racing upload got there first
			found, resp, err = g.findAsset(ctx, owner, repoName, id, name)
			link = found
			return resp, err
		}
		link = asset.GetBrowserDownloadURL()
		return ghResp(ghr), err
	})
	return link, err
}

// findAsset returns the download URL of release id's asset called name, ""
// when it has none.
func (g *GitHub) findAsset(ctx context.Context, owner, repo string, id int64, name string) (string, *http.Response, error) {
	opts := &github.ListOptions{PerPage: 100}
	for {
		assets, ghr, err := g.client.Repositories.ListReleaseAssets(ctx, owner, repo, id, opts)
		if err != nil {
			return "", ghResp(ghr), err
		}
		for _, a := range assets {
			if a.GetName() == name {
				return a.GetBrowserDownloadURL(), nil, nil
			}
		}
		if ghr.NextPage == 0 {
			return "", nil, nil
		}
		opts.Page = ghr.NextPage
	}
}

// uploadURL is where release assets are uploaded: uploads.github.com, or
// https://HOST/api/uploads/ on GitHub Enterprise (go-github derives
// /api/v3/api/uploads/ from the API URL patchgate gives it, which no server
// answers).
func (g *GitHub) uploadURL() string {
	u := *g.client.UploadURL
	if strings.HasSuffix(u.Path, "/api/v3/api/uploads/") {
		u.Path = strings.TrimSuffix(u.Path, "v3/api/uploads/") + "uploads/"
	}
	return u.String()
}

// evidencePackage is the GitLab generic package that holds release assets.
const evidencePackage = "patchgate-evidence"

// AttachReleaseAsset implements patchgate.ReleaseAssets on GitLab, whose
// releases carry links, not files: the file goes to the project's generic
// package registry (package patchgate-evidence, version the tag) and the
// release gets a link to it.
func (g *GitLab) AttachReleaseAsset(ctx context.Context, repo patchgate.RepoRef, rel *patchgate.ForgeRelease, name, mediaType string, data []byte) (string, error) {
	if err := checkRepo(patchgate.GitLab, repo); err != nil {
		return "", err
	}
	var link string
	err := g.retry.do(ctx, "attach "+name+" to release "+rel.Tag+" in "+repo.String(), func() (*http.Response, error) {
		found, resp, err := g.findLink(ctx, repo, rel.Tag, name)
		if err != nil || found != "" {
			link = found
			return resp, err
		}
		_, glr, err := g.client.GenericPackages.PublishPackageFile(repo.Name, evidencePackage, rel.Tag, name, bytes.NewReader(data), nil, gitlab.WithContext(ctx))
		if err != nil {
			return glResp(glr), err
		}
		// The download URL as people read it (the client escapes dots too).
		download := strings.TrimSuffix(g.base, "/") + "/projects/" + url.PathEscape(repo.Name) + "/packages/generic/" +
			evidencePackage + "/" + url.PathEscape(rel.Tag) + "/" + url.PathEscape(name)
		other := gitlab.OtherLinkType
		l, glr, err := g.client.ReleaseLinks.CreateReleaseLink(repo.Name, rel.Tag, &gitlab.CreateReleaseLinkOptions{
			Name: &name, URL: &download, LinkType: &other}, gitlab.WithContext(ctx))
		var er *gitlab.ErrorResponse
		if errors.As(err, &er) && (er.HasStatusCode(http.StatusBadRequest) || er.HasStatusCode(http.StatusUnprocessableEntity)) &&
			strings.Contains(er.Message, "taken") { // a racing attach linked it first
			found, resp, err = g.findLink(ctx, repo, rel.Tag, name)
			link = found
			return resp, err
		}
		if err != nil {
			return glResp(glr), err
		}
		link = l.URL
		return nil, nil
	})
	return link, err
}

// findLink returns the URL of the release's link called name, "" when none.
func (g *GitLab) findLink(ctx context.Context, repo patchgate.RepoRef, tag, name string) (string, *http.Response, error) {
	links, glr, err := g.client.ReleaseLinks.ListReleaseLinks(repo.Name, tag, &gitlab.ListReleaseLinksOptions{ListOptions: gitlab.ListOptions{PerPage: 100}}, gitlab.WithContext(ctx))
	if err != nil {
		return "", glResp(glr), err
	}
	for _, l := range links {
		if l.Name == name {
			return l.URL, nil, nil
		}
	}
	return "", nil, nil
}
