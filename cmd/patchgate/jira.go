package main

import (
	"context"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/pipelines"
	"github.com/patchgate/patchgate/trackers/jira"
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

// handleAny applies a parsed event: a tracker's to the tickets, a forge's
// through the forge use cases.
func (m *Main) handleAny(ctx context.Context, ev *patchgate.Event) (patchgate.DeliveryOutcome, string, error) {
	if ev.Source == patchgate.SourceJira {
		return m.Trackers.HandleEvent(ctx, ev)
	}
	return m.Service.HandleEvent(ctx, ev)
}

// site is the tracker sync's view of key's Jira site; nil when its project
// is not configured.
func (j *jiraSites) syncSite(clients []*jira.Client) func(key string) *pipelines.TrackerSite {
	sites := make([]*pipelines.TrackerSite, len(j.configs))
	for i, t := range j.trackers {
		tr := map[patchgate.TicketState]string{}
		for state, name := range t.Transitions {
			tr[patchgate.TicketState(state)] = name
		}
		sites[i] = &pipelines.TrackerSite{Name: "jira:" + t.Name, API: clients[i], Transitions: tr, ReadTimeout: t.ReadTimeout}
	}
	return func(key string) *pipelines.TrackerSite {
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

// observedTickets is the ticket service that tells the tracker sync every
// ticket it reconciles.
type observedTickets struct {
	patchgate.TicketService
	reconciled func(t *patchgate.Ticket)
}

// ReconcileTicket reconciles, then tells.
func (o observedTickets) ReconcileTicket(ctx context.Context, id int64) (*patchgate.Ticket, error) {
	t, err := o.TicketService.ReconcileTicket(ctx, id)
	if err == nil {
		o.reconciled(t)
	}
	return t, err
}
