package store

import (
	"context"
	"fmt"
	"time"

	"github.com/patchgate/patchgate"
)

// SLAEventService stores the SLA events sent.
type SLAEventService struct{ db *DB }

var _ patchgate.SLAEventService = (*SLAEventService)(nil)

// NewSLAEventService returns the SLA event service of db.
func NewSLAEventService(db *DB) *SLAEventService { return &SLAEventService{db: db} }

// ClaimSLAEvent inserts the claim; a row already there means it was claimed.
func (s *SLAEventService) ClaimSLAEvent(ctx context.Context, ticketID int64, event string, openedAt time.Time) (bool, error) {
	res, err := s.db.exec(ctx, `INSERT INTO ticket_sla_events (ticket_id, event, opened_at, sent_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (ticket_id, event, opened_at) DO NOTHING`,
		ticketID, event, openedAt.UTC().Truncate(time.Microsecond), s.db.now())
	if err != nil {
		return false, fmt.Errorf("claim %s of ticket %d: %w", event, ticketID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim %s of ticket %d: %w", event, ticketID, err)
	}
	return n == 1, nil
}

// ReleaseSLAEvent deletes the claim.
func (s *SLAEventService) ReleaseSLAEvent(ctx context.Context, ticketID int64, event string, openedAt time.Time) error {
	if _, err := s.db.exec(ctx, `DELETE FROM ticket_sla_events WHERE ticket_id = $1 AND event = $2 AND opened_at = $3`,
		ticketID, event, openedAt.UTC().Truncate(time.Microsecond)); err != nil {
		return fmt.Errorf("release %s of ticket %d: %w", event, ticketID, err)
	}
	return nil
}
