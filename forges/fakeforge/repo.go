package fakeforge

import (
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// repo is one repository (GitHub) / project (GitLab).
type repo struct {
	name          string
	id            int64
	defaultBranch string
	// trees maps a commit SHA (or a ref name SetFile used before any commit
	// existed for it) to the files at that commit.
	trees    map[string]map[string][]byte
	commits  map[string]*commit
	branches map[string]string // branch → SHA
	tags     map[string]*tag
	releases []*release
	pulls    map[int]*PullRequest
	comments []*Comment
	statuses map[string][]RecordedStatus // SHA → posts in order
	posts    map[string]int              // SHA + "\x00" + context → status posts
	// protection is what the protection read routes serve (protection.go).
	protection Protection
}

type commit struct {
	sha     string
	message string
	author  string
	// authorID is the account the forge maps the author to, fixed when the
	// commit is added: after a rename GitHub shows that account's new login
	// beside the commit's unchanged name and email.
	authorID int64
	parents  []string
	seq      int
	at       time.Time
}

// PullRequest is a GitHub pull request or a GitLab merge request (Number is the
// MR iid).
type PullRequest struct {
	Number  int
	Title   string
	Author  string
	HeadSHA string
	HeadRef string
	BaseRef string
	// State is "open" (the default), "closed" or "merged"; MergeCommitSHA is
	// served with merged.
	State          string
	MergeCommitSHA string
}

// ghState is the pull request's state and merged flag as GitHub serves them.
func (pr *PullRequest) ghState() (string, bool) {
	switch pr.State {
	case "closed":
		return "closed", false
	case "merged":
		return "closed", true
	}
	return "open", false
}

// glState is the merge request's state as GitLab serves it.
func (pr *PullRequest) glState() string {
	if pr.State == "" || pr.State == "open" {
		return "opened"
	}
	return pr.State
}

// AddRepo creates a repository (a no-op when it exists) and returns its GitLab
// project id. Other setters create repositories on first use too.
func (f *Forge) AddRepo(name string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.repo(name).id
}

// ProjectID returns a repository's GitLab project id, creating the repository
// when needed.
func (f *Forge) ProjectID(name string) int64 { return f.AddRepo(name) }

// repo returns the named repository, creating it. f.mu is held.
func (f *Forge) repo(name string) *repo {
	key := strings.ToLower(name)
	if rp, ok := f.repos[key]; ok {
		return rp
	}
	rp := &repo{
		name:          name,
		id:            f.nextRepo,
		defaultBranch: "main",
		trees:         map[string]map[string][]byte{},
		commits:       map[string]*commit{},
		branches:      map[string]string{},
		tags:          map[string]*tag{},
		pulls:         map[int]*PullRequest{},
		statuses:      map[string][]RecordedStatus{},
		posts:         map[string]int{},
	}
	f.nextRepo++
	f.repos[key] = rp
	f.byID[rp.id] = rp
	return rp
}

// AddCommit adds commit sha with the given parents. files are the changes on
// top of the first parent's tree (the whole tree for a root commit); a nil
// value deletes a file. author is both the forge login and the author's name;
// the email is author@example.com. Commits are ordered by when they were added.
func (f *Forge) AddCommit(repoName, sha string, files map[string][]byte, message, author string, parents ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.repo(repoName)
	tree := map[string][]byte{}
	if len(parents) > 0 {
		maps.Copy(tree, rp.trees[parents[0]])
	}
	for p, content := range files {
		if content == nil {
			delete(tree, p)
		} else {
			tree[p] = content
		}
	}
	f.commitSeq++
	rp.trees[sha] = tree
	rp.commits[sha] = &commit{
		sha: sha, message: message, author: author, authorID: f.userID(author), parents: parents, seq: f.commitSeq,
		at: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(f.commitSeq) * time.Minute),
	}
}

// SetBranch points branch at sha.
func (f *Forge) SetBranch(repoName, branch, sha string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.repo(repoName).branches[branch] = sha
}

// SetFile sets path to content in the tree at ref (a branch, tag or SHA; a ref
// that names nothing yet gets a tree of its own).
func (f *Forge) SetFile(repoName, ref, path string, content []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.repo(repoName)
	key := rp.resolve(ref)
	if key == "" {
		key = ref
	}
	if rp.trees[key] == nil {
		rp.trees[key] = map[string][]byte{}
	}
	rp.trees[key][path] = content
}

// AddPullRequest adds a pull request (GitHub) / merge request (GitLab). Comment
// routes answer 404 for numbers no pull request has.
func (f *Forge) AddPullRequest(repoName string, pr PullRequest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.repo(repoName).pulls[pr.Number] = &pr
}

