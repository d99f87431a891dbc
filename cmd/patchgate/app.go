package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges"
	"github.com/patchgate/patchgate/notify"
	"github.com/patchgate/patchgate/pipelines"
	"github.com/patchgate/patchgate/queue"
	"github.com/patchgate/patchgate/runners"
	"github.com/patchgate/patchgate/server"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/testenv"
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

	DB        *store.DB
	Service   *pipelines.Service
	Processor *pipelines.Processor
	Queue     *queue.Queue
	Executor  *runners.Executor
	Reporter  *runners.Reporter
	Trackers  *pipelines.Trackers
	// TrackerSync reads and reports to external trackers (Jira).
	TrackerSync *pipelines.TrackerSync
	// SLAWatch sends SLA events; nil without an SLA or release webhook.
	SLAWatch *pipelines.SLAWatch
	// Instance is the database's instance id; Owner labels this process's
	// containers (runners.owner, or the host name and Instance).
	Instance string
	Owner    string
	envs     *testenv.Runner
	// commenters write comments on changes in the background.
	commenters []*runners.Commenter

	listener net.Listener
	http     *http.Server
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// background wraps each forge's commenter so that comments are written in the
// background, retried while the forge is down, and never hold up a delivery.
func (m *Main) background(forges map[patchgate.Forge]patchgate.Commenter) map[patchgate.Forge]patchgate.Commenter {
	out := make(map[patchgate.Forge]patchgate.Commenter, len(forges))
	for f, c := range forges {
		bg := &runners.Commenter{Forge: c, Logger: m.Logger}
		m.commenters = append(m.commenters, bg)
		out[f] = bg
	}
	return out
}

// NewMain returns a Main for cfg that logs to logger.
func NewMain(cfg Config, logger *slog.Logger) *Main {
	return &Main{Config: cfg, Logger: logger}
}

