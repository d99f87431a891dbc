package webhooks

import (
	"encoding/json"

	"github.com/patchgate/patchgate"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

// gitlabNote reads comments. gitlab.ParseWebhook would fail on noteable types
// it does not know, which must be ignored rather than rejected, so the type is
// peeked here and the body decoded straight into the library's own types.
func gitlabNote(event string, body []byte) (*patchgate.Event, error) {
	var peek struct {
		ObjectKind       string `json:"object_kind"`
		ObjectAttributes struct {
			NoteableType string `json:"noteable_type"`
			System       bool   `json:"system"`
			Action       string `json:"action"`
		} `json:"object_attributes"`
	}
	if err := json.Unmarshal(body, &peek); err != nil {
		return nil, invalidJSON(event, err)
	}
	if peek.ObjectKind != "note" {
		return nil, wrongKind(event, peek.ObjectKind)
	}
	oa := peek.ObjectAttributes
	if oa.System {
		return nil, ignoredf("system notes are not used")
	}
	var action string
	switch oa.Action {
	case "create", "": // older GitLab versions send no action: every note hook was a new note
		action = "created"
	case "update":
		action = "edited"
	default:
		return nil, ignoredf("note action %q is not used", oa.Action)
	}
	n := note{event: event, action: action}
	switch oa.NoteableType {
	case "Issue":
		var e gitlab.IssueCommentEvent
		if err := json.Unmarshal(body, &e); err != nil {
			return nil, invalidJSON(event, err)
		}
		a := &e.ObjectAttributes
		n.repo, n.repoID, n.id, n.body, n.url, n.createdAt, n.updatedAt = e.Project.PathWithNamespace, e.ProjectID, a.ID, a.Note, a.URL, a.CreatedAt, a.UpdatedAt
		n.authorID = a.AuthorID
		n.iid = e.Issue.IID
		if e.User != nil {
			n.userID, n.username = e.User.ID, e.User.Username
		}
	case "MergeRequest":
		var e gitlab.MergeCommentEvent
		if err := json.Unmarshal(body, &e); err != nil {
			return nil, invalidJSON(event, err)
		}
		a := &e.ObjectAttributes
		n.repo, n.repoID, n.id, n.body, n.url, n.createdAt, n.updatedAt = e.Project.PathWithNamespace, e.ProjectID, a.ID, a.Note, a.URL, a.CreatedAt, a.UpdatedAt
		n.authorID = a.AuthorID
		n.iid, n.onChange = e.MergeRequest.IID, true
		if e.User != nil {
			n.userID, n.username = e.User.ID, e.User.Username
		}
	case "Commit":
		var e gitlab.CommitCommentEvent
		if err := json.Unmarshal(body, &e); err != nil {
			return nil, invalidJSON(event, err)
		}
		a := &e.ObjectAttributes
		n.repo, n.repoID, n.id, n.body, n.url, n.createdAt, n.updatedAt = e.Project.PathWithNamespace, e.ProjectID, a.ID, a.Note, a.URL, a.CreatedAt, a.UpdatedAt
		n.authorID = a.AuthorID
		n.onCommit, n.commit = true, a.CommitID
		if e.Commit != nil && e.Commit.ID != "" {
			n.commit = e.Commit.ID
		}
		if e.User != nil {
			n.userID, n.username = e.User.ID, e.User.Username
		}
	default:
		return nil, ignoredf("comments on %q are not used", oa.NoteableType)
	}
	return n.toEvent()
}

// note gathers what the three GitLab comment payload types share.
type note struct {
	event, action string
	repo          string
	repoID        int64
	id            int64
	body, url     string
	// userID and username are the hook's user: whoever acted (wrote,
	// edited), not necessarily the note's author, named only by authorID.
	userID, authorID     int64
	username             string
	createdAt, updatedAt string
	iid                  int64
	onChange             bool
	onCommit             bool
	commit               string
}

func (n *note) toEvent() (*patchgate.Event, error) {
	repo, err := repoName(n.event, n.repo)
	if err != nil {
		return nil, err
	}
	c := &patchgate.CommentEvent{
		ID:       n.id,
		Body:     n.body,
		URL:      n.url,
		OnChange: n.onChange,
	}
	if n.authorID != 0 && n.userID == n.authorID {
		c.Author = n.username
	}
	if n.onCommit {
		if n.commit == "" {
			return nil, ignoredf("commit note names no commit")
		}
		if err := checkSHA("commit_id", n.commit, true); err != nil {
			return nil, err
		}
		c.CommitSHA = n.commit
	} else {
		what := "issue"
		if n.onChange {
			what = "merge request"
		}
		if c.Number, err = gitlabIID(what, n.iid); err != nil {
			return nil, err
		}
	}
	if c.CreatedAt, err = gitlabTime("created_at", n.createdAt); err != nil {
		return nil, err
	}
	if c.UpdatedAt, err = gitlabTime("updated_at", n.updatedAt); err != nil {
		return nil, err
	}
	return &patchgate.Event{
		Source:  patchgate.SourceGitLab,
		Forge:   patchgate.GitLab,
		Kind:    patchgate.EventComment,
		Name:    n.event,
		Action:  n.action,
		Repo:    repo,
		RepoID:  n.repoID,
		Sender:  n.username,
		Comment: c,
	}, nil
}
