package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/patchgate/patchgate"
)

// Group commit of webhook deliveries.
//
// Every accepted delivery must be committed before its 202, and on SQLite
// every commit goes through the one writer connection: one transaction per
// delivery makes intake as fast as the writer can commit, one delivery at a
// time. Instead, concurrent CreateDelivery calls queue here, and one of them
// (the leader) commits everything queued in one transaction; each caller
// returns only after the transaction holding its row has committed (or with
// its error, so nothing is acknowledged that is not stored). There is no
// timer: a delivery that arrives while the writer is idle is committed at
// once, alone, and those that arrive while a commit runs form the next batch.
// So the batches grow with the load, and a quiet server pays no latency for
// them. This works the same on PostgreSQL, where it saves a WAL flush per
// delivery.

// maxDeliveryBatch bounds one transaction: at ~28 KB a payload, a few MB.
const maxDeliveryBatch = 64

// deliveryBatch gathers concurrent inserts; the zero value is ready.
type deliveryBatch struct {
	mu      sync.Mutex
	queue   []*pendingDelivery
	leading bool // a leader is committing; the queue waits for it
}

// pendingDelivery is one CreateDelivery call waiting for its batch.
type pendingDelivery struct {
	d       *patchgate.Delivery
	payload []byte
	created bool
	err     error
	// done gets false when the row is committed (or failed), true when this
	// caller is to lead the next batch.
	done chan bool
}

// insertDelivery queues p and returns once its batch has committed.
func (s *DeliveryService) insertDelivery(p *pendingDelivery) (bool, error) {
	b := &s.db.batch
	p.done = make(chan bool, 1)
	b.mu.Lock()
	b.queue = append(b.queue, p)
	lead := !b.leading
	b.leading = true
	b.mu.Unlock()
	if !lead {
		lead = <-p.done
	}
	if lead {
		// The leader is first in the queue, so its own row is in the batch
		// it commits.
		s.lead(b)
	}
	return p.created, p.err
}

// lead commits the queued deliveries (its own among them) as one batch, then
// hands the lead to the first delivery that queued meanwhile, if any: the
// leader returns to its own caller instead of committing for others.
func (s *DeliveryService) lead(b *deliveryBatch) {
	b.mu.Lock()
	n := min(len(b.queue), maxDeliveryBatch)
	batch := b.queue[:n:n]
	b.queue = b.queue[n:]
	b.mu.Unlock()

	s.commitBatch(batch)

	b.mu.Lock()
	if len(b.queue) == 0 {
		b.leading = false
		b.queue = nil
	} else {
		b.queue[0].done <- true
	}
	b.mu.Unlock()
	for _, p := range batch[1:] {
		p.done <- false
	}
}

// commitBatch inserts the batch in one transaction. The batch does not run on
// any caller's context: a client that hung up must not fail the others'
// deliveries. When an insert fails, the transaction is rolled back and each
// delivery is inserted on its own, so that one bad row fails only its caller;
// when the commit fails, every caller gets the error (and a 5xx: the forge
// redelivers, and dedup keeps the redelivery single).
func (s *DeliveryService) commitBatch(batch []*pendingDelivery) {
	defer func() {
		// A panic here would leave every later delivery waiting for a leader
		// that never hands over: fail this batch instead, and go on.
		if v := recover(); v != nil {
			for _, p := range batch {
				p.created, p.err = false, fmt.Errorf("store deliveries: panic: %v", v)
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	if len(batch) > 1 {
		if err := s.insertBatch(ctx, batch); err == nil {
			return
		}
	}
	for _, p := range batch {
		p.err = s.insertBatch(ctx, []*pendingDelivery{p})
	}
}

// batchTimeout bounds one batch's transaction; a request waits at most this
// long for the database (plus the batch ahead of it).
const batchTimeout = 30 * time.Second

// insertBatch inserts the batch in one transaction and sets each created; on
// error nothing of it is stored.
func (s *DeliveryService) insertBatch(ctx context.Context, batch []*pendingDelivery) (err error) {
	defer func() {
		if err != nil {
			for _, p := range batch {
				p.created = false
				p.err = err
			}
		}
	}()
	tx, err := s.db.begin(ctx)
	if err != nil {
		return fmt.Errorf("store deliveries: %w", err)
	}
	defer tx.Rollback()
	// One prepared statement for the batch: SQLite parses the INSERT once.
	stmt, err := tx.tx.PrepareContext(ctx, insertDeliverySQL)
	if err != nil {
		return fmt.Errorf("store deliveries: %w", translate(err))
	}
	defer stmt.Close()
	for _, p := range batch {
		d := p.d
		res, err := stmt.ExecContext(ctx, bind(tx.sqlite, []any{d.Source, d.ID, d.Event, d.Action, d.Repo, d.Status, d.Outcome,
			d.Reason, p.payload, d.Attempts, d.ReceivedAt, d.ProcessedAt})...)
		if err != nil {
			return fmt.Errorf("store delivery %s:%s: %w", d.Source, d.ID, translate(err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("store delivery %s:%s: %w", d.Source, d.ID, err)
		}
		p.created = n == 1
	}
	if hook := s.db.deliveryCommitHook.Load(); hook != nil {
		ids := make([]string, len(batch))
		for i, p := range batch {
			ids[i] = p.d.ID
		}
		if err := (*hook)(ids); err != nil {
			return fmt.Errorf("store deliveries: commit: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store deliveries: %w", err)
	}
	return nil
}

const insertDeliverySQL = `INSERT INTO deliveries (forge, id, event, action, repo, status, outcome, reason,
	payload, attempts, received_at, processed_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
	ON CONFLICT (forge, id) DO NOTHING`
