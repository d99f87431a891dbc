package fakeforge

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// reachable returns the commits reachable from sha, sha included.
func (rp *repo) reachable(sha string) map[string]bool {
	seen := map[string]bool{}
	stack := []string{sha}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		c, ok := rp.commits[s]
		if !ok || seen[s] {
			continue
		}
		seen[s] = true
		stack = append(stack, c.parents...)
	}
	return seen
}

// compare returns the commits reachable from head but not base (oldest first),
// the number reachable from base but not head, and the newest common ancestor.
func (rp *repo) compare(base, head string) (ahead []*commit, behind int, mergeBase *commit) {
	fromBase, fromHead := rp.reachable(base), rp.reachable(head)
	for s := range fromHead {
		if !fromBase[s] {
			ahead = append(ahead, rp.commits[s])
		} else if c := rp.commits[s]; mergeBase == nil || c.seq > mergeBase.seq {
			mergeBase = c
		}
	}
	for s := range fromBase {
		if !fromHead[s] {
			behind++
		}
	}
	slices.SortFunc(ahead, func(a, b *commit) int { return a.seq - b.seq })
	return ahead, behind, mergeBase
}

// commitOf resolves a ref to a known commit.
func (rp *repo) commitOf(ref string) *commit {
	return rp.commits[rp.resolve(ref)]
}

// ghAccount is the account GitHub maps c's author to, under its login now.
// f.mu is held.
func (f *Forge) ghAccount(c *commit) map[string]any {
	login := c.author
	for l, id := range f.users {
		if id == c.authorID {
			login = l
		}
	}
	return map[string]any{"login": login, "id": c.authorID, "type": "User"}
}

func (f *Forge) ghCommit(c *commit) map[string]any {
	if c == nil {
		return nil
	}
	person := map[string]any{"name": c.author, "email": c.author + "@example.com", "date": ts(c.at)}
	parents := []map[string]string{}
	for _, p := range c.parents {
		parents = append(parents, map[string]string{"sha": p})
	}
	return map[string]any{
		"sha":       c.sha,
		"commit":    map[string]any{"message": c.message, "author": person, "committer": person},
		"author":    f.ghAccount(c),
		"committer": f.ghAccount(c),
		"parents":   parents,
	}
}

func glCommit(c *commit) map[string]any {
	if c == nil {
		return nil
	}
	title, _, _ := strings.Cut(c.message, "\n")
	return map[string]any{
		"id": c.sha, "short_id": c.sha[:min(8, len(c.sha))], "title": title, "message": c.message,
		"author_name": c.author, "author_email": c.author + "@example.com", "authored_date": ts(c.at),
		"committer_name": c.author, "committer_email": c.author + "@example.com", "committed_date": ts(c.at),
		"created_at": ts(c.at), "parent_ids": append([]string{}, c.parents...),
	}
}

// ghCompare serves compare/{base}...{head}, paginating the commits (250 a page
// by default, as GitHub does).
func (f *Forge) ghCompare(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	baseRef, headRef, ok := strings.Cut(r.PathValue("basehead"), "...")
	base, head := rp.commitOf(baseRef), rp.commitOf(headRef)
	if !ok || base == nil || head == nil {
		writeJSON(w, http.StatusNotFound, ghError("Not Found"))
		return
	}
	ahead, behind, mergeBase := rp.compare(base.sha, head.sha)
	status := "diverged"
	switch {
	case len(ahead) == 0 && behind == 0:
		status = "identical"
	case behind == 0:
		status = "ahead"
	case len(ahead) == 0:
		status = "behind"
	}
	lo, hi := paginate(w, r, len(ahead), 250, 250)
	commits := []map[string]any{}
	for _, c := range ahead[lo:hi] {
		commits = append(commits, f.ghCommit(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"status": status, "ahead_by": len(ahead), "behind_by": behind, "total_commits": len(ahead),
		"base_commit": f.ghCommit(base), "merge_base_commit": f.ghCommit(mergeBase),
		"commits": commits, "files": ghFiles(rp, mergeBase, head),
	})
}

// glCompare serves repository/compare?from=&to=: the commits in to but not in
// from, oldest first, unpaginated as GitLab does.
func (f *Forge) glCompare(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	q := r.URL.Query()
	from, to := rp.commitOf(q.Get("from")), rp.commitOf(q.Get("to"))
	if q.Get("from") == "" || q.Get("to") == "" || from == nil || to == nil {
		writeJSON(w, http.StatusNotFound, glMessage("404 Ref Not Found"))
		return
	}
	ahead, _, mergeBase := rp.compare(from.sha, to.sha)
	commits := []map[string]any{}
	for _, c := range ahead {
		commits = append(commits, glCommit(c))
	}
	var last map[string]any
	if len(ahead) > 0 {
		last = glCommit(ahead[len(ahead)-1])
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"commit": last, "commits": commits, "diffs": glDiffs(rp, mergeBase, to),
		"compare_timeout": false, "compare_same_ref": q.Get("from") == q.Get("to"),
	})
}

// treeDiff is what changed from the merge base to head (GitHub's three-dot
// compare; GitLab's default straight=false compare).
func (rp *repo) treeDiff(mergeBase, head *commit) []changedFile {
	var from map[string][]byte
	if mergeBase != nil {
		from = rp.trees[mergeBase.sha]
	}
	return diffTrees(from, rp.trees[head.sha])
}

func ghFiles(rp *repo, mergeBase, head *commit) []map[string]any {
	out := []map[string]any{}
	for _, f := range rp.treeDiff(mergeBase, head) {
		file := map[string]any{"filename": f.path, "status": f.status}
		if after, ok := rp.trees[head.sha][f.path]; ok {
			file["sha"] = gitBlobID(after) // GitHub names the new content's blob
		}
		if f.patch != "" {
			file["patch"] = f.patch
		}
		out = append(out, file)
		if len(out) == maxComparedFiles {
			break // GitHub lists at most 300 files of a compare
		}
	}
	return out
}

// maxComparedFiles is GitHub's cap on a compare's file list.
const maxComparedFiles = 300

func glDiffs(rp *repo, mergeBase, head *commit) []map[string]any {
	out := []map[string]any{}
	for _, f := range rp.treeDiff(mergeBase, head) {
		out = append(out, map[string]any{
			"old_path": f.path, "new_path": f.path, "diff": f.patch,
			"new_file": f.status == "added", "deleted_file": f.status == "removed", "renamed_file": false,
		})
	}
	return out
}

// gitBlobID is git's id of a blob holding content.
func gitBlobID(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}
