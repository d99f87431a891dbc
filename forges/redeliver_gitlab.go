package forges

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

// glHookEvent is one entry of a GitLab project hook's events (GitLab 17.x
// "project webhook events"); the client library has no type for it.
type glHookEvent struct {
	ID             int64             `json:"id"`
	URL            string            `json:"url"`
	Trigger        string            `json:"trigger"`
	RequestHeaders map[string]string `json:"request_headers"`
	ResponseStatus string            `json:"response_status"`
	CreatedAt      *time.Time        `json:"created_at"`
}

// HookDeliveries lists the events of repo's project hook whose URL is
// hookURL (patchgate's webhook URL), newest first, back to since, at most max
// (GET /projects/:id/hooks, then GET /projects/:id/hooks/:hook_id/events,
// page by page). No such hook is ENOTFOUND. A GitLab that answers 404 on the
// events (before 17.x) is a *patchgate.NoHookLogError.
//
// All events are read, not only failures: GitLab logs a connection it could
// not make (patchgate stopped) as "internal error", which no status filter
// matches; ToRedeliver judges each one.
func (g *GitLab) HookDeliveries(ctx context.Context, repo patchgate.RepoRef, hookURL string, since time.Time, max int) ([]patchgate.HookDelivery, error) {
	if err := checkRepo(patchgate.GitLab, repo); err != nil {
		return nil, err
	}
	var hookID int64
	err := g.retry.do(ctx, "list the hooks of "+repo.Name, func() (*http.Response, error) {
		hooks, resp, err := g.client.Projects.ListProjectHooks(repo.Name, &gitlab.ListProjectHooksOptions{ListOptions: gitlab.ListOptions{PerPage: 100}}, gitlab.WithContext(ctx))
		for _, h := range hooks {
			if strings.TrimSuffix(h.URL, "/") == strings.TrimSuffix(hookURL, "/") {
				hookID = h.ID
			}
		}
		return glResp(resp), err
	})
	if err != nil {
		return nil, err
	}
	if hookID == 0 {
		return nil, patchgate.Errorf(patchgate.ENOTFOUND, "%s has no webhook to %s; add one (see the README's Configuration)", repo.Name, hookURL)
	}
	path := "projects/" + gitlab.PathEscape(repo.Name) + "/hooks/" + strconv.FormatInt(hookID, 10) + "/events"
	var out []patchgate.HookDelivery
	for page := int64(1); page > 0; {
		var events []glHookEvent
		var next int64
		notOffered := false
		err := g.retry.do(ctx, "list the webhook events of "+repo.Name, func() (*http.Response, error) {
			req, err := g.client.NewRequest(http.MethodGet, path, &gitlab.ListOptions{Page: page, PerPage: 100}, []gitlab.RequestOptionFunc{gitlab.WithContext(ctx)})
			if err != nil {
				return nil, err
			}
			events = nil
			resp, err := g.client.Do(req, &events)
			if resp != nil {
				next = resp.NextPage
				if resp.StatusCode == http.StatusNotFound {
					notOffered = true
					return glResp(resp), nil
				}
			}
			return glResp(resp), err
		})
		if notOffered {
			return nil, &patchgate.NoHookLogError{Forge: patchgate.GitLab, Detail: "404 on GET " + path}
		}
		if err != nil {
			return nil, err
		}
		for _, e := range events {
			if len(out) >= max || e.CreatedAt != nil && e.CreatedAt.Before(since) {
				return out, nil
			}
			out = append(out, glDelivery(hookID, e))
		}
		if len(events) == 0 {
			break
		}
		page = next
	}
	return out, nil
}

// glDelivery reads an event as a delivery: its GUID is the id patchgate
// stored it by (Idempotency-Key, else X-Gitlab-Event-UUID, as
// webhooks.GitLabDelivery), its status 0 when GitLab got no HTTP answer.
func glDelivery(hookID int64, e glHookEvent) patchgate.HookDelivery {
	header := func(name string) string {
		for k, v := range e.RequestHeaders {
			if strings.EqualFold(k, name) {
				return v
			}
		}
		return ""
	}
	guid := header("Idempotency-Key")
	if guid == "" {
		guid = header("X-Gitlab-Event-UUID")
	}
	status, _ := strconv.Atoi(strings.TrimSpace(e.ResponseStatus))
	d := patchgate.HookDelivery{HookID: hookID, ID: e.ID, GUID: guid, Event: header("X-Gitlab-Event"), StatusCode: status}
	if e.CreatedAt != nil {
		d.DeliveredAt = e.CreatedAt.UTC()
	}
	return d
}

// Redeliver asks GitLab to send event d again
// (POST /projects/:id/hooks/:hook_id/events/:hook_event_id/resend).
func (g *GitLab) Redeliver(ctx context.Context, repo patchgate.RepoRef, d patchgate.HookDelivery) error {
	if err := checkRepo(patchgate.GitLab, repo); err != nil {
		return err
	}
	path := "projects/" + gitlab.PathEscape(repo.Name) + "/hooks/" + strconv.FormatInt(d.HookID, 10) + "/events/" + strconv.FormatInt(d.ID, 10) + "/resend"
	return g.retry.do(ctx, "resend "+d.GUID+" to "+repo.Name+" (event "+strconv.FormatInt(d.ID, 10)+")", func() (*http.Response, error) {
		req, err := g.client.NewRequest(http.MethodPost, path, nil, []gitlab.RequestOptionFunc{gitlab.WithContext(ctx)})
		if err != nil {
			return nil, err
		}
		resp, err := g.client.Do(req, nil)
		return glResp(resp), err
	})
}
