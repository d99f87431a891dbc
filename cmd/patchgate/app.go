package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges"
	"github.com/patchgate/patchgate/queue"
	"github.com/patchgate/patchgate/runners"
	"github.com/patchgate/patchgate/server"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/testenv"
	"github.com/patchgate/patchgate/usecase/commands"
	"github.com/patchgate/patchgate/usecase/delivery"
	"github.com/patchgate/patchgate/usecase/gate"
	"github.com/patchgate/patchgate/usecase/linking"
	"github.com/patchgate/patchgate/usecase/tracking"
	"github.com/patchgate/patchgate/usecase/verification"
	"github.com/patchgate/patchgate/webhooks"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Main is one running patchgate: it owns the configuration, the database, the
// HTTP server and the background workers. Tests start it on 127.0.0.1:0.
type Main struct {
	Config Config
	Logger *slog.Logger

	// WorkerOnly runs the verification workers without the HTTP server and the
	// delivery processor (`patchgate worker`).
	WorkerOnly bool
	// ConfigPath is the --config file, named in the next steps start-up
	// suggests.
	ConfigPath string

	DB *store.DB
	// The use cases, one per area.
	Linker     *linking.Linker
	Verifier   *verification.Verifier
	Planner    *verification.Planner
	Verdicts   *verification.Verdicts
	Candidates *gate.Candidates
	Gate       *gate.Gate
	Commands   *commands.Handler
	Processor  *delivery.Processor
	Queue      *queue.Queue
	Executor   *runners.Executor
	Reporter   *runners.Reporter
	Trackers   *tracking.Trackers
	// TrackerSync reads and reports to external trackers (Jira).
	TrackerSync *tracking.TrackerSync
	// SLAWatch sends SLA events; nil without an SLA or release webhook.
	SLAWatch *tracking.SLAWatch
	// Escalator escalates tickets and tells each level's contacts; nil
	// without an escalation policy.
	Escalator *tracking.Escalator
	// Instance is the database's instance id; Owner labels this process's
	// containers (runners.owner, or the host name and Instance).
	Instance string
	Owner    string
	envs     *testenv.Runner
	// commenters write comments on changes in the background.
	commenters []*runners.Commenter
	// reconcile is head reconciliation with the forges (reconcile.go).
	reconcile *reconcileLoop

	// closers is the cleanup stack: each area that holds something open
	// pushes how to let it go, and Close (or a failed Run) runs them last
	// pushed first. Built in the order database, trackers, forges, workers,
	// HTTP, it stops HTTP, drains the workers and closes the database last.
	closers  []func() error
	listener net.Listener
	http     *http.Server
	wg       sync.WaitGroup
}

// onClose pushes fn onto the cleanup stack.
func (m *Main) onClose(fn func() error) { m.closers = append(m.closers, fn) }

// background wraps each forge's commenter so that comments are written in the
// background, retried while the forge is down, and never hold up a delivery.
func (m *Main) background(forges map[patchgate.Forge]patchgate.Commenter) map[patchgate.Forge]patchgate.Commenter {
	out := make(map[patchgate.Forge]patchgate.Commenter, len(forges))
	for f, c := range forges {
		bg := &runners.Commenter{Forge: c, Logger: m.Logger}
		m.commenters = append(m.commenters, bg)
		m.onClose(func() error { bg.Close(); return nil })
		out[f] = bg
	}
	return out
}

// NewMain returns a Main for cfg that logs to logger.
func NewMain(cfg Config, logger *slog.Logger) *Main {
	return &Main{Config: cfg, Logger: logger}
}

