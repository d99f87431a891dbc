package forges

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/patchgate/patchgate"
)

// HookDeliveries lists the delivery log of repo's hook whose URL is hookURL
// (patchgate's webhook URL), newest first, back to since, at most max entries
// (GET /repos/{o}/{r}/hooks, then GET .../hooks/{id}/deliveries with cursor
// paging). No such hook is ENOTFOUND: the forge sends patchgate nothing.
func (g *GitHub) HookDeliveries(ctx context.Context, repo patchgate.RepoRef, hookURL string, since time.Time, max int) ([]patchgate.HookDelivery, error) {
	if err := checkRepo(patchgate.GitHub, repo); err != nil {
		return nil, err
	}
	owner, name := ownerName(repo)
	var hookID int64
	err := g.retry.do(ctx, "list the hooks of "+repo.Name, func() (*http.Response, error) {
		hooks, resp, err := g.client.Repositories.ListHooks(ctx, owner, name, &github.ListOptions{PerPage: 100})
		for _, h := range hooks {
			if u := h.GetConfig().GetURL(); strings.TrimSuffix(u, "/") == strings.TrimSuffix(hookURL, "/") {
				hookID = h.GetID()
			}
		}
		return ghResp(resp), err
	})
	if err != nil {
		return nil, err
	}
	if hookID == 0 {
		return nil, patchgate.Errorf(patchgate.ENOTFOUND, "%s has no webhook to %s; add one (see the README's Configuration)", repo.Name, hookURL)
	}
	var out []patchgate.HookDelivery
	opts := &github.ListCursorOptions{PerPage: 100}
	for {
		var page []*github.HookDelivery
		var cursor string
		err := g.retry.do(ctx, "list the webhook deliveries of "+repo.Name, func() (*http.Response, error) {
			var resp *github.Response
			var err error
			page, resp, err = g.client.Repositories.ListHookDeliveries(ctx, owner, name, hookID, opts)
			if resp != nil {
				cursor = resp.Cursor
			}
			return ghResp(resp), err
		})
		if err != nil {
			return nil, err
		}
		for _, d := range page {
			at := d.GetDeliveredAt().Time
			if at.Before(since) || len(out) >= max {
				return out, nil
			}
			out = append(out, patchgate.HookDelivery{HookID: hookID, ID: d.GetID(), GUID: d.GetGUID(), Event: d.GetEvent(),
				Action: d.GetAction(), StatusCode: d.GetStatusCode(), DeliveredAt: at})
		}
		if cursor == "" || len(page) == 0 {
			return out, nil
		}
		opts.Cursor = cursor
	}
}

// Redeliver asks GitHub to deliver d again
// (POST /repos/{o}/{r}/hooks/{id}/deliveries/{delivery_id}/attempts).
func (g *GitHub) Redeliver(ctx context.Context, repo patchgate.RepoRef, d patchgate.HookDelivery) error {
	if err := checkRepo(patchgate.GitHub, repo); err != nil {
		return err
	}
	owner, name := ownerName(repo)
	return g.retry.do(ctx, "redeliver "+d.GUID+" to "+repo.Name+" (delivery "+strconv.FormatInt(d.ID, 10)+")", func() (*http.Response, error) {
		_, resp, err := g.client.Repositories.RedeliverHookDelivery(ctx, owner, name, d.HookID, d.ID)
		if _, accepted := err.(*github.AcceptedError); accepted {
			err = nil // 202: GitHub queued the attempt
		}
		return ghResp(resp), err
	})
}
