package forges

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/google/go-github/v60/github"
	"github.com/patchgate/patchgate"
)

// AppID is the GitHub App's id in App mode, 0 with a token.
func (g *GitHub) AppID() int64 {
	if g.app == nil {
		return 0
	}
	return g.app.app.ID
}

// CheckRun reads check run id of repo back from GitHub, so that a
// requested_action delivery's claims about it (whose run, which commit) are
// never taken from the payload. ENOTFOUND when there is no such run.
func (g *GitHub) CheckRun(ctx context.Context, repo patchgate.RepoRef, id int64) (*patchgate.ForgeCheckRun, error) {
	if err := checkRepo(patchgate.GitHub, repo); err != nil {
		return nil, err
	}
	owner, name := ownerName(repo)
	var cr *github.CheckRun
	err := g.retry.do(ctx, "read check run "+repo.String()+"#"+strconv.FormatInt(id, 10), func() (*http.Response, error) {
		var resp *github.Response
		var err error
		cr, resp, err = g.client.Checks.GetCheckRun(ctx, owner, name, id)
		return ghResp(resp), err
	})
	if err != nil {
		return nil, err
	}
	return &patchgate.ForgeCheckRun{ID: cr.GetID(), Name: cr.GetName(), HeadSHA: cr.GetHeadSHA(),
		ExternalID: cr.GetExternalID(), AppID: cr.GetApp().GetID()}, nil
}

// RepoRole asks GitHub for login's role on repo
// (GET /repos/{o}/{r}/collaborators/{login}/permission). The role is the
// answer's role_name, which tells maintain from write and triage from read;
// the legacy permission field folds them.
func (g *GitHub) RepoRole(ctx context.Context, repo patchgate.RepoRef, login string) (patchgate.RepoRole, error) {
	if err := checkRepo(patchgate.GitHub, repo); err != nil {
		return patchgate.RepoRole{}, err
	}
	if err := checkLogin(patchgate.GitHub, login); err != nil {
		return patchgate.RepoRole{}, err
	}
	owner, name := ownerName(repo)
	var out struct {
		Permission string `json:"permission"`
		RoleName   string `json:"role_name"`
		User       struct {
			ID    int64  `json:"id"`
			Login string `json:"login"`
		} `json:"user"`
	}
	err := g.retry.do(ctx, "read "+login+"'s permission on "+repo.String(), func() (*http.Response, error) {
		req, err := g.client.NewRequest(http.MethodGet, "repos/"+owner+"/"+name+"/collaborators/"+url.PathEscape(login)+"/permission", nil)
		if err != nil {
			return nil, err
		}
		resp, err := g.client.Do(ctx, req, &out)
		return ghResp(resp), err
	})
	if err != nil {
		return patchgate.RepoRole{}, err
	}
	role := out.RoleName
	if role == "" {
		role = out.Permission
	}
	return patchgate.RepoRole{Login: out.User.Login, UserID: out.User.ID, Role: role}, nil
}
