package forges

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/patchgate/patchgate"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

var (
	_ patchgate.CommentReader = (*GitHub)(nil)
	_ patchgate.CommentReader = (*GitLab)(nil)
)

func checkReadComment(forge patchgate.Forge, repo patchgate.RepoRef, number int, id int64) error {
	if err := checkAuthor(forge, repo, number); err != nil {
		return err
	}
	if id <= 0 {
		return patchgate.Errorf(patchgate.EINVALID, "comment id %d: want a positive number", id)
	}
	return nil
}

// ReadComment implements patchgate.CommentReader with
// GET /repos/{o}/{r}/issues/comments/{id}. GitHub names the PR a comment is on
// only by its issue URL, whose last segment is the number.
func (g *GitHub) ReadComment(ctx context.Context, repo patchgate.RepoRef, number int, id int64) (*patchgate.ForgeComment, error) {
	if err := checkReadComment(patchgate.GitHub, repo, number, id); err != nil {
		return nil, err
	}
	owner, name := ownerName(repo)
	var out *patchgate.ForgeComment
	err := g.retry.do(ctx, "read comment "+strconv.FormatInt(id, 10)+" of "+repo.Name, func() (*http.Response, error) {
		c, resp, err := g.client.Issues.GetComment(ctx, owner, name, id)
		if err == nil && c != nil {
			out = &patchgate.ForgeComment{ID: c.GetID(), AuthorID: c.GetUser().GetID(), Author: c.GetUser().GetLogin(),
				Body: c.GetBody(), CreatedAt: c.GetCreatedAt().Time, UpdatedAt: c.GetUpdatedAt().Time}
			issueURL := c.GetIssueURL()
			out.Number, _ = strconv.Atoi(issueURL[strings.LastIndex(issueURL, "/")+1:])
		}
		return ghResp(resp), err
	})
	if err != nil {
		return nil, err
	}
	if out.Number != number {
		return nil, patchgate.Errorf(patchgate.ENOTFOUND, "GitHub has no comment %d on %s#%d", id, repo.Name, number)
	}
	return out, nil
}

// ReadComment implements patchgate.CommentReader with
// GET /projects/:id/merge_requests/:iid/notes/:note: GitLab finds the note
// only on that merge request.
func (g *GitLab) ReadComment(ctx context.Context, repo patchgate.RepoRef, number int, id int64) (*patchgate.ForgeComment, error) {
	if err := checkReadComment(patchgate.GitLab, repo, number, id); err != nil {
		return nil, err
	}
	var out *patchgate.ForgeComment
	err := g.retry.do(ctx, "read note "+strconv.FormatInt(id, 10)+" of "+repo.Name+"!"+strconv.Itoa(number), func() (*http.Response, error) {
		n, resp, err := g.client.Notes.GetMergeRequestNote(repo.Name, int64(number), id, gitlab.WithContext(ctx))
		if err == nil && n != nil {
			out = &patchgate.ForgeComment{ID: n.ID, Number: number, AuthorID: n.Author.ID, Author: n.Author.Username, Body: n.Body}
			if n.NoteableIID != 0 {
				out.Number = int(n.NoteableIID)
			}
			if n.CreatedAt != nil {
				out.CreatedAt = *n.CreatedAt
			}
			if n.UpdatedAt != nil {
				out.UpdatedAt = *n.UpdatedAt
			}
		}
		return glResp(resp), err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ReadChange implements patchgate.CommentReader with
// GET /repos/{o}/{r}/pulls/{n}: the head, the opener and the state GitHub
// reports now.
func (g *GitHub) ReadChange(ctx context.Context, repo patchgate.RepoRef, number int) (*patchgate.ForgeChange, error) {
	if err := checkAuthor(patchgate.GitHub, repo, number); err != nil {
		return nil, err
	}
	owner, name := ownerName(repo)
	var out *patchgate.ForgeChange
	err := g.retry.do(ctx, "read "+repo.Name+"#"+strconv.Itoa(number), func() (*http.Response, error) {
		pr, resp, err := g.client.PullRequests.Get(ctx, owner, name, number)
		if err == nil && pr != nil {
			out = &patchgate.ForgeChange{Number: pr.GetNumber(), HeadSHA: pr.GetHead().GetSHA(), AuthorID: pr.GetUser().GetID(),
				Author: pr.GetUser().GetLogin(), Open: pr.GetState() == "open"}
		}
		return ghResp(resp), err
	})
	if err != nil {
		return nil, err
	}
	if out.Number != number {
		return nil, patchgate.Errorf(patchgate.ENOTFOUND, "GitHub answered #%d for %s#%d", out.Number, repo.Name, number)
	}
	return out, nil
}

// ReadChange implements patchgate.CommentReader with
// GET /projects/:id/merge_requests/:iid: the head (sha), the author and the
// state GitLab reports now.
func (g *GitLab) ReadChange(ctx context.Context, repo patchgate.RepoRef, number int) (*patchgate.ForgeChange, error) {
	if err := checkAuthor(patchgate.GitLab, repo, number); err != nil {
		return nil, err
	}
	var out *patchgate.ForgeChange
	err := g.retry.do(ctx, "read "+repo.Name+"!"+strconv.Itoa(number), func() (*http.Response, error) {
		mr, resp, err := g.client.MergeRequests.GetMergeRequest(repo.Name, int64(number), nil, gitlab.WithContext(ctx))
		if err == nil && mr != nil {
			out = &patchgate.ForgeChange{Number: int(mr.IID), HeadSHA: mr.SHA, Open: mr.State == "opened"}
			if mr.Author != nil {
				out.AuthorID, out.Author = mr.Author.ID, mr.Author.Username
			}
		}
		return glResp(resp), err
	})
	if err != nil {
		return nil, err
	}
	if out.Number != number {
		return nil, patchgate.Errorf(patchgate.ENOTFOUND, "GitLab answered !%d for %s!%d", out.Number, repo.Name, number)
	}
	return out, nil
}