// Run opens the database, wires the services, starts listening and starts the
// workers. It returns once everything is running; Close stops it. When it
// fails, what it had opened is closed again.
func (m *Main) Run(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			_ = m.cleanup()
		}
	}()
	repos := m.repositories()
	if err := m.openStorage(ctx, len(repos.dir.All())); err != nil {
		return err
	}
	st := m.stores()
	st.tickets.DefaultLevel = repos.dir.DefaultSupportLevel
	clients, err := m.forgeClients()
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := server.NewMetrics(reg)
	metrics.SLAReport, metrics.Logger = server.TicketSLAReport(st.tickets, repos.slaOf), m.Logger
	metrics.FlakeRates = st.verifications.FindFlakeRates
	metrics.DeliveryBacklog = st.deliveries.DeliveryBacklog

	st.observed = m.startTracking(st, repos)
	m.Reporter = &runners.Reporter{Statuses: clients.statuses, Checks: clients.checks, PublicURL: m.Config.PublicURL, Logger: m.Logger}
	m.onClose(func() error { m.Reporter.Close(); return nil })
	commenters := m.background(clients.commenters)
	workers := m.Config.Runners.Workers
	if m.WorkerOnly && workers == 0 {
		workers = 1
	}
	if m.Queue, err = openQueue(ctx, m.DB, queue.Config{Workers: workers, JobTimeout: m.Config.Runners.JobTimeout, Logger: m.Logger}); err != nil {
		return err
	}
	uc := m.useCases(st, repos, clients, commenters)
	if uc.gate.Packs, err = m.evidenceRecorder(st, clients); err != nil {
		return err
	}
	m.Executor = m.executor(st, clients, uc, metrics)
	workCtx, err := m.startWorkers(ctx, workers, st.verifications)
	if err != nil {
		return err
	}
	// Every process sweeps, workers or not: a server whose workers are gone
	// is where runs would otherwise pend for ever.
	m.wg.Go(func() { m.queueWait(st, uc).Run(workCtx) })
	if m.WorkerOnly {
		m.Logger.Info("patchgate worker running", "database", databaseLabel(m.Config.Database), "workers", workers, "owner", m.Owner, "instance", m.Instance)
		return nil
	}
	inbox := delivery.NewInbox()
	m.reconcile = &reconcileLoop{r: m.newReconciler(st.changes, st.deliveries, repos.dir, clients, inbox), metrics: metrics,
		interval: m.Config.Reconcile.Interval, retry: m.Config.Reconcile.Retry, logger: m.Logger}
	srv := m.server(st, repos, uc, inbox, metrics, reg)
	if err := m.listen(srv); err != nil {
		return err
	}
	m.startDelivery(workCtx, st, repos, uc, inbox, srv, metrics)
	m.reconcile.start(workCtx, &m.wg)
	m.wg.Go(func() {
		if err := m.http.Serve(m.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("http server stopped", "err", err)
		}
	})
	m.logStarted(ctx, m.listener.Addr().String(), len(repos.dir.All()), st.tokens)
	return nil
}

// Addr is the address the server listens on (useful with port 0).
func (m *Main) Addr() string { return m.listener.Addr().String() }

// Close stops accepting HTTP requests, lets in-flight ones finish, drains the
// workers, then closes the database: the cleanup stack in reverse, so no work
// is cut off.
func (m *Main) Close() error { return m.cleanup() }

