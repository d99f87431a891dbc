package patchgate

import (
	"context"
	"time"
)

// SLA event names, sent signed like the release webhook; receivers filter on
// them, so they never change.
const (
	EventSLAAtRisk   = "ticket.sla_at_risk"
	EventSLABreached = "ticket.sla_breached"
)

// SLAEventService remembers which SLA events were sent, so that each goes out
// once per ticket and SLA clock. Safe for concurrent use.
type SLAEventService interface {
	// ClaimSLAEvent records that event is being sent for the ticket's clock
	// started at openedAt; it reports false when it was claimed before.
	ClaimSLAEvent(ctx context.Context, ticketID int64, event string, openedAt time.Time) (bool, error)
	// ReleaseSLAEvent forgets a claim whose event could not be sent, so a
	// later check sends it.
	ReleaseSLAEvent(ctx context.Context, ticketID int64, event string, openedAt time.Time) error
}
