package main

import (
	"context"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/server"
)

// pruneSessions deletes expired and idle dashboard sessions every hour, until
// ctx ends. Lookups refuse them anyway; this only keeps the table small.
func (m *Main) pruneSessions(ctx context.Context, sessions patchgate.SessionService) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		n, err := sessions.DeleteExpiredSessions(ctx, time.Now().Add(-server.SessionIdle))
		if err != nil && ctx.Err() == nil {
			m.Logger.Warn("prune sessions", "err", err)
		} else if n > 0 {
			m.Logger.Info("pruned sessions", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
