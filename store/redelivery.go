package store

import (
	"context"
	"fmt"
	"time"

	"github.com/patchgate/patchgate"
)

// ClaimRedelivery records that holder asks the forge to redeliver attempt d
// of source's hook log, and reports whether this call made the record: only
// then does the caller ask. One statement decides between the processes that
// read the same log at once; the database serialises them on the key. A
// claim older than ttl is taken over: the forge accepted that request, yet
// its log still shows no newer attempt, so the redelivery was lost.
func (s *DeliveryService) ClaimRedelivery(ctx context.Context, source patchgate.DeliverySource, d patchgate.HookDelivery, holder string, ttl time.Duration) (bool, error) {
	if holder == "" {
		return false, patchgate.Errorf(patchgate.EINVALID, "redelivery of %s: a holder is required", d.GUID)
	}
	now := s.db.now()
	res, err := s.db.exec(ctx, `INSERT INTO redelivery_requests (forge, hook_id, attempt_id, guid, holder, requested_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (forge, hook_id, attempt_id)
		DO UPDATE SET holder = excluded.holder, requested_at = excluded.requested_at
		WHERE redelivery_requests.requested_at < $7`,
		source, d.HookID, d.ID, d.GUID, holder, now, now.Add(-ttl))
	if err != nil {
		return false, fmt.Errorf("record the redelivery of %s (attempt %d): %w", d.GUID, d.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("record the redelivery of %s (attempt %d): %w", d.GUID, d.ID, err)
	}
	return n == 1, nil
}

// ReleaseRedelivery forgets holder's claim on attempt d, when asking the
// forge failed, so that the next run (of any process) asks again.
func (s *DeliveryService) ReleaseRedelivery(ctx context.Context, source patchgate.DeliverySource, d patchgate.HookDelivery, holder string) error {
	if _, err := s.db.exec(ctx, `DELETE FROM redelivery_requests WHERE forge = $1 AND hook_id = $2 AND attempt_id = $3 AND holder = $4`,
		source, d.HookID, d.ID, holder); err != nil {
		return fmt.Errorf("forget the redelivery of %s (attempt %d): %w", d.GUID, d.ID, err)
	}
	return nil
}

// ForgetRedeliveriesBefore deletes the claims made before t, older than the
// forges keep their logs, and returns how many.
func (s *DeliveryService) ForgetRedeliveriesBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := s.db.exec(ctx, `DELETE FROM redelivery_requests WHERE requested_at < $1`, t.UTC().Truncate(time.Microsecond))
	if err != nil {
		return 0, fmt.Errorf("forget redeliveries before %s: %w", t.Format(time.RFC3339), err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
