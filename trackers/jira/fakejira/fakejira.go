// Package fakejira is a stateful fake of the Jira Cloud REST API routes
// patchgate calls: issues, comments (with edits), transitions and basic
// auth. It records every effect for tests to assert on.
package fakejira

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Jira is a fake Jira site. Create it with New; close it with Close.
type Jira struct {
	srv *httptest.Server

	mu          sync.Mutex
	email       string
	token       string
	down        bool
	issues      map[string]*Issue
	nextComment int
	requests    int
}

// Issue is a fake issue.
type Issue struct {
	Key      string
	Summary  string
	Priority string
	Status   string
	Created  time.Time
	Updated  time.Time
	// Comments in creation order; each keeps its edit history.
	Comments []*Comment
	// Transitions lists the names of the transitions applied, in order.
	Transitions []string
}

// Comment is a fake comment with every body it had.
type Comment struct {
	ID     string
	Bodies []string
}

// Body is the comment's current body.
func (c *Comment) Body() string { return c.Bodies[len(c.Bodies)-1] }

// statuses is the workflow: every status can go to any other by a
// transition of the same name.
var statuses = map[string]string{"To Do": "new", "In Progress": "indeterminate", "In Review": "indeterminate", "Done": "done"}

// New starts a fake Jira accepting basic auth email:token.
func New(email, token string) *Jira {
	j := &Jira{email: email, token: token, issues: map[string]*Issue{}, nextComment: 10000}
	j.srv = httptest.NewServer(http.HandlerFunc(j.serve))
	return j
}

// URL is the site's base URL.
func (j *Jira) URL() string { return j.srv.URL }

// Close stops the server.
func (j *Jira) Close() { j.srv.Close() }

// SetDown makes every request fail with 503 (true) or work again (false).
func (j *Jira) SetDown(down bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.down = down
}

// AddIssue creates an issue in status To Do unless it names one.
func (j *Jira) AddIssue(i Issue) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if i.Status == "" {
		i.Status = "To Do"
	}
	if i.Updated.IsZero() {
		i.Updated = i.Created
	}
	j.issues[i.Key] = &i
}

// Issue returns a copy of the issue, comments included.
func (j *Jira) Issue(key string) (Issue, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	i, ok := j.issues[key]
	if !ok {
		return Issue{}, false
	}
	out := *i
	out.Comments = nil
	for _, c := range i.Comments {
		cp := *c
		cp.Bodies = append([]string(nil), c.Bodies...)
		out.Comments = append(out.Comments, &cp)
	}
	out.Transitions = append([]string(nil), i.Transitions...)
	return out, true
}

// Requests counts the API requests served (failed ones included).
func (j *Jira) Requests() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.requests
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func jiraError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"errorMessages": []string{msg}, "errors": map[string]string{}})
}

const timeLayout = "2006-01-02T15:04:05.000-0700"

func (j *Jira) serve(w http.ResponseWriter, r *http.Request) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.requests++
	if j.down {
		jiraError(w, http.StatusServiceUnavailable, "down for maintenance")
		return
	}
	if email, token, ok := r.BasicAuth(); !ok || email != j.email || token != j.token {
		jiraError(w, http.StatusUnauthorized, "authentication required")
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/rest/api/2/issue/")
	if !ok {
		jiraError(w, http.StatusNotFound, "no such route")
		return
	}
	parts := strings.Split(rest, "/")
	issue := j.issues[parts[0]]
	if issue == nil {
		jiraError(w, http.StatusNotFound, "Issue does not exist or you do not have permission to see it.")
		return
	}
	switch {
	case len(parts) == 1 && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, j.issueJSON(issue))
	case len(parts) == 2 && parts[1] == "comment" && r.Method == http.MethodGet:
		start, _ := strconv.Atoi(r.URL.Query().Get("startAt"))
		max, _ := strconv.Atoi(r.URL.Query().Get("maxResults"))
		if max <= 0 || max > 100 {
			max = 50
		}
		list := []map[string]string{}
		for i := start; i < len(issue.Comments) && i < start+max; i++ {
			list = append(list, map[string]string{"id": issue.Comments[i].ID, "body": issue.Comments[i].Body()})
		}
		writeJSON(w, http.StatusOK, map[string]any{"startAt": start, "maxResults": max, "total": len(issue.Comments), "comments": list})
	case len(parts) == 2 && parts[1] == "comment" && r.Method == http.MethodPost:
		var in struct{ Body string }
		if json.NewDecoder(r.Body).Decode(&in) != nil || in.Body == "" {
			jiraError(w, http.StatusBadRequest, "Comment body can not be empty!")
			return
		}
		j.nextComment++
		c := &Comment{ID: strconv.Itoa(j.nextComment), Bodies: []string{in.Body}}
		issue.Comments = append(issue.Comments, c)
		writeJSON(w, http.StatusCreated, map[string]string{"id": c.ID, "body": in.Body})
	case len(parts) == 3 && parts[1] == "comment" && r.Method == http.MethodPut:
		var in struct{ Body string }
		if json.NewDecoder(r.Body).Decode(&in) != nil || in.Body == "" {
			jiraError(w, http.StatusBadRequest, "Comment body can not be empty!")
			return
		}
		for _, c := range issue.Comments {
			if c.ID == parts[2] {
				c.Bodies = append(c.Bodies, in.Body)
				writeJSON(w, http.StatusOK, map[string]string{"id": c.ID, "body": in.Body})
				return
			}
		}
		jiraError(w, http.StatusNotFound, "no such comment")
	case len(parts) == 2 && parts[1] == "transitions" && r.Method == http.MethodGet:
		list := []map[string]any{}
		for _, name := range []string{"To Do", "In Progress", "In Review", "Done"} {
			if name != issue.Status {
				list = append(list, map[string]any{"id": transitionID(name), "name": name,
					"to": map[string]any{"name": name, "statusCategory": map[string]string{"key": statuses[name]}}})
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"transitions": list})
	case len(parts) == 2 && parts[1] == "transitions" && r.Method == http.MethodPost:
		var in struct {
			Transition struct{ ID string } `json:"transition"`
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		for name := range statuses {
			if transitionID(name) == in.Transition.ID && name != issue.Status {
				issue.Status, issue.Updated = name, time.Now()
				issue.Transitions = append(issue.Transitions, name)
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		jiraError(w, http.StatusBadRequest, "Transition id '"+in.Transition.ID+"' is not valid for this issue.")
	default:
		jiraError(w, http.StatusMethodNotAllowed, "method not allowed")
	}
}

func transitionID(name string) string {
	switch name {
	case "To Do":
		return "11"
	case "In Progress":
		return "21"
	case "In Review":
		return "31"
	}
	return "41"
}

func (j *Jira) issueJSON(i *Issue) map[string]any {
	project, _, _ := strings.Cut(i.Key, "-")
	return map[string]any{
		"id": "1" + strings.TrimPrefix(i.Key, project+"-"), "key": i.Key,
		"self": fmt.Sprintf("%s/rest/api/2/issue/%s", j.srv.URL, i.Key),
		"fields": map[string]any{
			"summary":  i.Summary,
			"priority": map[string]string{"name": i.Priority},
			"status":   map[string]any{"name": i.Status, "statusCategory": map[string]string{"key": statuses[i.Status]}},
			"project":  map[string]string{"key": project},
			"created":  i.Created.UTC().Format(timeLayout),
			"updated":  i.Updated.UTC().Format(timeLayout),
		},
	}
}