// Run opens the database, wires the services, starts listening and starts the
// workers. It returns once everything is running; Close stops it.
func (m *Main) Run(ctx context.Context) error {
	db, err := openDatabase(ctx, m.Config, m.Logger, keyWrite)
	if err != nil {
		return err
	}
	m.DB = db

	repos := make([]*patchgate.Repository, len(m.Config.Repos))
	secrets := server.WebhookSecrets{GitHub: m.Config.GitHub.WebhookSecrets, GitLab: m.Config.GitLab.WebhookSecrets, Repos: map[string][]string{}}
	for i, rc := range m.Config.Repos {
		repos[i] = rc.Repository()
		if len(rc.WebhookSecrets) > 0 {
			secrets.Repos[strings.ToLower(repos[i].Ref().String())] = rc.WebhookSecrets
		}
	}
	dir := patchgate.NewRepositoryDirectory(repos)
	jiras := newJiraSites(m.Config.Trackers)
	slaOf := func(t *patchgate.Ticket) patchgate.SLAStatus {
		policy := dir.SLAPolicyFor(t)
		if policy == nil && t.Tracker == patchgate.TrackerExternal && jiras.site(t.Key) >= 0 {
			// A Jira project no repository lists among its ticket keys still
			// has the default targets: its tickets are bugs with an SLA.
			policy = patchgate.DefaultSLAPolicy()
		}
		return policy.Evaluate(t, time.Now())
	}

	clients, err := m.forgeClients()
	if err != nil {
		_ = db.Close()
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := server.NewMetrics(reg)

	tickets, changes, links := store.NewTicketService(db), store.NewChangeService(db), store.NewLinkService(db)
	m.TrackerSync = &pipelines.TrackerSync{Tickets: tickets, Links: links, Site: jiras.syncSite(jiras.clients()), SLA: slaOf, Logger: m.Logger}
	m.TrackerSync.Start()
	observed := observedTickets{TicketService: tickets, reconciled: m.TrackerSync.Changed}
	metrics.SLAReport, metrics.Logger = server.TicketSLAReport(tickets, slaOf), m.Logger
	deliveries, tokens := store.NewDeliveryService(db), store.NewTokenService(db)
	verifications := store.NewVerificationService(db)
	quarantines := store.NewQuarantineService(db)
	metrics.FlakeRates = verifications.FindFlakeRates
	releases := store.NewReleaseService(db)
	rc := m.Config.Runners
	workers := rc.Workers
	if m.WorkerOnly && workers == 0 {
		workers = 1
	}
	m.Queue, err = openQueue(ctx, db, queue.Config{Workers: workers, JobTimeout: rc.JobTimeout, Logger: m.Logger})
	if err != nil {
		_ = db.Close()
		return err
	}
	m.Reporter = &runners.Reporter{Statuses: clients.statuses, PublicURL: m.Config.PublicURL, Logger: m.Logger}
	m.Service = &pipelines.Service{
		Tickets:    observed,
		Changes:    changes,
		Links:      links,
		Repos:      dir,
		Commenters: m.background(clients.commenters),
		Hosts:      []string{m.Config.GitHub.WebHost(), m.Config.GitLab.WebHost()},
		Logger:     m.Logger,
		ReleaseManagers: map[patchgate.Forge][]string{
			patchgate.GitHub: m.Config.ReleaseManagers["github"],
			patchgate.GitLab: m.Config.ReleaseManagers["gitlab"],
		},
		Verifications: verifications,
		Queue:         m.Queue,
		Sources:       clients.sources,
		Reporter:      m.Reporter,
		Releases:      releases,
		Comparers:     clients.comparers,
		Proofs:        verifications,
		Releasers:     clients.releasers,
		Authors:       clients.authors,
		Commands:      store.NewCommandService(db),
		Announce:      m.announcer(),
		Ceilings:      m.Config.Runners.Ceilings(),
		Quarantines:   quarantines,
		Referenced:    m.TrackerSync.Referenced,
	}
	if _, err := store.NewAuditService(db).RecordConfig(ctx, m.Config.Digest(), map[string]string{
		"repos": strconv.Itoa(len(repos)), "listen": m.Config.Listen, "public_url": m.Config.PublicURL,
	}); err != nil {
		_ = db.Close()
		return fmt.Errorf("audit the configuration: %w", err)
	}
	if m.Instance, err = db.InstanceID(ctx); err != nil {
		_ = db.Close()
		return fmt.Errorf("read the instance id: %w", err)
	}
	m.Owner = rc.Owner
	if m.Owner == "" {
		m.Owner = defaultOwner(m.Instance)
	}
	m.envs = &testenv.Runner{
		Owner:       m.Owner,
		Instance:    m.Instance,
		Logger:      m.Logger,
		MaxParallel: rc.MaxEnvironments,
		Limits:      defaultLimits(rc.Ceilings()),
		// Claims are recorded before any resource is created, so this is only
		// a margin for clocks and races: three heartbeats.
		SweepGrace: 3 * rc.Heartbeat,
	}
	m.Executor = &runners.Executor{
		Verifications: verifications,
		Planner:       m.Service,
		Proofs:        verifications,
		Source: func(ctx context.Context, repo patchgate.RepoRef, sha string) (io.ReadCloser, error) {
			src := clients.sources[repo.Forge]
			if src == nil {
				return nil, patchgate.Errorf(patchgate.EINVALID, "no API access to %s is configured", repo.Forge)
			}
			return forges.OpenTree(ctx, src, repo, sha)
		},
		Environments: m.envs,
		Reporter:     m.Reporter,
		Verdicts:     m.Service,
		OnFlaky:      metrics.ObserveFlaky,
		FlakyTests:   verifications,
		Worker:       m.Owner + "/" + randomID(),
		Owner:        m.Owner,
		Heartbeat:    rc.Heartbeat,
		Retries:      rc.Retries,
		RetryBackoff: rc.RetryBackoff,
		Secrets:      m.Config.Secrets(),
		Logger:       m.Logger,
	}
	m.Trackers = &pipelines.Trackers{Tickets: observed, Updates: tickets}
	m.TrackerSync.Trackers, m.TrackerSync.Verifications = m.Trackers, verifications
	m.Processor = &pipelines.Processor{
		Deliveries: deliveries,
		Parse:      jiras.parseAny,
		Handle:     m.handleAny,
		Logger:     m.Logger,
		Workers:    m.Config.Workers.Deliveries,
		Holder:     m.Executor.Worker, // this process, unique among those sharing the database
		Observe:    metrics.ObserveProcessed,
	}
	m.Processor.Init()

	workCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = cancel
	if workers > 0 {
		// A single SQLite process owns every run: whatever it left running when
		// it died is orphaned now. On PostgreSQL other workers may be alive, so
		// only silent runs count.
		staleBefore := time.Now().Add(-3 * rc.Heartbeat)
		if db.Dialect() == "sqlite" {
			staleBefore = time.Now()
		}
		m.requeueOrphans(ctx, verifications, staleBefore)
		m.sweep(ctx)
		if err := m.Queue.Start(workCtx, m.Executor); err != nil {
			cancel()
			_ = db.Close()
			return fmt.Errorf("start queue: %w", err)
		}
		m.wg.Go(func() { m.watchRuns(workCtx, verifications) })
	}
	if m.WorkerOnly {
		m.Logger.Info("patchgate worker running", "database", databaseLabel(m.Config.Database), "workers", workers, "owner", m.Owner, "instance", m.Instance)
		return nil
	}

	sessions := store.NewSessionService(db)
	srv := &server.Server{
		Tickets:       tickets,
		Changes:       changes,
		Links:         links,
		Deliveries:    deliveries,
		Tokens:        tokens,
		Verifications: verifications,
		Proofs:        verifications,
		FlakyTests:    verifications,
		Quarantines:   quarantines,
		Verifier:      m.Service,
		Releases:      releases,
		Releaser:      m.Service,
		Audit:         store.NewAuditService(db),
		Linker:        m.Service,
		TicketUpdater: m.Trackers,
		Repos:         dir,
		SLA:           slaOf,
		Secrets:       secrets,
		MaxUnverified: m.Config.Intake.MaxUnverified,
		Jira:          jiras.hooks(),
		Notify:        m.Processor.Notify,
		NotifyRepo:    m.Processor.NotifyRepo,
		Ready:         db.Ping,
		Sessions:      sessions,
		ReleasePolicy: m.Service,
		PublicURL:     m.Config.PublicURL,
		Logger:        m.Logger,
		Metrics:       metrics,
		Gatherer:      reg,
	}
	ln, err := net.Listen("tcp", m.Config.Listen)
	if err != nil {
		cancel()
		_ = m.Queue.Stop(context.Background())
		_ = db.Close()
		return fmt.Errorf("listen on %s: %w", m.Config.Listen, err)
	}
	m.listener = ln
	m.http = &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}

	m.http.RegisterOnShutdown(srv.CloseStreams)
	m.Processor.Busy = srv.IntakeBusy

	m.wg.Go(func() { m.Processor.Run(workCtx) })
	m.wg.Go(func() { m.pruneDeliveries(workCtx, deliveries) })
	if m.SLAWatch = m.slaWatch(tickets, slaOf); m.SLAWatch != nil {
		m.wg.Go(func() { m.SLAWatch.Run(workCtx) })
	}
	m.wg.Go(func() { m.pruneSessions(workCtx, sessions) })
	m.wg.Go(func() {
		if err := m.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("http server stopped", "err", err)
		}
	})
	m.logStarted(ctx, ln.Addr().String(), len(repos), tokens)
	return nil
}

