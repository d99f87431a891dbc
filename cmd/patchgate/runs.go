package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/queue"
	"github.com/patchgate/patchgate/runners"
	"github.com/patchgate/patchgate/store"
)

// openQueue opens River on the database: its own one-connection pool on SQLite,
// a pgx pool on PostgreSQL. River's tables are River's: they are migrated here,
// at every start, by River's own forward-only migrations.
func openQueue(ctx context.Context, db *store.DB, cfg queue.Config) (*queue.Queue, error) {
	var (
		q   *queue.Queue
		err error
	)
	if db.Dialect() == "sqlite" {
		pool, perr := db.OpenRiverPool()
		if perr != nil {
			return nil, fmt.Errorf("open queue pool: %w", perr)
		}
		q, err = queue.NewSQLite(pool, cfg)
	} else {
		pool, perr := db.OpenPgxPool(ctx)
		if perr != nil {
			return nil, fmt.Errorf("open queue pool: %w", perr)
		}
		q, err = queue.NewPostgres(pool, cfg)
	}
	if err != nil {
		return nil, err
	}
	if _, err := q.Migrate(ctx); err != nil {
		return nil, err
	}
	return q, nil
}

// requeueOrphans puts verifications whose worker died back on the queue.
func (m *Main) requeueOrphans(ctx context.Context, vs patchgate.VerificationService, staleBefore time.Time) {
	orphans, err := vs.RequeueOrphans(ctx, staleBefore)
	if err != nil {
		m.Logger.Error("requeue orphaned verifications", "err", err)
		return
	}
	for _, v := range orphans {
		m.Logger.Warn("re-running verification whose worker died", "verification_id", v.ID, "repo", v.Repo, "sha", v.SHA, "attempt", v.Attempt)
		if err := m.Queue.Enqueue(ctx, v); err != nil {
			m.Logger.Error("enqueue orphaned verification", "verification_id", v.ID, "err", err)
		}
	}
}

// queueWait makes the sweep that ends verifications no worker started within
// runners.max_queue_wait (runner_unavailable).
func (m *Main) queueWait(st *stores, uc *useCases) *runners.QueueWait {
	return &runners.QueueWait{Verifications: st.verifications, Queue: m.Queue, Reporter: m.Reporter, Verdicts: uc.verdicts,
		MaxWait: m.Config.Runners.MaxQueueWait, Logger: m.Logger}
}

// sweep removes this instance's containers and networks whose run its
// database knows to be over: finished, re-run at a later attempt, or silent
// for three heartbeats. Runs it does not know are another's and kept.
func (m *Main) sweep(ctx context.Context) {
	fresh := 3 * m.Config.Runners.Heartbeat
	n, err := m.envs.Sweep(ctx, func(runID string) bool { return m.Executor.Alive(ctx, runID, fresh) })
	if err != nil {
		m.Logger.Warn("sweep leftover containers", "removed", n, "err", err)
	} else if n > 0 {
		m.Logger.Info("swept leftover containers and networks", "removed", n)
	}
}

// watchRuns re-queues orphaned verifications and sweeps leftovers every three
// heartbeats: a run is dead after as long, and its resources past the sweep
// grace period too. A sweep is two label-filtered list calls.
func (m *Main) watchRuns(ctx context.Context, vs patchgate.VerificationService) {
	hb := m.Config.Runners.Heartbeat
	t := time.NewTicker(3 * hb)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.requeueOrphans(ctx, vs, time.Now().Add(-3*hb))
			m.sweep(ctx)
		}
	}
}

func randomID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
