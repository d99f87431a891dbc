package forges

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/go-github/v60/github"
	"github.com/patchgate/patchgate"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

// UpsertComment implements patchgate.Commenter with an issue comment on the pull
// request, written by the token's user.
func (g *GitHub) UpsertComment(ctx context.Context, change *patchgate.Change, marker, body string) error {
	body, err := commentBody(patchgate.GitHub, patchgate.ChangePullRequest, change, marker, body)
	if err != nil {
		return err
	}
	repo := patchgate.RepoRef{Forge: patchgate.GitHub, Name: change.Repo}
	owner, name := ownerName(repo)
	defer g.locks.lock(repo.String() + "#" + strconv.Itoa(change.Number))()
	login, err := g.login(ctx)
	if err != nil {
		return err
	}
	ops := commentOps{
		create: func() (*http.Response, error) {
			_, resp, err := g.client.Issues.CreateComment(ctx, owner, name, change.Number, &github.IssueComment{Body: &body})
			return ghResp(resp), err
		},
		edit: func(id int64) (*http.Response, error) {
			_, resp, err := g.client.Issues.EditComment(ctx, owner, name, id, &github.IssueComment{Body: &body})
			return ghResp(resp), err
		},
		remove: func(id int64) (*http.Response, error) {
			resp, err := g.client.Issues.DeleteComment(ctx, owner, name, id)
			return ghResp(resp), err
		},
	}
	// The whole find-then-write is the unit of retry: after an ambiguous failure
	// (a 502 after GitHub may have stored the comment) it looks again before
	// writing, so a retry never duplicates the comment.
	return g.retry.do(ctx, "upsert comment on "+repo.String()+"#"+strconv.Itoa(change.Number), func() (*http.Response, error) {
		var mine []ownComment
		opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
		for {
			cs, resp, err := g.client.Issues.ListComments(ctx, owner, name, change.Number, opts)
			if err != nil {
				return ghResp(resp), err
			}
			for _, c := range cs {
				if strings.EqualFold(c.GetUser().GetLogin(), login) && strings.Contains(c.GetBody(), marker) {
					mine = append(mine, ownComment{id: c.GetID(), body: c.GetBody()})
				}
			}
			if resp.NextPage == 0 {
				break
			}
			opts.Page = resp.NextPage
		}
		return ops.converge(mine, body)
	})
}

// UpsertComment implements patchgate.Commenter with a note on the merge
// request, written by the token's user; system notes are ignored.
func (g *GitLab) UpsertComment(ctx context.Context, change *patchgate.Change, marker, body string) error {
	body, err := commentBody(patchgate.GitLab, patchgate.ChangeMergeRequest, change, marker, body)
	if err != nil {
		return err
	}
	repo := patchgate.RepoRef{Forge: patchgate.GitLab, Name: change.Repo}
	iid := int64(change.Number)
	defer g.locks.lock(repo.String() + "!" + strconv.Itoa(change.Number))()
	selfID, selfName, err := g.user(ctx)
	if err != nil {
		return err
	}
	ops := commentOps{
		create: func() (*http.Response, error) {
			_, resp, err := g.client.Notes.CreateMergeRequestNote(repo.Name, iid,
				&gitlab.CreateMergeRequestNoteOptions{Body: &body}, gitlab.WithContext(ctx))
			return glResp(resp), err
		},
		edit: func(id int64) (*http.Response, error) {
			_, resp, err := g.client.Notes.UpdateMergeRequestNote(repo.Name, iid, id,
				&gitlab.UpdateMergeRequestNoteOptions{Body: &body}, gitlab.WithContext(ctx))
			return glResp(resp), err
		},
		remove: func(id int64) (*http.Response, error) {
			resp, err := g.client.Notes.DeleteMergeRequestNote(repo.Name, iid, id, gitlab.WithContext(ctx))
			return glResp(resp), err
		},
	}
	asc, byCreated := "asc", "created_at"
	return g.retry.do(ctx, "upsert comment on "+repo.String()+"!"+strconv.Itoa(change.Number), func() (*http.Response, error) {
		var mine []ownComment
		opts := &gitlab.ListMergeRequestNotesOptions{
			ListOptions: gitlab.ListOptions{PerPage: 100, Page: 1}, Sort: &asc, OrderBy: &byCreated,
		}
		for {
			notes, resp, err := g.client.Notes.ListMergeRequestNotes(repo.Name, iid, opts, gitlab.WithContext(ctx))
			if err != nil {
				return glResp(resp), err
			}
			for _, n := range notes {
				own := n.Author.ID == selfID && selfID != 0 || selfID == 0 && strings.EqualFold(n.Author.Username, selfName)
				if own && !n.System && strings.Contains(n.Body, marker) {
					mine = append(mine, ownComment{id: n.ID, body: n.Body})
				}
			}
			if resp.NextPage == 0 {
				break
			}
			opts.Page = resp.NextPage
		}
		return ops.converge(mine, body)
	})
}

// commentBody checks an UpsertComment call and returns the body to post, the
// marker prepended when body lacks it (or the next upsert could not find it).
func commentBody(forge patchgate.Forge, kind patchgate.ChangeKind, change *patchgate.Change, marker, body string) (string, error) {
	if change == nil {
		return "", patchgate.Errorf(patchgate.EINVALID, "comment: no change")
	}
	if change.Kind == patchgate.ChangePush {
		return "", patchgate.Errorf(patchgate.EINVALID, "comment on %s: a push has no pull or merge request to comment on", change.Ref())
	}
	if change.Forge != forge || change.Kind != kind {
		return "", patchgate.Errorf(patchgate.EINVALID, "comment on %s: not a %s %s", change.Ref(), forge, kind)
	}
	if change.Number <= 0 {
		return "", patchgate.Errorf(patchgate.EINVALID, "comment on %s: needs a positive number", change.Ref())
	}
	if err := checkRepo(forge, patchgate.RepoRef{Forge: forge, Name: change.Repo}); err != nil {
		return "", err
	}
	if strings.TrimSpace(marker) == "" {
		return "", patchgate.Errorf(patchgate.EINVALID, "comment on %s: marker required", change.Ref())
	}
	if !strings.Contains(body, marker) {
		body = marker + "\n" + body
	}
	return body, nil
}

// ownComment is one of patchgate's own comments carrying the marker.
type ownComment struct {
	id   int64
	body string
}

// commentOps are one forge's single-attempt comment writes.
type commentOps struct {
	create func() (*http.Response, error)
	edit   func(id int64) (*http.Response, error)
	remove func(id int64) (*http.Response, error)
}

// converge turns the own comments found (oldest first) into exactly one with
// body: create when there is none, delete duplicates, edit only when the body
// differs.
func (o commentOps) converge(mine []ownComment, body string) (*http.Response, error) {
	if len(mine) == 0 {
		return o.create()
	}
	for _, extra := range mine[1:] {
		if resp, err := o.remove(extra.id); err != nil && statusOf(resp) != http.StatusNotFound {
			return resp, err
		}
	}
	if mine[0].body == body {
		return nil, nil
	}
	return o.edit(mine[0].id)
}
