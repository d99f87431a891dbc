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
// paging). No such hook is ENOTFOUND: the forge sends patchgate nothing. In
// App mode it is the App's hook log instead, whatever repo is.
func (g *GitHub) HookDeliveries(ctx context.Context, repo patchgate.RepoRef, hookURL string, since time.Time, max int) ([]patchgate.HookDelivery, error) {
	if g.app != nil {
		// An App's events come through the App's hook, whatever the
		// repositories' own hooks are.
		return g.appHookDeliveries(ctx, since, max)
	}
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
	return g.pageDeliveries(ctx, "list the webhook deliveries of "+repo.Name, hookID, since, max,
		func(opts *github.ListCursorOptions) ([]*github.HookDelivery, *github.Response, error) {
			return g.client.Repositories.ListHookDeliveries(ctx, owner, name, hookID, opts)
		})
}

// SharedHook reports whether one hook delivers every repository's events
// (App mode: the App's hook), so that its log is read once per run rather
// than once per repository (reconcile.SharedHookLog).
func (g *GitHub) SharedHook() bool { return g.app != nil }

// appHookDeliveries lists the App's hook delivery log (GET
// /app/hook/deliveries with the App's JWT, cursor paging): one log for every
// repository the App is installed on. Its entries have HookID 0.
func (g *GitHub) appHookDeliveries(ctx context.Context, since time.Time, max int) ([]patchgate.HookDelivery, error) {
	return g.pageDeliveries(ctx, "list the github app's webhook deliveries", 0, since, max,
		func(opts *github.ListCursorOptions) ([]*github.HookDelivery, *github.Response, error) {
			return g.client.Apps.ListHookDeliveries(ctx, opts)
		})
}

// pageDeliveries reads a delivery log newest first with cursor paging, back
// to since, at most max entries.
func (g *GitHub) pageDeliveries(ctx context.Context, action string, hookID int64, since time.Time, max int,
	list func(*github.ListCursorOptions) ([]*github.HookDelivery, *github.Response, error)) ([]patchgate.HookDelivery, error) {
	var out []patchgate.HookDelivery
	opts := &github.ListCursorOptions{PerPage: 100}
	for {
		var page []*github.HookDelivery
		var cursor string
		err := g.retry.do(ctx, action, func() (*http.Response, error) {
			var resp *github.Response
			var err error
			page, resp, err = list(opts)
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
// (POST /repos/{o}/{r}/hooks/{id}/deliveries/{delivery_id}/attempts, or in
// App mode POST /app/hook/deliveries/{delivery_id}/attempts).
func (g *GitHub) Redeliver(ctx context.Context, repo patchgate.RepoRef, d patchgate.HookDelivery) error {
	if g.app != nil && d.HookID == 0 {
		return g.retry.do(ctx, "redeliver "+d.GUID+" through the github app's hook (delivery "+strconv.FormatInt(d.ID, 10)+")", func() (*http.Response, error) {
			_, resp, err := g.client.Apps.RedeliverHookDelivery(ctx, d.ID)
			if _, accepted := err.(*github.AcceptedError); accepted {
				err = nil
			}
			return ghResp(resp), err
		})
	}
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
