package tracking

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/patchgate/patchgate"
)

// SLAWatch sends ticket.sla_at_risk and ticket.sla_breached once each per
// ticket and SLA clock, as the clock runs: SLA states change with time, not
// with events, so it looks at the unreleased tickets every Interval.
type SLAWatch struct {
	Tickets TicketLister
	Events  patchgate.SLAEventService
	// SLA returns a ticket's SLA status now.
	SLA func(t *patchgate.Ticket) patchgate.SLAStatus
	// Hook delivers the events (notify.Webhook, signed like the release
	// webhook).
	Hook     Sender
	Logger   *slog.Logger
	Interval time.Duration
}

// TicketLister lists tickets.
type TicketLister interface {
	FindTickets(ctx context.Context, filter patchgate.TicketFilter) ([]*patchgate.Ticket, int, error)
}

// Sender delivers one event with its payload.
type Sender interface {
	Send(ctx context.Context, event string, payload any) error
}

// Run checks every Interval (default 1m) until ctx is done.
func (w *SLAWatch) Run(ctx context.Context) {
	interval := w.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := w.Check(ctx); err != nil && ctx.Err() == nil {
			w.Logger.Warn("SLA check", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// slaEvent is the event a ticket in state st is due, "" for none.
func slaEvent(st patchgate.SLAState) string {
	switch st {
	case patchgate.SLAAtRisk:
		return patchgate.EventSLAAtRisk
	case patchgate.SLABreached:
		return patchgate.EventSLABreached
	}
	return ""
}

// Check sends the SLA events due now, each once: it claims an event before
// sending it and gives the claim back when the send fails, so the next check
// tries again.
func (w *SLAWatch) Check(ctx context.Context) error {
	unreleased := false
	f := patchgate.TicketFilter{Released: &unreleased, Limit: 500}
	for {
		tickets, total, err := w.Tickets.FindTickets(ctx, f)
		if err != nil {
			return fmt.Errorf("find unreleased tickets: %w", err)
		}
		for _, t := range tickets {
			st := w.SLA(t)
			event := slaEvent(st.State)
			if event == "" {
				continue
			}
			claimed, err := w.Events.ClaimSLAEvent(ctx, t.ID, event, t.OpenedAt)
			if err != nil {
				return err
			}
			if !claimed {
				continue
			}
			payload := map[string]any{"action": string(st.State), "ticket": t, "sla": st}
			if err := w.Hook.Send(ctx, event, payload); err != nil {
				w.Logger.Warn("SLA event not delivered; will retry", "event", event, "ticket", t.Key, "err", err)
				if err := w.Events.ReleaseSLAEvent(context.WithoutCancel(ctx), t.ID, event, t.OpenedAt); err != nil {
					return err
				}
				continue
			}
			w.Logger.Info("SLA event sent", "event", event, "ticket", t.Key)
		}
		f.Offset += len(tickets)
		if len(tickets) == 0 || f.Offset >= total {
			return nil
		}
	}
}
