package fakeforge

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// readJSON decodes a request body of at most 1 MiB into v.
func readJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return nil
	}
	return json.Unmarshal(body, v)
}

// ghError is GitHub's error body.
func ghError(msg string) map[string]any {
	return map[string]any{"message": msg, "documentation_url": "https://docs.github.com/rest"}
}

// ghValidation is GitHub's 422 body.
func ghValidation(resource, field, code string) map[string]any {
	return map[string]any{
		"message":           "Validation Failed",
		"errors":            []map[string]string{{"resource": resource, "field": field, "code": code}},
		"documentation_url": "https://docs.github.com/rest",
	}
}

// glMessage is GitLab's usual error body.
func glMessage(msg string) map[string]any { return map[string]any{"message": msg} }

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// paginate writes the pagination headers of the API r was sent to and returns
// the [lo, hi) window of n items that page holds. GitHub answers with a Link
// header (next, last, first, prev), GitLab with X-Page, X-Per-Page, X-Total,
// X-Total-Pages, X-Next-Page and X-Prev-Page.
func paginate(w http.ResponseWriter, r *http.Request, n, defaultPer, maxPer int) (lo, hi int) {
	q := r.URL.Query()
	per, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || per <= 0 {
		per = defaultPer
	}
	per = min(per, maxPer)
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page <= 0 {
		page = 1
	}
	pages := max(1, (n+per-1)/per)
	lo = min(n, (page-1)*per)
	hi = min(n, lo+per)

	h := w.Header()
	if apiOf(r.URL.Path) == apiGitLab {
		h.Set("X-Page", strconv.Itoa(page))
		h.Set("X-Per-Page", strconv.Itoa(per))
		h.Set("X-Total", strconv.Itoa(n))
		h.Set("X-Total-Pages", strconv.Itoa(pages))
		h.Set("X-Next-Page", "")
		h.Set("X-Prev-Page", "")
		if page < pages {
			h.Set("X-Next-Page", strconv.Itoa(page+1))
		}
		if page > 1 {
			h.Set("X-Prev-Page", strconv.Itoa(page-1))
		}
		return lo, hi
	}
	link := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(per))
		u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: q.Encode()}
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	var links []string
	if page < pages {
		links = append(links, link(page+1, "next"), link(pages, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	for i, l := range links {
		if i == 0 {
			h.Set("Link", l)
		} else {
			h.Set("Link", h.Get("Link")+", "+l)
		}
	}
	return lo, hi
}
