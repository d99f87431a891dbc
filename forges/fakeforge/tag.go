package fakeforge

import (
	"crypto/sha1"
	"encoding/hex"
	"maps"
	"net/http"
	"slices"
	"strings"
)

type tag struct {
	name    string
	sha     string // the commit
	message string
	// object is the annotated tag object's id; "" for a lightweight tag,
	// whose ref points at the commit itself.
	object string
}

// AddTag creates a lightweight tag name at commit sha, or moves it there.
func (f *Forge) AddTag(repoName, name, sha string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.repo(repoName).tags[name] = &tag{name: name, sha: sha}
}

// AddAnnotatedTag creates an annotated tag name at commit sha (or replaces
// one): its ref points at a tag object, which points at the commit. Returns the
// tag object's id.
func (f *Forge) AddAnnotatedTag(repoName, name, sha, message string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	sum := sha1.Sum([]byte("tag " + name + "\x00" + sha + "\x00" + message))
	t := &tag{name: name, sha: sha, message: message, object: hex.EncodeToString(sum[:])}
	f.repo(repoName).tags[name] = t
	return t.object
}

// Tags returns a repository's tags, name → SHA.
func (f *Forge) Tags(repoName string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]string{}
	for n, t := range f.repo(repoName).tags {
		out[n] = t.sha
	}
	return out
}

// sortedTags returns the tags by name.
func (rp *repo) sortedTags() []*tag {
	var out []*tag
	for _, n := range slices.Sorted(maps.Keys(rp.tags)) {
		out = append(out, rp.tags[n])
	}
	return out
}

func ghRef(ref, sha, typ string) map[string]any {
	return map[string]any{"ref": ref, "node_id": "REF_" + sha[:min(7, len(sha))],
		"object": map[string]any{"sha": sha, "type": typ}}
}

func (f *Forge) ghCreateRef(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	var in struct {
		Ref string `json:"ref"`
		SHA string `json:"sha"`
	}
	if err := readJSON(r, &in); err != nil {
		writeJSON(w, http.StatusBadRequest, ghError("Problems parsing JSON"))
		return
	}
	if rp.commits[in.SHA] == nil {
		writeJSON(w, http.StatusUnprocessableEntity, ghError("Object does not exist"))
		return
	}
	if name, ok := strings.CutPrefix(in.Ref, "refs/tags/"); ok && name != "" {
		if rp.tags[name] != nil {
			writeJSON(w, http.StatusUnprocessableEntity, ghError("Reference already exists"))
			return
		}
		rp.tags[name] = &tag{name: name, sha: in.SHA}
	} else if name, ok := strings.CutPrefix(in.Ref, "refs/heads/"); ok && name != "" {
		if _, exists := rp.branches[name]; exists {
			writeJSON(w, http.StatusUnprocessableEntity, ghError("Reference already exists"))
			return
		}
		rp.branches[name] = in.SHA
	} else {
		writeJSON(w, http.StatusUnprocessableEntity, ghError("Reference name is invalid"))
		return
	}
	writeJSON(w, http.StatusCreated, ghRef(in.Ref, in.SHA, "commit"))
}

func (f *Forge) ghGetRef(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	ref := r.PathValue("ref")
	if name, ok := strings.CutPrefix(ref, "tags/"); ok && rp.tags[name] != nil {
		if t := rp.tags[name]; t.object != "" {
			writeJSON(w, http.StatusOK, ghRef("refs/"+ref, t.object, "tag"))
		} else {
			writeJSON(w, http.StatusOK, ghRef("refs/"+ref, t.sha, "commit"))
		}
		return
	}
	if name, ok := strings.CutPrefix(ref, "heads/"); ok && rp.branches[name] != "" {
		writeJSON(w, http.StatusOK, ghRef("refs/"+ref, rp.branches[name], "commit"))
		return
	}
	writeJSON(w, http.StatusNotFound, ghError("Not Found"))
}

// ghGetTagObject serves an annotated tag object by its id.
func (f *Forge) ghGetTagObject(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	for _, t := range rp.tags {
		if t.object != "" && t.object == r.PathValue("sha") {
			writeJSON(w, http.StatusOK, map[string]any{
				"tag": t.name, "sha": t.object, "message": t.message, "node_id": "TAG_" + t.object[:7],
				"object": map[string]any{"sha": t.sha, "type": "commit"},
			})
			return
		}
	}
	writeJSON(w, http.StatusNotFound, ghError("Not Found"))
}

func (f *Forge) ghListTags(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	tags := rp.sortedTags()
	lo, hi := paginate(w, r, len(tags), 30, 100)
	out := []map[string]any{}
	for _, t := range tags[lo:hi] {
		out = append(out, map[string]any{"name": t.name, "commit": map[string]any{"sha": t.sha}})
	}
	writeJSON(w, http.StatusOK, out)
}

func glTag(rp *repo, t *tag) map[string]any {
	target := t.sha
	if t.object != "" {
		target = t.object
	}
	out := map[string]any{"name": t.name, "message": t.message, "target": target,
		"commit": glCommit(rp.commits[t.sha]), "protected": false, "release": nil}
	if rl := rp.releaseByTag(t.name); rl != nil {
		out["release"] = map[string]any{"tag_name": rl.tag, "description": rl.body}
	}
	return out
}

func (f *Forge) glCreateTag(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	var in struct {
		TagName string `json:"tag_name"`
		Ref     string `json:"ref"`
		Message string `json:"message"`
	}
	if err := readJSON(r, &in); err != nil || in.TagName == "" || in.Ref == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "tag_name, ref are missing"})
		return
	}
	if rp.tags[in.TagName] != nil {
		writeJSON(w, http.StatusBadRequest, glMessage("Tag "+in.TagName+" already exists"))
		return
	}
	c := rp.commitOf(in.Ref)
	if c == nil {
		writeJSON(w, http.StatusBadRequest, glMessage("Target "+in.Ref+" is invalid"))
		return
	}
	t := &tag{name: in.TagName, sha: c.sha, message: in.Message}
	rp.tags[t.name] = t
	writeJSON(w, http.StatusCreated, glTag(rp, t))
}

func (f *Forge) glListTags(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	tags := rp.sortedTags()
	lo, hi := paginate(w, r, len(tags), 20, 100)
	out := []map[string]any{}
	for _, t := range tags[lo:hi] {
		out = append(out, glTag(rp, t))
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *Forge) glGetTag(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	if t := rp.tags[r.PathValue("tag")]; t != nil {
		writeJSON(w, http.StatusOK, glTag(rp, t))
		return
	}
	writeJSON(w, http.StatusNotFound, glMessage("404 Tag Not Found"))
}
