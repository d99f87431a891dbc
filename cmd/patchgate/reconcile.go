package main

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/server"
	"github.com/patchgate/patchgate/usecase/reconcile"
)

// ReconcileConfig is head reconciliation: comparing every open change's head
// and state with its forge's, to correct what missed webhooks left stale.
type ReconcileConfig struct {
	// Interval is how often a serving patchgate reconciles, the first time
	// at start; 0 turns automatic reconciliation off (`patchgate reconcile`
	// still runs it).
	Interval time.Duration `yaml:"interval"`
	// Retry is how soon it runs again after the intake had to refuse a
	// delivery (answered 5xx) or a run failed, until a run gets through.
	Retry time.Duration `yaml:"retry"`
}

// reconcileLoop runs head reconciliation in a serving process and keeps its
// last run for the dashboard.
type reconcileLoop struct {
	r        *reconcile.Reconciler
	metrics  *server.Metrics
	interval time.Duration
	last     atomic.Pointer[patchgate.ReconcileRun]
	// refused is set when the intake could not store a delivery; the loop
	// then runs every retry until a run succeeds, so what was refused is
	// redelivered soon after the database is back, not an interval later.
	refused atomic.Bool
	retry   time.Duration
	logger  interface {
		Warn(msg string, args ...any)
		Info(msg string, args ...any)
	}
}

// headReaders are the forge clients that read heads (forges.GitHub and
// forges.GitLab do).
func headReaders(clients forgeAPIs) map[patchgate.Forge]reconcile.HeadReader {
	out := map[patchgate.Forge]reconcile.HeadReader{}
	for forge, c := range clients.comparers {
		if r, ok := c.(reconcile.HeadReader); ok {
			out[forge] = r
		}
	}
	return out
}

// newReconciler wires the reconciliation use case; wake may be nil (the CLI:
// the serving processes poll the database).
func (m *Main) newReconciler(changes reconcile.Changes, deliveries reconcileDeliveries, repos *patchgate.RepositoryDirectory, clients forgeAPIs, wake reconcile.Waker) *reconcile.Reconciler {
	public := strings.TrimSuffix(m.Config.PublicURL, "/")
	holder := "cli/" + randomID()
	if m.Executor != nil {
		holder = m.Executor.Worker // this process, unique among those sharing the database
	}
	redeliver := &reconcile.Redeliverer{Logs: map[patchgate.Forge]reconcile.HookLog{}, Deliveries: deliveries, Repos: repos,
		HookURL: map[patchgate.Forge]string{patchgate.GitHub: public + "/webhooks/github", patchgate.GitLab: public + "/webhooks/gitlab"},
		Sharing: reconcile.Sharing{Claims: deliveries, Holder: holder}}
	for forge, c := range clients.comparers {
		if l, ok := c.(reconcile.HookLog); ok {
			redeliver.Logs[forge] = l
		}
	}
	return &reconcile.Reconciler{Changes: changes, Deliveries: deliveries, Readers: headReaders(clients), Repos: repos,
		Wake: wake, Logger: m.Logger, Redeliver: redeliver}
}

// reconcileDeliveries stores corrections, says which deliveries arrived and
// records the redeliveries asked for (store.DeliveryService).
type reconcileDeliveries interface {
	reconcile.Deliveries
	reconcile.StoredDeliveries
	reconcile.Claims
}

// Last is the last run, for server.Server.LastReconcile.
func (l *reconcileLoop) Last() (patchgate.ReconcileRun, bool) {
	if run := l.last.Load(); run != nil {
		return *run, true
	}
	return patchgate.ReconcileRun{}, false
}

// Refused says the intake answered a delivery 5xx (server.Server.Refused).
func (l *reconcileLoop) Refused() { l.refused.Store(true) }

// runOnce reconciles every configured repository and records the run; it
// reports whether the run got through.
func (l *reconcileLoop) runOnce(ctx context.Context) bool {
	rep, err := l.r.Run(ctx, reconcile.Options{})
	if err != nil {
		if ctx.Err() == nil {
			l.logger.Warn("reconcile heads with the forges: the database failed; the next run tries again", "err", err)
		}
		return false
	}
	run := rep.Summary()
	l.last.Store(&run)
	l.metrics.ObserveReconcile(run)
	for _, p := range rep.Problems {
		l.logger.Warn("reconcile: could not read a change from its forge; the next run tries again", "repo", p.Repo, "change", p.Change, "err", p.Error)
	}
	if run.Corrected > 0 || run.Redelivered > 0 {
		l.logger.Info("reconciled heads with the forges", "checked", run.Checked, "corrected", run.Corrected, "redelivered", run.Redelivered)
	}
	return true
}

// start runs reconciliation now and every interval until ctx ends; with a
// zero interval it does nothing.
func (l *reconcileLoop) start(ctx context.Context, wg *sync.WaitGroup) {
	if l.interval <= 0 {
		return
	}
	retry := l.retry
	if retry <= 0 {
		retry = 30 * time.Second
	}
	wg.Go(func() {
		t := time.NewTicker(l.interval)
		defer t.Stop()
		r := time.NewTicker(retry)
		defer r.Stop()
		run := func() {
			// Cleared before the run: a refusal during it asks for another.
			l.refused.Store(false)
			if !l.runOnce(ctx) {
				l.refused.Store(true)
			}
		}
		for run(); ; {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				run()
			case <-r.C:
				if l.refused.Load() {
					run()
				}
			}
		}
	})
}
