package fakeforge

import (
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// RecordedStatus is one commit status a forge accepted.
type RecordedStatus struct {
	API     string // "github" or "gitlab"
	Context string // GitLab's name
	// State is the forge's own word: GitHub pending, success, failure, error;
	// GitLab pending, running, success, failed, canceled, skipped.
	State       string
	Description string
	TargetURL   string
	Author      string
	At          time.Time
}

// Statuses returns the statuses accepted for sha, in the order they were posted.
func (f *Forge) Statuses(repoName, sha string) []RecordedStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]RecordedStatus(nil), f.repo(repoName).statuses[sha]...)
}

// StatusPosts counts the status posts for (sha, context) that reached the forge,
// refused ones included (but not those FailNext intercepted).
func (f *Forge) StatusPosts(repoName, sha, context string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.repo(repoName).posts[sha+"\x00"+context]
}

type statusInput struct {
	State       string `json:"state"`
	TargetURL   string `json:"target_url"`
	Description string `json:"description"`
	Context     string `json:"context"`
	Name        string `json:"name"` // GitLab
}

func (f *Forge) ghCreateStatus(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	var in statusInput
	if err := readJSON(r, &in); err != nil {
		writeJSON(w, http.StatusBadRequest, ghError("Problems parsing JSON"))
		return
	}
	if in.Context == "" {
		in.Context = "default"
	}
	sha := r.PathValue("sha")
	rp.posts[sha+"\x00"+in.Context]++
	if rp.commits[sha] == nil {
		writeJSON(w, http.StatusUnprocessableEntity, ghError("No commit found for SHA: "+sha))
		return
	}
	switch in.State {
	case "pending", "success", "failure", "error":
	default:
		writeJSON(w, http.StatusUnprocessableEntity, ghValidation("Status", "state", "custom"))
		return
	}
	if utf8.RuneCountInString(in.Description) > 140 {
		writeJSON(w, http.StatusUnprocessableEntity, ghValidation("Status", "description", "custom"))
		return
	}
	st := RecordedStatus{API: "github", Context: in.Context, State: in.State, Description: in.Description,
		TargetURL: in.TargetURL, Author: BotLogin, At: now()}
	rp.statuses[sha] = append(rp.statuses[sha], st)
	writeJSON(w, http.StatusCreated, map[string]any{
		"id": f.id(), "state": st.State, "description": st.Description, "target_url": st.TargetURL,
		"context": st.Context, "creator": map[string]any{"login": BotLogin, "id": BotID},
		"created_at": ts(st.At), "updated_at": ts(st.At),
	})
}

// glTransitions names the event GitLab runs to reach each state; GitLab refuses
// to run it when the status is already in that state.
var glTransitions = map[string]string{
	"pending": "enqueue", "running": "run", "success": "success",
	"failed": "drop", "canceled": "cancel", "skipped": "skip",
}

func (f *Forge) glSetStatus(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	var in statusInput
	if err := readJSON(r, &in); err != nil {
		writeJSON(w, http.StatusBadRequest, glMessage("400 Bad request"))
		return
	}
	name := in.Name
	if name == "" {
		name = in.Context
	}
	if name == "" {
		name = "default"
	}
	sha := r.PathValue("sha")
	rp.posts[sha+"\x00"+name]++
	if rp.commits[sha] == nil {
		writeJSON(w, http.StatusNotFound, glMessage("404 References for commit Not Found"))
		return
	}
	event, ok := glTransitions[in.State]
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "state does not have a valid value"})
		return
	}
	for _, prev := range slices.Backward(rp.statuses[sha]) {
		if prev.API == "gitlab" && prev.Context == name {
			if prev.State == in.State {
				writeJSON(w, http.StatusBadRequest, glMessage("Cannot transition status via :"+event+" from :"+prev.State))
				return
			}
			break
		}
	}
	st := RecordedStatus{API: "gitlab", Context: name, State: in.State, Description: in.Description,
		TargetURL: in.TargetURL, Author: BotLogin, At: now()}
	rp.statuses[sha] = append(rp.statuses[sha], st)
	writeJSON(w, http.StatusCreated, f.glStatus(sha, st))
}

func (f *Forge) glStatus(sha string, st RecordedStatus) map[string]any {
	return map[string]any{
		"id": f.id(), "sha": sha, "status": st.State, "name": st.Context, "description": st.Description,
		"target_url": st.TargetURL, "created_at": ts(st.At),
		"author": map[string]any{"username": st.Author, "id": f.userID(st.Author)},
	}
}

func (f *Forge) glListStatuses(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	sha := r.PathValue("sha")
	var sts []RecordedStatus
	for _, st := range rp.statuses[sha] {
		if st.API == "gitlab" && (r.URL.Query().Get("name") == "" || strings.EqualFold(st.Context, r.URL.Query().Get("name"))) {
			sts = append(sts, st)
		}
	}
	lo, hi := paginate(w, r, len(sts), 20, 100)
	out := []map[string]any{}
	for _, st := range sts[lo:hi] {
		out = append(out, f.glStatus(sha, st))
	}
	writeJSON(w, http.StatusOK, out)
}
