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
	// Instance is the database's instance id; Owner labels this process's
	// containers (runners.owner, or the host name and Instance).
	Instance string
	Owner    string
	envs     *testenv.Runner
	// commenters write comments on changes in the background.
	commenters []*runners.Commenter

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

// stores are the database's services the areas share.
type stores struct {
	tickets       *store.TicketService
	changes       *store.ChangeService
	links         *store.LinkService
	deliveries    *store.DeliveryService
	tokens        *store.TokenService
	verifications *store.VerificationService
	quarantines   *store.QuarantineService
	releases      *store.ReleaseService
	// observed is the ticket service whose reconciles and references the
	// tracker sync hears of.
	observed observedTickets
}

// repositories are the configured repositories and what follows from them.
type repositories struct {
	dir     *patchgate.RepositoryDirectory
	secrets server.WebhookSecrets
	jiras   *jiraSites
	slaOf   func(t *patchgate.Ticket) patchgate.SLAStatus
}

// useCases are the use cases, wired.
type useCases struct {
	linker     *linking.Linker
	verifier   *verification.Verifier
	planner    *verification.Planner
	verdicts   *verification.Verdicts
	candidates *gate.Candidates
	gate       *gate.Gate
	commands   *commands.Handler
	trackers   *tracking.Trackers
	dispatch   *delivery.Dispatcher
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
	clients, err := m.forgeClients()
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := server.NewMetrics(reg)
	metrics.SLAReport, metrics.Logger = server.TicketSLAReport(st.tickets, repos.slaOf), m.Logger
	metrics.FlakeRates = st.verifications.FindFlakeRates

	st.observed = m.startTracking(st, repos)
	m.Reporter = &runners.Reporter{Statuses: clients.statuses, PublicURL: m.Config.PublicURL, Logger: m.Logger}
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
	m.Executor = m.executor(st, clients, uc, metrics)
	workCtx, err := m.startWorkers(ctx, workers, st.verifications)
	if err != nil {
		return err
	}
	if m.WorkerOnly {
		m.Logger.Info("patchgate worker running", "database", databaseLabel(m.Config.Database), "workers", workers, "owner", m.Owner, "instance", m.Instance)
		return nil
	}
	inbox := delivery.NewInbox()
	srv := m.server(st, repos, uc, inbox, metrics, reg)
	if err := m.listen(srv); err != nil {
		return err
	}
	m.startDelivery(workCtx, st, repos, uc, inbox, srv, metrics)
	m.wg.Go(func() {
		if err := m.http.Serve(m.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("http server stopped", "err", err)
		}
	})
	m.logStarted(ctx, m.listener.Addr().String(), len(repos.dir.All()), st.tokens)
	return nil
}

// repositories indexes the configured repositories, their webhook secrets
// and Jira sites, and the SLA each ticket is held to.
func (m *Main) repositories() repositories {
	list := make([]*patchgate.Repository, len(m.Config.Repos))
	secrets := server.WebhookSecrets{GitHub: m.Config.GitHub.WebhookSecrets, GitLab: m.Config.GitLab.WebhookSecrets, Repos: map[string][]string{}}
	for i, rc := range m.Config.Repos {
		list[i] = rc.Repository()
		if len(rc.WebhookSecrets) > 0 {
			secrets.Repos[strings.ToLower(list[i].Ref().String())] = rc.WebhookSecrets
		}
	}
	dir := patchgate.NewRepositoryDirectory(list)
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
	return repositories{dir: dir, secrets: secrets, jiras: jiras, slaOf: slaOf}
}

// openStorage opens the database, audits the configuration it runs under and
// reads the instance's identity; the database is closed last.
func (m *Main) openStorage(ctx context.Context, repos int) error {
	db, err := openDatabase(ctx, m.Config, m.Logger, keyWrite)
	if err != nil {
		return err
	}
	m.DB = db
	m.onClose(func() error {
		if err := db.Close(); err != nil {
			return fmt.Errorf("close database: %w", err)
		}
		return nil
	})
	if _, err := store.NewAuditService(db).RecordConfig(ctx, m.Config.Digest(), map[string]string{
		"repos": strconv.Itoa(repos), "listen": m.Config.Listen, "public_url": m.Config.PublicURL,
	}); err != nil {
		return fmt.Errorf("audit the configuration: %w", err)
	}
	if m.Instance, err = db.InstanceID(ctx); err != nil {
		return fmt.Errorf("read the instance id: %w", err)
	}
	m.Owner = m.Config.Runners.Owner
	if m.Owner == "" {
		m.Owner = defaultOwner(m.Instance)
	}
	return nil
}

