package forges

import (
	"context"
	"net/http"
	"strconv"

	"github.com/patchgate/patchgate"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

var (
	_ patchgate.AuthorFinder = (*GitHub)(nil)
	_ patchgate.AuthorFinder = (*GitLab)(nil)
)

func checkAuthor(forge patchgate.Forge, repo patchgate.RepoRef, number int) error {
	if err := checkRepo(forge, repo); err != nil {
		return err
	}
	if number <= 0 {
		return patchgate.Errorf(patchgate.EINVALID, "change number %d: want a positive number", number)
	}
	return nil
}

// ChangeAuthor implements patchgate.AuthorFinder with GET /repos/{o}/{r}/pulls/{n}.
func (g *GitHub) ChangeAuthor(ctx context.Context, repo patchgate.RepoRef, number int) (string, error) {
	if err := checkAuthor(patchgate.GitHub, repo, number); err != nil {
		return "", err
	}
	owner, name := ownerName(repo)
	var login string
	err := g.retry.do(ctx, "read "+repo.Name+"#"+strconv.Itoa(number), func() (*http.Response, error) {
		pr, resp, err := g.client.PullRequests.Get(ctx, owner, name, number)
		login = pr.GetUser().GetLogin()
		return ghResp(resp), err
	})
	if err != nil {
		return "", err
	}
	if login == "" {
		return "", patchgate.Errorf(patchgate.ENOTFOUND, "GitHub names no author of %s#%d", repo.Name, number)
	}
	return login, nil
}

// ChangeAuthor implements patchgate.AuthorFinder with
// GET /projects/:id/merge_requests/:iid, whose author has a username (merge
// request hooks name the author only by id).
func (g *GitLab) ChangeAuthor(ctx context.Context, repo patchgate.RepoRef, number int) (string, error) {
	if err := checkAuthor(patchgate.GitLab, repo, number); err != nil {
		return "", err
	}
	var login string
	err := g.retry.do(ctx, "read "+repo.Name+"!"+strconv.Itoa(number), func() (*http.Response, error) {
		mr, resp, err := g.client.MergeRequests.GetMergeRequest(repo.Name, int64(number), nil, gitlab.WithContext(ctx))
		if mr != nil && mr.Author != nil {
			login = mr.Author.Username
		}
		return glResp(resp), err
	})
	if err != nil {
		return "", err
	}
	if login == "" {
		return "", patchgate.Errorf(patchgate.ENOTFOUND, "GitLab names no author of %s!%d", repo.Name, number)
	}
	return login, nil
}