// Addr is the address the server listens on (useful with port 0).
func (m *Main) Addr() string { return m.listener.Addr().String() }

// Close stops accepting HTTP requests, lets in-flight ones finish, drains the
// workers, then closes the database: in that order, so no work is cut off.
func (m *Main) Close() error {
	var errs []error
	if m.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := m.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down http: %w", err))
		}
	}
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
	if m.Queue != nil {
		// Running verifications get a grace period; after it they are
		// interrupted, left running in the database, and re-run on the next
		// start (or by another worker).
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := m.Queue.Stop(ctx); err != nil {
			m.Logger.Warn("verifications interrupted by shutdown; they will re-run", "err", err)
			_ = m.Queue.StopAndCancel(context.Background())
		}
		cancel()
	}
	if m.Reporter != nil {
		m.Reporter.Close()
	}
	for _, c := range m.commenters {
		c.Close()
	}
	if m.TrackerSync != nil {
		m.TrackerSync.Close()
	}
	if m.envs != nil {
		_ = m.envs.Close()
	}
	if m.DB != nil {
		if err := m.DB.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close database: %w", err))
		}
	}
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
	}
	if c := m.Config.GitHub; c.Token != "" {
		gh, err := forges.NewGitHub(forges.Config{BaseURL: c.APIURL, Token: c.Token, Logger: m.Logger})
		if err != nil {
			return out, fmt.Errorf("github client: %w", err)
		}
		out.commenters[patchgate.GitHub], out.statuses[patchgate.GitHub], out.sources[patchgate.GitHub] = gh, gh, gh
		out.comparers[patchgate.GitHub], out.releasers[patchgate.GitHub], out.authors[patchgate.GitHub] = gh, gh, gh
	}
	if c := m.Config.GitLab; c.Token != "" {
		gl, err := forges.NewGitLab(forges.Config{BaseURL: c.APIURL, Token: c.Token, Logger: m.Logger})
		if err != nil {
			return out, fmt.Errorf("gitlab client: %w", err)
		}
		out.commenters[patchgate.GitLab], out.statuses[patchgate.GitLab], out.sources[patchgate.GitLab] = gl, gl, gl
		out.comparers[patchgate.GitLab], out.releasers[patchgate.GitLab], out.authors[patchgate.GitLab] = gl, gl, gl
	}
	return out, nil
}

