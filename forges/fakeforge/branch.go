package fakeforge

import "net/http"

// glGetBranch serves GET /projects/:id/repository/branches/:branch: the
// commit the branch points at (what SetBranch set).
func (f *Forge) glGetBranch(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	name := r.PathValue("branch")
	sha, ok := rp.branches[name]
	if !ok {
		writeJSON(w, http.StatusNotFound, glMessage("404 Branch Not Found"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name": name, "default": name == rp.defaultBranch,
		"commit": map[string]any{"id": sha, "short_id": sha[:min(8, len(sha))]},
	})
}
