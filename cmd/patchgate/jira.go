package main

import (
	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/trackers/jira"
	"github.com/patchgate/patchgate/usecase/tracking"
)

// jiraSites are the configured Jira trackers and their webhook intake.
type jiraSites struct {
	trackers []TrackerConfig
	configs  []*jira.Config
	// source is the sites' webhook intake; it knows which site has which project.
	source *jira.Source
}

func newJiraSites(trackers []TrackerConfig) *jiraSites {
	j := &jiraSites{}
	var sites []jira.Site
	for _, t := range trackers {
		if t.Kind != "jira" {
			continue
		}
		c := t.Jira()
		j.trackers, j.configs = append(j.trackers, t), append(j.configs, c)
		sites = append(sites, jira.Site{Config: c, WebhookSecrets: t.WebhookSecrets})
	}
	j.source = jira.NewSource(sites)
	return j
}

// site returns the tracker of key's project (PAY-7 → acme), or -1.
func (j *jiraSites) site(key string) int { return j.source.Site(key) }

// managedBy returns the name of the Jira tracker of key's project (PAY-7 →
// "acme"), "" when none lists it.
func (j *jiraSites) managedBy(key string) string {
	if i := j.site(key); i >= 0 {
		return j.trackers[i].Name
	}
	return ""
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
