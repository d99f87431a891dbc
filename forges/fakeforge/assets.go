package fakeforge

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Release assets: GitHub uploads files onto a release; GitLab releases carry
// links, here to files in the project's generic package registry. Both are
// kept as the real forges keep them, so a test reads back what was attached.

// assetStore holds uploaded assets and generic package files. f.mu guards it.
type assetStore struct {
	// github maps a release id to its assets in upload order.
	github map[int64][]*asset
	// packages maps "project id/package/version/file" to its bytes.
	packages map[string][]byte
	// links maps "project id/tag" to the release's links.
	links map[string][]*asset
}

type asset struct {
	id          int64
	name        string
	contentType string
	data        []byte // GitHub's upload; nil for a GitLab link
	url         string
}

// ReleaseAsset is an asset as the fake recorded it: a GitHub upload, or a
// GitLab release link with the package file it points at (Data nil when it
// points elsewhere).
type ReleaseAsset struct {
	Name        string
	ContentType string
	URL         string
	Data        []byte
}

// ReleaseAssets returns the assets of repoName's release tag, oldest first.
func (f *Forge) ReleaseAssets(repoName, tag string) []ReleaseAsset {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.repo(repoName)
	rl := rp.releaseByTag(tag)
	if rl == nil {
		return nil
	}
	var out []ReleaseAsset
	for _, a := range f.assets.github[rl.id] {
		out = append(out, ReleaseAsset{Name: a.name, ContentType: a.contentType, URL: a.url, Data: a.data})
	}
	prefix := f.srv.URL + "/api/v4/projects/"
	for _, l := range f.assets.links[strconv.FormatInt(rp.id, 10)+"/"+tag] {
		ra := ReleaseAsset{Name: l.name, URL: l.url}
		if rest, ok := strings.CutPrefix(l.url, prefix); ok {
			ra.Data = f.assets.packages[f.packageKey(rest)]
		}
		out = append(out, ra)
	}
	return out
}

// packageKey turns "PROJECT/packages/generic/PKG/VERSION/FILE" (the project
// by id or escaped path) into the store's key. f.mu is held.
func (f *Forge) packageKey(rest string) string {
	project, path, _ := strings.Cut(rest, "/packages/generic/")
	if unescaped, err := url.PathUnescape(project); err == nil {
		project = unescaped
	}
	segments := strings.Split(path, "/")
	for i, seg := range segments {
		if unescaped, err := url.PathUnescape(seg); err == nil {
			segments[i] = unescaped
		}
	}
	path = strings.Join(segments, "/")
	if _, err := strconv.ParseInt(project, 10, 64); err != nil {
		project = strconv.FormatInt(f.repo(project).id, 10)
	}
	return project + "/" + path
}

// assetRoutes adds the asset routes to the route table.
func (f *Forge) assetRoutes() {
	f.assets = assetStore{github: map[int64][]*asset{}, packages: map[string][]byte{}, links: map[string][]*asset{}}
	// releases/{id}/assets overlaps releases/tags/{tag...} as a pattern: one
	// route under releases/ takes what the others leave.
	f.mux.HandleFunc("GET /api/v3/repos/{owner}/{repo}/releases/{rest...}", f.ghListAssets)
	f.mux.HandleFunc("POST /api/uploads/repos/{owner}/{repo}/releases/{id}/assets", f.ghUploadAsset)
	f.mux.HandleFunc("GET /_downloads/{owner}/{repo}/{tag}/{name}", f.ghDownloadAsset)
	f.mux.HandleFunc("PUT /api/v4/projects/{id}/packages/generic/{pkg}/{version}/{file}", f.glPutPackageFile)
	f.mux.HandleFunc("GET /api/v4/projects/{id}/packages/generic/{pkg}/{version}/{file}", f.glGetPackageFile)
	f.mux.HandleFunc("GET /api/v4/projects/{id}/releases/{tag}/assets/links", f.glListLinks)
	f.mux.HandleFunc("POST /api/v4/projects/{id}/releases/{tag}/assets/links", f.glCreateLink)
}

func (f *Forge) ghAsset(a *asset) map[string]any {
	return map[string]any{"id": a.id, "name": a.name, "content_type": a.contentType, "size": len(a.data),
		"state": "uploaded", "browser_download_url": a.url, "uploader": map[string]any{"login": BotLogin, "id": BotID}}
}

// ghReleaseByID finds release id of the request's repository. f.mu is held.
func (f *Forge) ghReleaseByID(w http.ResponseWriter, r *http.Request, id string) (*repo, *release) {
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return nil, nil
	}
	for _, rl := range rp.releases {
		if strconv.FormatInt(rl.id, 10) == id {
			return rp, rl
		}
	}
	writeJSON(w, http.StatusNotFound, ghError("Not Found"))
	return nil, nil
}