// cleanup runs the cleanup stack, last pushed first, once.
func (m *Main) cleanup() error {
	var errs []error
	for i := len(m.closers) - 1; i >= 0; i-- {
		if err := m.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	m.closers = nil
	return errors.Join(errs...)
}

// forgeAPIs are the forge clients by role; a forge without a token has none.
type forgeAPIs struct {
	commenters map[patchgate.Forge]patchgate.Commenter
	statuses   map[patchgate.Forge]patchgate.StatusPoster
	sources    map[patchgate.Forge]patchgate.SourceFetcher
	comparers  map[patchgate.Forge]patchgate.Comparer
	releasers  map[patchgate.Forge]patchgate.Releaser
	authors    map[patchgate.Forge]patchgate.AuthorFinder
	// comments read comment commands back before they act.
	comments map[patchgate.Forge]patchgate.CommentReader
	// users look logins' user ids up, to pin people.
	users map[patchgate.Forge]patchgate.UserLookup
	// proofSources compare changes and read their test files, for proofs.
	proofSources map[patchgate.Forge]verification.ProofSource
	// checks and checkForges are set for GitHub in App mode (githubapp.go).
	checks      map[patchgate.Forge]patchgate.CheckRunPoster
	checkForges map[patchgate.Forge]checkForge
}

// forgeClients builds the GitHub and GitLab API clients.
func (m *Main) forgeClients() (forgeAPIs, error) {
	out := forgeAPIs{
		commenters: map[patchgate.Forge]patchgate.Commenter{},
		statuses:   map[patchgate.Forge]patchgate.StatusPoster{},
		sources:    map[patchgate.Forge]patchgate.SourceFetcher{},
		comparers:  map[patchgate.Forge]patchgate.Comparer{},
		releasers:  map[patchgate.Forge]patchgate.Releaser{},
		authors:    map[patchgate.Forge]patchgate.AuthorFinder{},
		comments:   map[patchgate.Forge]patchgate.CommentReader{},
		users:      map[patchgate.Forge]patchgate.UserLookup{},

		proofSources: map[patchgate.Forge]verification.ProofSource{},
	}
	if c := m.Config.GitHub; c.Token != "" || c.AppID != 0 {
		cfg, err := m.githubConfig()
		if err != nil {
			return out, err
		}
		gh, err := forges.NewGitHub(cfg)
		if err != nil {
			return out, fmt.Errorf("github client: %w", err)
		}
		out.checks, out.checkForges = checkForgesOf(gh)
		out.commenters[patchgate.GitHub], out.statuses[patchgate.GitHub], out.sources[patchgate.GitHub] = gh, gh, gh
		out.comparers[patchgate.GitHub], out.releasers[patchgate.GitHub], out.authors[patchgate.GitHub] = gh, gh, gh
		out.proofSources[patchgate.GitHub], out.comments[patchgate.GitHub], out.users[patchgate.GitHub] = gh, gh, gh
	}
	if c := m.Config.GitLab; c.Token != "" {
		gl, err := forges.NewGitLab(forges.Config{BaseURL: c.APIURL, Token: c.Token, Logger: m.Logger})
		if err != nil {
			return out, fmt.Errorf("gitlab client: %w", err)
		}
		out.commenters[patchgate.GitLab], out.statuses[patchgate.GitLab], out.sources[patchgate.GitLab] = gl, gl, gl
		out.comparers[patchgate.GitLab], out.releasers[patchgate.GitLab], out.authors[patchgate.GitLab] = gl, gl, gl
		out.proofSources[patchgate.GitLab], out.comments[patchgate.GitLab], out.users[patchgate.GitLab] = gl, gl, gl
	}
	return out, nil
}

// pruneDeliveries drops processed deliveries past the retention period, hourly.
func (m *Main) pruneDeliveries(ctx context.Context, deliveries patchgate.DeliveryService) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		n, err := deliveries.DeleteDeliveriesBefore(ctx, time.Now().Add(-m.Config.Workers.DeliveryRetention))
		if err != nil && ctx.Err() == nil {
			m.Logger.Warn("prune deliveries", "err", err)
		} else if n > 0 {
			m.Logger.Info("pruned deliveries", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// parseDelivery is the processor's parser: the webhooks package's, with its typed
// ignored result turned into a reason.
func parseDelivery(forge patchgate.Forge, event string, body []byte) (*patchgate.Event, string, error) {
	ev, err := webhooks.Parse(forge, event, body)
	var ignored *webhooks.IgnoredError
	if errors.As(err, &ignored) {
		return nil, ignored.Reason, nil
	}
	return ev, "", err
}

// openDatabase opens the configured database and makes sure its schema is
// current. A brand-new database is migrated at once (there is nothing to lose);
// an existing one at an older schema is migrated only when the configuration
// says so, so that upgrades are a deliberate step. Then it loads the audit key
// as use allows (see useAuditKey).
func openDatabase(ctx context.Context, cfg Config, logger *slog.Logger, use keyUse) (_ *store.DB, err error) {
	db, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", redactURL(cfg.Database), err)
	}
	defer func() {
		if err != nil {
			_ = db.Close()
		}
	}()
	version, err := db.SchemaVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	migrated := false
	if version == 0 || cfg.Migrate {
		n, err := db.Migrate(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		if n > 0 {
			logger.Info("applied migrations", "count", n)
		}
		migrated = n > 0
	}
	if err := db.CheckSchema(ctx); err != nil {
		return nil, err
	}
	if err := useAuditKey(ctx, db, cfg, use, migrated); err != nil {
		return nil, err
	}
	return db, nil
}