// announcer tells the tracker sync of a promotion and sends the release
// webhook, when one is configured; a failure is logged, the promotion stands.
func (m *Main) announcer() func(ctx context.Context, c *patchgate.Candidate, r *patchgate.ForgeRelease) {
	wh := m.Config.ReleaseWebhook
	hook := &notify.Webhook{URL: wh.URL, Secret: wh.Secret}
	return func(ctx context.Context, c *patchgate.Candidate, r *patchgate.ForgeRelease) {
		m.TrackerSync.Released(ctx, c, r)
		if wh.URL == "" {
			return
		}
		payload := map[string]any{"action": "promoted", "release": c, "tag": r.Tag, "sha": r.SHA, "url": r.URL}
		if err := hook.Send(ctx, "release.promoted", payload); err != nil {
			m.Logger.Error("release webhook not delivered", "release", c.Name, "repo", c.Repo, "err", err)
		}
	}
}

// slaWatch sends the SLA events to sla_webhook, else to release_webhook;
// nil when neither is configured.
func (m *Main) slaWatch(tickets patchgate.TicketService, slaOf func(t *patchgate.Ticket) patchgate.SLAStatus) *pipelines.SLAWatch {
	wh := m.Config.SLAWebhook
	if wh.URL == "" {
		wh = m.Config.ReleaseWebhook
	}
	if wh.URL == "" {
		return nil
	}
	hook := &notify.Webhook{URL: wh.URL, Secret: wh.Secret}
	return &pipelines.SLAWatch{Tickets: tickets, Events: store.NewSLAEventService(m.DB), SLA: slaOf,
		Send: hook.Send, Logger: m.Logger}
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
func openDatabase(ctx context.Context, cfg Config, logger *slog.Logger, use keyUse) (*store.DB, error) {
	db, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", redactURL(cfg.Database), err)
	}
	version, err := db.SchemaVersion(ctx)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	migrated := false
	if version == 0 || cfg.Migrate {
		n, err := db.Migrate(ctx)
		if err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("migrate: %w", err)
		}
		if n > 0 {
			logger.Info("applied migrations", "count", n)
		}
		migrated = n > 0
	}
	if err := db.CheckSchema(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := useAuditKey(ctx, db, cfg, use, migrated); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}
