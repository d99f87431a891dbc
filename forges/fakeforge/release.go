package fakeforge

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

type release struct {
	id         int64
	tag        string
	name       string
	body       string
	draft      bool
	prerelease bool
	author     string
	at         time.Time
}

// Release is a release as the fake recorded it.
type Release struct {
	ID         int64
	Tag        string
	Name       string
	Body       string // GitLab's description
	Draft      bool
	Prerelease bool
	Author     string
}

// Releases returns a repository's releases, oldest first.
func (f *Forge) Releases(repoName string) []Release {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Release
	for _, rl := range f.repo(repoName).releases {
		out = append(out, Release{ID: rl.id, Tag: rl.tag, Name: rl.name, Body: rl.body,
			Draft: rl.draft, Prerelease: rl.prerelease, Author: rl.author})
	}
	return out
}

func (rp *repo) releaseByTag(name string) *release {
	for _, rl := range rp.releases {
		if rl.tag == name {
			return rl
		}
	}
	return nil
}

// releaseURL is the release's page, as the forges link it.
func (f *Forge) releaseURL(rp *repo, rl *release, gitlab bool) string {
	if gitlab {
		return f.srv.URL + "/" + rp.name + "/-/releases/" + url.PathEscape(rl.tag)
	}
	return f.srv.URL + "/" + rp.name + "/releases/tag/" + url.PathEscape(rl.tag)
}

func (f *Forge) ghRelease(rp *repo, rl *release) map[string]any {
	return map[string]any{
		"id": rl.id, "tag_name": rl.tag, "html_url": f.releaseURL(rp, rl, false), "name": rl.name, "body": rl.body, "draft": rl.draft,
		"prerelease": rl.prerelease, "created_at": ts(rl.at), "published_at": ts(rl.at),
		"author": map[string]any{"login": rl.author, "id": f.userID(rl.author)},
	}
}

// ghCreateRelease creates the tag from target_commitish (default: the default
// branch) when it does not exist, and refuses a second release for a tag.
func (f *Forge) ghCreateRelease(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	var in struct {
		TagName         string `json:"tag_name"`
		TargetCommitish string `json:"target_commitish"`
		Name            string `json:"name"`
		Body            string `json:"body"`
		Draft           bool   `json:"draft"`
		Prerelease      bool   `json:"prerelease"`
	}
	if err := readJSON(r, &in); err != nil {
		writeJSON(w, http.StatusBadRequest, ghError("Problems parsing JSON"))
		return
	}
	if in.TagName == "" {
		writeJSON(w, http.StatusUnprocessableEntity, ghValidation("Release", "tag_name", "missing_field"))
		return
	}
	if rp.releaseByTag(in.TagName) != nil {
		writeJSON(w, http.StatusUnprocessableEntity, ghValidation("Release", "tag_name", "already_exists"))
		return
	}
	if rp.tags[in.TagName] == nil {
		c := rp.commitOf(in.TargetCommitish)
		if c == nil {
			writeJSON(w, http.StatusUnprocessableEntity, ghValidation("Release", "target_commitish", "invalid"))
			return
		}
		rp.tags[in.TagName] = &tag{name: in.TagName, sha: c.sha}
	}
	rl := &release{id: f.id(), tag: in.TagName, name: in.Name, body: in.Body, draft: in.Draft,
		prerelease: in.Prerelease, author: BotLogin, at: now()}
	rp.releases = append(rp.releases, rl)
	writeJSON(w, http.StatusCreated, f.ghRelease(rp, rl))
}

// ghListReleases lists releases newest first.
func (f *Forge) ghListReleases(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	rls := slices.Clone(rp.releases)
	slices.Reverse(rls)
	lo, hi := paginate(w, r, len(rls), 30, 100)
	out := []map[string]any{}
	for _, rl := range rls[lo:hi] {
		out = append(out, f.ghRelease(rp, rl))
	}
	writeJSON(w, http.StatusOK, out)
}

// ghGetRelease serves releases/{id} and releases/latest.
func (f *Forge) ghGetRelease(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	idText := r.PathValue("id")
	for _, rl := range slices.Backward(rp.releases) {
		latest := idText == "latest" && !rl.draft && !rl.prerelease
		if latest || strconv.FormatInt(rl.id, 10) == idText {
			writeJSON(w, http.StatusOK, f.ghRelease(rp, rl))
			return
		}
	}
	writeJSON(w, http.StatusNotFound, ghError("Not Found"))
}

func (f *Forge) ghGetReleaseByTag(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	if rl := rp.releaseByTag(r.PathValue("tag")); rl != nil {
		writeJSON(w, http.StatusOK, f.ghRelease(rp, rl))
		return
	}
	writeJSON(w, http.StatusNotFound, ghError("Not Found"))
}

