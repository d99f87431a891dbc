package main

import (
	"context"
	"log/slog"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/notify"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/usecase/tracking"
)

// observedTickets is the ticket service that tells the tracker sync every
// ticket a forge event references and every ticket it reconciles.
type observedTickets struct {
	patchgate.TicketService
	sync *tracking.TrackerSync
}

// EnsureTicket stores the ticket, then tells: an external ticket new to
// patchgate is read from its tracker.
func (o observedTickets) EnsureTicket(ctx context.Context, t *patchgate.Ticket) (*patchgate.Ticket, error) {
	t, err := o.TicketService.EnsureTicket(ctx, t)
	if err == nil {
		o.sync.Referenced(t)
	}
	return t, err
}

// ReconcileTicket reconciles, then tells.
func (o observedTickets) ReconcileTicket(ctx context.Context, id int64) (*patchgate.Ticket, error) {
	t, err := o.TicketService.ReconcileTicket(ctx, id)
	if err == nil {
		o.sync.Changed(t)
	}
	return t, err
}

// announcer tells the tracker sync of a promotion and sends the release
// webhook, when one is configured; a failure is logged, the promotion stands.
type announcer struct {
	sync   *tracking.TrackerSync
	hook   *notify.Webhook // nil without a release webhook
	logger *slog.Logger
}

// announcer is the release gate's announcer.
func (m *Main) announcer() *announcer {
	a := &announcer{sync: m.TrackerSync, logger: m.Logger}
	if wh := m.Config.ReleaseWebhook; wh.URL != "" {
		a.hook = &notify.Webhook{URL: wh.URL, Secret: wh.Secret}
	}
	return a
}

// Announce tells the tracker sync, then the release webhook.
func (a *announcer) Announce(ctx context.Context, c *patchgate.Candidate, r *patchgate.ForgeRelease) {
	a.sync.Released(ctx, c, r)
	if a.hook == nil {
		return
	}
	payload := map[string]any{"action": "promoted", "release": c, "tag": r.Tag, "sha": r.SHA, "url": r.URL}
	if err := a.hook.Send(ctx, "release.promoted", payload); err != nil {
		a.logger.Error("release webhook not delivered", "release", c.Name, "repo", c.Repo, "err", err)
	}
}

// slaWatch sends the SLA events to sla_webhook, else to release_webhook;
// nil when neither is configured.
func (m *Main) slaWatch(tickets patchgate.TicketService, slaOf func(t *patchgate.Ticket) patchgate.SLAStatus) *tracking.SLAWatch {
	wh := m.Config.SLAWebhook
	if wh.URL == "" {
		wh = m.Config.ReleaseWebhook
	}
	if wh.URL == "" {
		return nil
	}
	return &tracking.SLAWatch{Tickets: tickets, Events: store.NewSLAEventService(m.DB), SLA: slaOf,
		Hook: &notify.Webhook{URL: wh.URL, Secret: wh.Secret}, Logger: m.Logger}
}

// escalator escalates tickets as the escalation policy says; nil when no
// level has contacts.
func (m *Main) escalator(tickets patchgate.TicketService, repos repositories) *tracking.Escalator {
	if !m.Config.Escalation.Enabled() {
		return nil
	}
	escalations, contacts := store.NewEscalationService(m.DB), m.Config.Escalation.Contacts()
	return &tracking.Escalator{Tickets: tickets, Store: escalations,
		Policy: tracking.EscalationPolicy{SLA: repos.slaOf, Repository: repos.dir.RepositoryFor,
			DefaultLevel: repos.dir.DefaultSupportLevel, Contacts: contacts, PublicURL: m.Config.PublicURL},
		Notices: &tracking.NoticeSender{Store: escalations, Poster: notify.Channels{}, Contacts: contacts, Logger: m.Logger},
		Logger:  m.Logger, Interval: m.Config.Escalation.Interval}
}
