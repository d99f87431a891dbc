// Package queue is patchgate's durable job queue: River on the same database as
// everything else (riversqlite for the embedded default, riverpgxv5 for
// PostgreSQL, where many workers on many hosts share one queue). It knows one
// job, "verify", and hands it to a handler in root terms.
package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/patchgate/patchgate"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// Handler runs one verification attempt. Returning nil completes the job; an
// error is logged and the job is not retried (the verification records why).
type Handler interface {
	Run(ctx context.Context, verificationID int64, attempt int) error
}

// HandlerFunc is a function that is a Handler.
type HandlerFunc func(ctx context.Context, verificationID int64, attempt int) error

// Run calls f.
func (f HandlerFunc) Run(ctx context.Context, verificationID int64, attempt int) error {
	return f(ctx, verificationID, attempt)
}

// Config configures a Queue.
type Config struct {
	// Workers bounds how many verifications run at once on this process; 0
	// makes an insert-only queue (the server when workers run elsewhere).
	Workers int
	// JobTimeout bounds one verification; River cancels its context after it.
	JobTimeout time.Duration
	Logger     *slog.Logger
}

// verifyArgs is the "verify" job. The attempt makes a job unique per run, so a
// verification re-queued after its worker died gets a new job.
type verifyArgs struct {
	VerificationID int64 `json:"verification_id" river:"unique"`
	Attempt        int   `json:"attempt" river:"unique"`
}

func (verifyArgs) Kind() string { return "verify" }

// client is the part of *river.Client[TTx] the queue uses, whatever TTx is.
type client interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobCancel(ctx context.Context, jobID int64) (*rivertype.JobRow, error)
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
}

// Queue schedules and runs verifications. It implements
// patchgate.VerificationQueue.
type Queue struct {
	client  client
	migrate func(ctx context.Context) (int, error)
	workers int
	// handler is given to Start; River's worker, registered at construction,
	// hands each job to it. The queue can so enqueue before the code that runs
	// jobs exists, which needs the queue itself.
	handler atomic.Pointer[Handler]
}

var _ patchgate.VerificationQueue = (*Queue)(nil)

// NewSQLite makes a queue on an SQLite pool of its own (River asks for exactly
// one open connection there).
func NewSQLite(pool *sql.DB, cfg Config) (*Queue, error) {
	driver := riversqlite.New(pool)
	q := &Queue{workers: cfg.Workers, migrate: migrator(driver, cfg.Logger)}
	c, err := river.NewClient(driver, q.riverConfig(cfg))
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	q.client = c
	return q, nil
}

// NewPostgres makes a queue on a pgx pool.
func NewPostgres(pool *pgxpool.Pool, cfg Config) (*Queue, error) {
	driver := riverpgxv5.New(pool)
	q := &Queue{workers: cfg.Workers, migrate: migrator(driver, cfg.Logger)}
	c, err := river.NewClient(driver, q.riverConfig(cfg))
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	q.client = c
	return q, nil
}

func migrator[TTx any](driver riverdriver.Driver[TTx], logger *slog.Logger) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: logger})
		if err != nil {
			return 0, fmt.Errorf("river migrator: %w", err)
		}
		res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		if err != nil {
			return 0, fmt.Errorf("migrate river tables: %w", err)
		}
		return len(res.Versions), nil
	}
}

func (q *Queue) riverConfig(cfg Config) *river.Config {
	rc := &river.Config{
		Logger:     cfg.Logger,
		JobTimeout: cfg.JobTimeout,
		// A verification that fails records its own outcome; River retrying it
		// would only repeat a verdict.
		MaxAttempts: 1,
		// River's own rescue is a backstop; patchgate re-queues orphaned runs
		// itself, from heartbeats, much sooner.
		RescueStuckJobsAfter: cfg.JobTimeout + time.Hour,
		FetchPollInterval:    200 * time.Millisecond,
	}
	if cfg.Workers > 0 {
		workers := river.NewWorkers()
		river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[verifyArgs]) error {
			h := q.handler.Load()
			if h == nil {
				return errors.New("queue started without a handler")
			}
			return (*h).Run(ctx, job.Args.VerificationID, job.Args.Attempt)
		}))
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}}
	}
	return rc
}

// Migrate creates or upgrades River's tables; it returns how many migrations ran.
func (q *Queue) Migrate(ctx context.Context) (int, error) { return q.migrate(ctx) }

// Start starts working jobs (when the queue has workers), each by h.
func (q *Queue) Start(ctx context.Context, h Handler) error {
	if q.workers == 0 {
		return nil
	}
	if h == nil {
		return errors.New("start queue: no handler")
	}
	q.handler.Store(&h)
	return q.client.Start(ctx)
}

// Stop stops fetching jobs and waits for the running ones to finish.
func (q *Queue) Stop(ctx context.Context) error {
	if q.workers == 0 {
		return nil
	}
	return q.client.Stop(ctx)
}

// StopAndCancel cancels the running jobs' contexts and waits for them to return.
func (q *Queue) StopAndCancel(ctx context.Context) error {
	if q.workers == 0 {
		return nil
	}
	return q.client.StopAndCancel(ctx)
}

// Enqueue schedules an attempt of v. Enqueueing the same attempt twice makes one
// job.
func (q *Queue) Enqueue(ctx context.Context, v *patchgate.Verification) error {
	_, err := q.client.Insert(ctx, verifyArgs{VerificationID: v.ID, Attempt: v.Attempt}, &river.InsertOpts{
		UniqueOpts: river.UniqueOpts{ByArgs: true},
	})
	if err != nil {
		return fmt.Errorf("enqueue verification %d: %w", v.ID, err)
	}
	return nil
}

// Cancel stops the live jobs of the given verifications: a queued job never
// starts, a running one has its context cancelled.
func (q *Queue) Cancel(ctx context.Context, verificationIDs ...int64) error {
	if len(verificationIDs) == 0 {
		return nil
	}
	want := map[int64]bool{}
	for _, id := range verificationIDs {
		want[id] = true
	}
	params := river.NewJobListParams().Kinds(verifyArgs{}.Kind()).
		States(rivertype.JobStateAvailable, rivertype.JobStateRunning, rivertype.JobStateScheduled,
			rivertype.JobStateRetryable, rivertype.JobStatePending).
		First(10000)
	res, err := q.client.JobList(ctx, params)
	if err != nil {
		return fmt.Errorf("list jobs to cancel: %w", err)
	}
	var errs []error
	for _, job := range res.Jobs {
		var args verifyArgs
		if err := unmarshalArgs(job, &args); err != nil || !want[args.VerificationID] {
			continue
		}
		if _, err := q.client.JobCancel(ctx, job.ID); err != nil && !errors.Is(err, river.ErrNotFound) {
			errs = append(errs, fmt.Errorf("cancel job %d of verification %d: %w", job.ID, args.VerificationID, err))
		}
	}
	return errors.Join(errs...)
}