// stores makes the database's services.
func (m *Main) stores() *stores {
	db := m.DB
	return &stores{
		tickets: store.NewTicketService(db), changes: store.NewChangeService(db), links: store.NewLinkService(db),
		deliveries: store.NewDeliveryService(db), tokens: store.NewTokenService(db),
		verifications: store.NewVerificationService(db), quarantines: store.NewQuarantineService(db),
		releases: store.NewReleaseService(db),
	}
}

// startTracking starts the tracker sync and makes the tracker use case; it
// returns the ticket service the other use cases write through, which tells
// the sync of every ticket referenced and reconciled.
func (m *Main) startTracking(st *stores, repos repositories) observedTickets {
	// The sync reads an issue and reports on it in one go, so the tickets it
	// updates itself need not tell it again.
	m.TrackerSync = &tracking.TrackerSync{
		Tickets: st.tickets, Links: st.links, Verifications: st.verifications,
		Updater: &tracking.Trackers{Tickets: st.tickets, Updates: st.tickets},
		Site:    repos.jiras.syncSite(repos.jiras.clients()), SLA: repos.slaOf, Logger: m.Logger,
	}
	m.TrackerSync.Start()
	m.onClose(func() error { m.TrackerSync.Close(); return nil })
	observed := observedTickets{TicketService: st.tickets, sync: m.TrackerSync}
	m.Trackers = &tracking.Trackers{Tickets: observed, Updates: st.tickets}
	return observed
}

// useCases wires the use cases, each from the ones it calls: configuration
// reading, planning and ticket reconciling first, then the release gate, the
// verdicts, verification, linking and comment commands, and the dispatch of
// events to them.
func (m *Main) useCases(st *stores, repos repositories, clients forgeAPIs, commenters map[patchgate.Forge]patchgate.Commenter) *useCases {
	trust := verification.Trust{ReleaseManagers: map[patchgate.Forge][]string{
		patchgate.GitHub: m.Config.ReleaseManagers["github"],
		patchgate.GitLab: m.Config.ReleaseManagers["gitlab"],
	}}
	configs := &verification.Configs{Sources: clients.sources, Ceilings: m.Config.Runners.Ceilings(), APIQuarantines: st.quarantines}
	reconciler := &linking.Reconciler{Tickets: st.observed, Links: st.links}
	uc := &useCases{}
	uc.planner = &verification.Planner{Configs: configs, Verifications: st.verifications, Changes: st.changes,
		Links: st.links, Repos: repos.dir, Forges: clients.proofSources, Trust: trust, Logger: m.Logger}
	uc.candidates = &gate.Candidates{Configs: configs, Releases: st.releases, Changes: st.changes, Links: st.links,
		Repos: repos.dir, Comparers: clients.comparers, Logger: m.Logger}
	uc.gate = &gate.Gate{Configs: configs, Releases: st.releases, Evidence: st.verifications, Releasers: clients.releasers,
		Authors: clients.authors, Commenters: commenters, Announcer: m.announcer(), Logger: m.Logger}
	uc.verdicts = &verification.Verdicts{Changes: st.changes, Tickets: reconciler, Releases: uc.candidates, Logger: m.Logger}
	cmds := store.NewCommandService(m.DB)
	uc.verifier = &verification.Verifier{Verifications: st.verifications, Queue: m.Queue, Reporter: m.Reporter,
		Changes: st.changes, Repos: repos.dir, Vouches: cmds, Trust: trust, Logger: m.Logger}
	uc.linker = &linking.Linker{Tickets: st.observed, Changes: st.changes, Links: st.links, Repos: repos.dir,
		Commenters: commenters, Heads: uc.verifier, Hosts: []string{m.Config.GitHub.WebHost(), m.Config.GitLab.WebHost()},
		Logger: m.Logger}
	uc.commands = &commands.Handler{Changes: st.changes, Candidates: st.releases, Gate: uc.gate, Verifier: uc.verifier,
		Commands: cmds, Commenters: commenters, People: trust, Logger: m.Logger}
	uc.trackers = m.Trackers
	uc.dispatch = &delivery.Dispatcher{Repos: repos.dir, Links: uc.linker, Commands: uc.commands, Trackers: uc.trackers}
	m.Linker, m.Verifier, m.Planner, m.Verdicts = uc.linker, uc.verifier, uc.planner, uc.verdicts
	m.Candidates, m.Gate, m.Commands = uc.candidates, uc.gate, uc.commands
	return uc
}

