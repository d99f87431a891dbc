package fakeforge

import (
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Comment is a GitHub issue comment on a pull request or a GitLab merge
// request note. Comments made through the API are written by BotLogin.
type Comment struct {
	ID        int64
	Number    int // PR number / MR iid
	Author    string
	Body      string
	CreatedAt time.Time
	UpdatedAt time.Time
	// Edits counts the API edits of this comment.
	Edits int
}

// ghMaxCommentBody is GitHub's limit on a comment body, in characters.
const ghMaxCommentBody = 65536

// AddComment adds a comment by author on pull request number (which is created
// when missing) and returns its id. Use it for comments that patchgate did not
// write, or to seed old ones.
func (f *Forge) AddComment(repoName string, number int, author, body string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.repo(repoName)
	if rp.pulls[number] == nil {
		rp.pulls[number] = &PullRequest{Number: number}
	}
	f.userID(author)
	c := &Comment{ID: f.id(), Number: number, Author: author, Body: body, CreatedAt: now(), UpdatedAt: now()}
	rp.comments = append(rp.comments, c)
	return c.ID
}

// PutComment stores c as the forge has it, on pull request c.Number (created
// when missing), replacing any comment with the same id, and returns its id.
// A zero ID gets a fresh one, zero times are now and an unset UpdatedAt is
// CreatedAt. Use it to give a test's webhook comment its record on the forge,
// or a different one.
func (f *Forge) PutComment(repoName string, c Comment) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.repo(repoName)
	if rp.pulls[c.Number] == nil {
		rp.pulls[c.Number] = &PullRequest{Number: c.Number}
	}
	f.userID(c.Author)
	if c.ID == 0 {
		c.ID = f.id()
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now()
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	for i, old := range rp.comments {
		if old.ID == c.ID {
			rp.comments[i] = &c
			return c.ID
		}
	}
	rp.comments = append(rp.comments, &c)
	return c.ID
}

// Comments returns the comments on pull request number, oldest first.
func (f *Forge) Comments(repoName string, number int) []Comment {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Comment
	for _, c := range f.repo(repoName).comments {
		if c.Number == number {
			out = append(out, *c)
		}
	}
	return out
}

// commentsOn returns the comments on pr, oldest first. f.mu is held.
func commentsOn(rp *repo, pr *PullRequest) []*Comment {
	var out []*Comment
	for _, c := range rp.comments {
		if c.Number == pr.Number {
			out = append(out, c)
		}
	}
	return out
}

// commentByID finds a comment in rp, restricted to pr when pr is not nil. f.mu is held.
func commentByID(rp *repo, pr *PullRequest, idText string) (int, *Comment) {
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return -1, nil
	}
	for i, c := range rp.comments {
		if c.ID == id && (pr == nil || c.Number == pr.Number) {
			return i, c
		}
	}
	return -1, nil
}

func (f *Forge) ghComment(rp *repo, c *Comment) map[string]any {
	return map[string]any{
		"id": c.ID, "node_id": "IC_" + strconv.FormatInt(c.ID, 10), "body": c.Body,
		"user":       map[string]any{"login": c.Author, "id": f.userID(c.Author), "type": "User"},
		"created_at": ts(c.CreatedAt), "updated_at": ts(c.UpdatedAt),
		"html_url":  f.srv.URL + "/" + rp.name + "/pull/" + strconv.Itoa(c.Number) + "#issuecomment-" + strconv.FormatInt(c.ID, 10),
		"issue_url": f.srv.URL + "/api/v3/repos/" + rp.name + "/issues/" + strconv.Itoa(c.Number),
	}
}

func (f *Forge) glNote(rp *repo, c *Comment) map[string]any {
	return map[string]any{
		"id": c.ID, "type": nil, "body": c.Body, "system": false,
		"author":        map[string]any{"id": f.userID(c.Author), "username": c.Author, "name": c.Author},
		"noteable_type": "MergeRequest", "noteable_iid": c.Number, "project_id": rp.id,
		"created_at": ts(c.CreatedAt), "updated_at": ts(c.UpdatedAt),
	}
}

// ghCommentBody reads and validates a comment body as GitHub does.
func ghCommentBody(w http.ResponseWriter, r *http.Request) (string, bool) {
	var in struct {
		Body string `json:"body"`
	}
	if err := readJSON(r, &in); err != nil {
		writeJSON(w, http.StatusBadRequest, ghError("Problems parsing JSON"))
		return "", false
	}
	if in.Body == "" {
		writeJSON(w, http.StatusUnprocessableEntity, ghValidation("IssueComment", "body", "missing_field"))
		return "", false
	}
	if utf8.RuneCountInString(in.Body) > ghMaxCommentBody {
		writeJSON(w, http.StatusUnprocessableEntity, ghValidation("IssueComment", "body", "too_long"))
		return "", false
	}
	return in.Body, true
}

