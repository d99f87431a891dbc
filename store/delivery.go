package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
)

// DeliveryService stores webhook deliveries.
type DeliveryService struct{ db *DB }

var _ patchgate.DeliveryService = (*DeliveryService)(nil)

// NewDeliveryService returns the delivery service of db.
func NewDeliveryService(db *DB) *DeliveryService { return &DeliveryService{db: db} }

// deliveryColumns are every column but the payload, which only some readers want.
const deliveryColumns = `forge, id, event, action, repo, status, outcome, reason, attempts, received_at, processed_at`

func deliveryDest(d *patchgate.Delivery) []any {
	return []any{&d.Source, &d.ID, &d.Event, &d.Action, &d.Repo, &d.Status, &d.Outcome, &d.Reason,
		&d.Attempts, timeCol{&d.ReceivedAt}, optTimeCol{&d.ProcessedAt}}
}

// CreateDelivery stores d durably and reports whether it was new; a delivery
// whose (Source, ID) is stored already is left unchanged. Status defaults to
// accepted, Outcome to pending (ignored for an ignored delivery) and ReceivedAt
// to now; d is updated with the defaults. This is the webhook hot path: an
// INSERT … ON CONFLICT DO NOTHING, committed together with the concurrent
// calls' (group commit, delivery_batch.go) before it returns.
func (s *DeliveryService) CreateDelivery(ctx context.Context, d *patchgate.Delivery) (bool, error) {
	if err := d.Source.Validate(); err != nil {
		return false, err
	}
	if d.ID == "" || len(d.ID) > 200 {
		return false, patchgate.Errorf(patchgate.EINVALID, "delivery id required (at most 200 characters)")
	}
	if d.Status == "" {
		d.Status = patchgate.DeliveryAccepted
	}
	if d.Outcome == "" {
		d.Outcome = patchgate.OutcomePending
		if d.Status == patchgate.DeliveryIgnored {
			d.Outcome = patchgate.OutcomeIgnored
		}
	}
	if d.ReceivedAt.IsZero() {
		d.ReceivedAt = s.db.now()
	}
	d.ReceivedAt = d.ReceivedAt.UTC().Truncate(time.Microsecond)
	if err := ctx.Err(); err != nil {
		return false, err
	}
	payload := d.Payload
	if payload == nil {
		payload = []byte{}
	}
	return s.insertDelivery(&pendingDelivery{d: d, payload: payload})
}

// FindDelivery returns the delivery with its payload; ENOTFOUND when absent.
func (s *DeliveryService) FindDelivery(ctx context.Context, source patchgate.DeliverySource, id string) (*patchgate.Delivery, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var d patchgate.Delivery
	if err := tx.QueryRow(ctx, `SELECT `+deliveryColumns+`, payload FROM deliveries WHERE forge = $1 AND id = $2`,
		source, id).Scan(append(deliveryDest(&d), &d.Payload)...); err != nil {
		return nil, notFound(err, "delivery %s:%s", source, id)
	}
	return &d, nil
}