// executor makes this process's runner of verifications: the environments it
// runs suites in, and the executor the queue hands jobs to.
func (m *Main) executor(st *stores, clients forgeAPIs, uc *useCases, metrics *server.Metrics) *runners.Executor {
	rc := m.Config.Runners
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
	m.onClose(func() error { _ = m.envs.Close(); return nil })
	return &runners.Executor{
		Verifications: st.verifications,
		Planner:       uc.planner,
		Proofs:        st.verifications,
		Source: func(ctx context.Context, repo patchgate.RepoRef, sha string) (io.ReadCloser, error) {
			src := clients.sources[repo.Forge]
			if src == nil {
				return nil, patchgate.Errorf(patchgate.EINVALID, "no API access to %s is configured", repo.Forge)
			}
			return forges.OpenTree(ctx, src, repo, sha)
		},
		Environments: m.envs,
		Reporter:     m.Reporter,
		Verdicts:     uc.verdicts,
		OnFlaky:      metrics.ObserveFlaky,
		FlakyTests:   st.verifications,
		Worker:       m.Owner + "/" + randomID(),
		Owner:        m.Owner,
		Heartbeat:    rc.Heartbeat,
		Retries:      rc.Retries,
		RetryBackoff: rc.RetryBackoff,
		Secrets:      m.Config.Secrets(),
		Logger:       m.Logger,
	}
}

// startWorkers starts the verification workers, when this process has any,
// and returns the context the background work runs under. Draining them
// stops the background work, waits for it, then gives running verifications
// a grace period.
func (m *Main) startWorkers(ctx context.Context, workers int, verifications patchgate.VerificationService) (context.Context, error) {
	workCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	started := false
	m.onClose(func() error {
		cancel()
		m.wg.Wait()
		if started {
			// Running verifications get a grace period; after it they are
			// interrupted, left running in the database, and re-run on the next
			// start (or by another worker).
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := m.Queue.Stop(ctx); err != nil {
				m.Logger.Warn("verifications interrupted by shutdown; they will re-run", "err", err)
				_ = m.Queue.StopAndCancel(context.Background())
			}
		}
		return nil
	})
	if workers == 0 {
		return workCtx, nil
	}
	// A single SQLite process owns every run: whatever it left running when
	// it died is orphaned now. On PostgreSQL other workers may be alive, so
	// only silent runs count.
	staleBefore := time.Now().Add(-3 * m.Config.Runners.Heartbeat)
	if m.DB.Dialect() == "sqlite" {
		staleBefore = time.Now()
	}
	m.requeueOrphans(ctx, verifications, staleBefore)
	m.sweep(ctx)
	if err := m.Queue.Start(workCtx, m.Executor); err != nil {
		return nil, fmt.Errorf("start queue: %w", err)
	}
	started = true
	m.wg.Go(func() { m.watchRuns(workCtx, verifications) })
	return workCtx, nil
}

