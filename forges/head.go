package forges

import (
	"context"
	"net/http"
	"strconv"

	"github.com/patchgate/patchgate"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

// ChangeHead reads what GitHub says about a pull request now
// (GET /repos/{o}/{r}/pulls/{n}): its head, state and merge commit, for
// reconciliation.
func (g *GitHub) ChangeHead(ctx context.Context, repo patchgate.RepoRef, number int) (*patchgate.ForgeHead, error) {
	if err := checkAuthor(patchgate.GitHub, repo, number); err != nil {
		return nil, err
	}
	owner, name := ownerName(repo)
	var out patchgate.ForgeHead
	err := g.retry.do(ctx, "read "+repo.Name+"#"+strconv.Itoa(number), func() (*http.Response, error) {
		pr, resp, err := g.client.PullRequests.Get(ctx, owner, name, number)
		if pr != nil {
			out.HeadSHA = pr.GetHead().GetSHA()
			out.State = patchgate.ChangeOpen
			switch {
			case pr.GetMerged():
				out.State, out.MergeCommitSHA = patchgate.ChangeMerged, pr.GetMergeCommitSHA()
			case pr.GetState() == "closed":
				out.State = patchgate.ChangeClosed
			}
			out.UpdatedAt = pr.GetUpdatedAt().Time
		}
		return ghResp(resp), err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// BranchHead reads the commit a GitHub branch points at now
// (GET /repos/{o}/{r}/git/ref/heads/{branch}).
func (g *GitHub) BranchHead(ctx context.Context, repo patchgate.RepoRef, branch string) (*patchgate.ForgeHead, error) {
	if err := checkRepo(patchgate.GitHub, repo); err != nil {
		return nil, err
	}
	owner, name := ownerName(repo)
	var out patchgate.ForgeHead
	err := g.retry.do(ctx, "read "+repo.Name+"@"+branch, func() (*http.Response, error) {
		ref, resp, err := g.client.Git.GetRef(ctx, owner, name, "heads/"+branch)
		if ref != nil {
			out.HeadSHA = ref.GetObject().GetSHA()
		}
		return ghResp(resp), err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// ChangeHead reads what GitLab says about a merge request now
// (GET /projects/:id/merge_requests/:iid).
func (g *GitLab) ChangeHead(ctx context.Context, repo patchgate.RepoRef, number int) (*patchgate.ForgeHead, error) {
	if err := checkAuthor(patchgate.GitLab, repo, number); err != nil {
		return nil, err
	}
	var out patchgate.ForgeHead
	err := g.retry.do(ctx, "read "+repo.Name+"!"+strconv.Itoa(number), func() (*http.Response, error) {
		mr, resp, err := g.client.MergeRequests.GetMergeRequest(repo.Name, int64(number), nil, gitlab.WithContext(ctx))
		if mr != nil {
			out.HeadSHA = mr.SHA
			switch mr.State {
			case "merged":
				out.State, out.MergeCommitSHA = patchgate.ChangeMerged, mr.MergeCommitSHA
			case "closed", "locked":
				out.State = patchgate.ChangeClosed
			default:
				out.State = patchgate.ChangeOpen
			}
			if mr.UpdatedAt != nil {
				out.UpdatedAt = *mr.UpdatedAt
			}
		}
		return glResp(resp), err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// BranchHead reads the commit a GitLab branch points at now
// (GET /projects/:id/repository/branches/:branch).
func (g *GitLab) BranchHead(ctx context.Context, repo patchgate.RepoRef, branch string) (*patchgate.ForgeHead, error) {
	if err := checkRepo(patchgate.GitLab, repo); err != nil {
		return nil, err
	}
	var out patchgate.ForgeHead
	err := g.retry.do(ctx, "read "+repo.Name+"@"+branch, func() (*http.Response, error) {
		b, resp, err := g.client.Branches.GetBranch(repo.Name, branch, gitlab.WithContext(ctx))
		if b != nil && b.Commit != nil {
			out.HeadSHA = b.Commit.ID
		}
		return glResp(resp), err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