// FindDeliveries returns matching deliveries, newest first, without payloads,
// and the total count.
func (s *DeliveryService) FindDeliveries(ctx context.Context, f patchgate.DeliveryFilter) ([]*patchgate.Delivery, int, error) {
	var w where
	if f.Source != nil {
		w.add("forge = $?", *f.Source)
	}
	if f.Repo != nil {
		w.add("repo = $?", *f.Repo)
	}
	if f.Outcome != nil {
		w.add("outcome = $?", *f.Outcome)
	}

	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM deliveries`+w.String(), w.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count deliveries: %w", err)
	}
	ds, err := queryDeliveries(ctx, tx, false, `SELECT `+deliveryColumns+` FROM deliveries`+w.String()+
		` ORDER BY received_at DESC, forge, id`+w.page(f.Offset, f.Limit), w.args...)
	if err != nil {
		return nil, 0, err
	}
	return ds, total, nil
}

// PendingDeliveries returns up to limit (default 50, at most 500) pending
// deliveries without payloads, oldest first.
func (s *DeliveryService) PendingDeliveries(ctx context.Context, limit int) ([]*patchgate.Delivery, error) {
	var w where
	w.add("outcome = $?", patchgate.OutcomePending)
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return queryDeliveries(ctx, tx, false, `SELECT `+deliveryColumns+` FROM deliveries`+w.String()+
		` ORDER BY received_at, forge, id`+w.page(0, limit), w.args...)
}

func queryDeliveries(ctx context.Context, tx *txn, payload bool, query string, args ...any) ([]*patchgate.Delivery, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("find deliveries: %w", err)
	}
	defer rows.Close()
	ds := []*patchgate.Delivery{}
	for rows.Next() {
		d := &patchgate.Delivery{}
		dest := deliveryDest(d)
		if payload {
			dest = append(dest, &d.Payload)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("find deliveries: %w", err)
		}
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find deliveries: %w", err)
	}
	return ds, nil
}

// FinishDelivery records the outcome of one processing attempt: it counts the
// attempt, sets outcome and reason, and stamps ProcessedAt unless the outcome is
// still pending (to be retried). ENOTFOUND when there is no such delivery.
func (s *DeliveryService) FinishDelivery(ctx context.Context, source patchgate.DeliverySource, id string, outcome patchgate.DeliveryOutcome, reason string) error {
	switch outcome {
	case patchgate.OutcomePending, patchgate.OutcomeProcessed, patchgate.OutcomeIgnored, patchgate.OutcomeFailed:
	default:
		return patchgate.Errorf(patchgate.EINVALID, "unknown delivery outcome %q", string(outcome))
	}
	var processedAt *time.Time
	if outcome != patchgate.OutcomePending {
		now := s.db.now()
		processedAt = &now
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.Exec(ctx, `UPDATE deliveries SET outcome = $1, reason = $2, attempts = attempts + 1,
		processed_at = $3 WHERE forge = $4 AND id = $5`, outcome, reason, processedAt, source, id)
	if err != nil {
		return fmt.Errorf("finish delivery %s:%s: %w", source, id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("finish delivery %s:%s: %w", source, id, err)
	} else if n == 0 {
		return patchgate.Errorf(patchgate.ENOTFOUND, "delivery %s:%s not found", source, id)
	}
	return tx.Commit()
}

// DeleteDeliveriesBefore removes deliveries received before t that are no
// longer pending and returns how many. Callers keep at least 7 days for dedup.
func (s *DeliveryService) DeleteDeliveriesBefore(ctx context.Context, t time.Time) (int, error) {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	res, err := tx.Exec(ctx, `DELETE FROM deliveries WHERE received_at < $1 AND outcome <> $2`,
		t, patchgate.OutcomePending)
	if err != nil {
		return 0, fmt.Errorf("delete deliveries before %s: %w", t.Format(time.RFC3339), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete deliveries before %s: %w", t.Format(time.RFC3339), err)
	}
	return int(n), tx.Commit()
}

// LeaseRepository takes or renews holder's lease on (source, repo) until until.
// One statement decides: the row is inserted, or taken over when its lease ran
// out, or renewed when holder has it; otherwise nothing changes and the lease
// is another's. The database serialises concurrent attempts on the key.
func (s *DeliveryService) LeaseRepository(ctx context.Context, source patchgate.DeliverySource, repo, holder string, until time.Time) (bool, error) {
	if holder == "" {
		return false, patchgate.Errorf(patchgate.EINVALID, "lease of %s: a holder is required", repo)
	}
	res, err := s.db.exec(ctx, `INSERT INTO delivery_leases (forge, repo, holder, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (forge, repo) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE delivery_leases.holder = excluded.holder OR delivery_leases.expires_at < $5`,
		source, strings.ToLower(repo), holder, until.UTC().Truncate(time.Microsecond), s.db.now())
	if err != nil {
		return false, fmt.Errorf("lease %s:%s: %w", source, repo, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("lease %s:%s: %w", source, repo, err)
	}
	return n == 1, nil
}

// ReleaseRepository deletes holder's lease on (source, repo); another holder's
// lease is left alone.
func (s *DeliveryService) ReleaseRepository(ctx context.Context, source patchgate.DeliverySource, repo, holder string) error {
	if _, err := s.db.exec(ctx, `DELETE FROM delivery_leases WHERE forge = $1 AND repo = $2 AND holder = $3`,
		source, strings.ToLower(repo), holder); err != nil {
		return fmt.Errorf("release lease of %s:%s: %w", source, repo, err)
	}
	return nil
}

// DeliveryBacklog returns how many deliveries are pending and when the oldest
// of them was received (the zero time when none is).
func (s *DeliveryService) DeliveryBacklog(ctx context.Context) (int, time.Time, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return 0, time.Time{}, err
	}
	defer tx.Rollback()
	var n int
	var oldest *time.Time
	if err := tx.QueryRow(ctx, `SELECT count(*), min(received_at) FROM deliveries WHERE outcome = $1`,
		patchgate.OutcomePending).Scan(&n, optTimeCol{&oldest}); err != nil {
		return 0, time.Time{}, fmt.Errorf("count pending deliveries: %w", err)
	}
	if oldest == nil {
		return n, time.Time{}, nil
	}
	return n, *oldest, nil
}