// server makes the HTTP server over the use cases.
func (m *Main) server(st *stores, repos repositories, uc *useCases, inbox *delivery.Inbox, metrics *server.Metrics, reg *prometheus.Registry) *server.Server {
	return &server.Server{
		Tickets:       st.tickets,
		Changes:       st.changes,
		Links:         st.links,
		Deliveries:    st.deliveries,
		Tokens:        st.tokens,
		Verifications: st.verifications,
		Proofs:        st.verifications,
		FlakyTests:    st.verifications,
		Quarantines:   st.quarantines,
		Rerunner:      uc.verifier,
		Releases:      st.releases,
		Proposer:      uc.candidates,
		Releaser:      uc.gate,
		Audit:         store.NewAuditService(m.DB),
		Linker:        uc.linker,
		TicketUpdater: uc.trackers,
		Repos:         repos.dir,
		SLA:           repos.slaOf,
		Secrets:       repos.secrets,
		MaxUnverified: m.Config.Intake.MaxUnverified,
		Jira:          repos.jiras.hooks(),
		Notify:        inbox.Notify,
		NotifyRepo:    inbox.NotifyRepo,
		Ready:         m.DB.Ping,
		Sessions:      store.NewSessionService(m.DB),
		ReleasePolicy: uc.gate,
		PublicURL:     m.Config.PublicURL,
		Logger:        m.Logger,
		Metrics:       metrics,
		Gatherer:      reg,
	}
}

// listen opens the listener and makes the HTTP server; HTTP is the first
// thing Close stops, letting in-flight requests finish.
func (m *Main) listen(srv *server.Server) error {
	ln, err := net.Listen("tcp", m.Config.Listen)
	if err != nil {
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
	m.onClose(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := m.http.Shutdown(ctx); err != nil {
			return fmt.Errorf("shut down http: %w", err)
		}
		return nil
	})
	return nil
}

// startDelivery starts applying stored deliveries, and the housekeeping that
// runs beside it: pruning deliveries and sessions, and the SLA watch.
func (m *Main) startDelivery(workCtx context.Context, st *stores, repos repositories, uc *useCases, inbox *delivery.Inbox, srv *server.Server, metrics *server.Metrics) {
	m.Processor = &delivery.Processor{
		Deliveries: st.deliveries,
		Inbox:      inbox,
		Parser:     delivery.ParseFunc(repos.jiras.parseAny),
		Events:     uc.dispatch,
		Observer:   metrics,
		Intake:     srv,
		Logger:     m.Logger,
		Settings: delivery.Settings{
			Workers: m.Config.Workers.Deliveries,
			Holder:  m.Executor.Worker, // this process, unique among those sharing the database
		},
	}
	m.Processor.Init()
	m.wg.Go(func() { m.Processor.Run(workCtx) })
	m.wg.Go(func() { m.pruneDeliveries(workCtx, st.deliveries) })
	if m.SLAWatch = m.slaWatch(st.tickets, repos.slaOf); m.SLAWatch != nil {
		m.wg.Go(func() { m.SLAWatch.Run(workCtx) })
	}
	m.wg.Go(func() { m.pruneSessions(workCtx, srv.Sessions) })
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
	// proofSources compare changes and read their test files, for proofs.
	proofSources map[patchgate.Forge]verification.ProofSource
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

		proofSources: map[patchgate.Forge]verification.ProofSource{},
	}
	if c := m.Config.GitHub; c.Token != "" {
		gh, err := forges.NewGitHub(forges.Config{BaseURL: c.APIURL, Token: c.Token, Logger: m.Logger})
		if err != nil {
			return out, fmt.Errorf("github client: %w", err)
		}
		out.commenters[patchgate.GitHub], out.statuses[patchgate.GitHub], out.sources[patchgate.GitHub] = gh, gh, gh
		out.comparers[patchgate.GitHub], out.releasers[patchgate.GitHub], out.authors[patchgate.GitHub] = gh, gh, gh
		out.proofSources[patchgate.GitHub] = gh
	}
	if c := m.Config.GitLab; c.Token != "" {
		gl, err := forges.NewGitLab(forges.Config{BaseURL: c.APIURL, Token: c.Token, Logger: m.Logger})
		if err != nil {
			return out, fmt.Errorf("gitlab client: %w", err)
		}
		out.commenters[patchgate.GitLab], out.statuses[patchgate.GitLab], out.sources[patchgate.GitLab] = gl, gl, gl
		out.comparers[patchgate.GitLab], out.releasers[patchgate.GitLab], out.authors[patchgate.GitLab] = gl, gl, gl
		out.proofSources[patchgate.GitLab] = gl
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
