package runners

import (
	"context"
	"log/slog"
	"time"

	"github.com/patchgate/patchgate"
)

// DefaultMaxQueueWait is runners.max_queue_wait when the operator sets none.
const DefaultMaxQueueWait = 15 * time.Minute

// UnstartedExpirer ends the verifications no worker claimed in time
// (store.VerificationService).
type UnstartedExpirer interface {
	// ExpireUnstarted ends as errors, with reason (the verification) and
	// description (its queued suites), the verifications queued since before
	// queuedBefore and never claimed, and returns them with their suites.
	ExpireUnstarted(ctx context.Context, queuedBefore time.Time, reason, description string) ([]*patchgate.Verification, error)
}

// JobCanceller stops queued jobs (queue.Queue).
type JobCanceller interface {
	Cancel(ctx context.Context, verificationIDs ...int64) error
}

// QueueWait keeps a required suite from pending for ever when no runner is
// there to start it (no worker process, workers that cannot reach Docker, a
// queue stuck behind others): a verification no worker claimed within MaxWait
// ends as an error with the code runner_unavailable, its statuses say so on
// the forge, and the gate blocks on it with that code until it is re-run.
// Several processes may sweep the same database: each verification ends once.
type QueueWait struct {
	Verifications UnstartedExpirer
	// Queue, when set, has the expired verifications' jobs cancelled, so that
	// they do not occupy a worker that comes later (which would find them
	// final and skip them anyway).
	Queue    JobCanceller
	Reporter *Reporter
	// Verdicts, when set, is told each error verdict, as for any verdict.
	Verdicts VerdictHandler
	// MaxWait is runners.max_queue_wait (DefaultMaxQueueWait when zero).
	MaxWait time.Duration
	Logger  *slog.Logger
}

func (w *QueueWait) maxWait() time.Duration {
	if w.MaxWait <= 0 {
		return DefaultMaxQueueWait
	}
	return w.MaxWait
}

// Sweep ends the verifications queued since before now minus MaxWait and
// reports each: its suites' and its verdict's statuses, then the verdict to
// Verdicts. It returns them.
func (w *QueueWait) Sweep(ctx context.Context, now time.Time) ([]*patchgate.Verification, error) {
	wait := w.maxWait()
	why := patchgate.RunnerUnavailableDescription(wait)
	vs, err := w.Verifications.ExpireUnstarted(ctx, now.Add(-wait), why, why)
	if err != nil || len(vs) == 0 {
		return vs, err
	}
	ids := make([]int64, len(vs))
	for i, v := range vs {
		ids[i] = v.ID
	}
	if w.Queue != nil {
		if err := w.Queue.Cancel(ctx, ids...); err != nil {
			// A job left behind finds its verification final and does not run.
			w.logger().Warn("cancel the jobs of verifications no runner started", "verification_ids", ids, "err", err)
		}
	}
	for _, v := range vs {
		w.logger().Warn("no runner started the verification in time: it ends as an error",
			"verification_id", v.ID, "repo", v.Repo, "sha", v.SHA, "max_queue_wait", wait.String(), "code", patchgate.ReasonRunnerUnavailable)
		if w.Reporter != nil {
			for _, s := range v.Suites {
				w.Reporter.Suite(ctx, v, s)
			}
			w.Reporter.Verdict(ctx, v)
		}
		if w.Verdicts != nil {
			w.Verdicts.OnVerdict(ctx, v)
		}
	}
	return vs, nil
}

// Run sweeps every interval, a quarter of MaxWait and at most a minute, so
// that a run waits at most a little longer than MaxWait, until ctx ends.
func (w *QueueWait) Run(ctx context.Context) {
	every := min(w.maxWait()/4, time.Minute)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if _, err := w.Sweep(ctx, now); err != nil && ctx.Err() == nil {
				w.logger().Error("sweep verifications no runner started", "err", err)
			}
		}
	}
}

func (w *QueueWait) logger() *slog.Logger {
	if w.Logger == nil {
		return slog.Default()
	}
	return w.Logger
}