// resolve turns a branch, tag or SHA into the key of its tree; "" when the ref
// names nothing. An empty ref is the default branch.
func (rp *repo) resolve(ref string) string {
	if ref == "" {
		ref = rp.defaultBranch
	}
	if sha, ok := rp.branches[ref]; ok {
		return sha
	}
	if t, ok := rp.tags[ref]; ok {
		return t.sha
	}
	if _, ok := rp.trees[ref]; ok {
		return ref
	}
	return ""
}

// ghRepo finds the repository of a GitHub route, answering 404 when there is
// none. f.mu is held.
func (f *Forge) ghRepoOf(w http.ResponseWriter, r *http.Request) *repo {
	rp, ok := f.repos[strings.ToLower(r.PathValue("owner")+"/"+r.PathValue("repo"))]
	if !ok {
		writeJSON(w, http.StatusNotFound, ghError("Not Found"))
		return nil
	}
	return rp
}

// glRepoOf finds the project of a GitLab route by numeric id or by its
// URL-escaped path ("acme%2Fplatform%2Fapi"), answering 404 when there is none.
// f.mu is held.
func (f *Forge) glRepoOf(w http.ResponseWriter, r *http.Request) *repo {
	id := r.PathValue("id")
	if n, err := strconv.ParseInt(id, 10, 64); err == nil {
		if rp, ok := f.byID[n]; ok {
			return rp
		}
	} else if rp, ok := f.repos[strings.ToLower(id)]; ok {
		return rp
	}
	writeJSON(w, http.StatusNotFound, glMessage("404 Project Not Found"))
	return nil
}

func (f *Forge) ghUser(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"login": BotLogin, "id": BotID, "type": "User"})
}

func (f *Forge) glUser(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"id": BotID, "username": BotLogin, "name": "patchgate", "state": "active"})
}

// ghUserByLogin answers GET /users/{login} for logins the fake has seen.
func (f *Forge) ghUserByLogin(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	login, id, ok := f.lookupUser(r.PathValue("login"))
	if !ok {
		writeJSON(w, http.StatusNotFound, ghError("Not Found"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"login": login, "id": id, "type": "User"})
}

// glUsers answers GET /users?username= with the one user of that username,
// or none.
func (f *Forge) glUsers(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []map[string]any{}
	if login, id, ok := f.lookupUser(r.URL.Query().Get("username")); ok {
		out = append(out, map[string]any{"id": id, "username": login, "name": login, "state": "active"})
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *Forge) ghRepo(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if rp := f.ghRepoOf(w, r); rp != nil {
		writeJSON(w, http.StatusOK, map[string]any{"id": rp.id, "full_name": rp.name, "default_branch": rp.defaultBranch})
	}
}

func (f *Forge) glProject(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if rp := f.glRepoOf(w, r); rp != nil {
		writeJSON(w, http.StatusOK, map[string]any{
			"id": rp.id, "path_with_namespace": rp.name, "default_branch": rp.defaultBranch,
			"path": rp.name[strings.LastIndex(rp.name, "/")+1:],
			"only_allow_merge_if_all_status_checks_passed": rp.protection.StatusChecksMustSucceed,
		})
	}
}

// pullOf finds the pull/merge request named by the route's number or iid. f.mu is held.
func pullOf(rp *repo, r *http.Request) *PullRequest {
	v := r.PathValue("number")
	if v == "" {
		v = r.PathValue("iid")
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil
	}
	return rp.pulls[n]
}

func (f *Forge) ghPull(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	pr := pullOf(rp, r)
	if pr == nil {
		writeJSON(w, http.StatusNotFound, ghError("Not Found"))
		return
	}
	state, merged := pr.ghState()
	writeJSON(w, http.StatusOK, map[string]any{
		"number": pr.Number, "state": state, "merged": merged, "merge_commit_sha": pr.MergeCommitSHA, "title": pr.Title,
		"user": map[string]any{"login": pr.Author, "id": f.userID(pr.Author)},
		"head": map[string]any{"sha": pr.HeadSHA, "ref": pr.HeadRef},
		"base": map[string]any{"ref": pr.BaseRef},
	})
}

func (f *Forge) glMergeRequest(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	pr := pullOf(rp, r)
	if pr == nil {
		writeJSON(w, http.StatusNotFound, glMessage("404 Not found"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": int64(pr.Number) + rp.id*100000, "iid": pr.Number, "project_id": rp.id, "state": pr.glState(), "merge_commit_sha": pr.MergeCommitSHA,
		"title": pr.Title, "sha": pr.HeadSHA, "source_branch": pr.HeadRef, "target_branch": pr.BaseRef,
		"author": map[string]any{"username": pr.Author, "id": f.userID(pr.Author)},
	})
}