// ghListAssets serves releases/{id}/assets; any other path under releases/
// that no other route took is not found.
func (f *Forge) ghListAssets(w http.ResponseWriter, r *http.Request) {
	id, rest, _ := strings.Cut(r.PathValue("rest"), "/")
	if rest != "assets" {
		f.notFound(w, r)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, rl := f.ghReleaseByID(w, r, id)
	if rl == nil {
		return
	}
	out := []map[string]any{}
	for _, a := range f.assets.github[rl.id] {
		out = append(out, f.ghAsset(a))
	}
	writeJSON(w, http.StatusOK, out)
}

// ghUploadAsset stores an upload; a second asset of the same name is
// refused as GitHub refuses it.
func (f *Forge) ghUploadAsset(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, ghError("Problems reading the body"))
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rp, rl := f.ghReleaseByID(w, r, r.PathValue("id"))
	if rl == nil {
		return
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		writeJSON(w, http.StatusUnprocessableEntity, ghValidation("ReleaseAsset", "name", "missing_field"))
		return
	}
	for _, a := range f.assets.github[rl.id] {
		if a.name == name {
			writeJSON(w, http.StatusUnprocessableEntity, ghValidation("ReleaseAsset", "name", "already_exists"))
			return
		}
	}
	a := &asset{id: f.id(), name: name, contentType: r.Header.Get("Content-Type"), data: data,
		url: f.srv.URL + "/_downloads/" + rp.name + "/" + url.PathEscape(rl.tag) + "/" + url.PathEscape(name)}
	f.assets.github[rl.id] = append(f.assets.github[rl.id], a)
	writeJSON(w, http.StatusCreated, f.ghAsset(a))
}

// ghDownloadAsset serves an asset's bytes, as browser_download_url does.
func (f *Forge) ghDownloadAsset(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.repo(r.PathValue("owner") + "/" + r.PathValue("repo"))
	if rl := rp.releaseByTag(r.PathValue("tag")); rl != nil {
		for _, a := range f.assets.github[rl.id] {
			if a.name == r.PathValue("name") {
				w.Header().Set("Content-Type", a.contentType)
				_, _ = w.Write(a.data)
				return
			}
		}
	}
	http.NotFound(w, r)
}

func (f *Forge) glPackagePath(rp *repo, r *http.Request) string {
	return strconv.FormatInt(rp.id, 10) + "/" + r.PathValue("pkg") + "/" + r.PathValue("version") + "/" + r.PathValue("file")
}

// glPutPackageFile stores a generic package file (a later upload of the
// same file replaces it for downloads, as GitLab serves the newest).
func (f *Forge) glPutPackageFile(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, glMessage("400 Bad request"))
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	f.assets.packages[f.glPackagePath(rp, r)] = data
	writeJSON(w, http.StatusCreated, glMessage("201 Created"))
}

func (f *Forge) glGetPackageFile(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	data, ok := f.assets.packages[f.glPackagePath(rp, r)]
	if !ok {
		writeJSON(w, http.StatusNotFound, glMessage("404 Package Not Found"))
		return
	}
	_, _ = w.Write(data)
}

func glLink(a *asset) map[string]any {
	return map[string]any{"id": a.id, "name": a.name, "url": a.url, "direct_asset_url": a.url, "link_type": a.contentType}
}

// glReleaseOf finds the release of the request's project and tag. f.mu is held.
func (f *Forge) glReleaseOf(w http.ResponseWriter, r *http.Request) (*repo, *release) {
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return nil, nil
	}
	rl := rp.releaseByTag(r.PathValue("tag"))
	if rl == nil {
		writeJSON(w, http.StatusNotFound, glMessage("404 Not found"))
		return nil, nil
	}
	return rp, rl
}

func (f *Forge) glListLinks(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp, rl := f.glReleaseOf(w, r)
	if rl == nil {
		return
	}
	out := []map[string]any{}
	for _, l := range f.assets.links[strconv.FormatInt(rp.id, 10)+"/"+rl.tag] {
		out = append(out, glLink(l))
	}
	writeJSON(w, http.StatusOK, out)
}

// glCreateLink adds a link; a second link of the same name is refused as
// GitLab refuses it.
func (f *Forge) glCreateLink(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name     string `json:"name"`
		URL      string `json:"url"`
		LinkType string `json:"link_type"`
	}
	if err := readJSON(r, &in); err != nil {
		writeJSON(w, http.StatusBadRequest, glMessage("400 Bad request"))
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	rp, rl := f.glReleaseOf(w, r)
	if rl == nil {
		return
	}
	if in.Name == "" || in.URL == "" {
		writeJSON(w, http.StatusBadRequest, glMessage("400 Bad request - name and url are missing"))
		return
	}
	key := strconv.FormatInt(rp.id, 10) + "/" + rl.tag
	for _, l := range f.assets.links[key] {
		if l.name == in.Name {
			writeJSON(w, http.StatusBadRequest, map[string]any{"message": map[string]any{"name": []string{"has already been taken"}}})
			return
		}
	}
	if in.LinkType == "" {
		in.LinkType = "other"
	}
	l := &asset{id: f.id(), name: in.Name, contentType: in.LinkType, url: in.URL}
	f.assets.links[key] = append(f.assets.links[key], l)
	writeJSON(w, http.StatusCreated, glLink(l))
}