func (f *Forge) ghListComments(w http.ResponseWriter, r *http.Request) {
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
	cs := commentsOn(rp, pr)
	lo, hi := paginate(w, r, len(cs), 30, 100)
	out := []map[string]any{}
	for _, c := range cs[lo:hi] {
		out = append(out, f.ghComment(rp, c))
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *Forge) ghCreateComment(w http.ResponseWriter, r *http.Request) {
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
	body, ok := ghCommentBody(w, r)
	if !ok {
		return
	}
	c := &Comment{ID: f.id(), Number: pr.Number, Author: f.actor(r), Body: body, CreatedAt: now(), UpdatedAt: now()}
	rp.comments = append(rp.comments, c)
	writeJSON(w, http.StatusCreated, f.ghComment(rp, c))
}

// ghIssueGet routes GET .../issues/{number}/comments (list) and GET
// .../issues/comments/{id} (one comment).
func (f *Forge) ghIssueGet(w http.ResponseWriter, r *http.Request) {
	switch a, b := r.PathValue("a"), r.PathValue("b"); {
	case a == "comments":
		r.SetPathValue("id", b)
		f.ghGetComment(w, r)
	case b == "comments":
		r.SetPathValue("number", a)
		f.ghListComments(w, r)
	default:
		f.notFound(w, r)
	}
}

// ghGetComment answers one comment by id, whatever PR it is on, as GitHub does.
func (f *Forge) ghGetComment(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	_, c := commentByID(rp, nil, r.PathValue("id"))
	if c == nil {
		writeJSON(w, http.StatusNotFound, ghError("Not Found"))
		return
	}
	writeJSON(w, http.StatusOK, f.ghComment(rp, c))
}

func (f *Forge) ghEditComment(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	_, c := commentByID(rp, nil, r.PathValue("id"))
	if c == nil {
		writeJSON(w, http.StatusNotFound, ghError("Not Found"))
		return
	}
	body, ok := ghCommentBody(w, r)
	if !ok {
		return
	}
	c.Body, c.UpdatedAt = body, now()
	c.Edits++
	writeJSON(w, http.StatusOK, f.ghComment(rp, c))
}

func (f *Forge) ghDeleteComment(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	i, c := commentByID(rp, nil, r.PathValue("id"))
	if c == nil {
		writeJSON(w, http.StatusNotFound, ghError("Not Found"))
		return
	}
	rp.comments = slices.Delete(rp.comments, i, i+1)
	w.WriteHeader(http.StatusNoContent)
}

// glNoteTarget finds the project and merge request of a notes route, answering
// 404 when either is missing. f.mu is held.
func (f *Forge) glNoteTarget(w http.ResponseWriter, r *http.Request) (*repo, *PullRequest) {
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return nil, nil
	}
	pr := pullOf(rp, r)
	if pr == nil {
		writeJSON(w, http.StatusNotFound, glMessage("404 Not found"))
		return nil, nil
	}
	return rp, pr
}

// glNoteBody reads a note body; GitLab refuses an empty one.
func glNoteBody(w http.ResponseWriter, r *http.Request) (string, bool) {
	var in struct {
		Body string `json:"body"`
	}
	if err := readJSON(r, &in); err != nil || in.Body == "" {
		writeJSON(w, http.StatusBadRequest, glMessage("400 Bad request - body is missing"))
		return "", false
	}
	return in.Body, true
}

// glListNotes lists notes newest first unless sort=asc, as GitLab does.
func (f *Forge) glListNotes(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp, pr := f.glNoteTarget(w, r)
	if pr == nil {
		return
	}
	cs := commentsOn(rp, pr)
	if r.URL.Query().Get("order_by") == "updated_at" {
		slices.SortStableFunc(cs, func(a, b *Comment) int { return a.UpdatedAt.Compare(b.UpdatedAt) })
	}
	if r.URL.Query().Get("sort") != "asc" {
		slices.Reverse(cs)
	}
	lo, hi := paginate(w, r, len(cs), 20, 100)
	out := []map[string]any{}
	for _, c := range cs[lo:hi] {
		out = append(out, f.glNote(rp, c))
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *Forge) glCreateNote(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp, pr := f.glNoteTarget(w, r)
	if pr == nil {
		return
	}
	body, ok := glNoteBody(w, r)
	if !ok {
		return
	}
	c := &Comment{ID: f.id(), Number: pr.Number, Author: BotLogin, Body: body, CreatedAt: now(), UpdatedAt: now()}
	rp.comments = append(rp.comments, c)
	writeJSON(w, http.StatusCreated, f.glNote(rp, c))
}

// glFindNote finds the note of the request's merge request, or answers 404
// (or glNoteTarget's error) and returns a nil comment. Callers hold f.mu.
func (f *Forge) glFindNote(w http.ResponseWriter, r *http.Request) (*repo, int, *Comment) {
	rp, pr := f.glNoteTarget(w, r)
	if pr == nil {
		return nil, 0, nil
	}
	i, c := commentByID(rp, pr, r.PathValue("note"))
	if c == nil {
		writeJSON(w, http.StatusNotFound, glMessage("404 Note Not Found"))
	}
	return rp, i, c
}

// glGetNote answers one note of the merge request; GitLab does not find a
// note of another merge request by this route.
func (f *Forge) glGetNote(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp, _, c := f.glFindNote(w, r)
	if c == nil {
		return
	}
	writeJSON(w, http.StatusOK, f.glNote(rp, c))
}

func (f *Forge) glUpdateNote(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp, _, c := f.glFindNote(w, r)
	if c == nil {
		return
	}
	body, ok := glNoteBody(w, r)
	if !ok {
		return
	}
	c.Body, c.UpdatedAt = body, now()
	c.Edits++
	writeJSON(w, http.StatusOK, f.glNote(rp, c))
}

func (f *Forge) glDeleteNote(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp, i, c := f.glFindNote(w, r)
	if c == nil {
		return
	}
	rp.comments = slices.Delete(rp.comments, i, i+1)
	w.WriteHeader(http.StatusNoContent)
}
