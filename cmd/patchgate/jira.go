package main

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/server"
	"github.com/patchgate/patchgate/trackers/jira"
	"github.com/patchgate/patchgate/usecase/tracking"
)

// jiraSites are the configured Jira trackers, by name and by project key.
type jiraSites struct {
	trackers  []TrackerConfig
	configs   []*jira.Config
	byProject map[string]int
}

func newJiraSites(trackers []TrackerConfig) *jiraSites {
	j := &jiraSites{byProject: map[string]int{}}
	for _, t := range trackers {
		if t.Kind != "jira" {
			continue
		}
		c := t.Jira()
		for _, p := range c.Projects {
			j.byProject[p] = len(j.configs)
		}
		j.trackers, j.configs = append(j.trackers, t), append(j.configs, c)
	}
	return j
}

// site returns the tracker of key's project (PAY-7 → acme), or -1.
func (j *jiraSites) site(key string) int {
	prefix, _, _ := strings.Cut(key, "-")
	if i, ok := j.byProject[prefix]; ok {
		return i
	}
	return -1
}

// hooks is the webhook intake's view of the sites; nil without any.
func (j *jiraSites) hooks() *server.JiraHooks {
	if len(j.configs) == 0 {
		return nil
	}
	return &server.JiraHooks{
		ID: jira.DeliveryID,
		Verify: func(h http.Header, body []byte) ([]string, error) {
			var err error
			for i, t := range j.trackers {
				if err = jira.VerifySignature(h, body, t.WebhookSecrets); err == nil {
					return j.configs[i].Projects, nil
				}
			}
			return nil, err
		},
		Peek: func(body []byte) (event, action, project, ignored string, err error) {
			w, err := jira.ParseWebhook(body)
			var ig *jira.IgnoredError
			if errors.As(err, &ig) {
				return peekEvent(body), "", "", ig.Reason, nil
			} else if err != nil {
				return "", "", "", "", err
			}
			return w.Event, w.Action(), w.Issue.Project(), "", nil
		},
	}
}

// peekEvent reads the webhookEvent of an ignored delivery, for the log.
func peekEvent(body []byte) string {
	_, rest, ok := strings.Cut(string(body[:min(len(body), 4096)]), `"webhookEvent":`)
	if !ok {
		return ""
	}
	v, err := strconv.QuotedPrefix(strings.TrimSpace(rest))
	if err != nil {
		return ""
	}
	s, _ := strconv.Unquote(v)
	return s
}

// parse turns a stored Jira delivery into an issue event of its tracker:
// Repo is the project key, Sender "jira:<tracker>".
func (j *jiraSites) parse(body []byte) (*patchgate.Event, string, error) {
	w, err := jira.ParseWebhook(body)
	var ig *jira.IgnoredError
	if errors.As(err, &ig) {
		return nil, ig.Reason, nil
	} else if err != nil {
		return nil, "", err
	}
	i := j.site(w.Issue.Key)
	if i < 0 {
		return nil, "Jira project " + w.Issue.Project() + " is not configured", nil
	}
	u := j.configs[i].Update(w)
	_, num, _ := strings.Cut(u.Key, "-")
	n, _ := strconv.Atoi(num)
	issue := &patchgate.IssueEvent{Number: n, State: string(u.State), UpdatedAt: u.UpdatedAt, CreatedAt: u.OpenedAt}
	if u.Title != nil {
		issue.Title, issue.URL, issue.Severity = *u.Title, *u.URL, *u.Severity
	}
	prefix, _, _ := strings.Cut(u.Key, "-")
	return &patchgate.Event{Forge: patchgate.SourceJira, Kind: patchgate.EventIssue, Name: w.Event, Action: w.Action(),
		Repo: prefix, Sender: u.Source, Issue: issue}, "", nil
}

// parseAny parses a stored delivery of a forge or of Jira.
func (j *jiraSites) parseAny(forge patchgate.Forge, event string, body []byte) (*patchgate.Event, string, error) {
	if forge == patchgate.SourceJira {
		return j.parse(body)
	}
	return parseDelivery(forge, event, body)
}

// site is the tracker sync's view of key's Jira site; nil when its project
// is not configured.
func (j *jiraSites) syncSite(clients []*jira.Client) func(key string) *tracking.TrackerSite {
	sites := make([]*tracking.TrackerSite, len(j.configs))
	for i, t := range j.trackers {
		tr := map[patchgate.TicketState]string{}
		for state, name := range t.Transitions {
			tr[patchgate.TicketState(state)] = name
		}
		sites[i] = &tracking.TrackerSite{Name: "jira:" + t.Name, API: clients[i], Transitions: tr, ReadTimeout: t.ReadTimeout}
	}
	return func(key string) *tracking.TrackerSite {
		if i := j.site(key); i >= 0 {
			return sites[i]
		}
		return nil
	}
}

// clients are the REST clients of the sites.
func (j *jiraSites) clients() []*jira.Client {
	out := make([]*jira.Client, len(j.configs))
	for i, c := range j.configs {
		out[i] = jira.NewClient(c, nil)
	}
	return out
}
