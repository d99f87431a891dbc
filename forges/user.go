package forges

import (
	"context"
	"net/http"

	"github.com/patchgate/patchgate"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

var (
	_ patchgate.UserLookup = (*GitHub)(nil)
	_ patchgate.UserLookup = (*GitLab)(nil)
)

func checkLogin(forge patchgate.Forge, login string) error {
	return patchgate.ForgeUser{Forge: forge, Login: login}.Validate()
}

// UserID implements patchgate.UserLookup with GET /users/{login}.
func (g *GitHub) UserID(ctx context.Context, login string) (int64, error) {
	if err := checkLogin(patchgate.GitHub, login); err != nil {
		return 0, err
	}
	var id int64
	err := g.retry.do(ctx, "read user "+login, func() (*http.Response, error) {
		u, resp, err := g.client.Users.Get(ctx, login)
		id = u.GetID()
		return ghResp(resp), err
	})
	if err != nil {
		return 0, err
	}
	if id == 0 {
		return 0, patchgate.Errorf(patchgate.ENOTFOUND, "GitHub names no id for user %s", login)
	}
	return id, nil
}

// UserID implements patchgate.UserLookup with GET /users?username=, which
// answers the one user of that username or none.
func (g *GitLab) UserID(ctx context.Context, login string) (int64, error) {
	if err := checkLogin(patchgate.GitLab, login); err != nil {
		return 0, err
	}
	var id int64
	err := g.retry.do(ctx, "read user "+login, func() (*http.Response, error) {
		us, resp, err := g.client.Users.ListUsers(&gitlab.ListUsersOptions{Username: gitlab.Ptr(login)}, gitlab.WithContext(ctx))
		for _, u := range us {
			if patchgate.SameLogin(u.Username, login) {
				id = u.ID
			}
		}
		return glResp(resp), err
	})
	if err != nil {
		return 0, err
	}
	if id == 0 {
		return 0, patchgate.Errorf(patchgate.ENOTFOUND, "GitLab has no user %s", login)
	}
	return id, nil
}