func (f *Forge) glRelease(rp *repo, rl *release) map[string]any {
	var c map[string]any
	if t := rp.tags[rl.tag]; t != nil {
		c = glCommit(rp.commits[t.sha])
	}
	return map[string]any{
		"_links":   map[string]any{"self": f.releaseURL(rp, rl, true)},
		"tag_name": rl.tag, "name": rl.name, "description": rl.body, "created_at": ts(rl.at),
		"released_at": ts(rl.at), "upcoming_release": false, "commit": c,
		"author": map[string]any{"username": rl.author, "id": f.userID(rl.author)},
	}
}

// glCreateRelease creates the tag from ref when it does not exist and answers
// 409 for a second release of a tag, as GitLab does.
func (f *Forge) glCreateRelease(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	var in struct {
		TagName     string `json:"tag_name"`
		Name        string `json:"name"`
		Description string `json:"description"`
		Ref         string `json:"ref"`
		TagMessage  string `json:"tag_message"`
	}
	if err := readJSON(r, &in); err != nil || in.TagName == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "tag_name is missing"})
		return
	}
	if rp.releaseByTag(in.TagName) != nil {
		writeJSON(w, http.StatusConflict, glMessage("Release already exists"))
		return
	}
	if rp.tags[in.TagName] == nil {
		if in.Ref == "" {
			writeJSON(w, http.StatusUnprocessableEntity, glMessage("Ref is not specified"))
			return
		}
		c := rp.commitOf(in.Ref)
		if c == nil {
			writeJSON(w, http.StatusUnprocessableEntity, glMessage("Ref "+in.Ref+" is invalid"))
			return
		}
		rp.tags[in.TagName] = &tag{name: in.TagName, sha: c.sha, message: in.TagMessage}
	}
	name := in.Name
	if name == "" {
		name = in.TagName
	}
	rl := &release{id: f.id(), tag: in.TagName, name: name, body: in.Description, author: BotLogin, at: now()}
	rp.releases = append(rp.releases, rl)
	writeJSON(w, http.StatusCreated, f.glRelease(rp, rl))
}

// glListReleases lists releases newest first.
func (f *Forge) glListReleases(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	rls := slices.Clone(rp.releases)
	slices.Reverse(rls)
	lo, hi := paginate(w, r, len(rls), 20, 100)
	out := []map[string]any{}
	for _, rl := range rls[lo:hi] {
		out = append(out, f.glRelease(rp, rl))
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *Forge) glGetRelease(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	if rl := rp.releaseByTag(r.PathValue("tag")); rl != nil {
		writeJSON(w, http.StatusOK, f.glRelease(rp, rl))
		return
	}
	writeJSON(w, http.StatusNotFound, glMessage("404 Not Found"))
}

// ghEditRelease changes a release's name, body, draft and prerelease flags and,
// when tag_name names another tag, its tag (refused when that tag has a release).
func (f *Forge) ghEditRelease(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	var rl *release
	for _, x := range rp.releases {
		if strconv.FormatInt(x.id, 10) == r.PathValue("id") {
			rl = x
		}
	}
	if rl == nil {
		writeJSON(w, http.StatusNotFound, ghError("Not Found"))
		return
	}
	var in struct {
		TagName    *string `json:"tag_name"`
		Name       *string `json:"name"`
		Body       *string `json:"body"`
		Draft      *bool   `json:"draft"`
		Prerelease *bool   `json:"prerelease"`
	}
	if err := readJSON(r, &in); err != nil {
		writeJSON(w, http.StatusBadRequest, ghError("Problems parsing JSON"))
		return
	}
	if in.TagName != nil && *in.TagName != rl.tag {
		if *in.TagName == "" || rp.releaseByTag(*in.TagName) != nil {
			writeJSON(w, http.StatusUnprocessableEntity, ghValidation("Release", "tag_name", "already_exists"))
			return
		}
		rl.tag = *in.TagName
	}
	if in.Name != nil {
		rl.name = *in.Name
	}
	if in.Body != nil {
		rl.body = *in.Body
	}
	if in.Draft != nil {
		rl.draft = *in.Draft
	}
	if in.Prerelease != nil {
		rl.prerelease = *in.Prerelease
	}
	writeJSON(w, http.StatusOK, f.ghRelease(rp, rl))
}

// glUpdateRelease changes a release's name and description.
func (f *Forge) glUpdateRelease(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	rl := rp.releaseByTag(r.PathValue("tag"))
	if rl == nil {
		writeJSON(w, http.StatusNotFound, glMessage("404 Not Found"))
		return
	}
	var in struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
	}
	if err := readJSON(r, &in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid JSON"})
		return
	}
	if in.Name != nil {
		rl.name = *in.Name
	}
	if in.Description != nil {
		rl.body = *in.Description
	}
	writeJSON(w, http.StatusOK, f.glRelease(rp, rl))
}
