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

	DB        *store.DB
	Service   *pipelines.Service
	Processor *pipelines.Processor
	Queue     *queue.Queue
	Verifier  *runners.Verifier
	Reporter  *runners.Reporter
	envs      *testenv.Runner

	listener net.Listener
	http     *http.Server
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// NewMain returns a Main for cfg that logs to logger.
func NewMain(cfg Config, logger *slog.Logger) *Main {
	return &Main{Config: cfg, Logger: logger}
}

// Run opens the database, wires the services, starts listening and starts the
// workers. It returns once everything is running; Close stops it.
func (m *Main) Run(ctx context.Context) error {
	db, err := openDatabase(ctx, m.Config, m.Logger)
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
	slaOf := func(t *patchgate.Ticket) patchgate.SLAStatus { return dir.SLAPolicyFor(t).Evaluate(t, time.Now()) }

	clients, err := m.forgeClients()
	if err != nil {
		_ = db.Close()
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := server.NewMetrics(reg)

	tickets, changes, links := store.NewTicketService(db), store.NewChangeService(db), store.NewLinkService(db)
	metrics.SLAReport, metrics.Logger = server.TicketSLAReport(tickets, slaOf), m.Logger
	deliveries, tokens := store.NewDeliveryService(db), store.NewTokenService(db)
	verifications := store.NewVerificationService(db)
	releases := store.NewReleaseService(db)
	m.Reporter = &runners.Reporter{Statuses: clients.statuses, PublicURL: m.Config.PublicURL, Logger: m.Logger}
	m.Service = &pipelines.Service{
		Tickets:    tickets,
		Changes:    changes,
		Links:      links,
		Repos:      dir,
		Commenters: clients.commenters,
		Hosts:      []string{m.Config.GitHub.WebHost(), m.Config.GitLab.WebHost()},
		Logger:     m.Logger,
		ReleaseManagers: map[patchgate.Forge][]string{
			patchgate.GitHub: m.Config.ReleaseManagers["github"],
			patchgate.GitLab: m.Config.ReleaseManagers["gitlab"],
		},
		Verifications: verifications,
		Sources:       clients.sources,
		Reporter:      m.Reporter,
		Releases:      releases,
		Comparers:     clients.comparers,
		Releasers:     clients.releasers,
		Authors:       clients.authors,
		Commands:      store.NewCommandService(db),
		Announce:      m.announcer(),
	}
	if _, err := store.NewAuditService(db).RecordConfig(ctx, m.Config.Digest(), map[string]string{
		"repos": strconv.Itoa(len(repos)), "listen": m.Config.Listen, "public_url": m.Config.PublicURL,
	}); err != nil {
		_ = db.Close()
		return fmt.Errorf("audit the configuration: %w", err)
	}
	rc := m.Config.Runners
	m.envs = &testenv.Runner{Owner: rc.Owner, Logger: m.Logger, MaxParallel: rc.MaxEnvironments}
	m.Verifier = &runners.Verifier{
		Verifications: verifications,
		Plan:          m.Service.Plan,
		Source: func(ctx context.Context, repo patchgate.RepoRef, sha string) (io.ReadCloser, error) {
			src := clients.sources[repo.Forge]
			if src == nil {
				return nil, patchgate.Errorf(patchgate.EINVALID, "no API access to %s is configured", repo.Forge)
			}
			return forges.OpenTree(ctx, src, repo, sha)
		},
		Environments: m.envs,
		Reporter:     m.Reporter,
		OnVerdict:    m.Service.OnVerdict,
		Worker:       rc.Owner + "/" + randomID(),
		Owner:        rc.Owner,
		Heartbeat:    rc.Heartbeat,
		Logger:       m.Logger,
	}
	workers := rc.Workers
	if m.WorkerOnly && workers == 0 {
		workers = 1
	}
	m.Queue, err = openQueue(ctx, db, queue.Config{Workers: workers, JobTimeout: rc.JobTimeout, Handler: m.Verifier.Run, Logger: m.Logger})
	if err != nil {
		_ = db.Close()
		return err
	}
	m.Service.Queue = m.Queue
	m.Processor = &pipelines.Processor{
		Deliveries: deliveries,
		Parse:      parseDelivery,
		Handle:     m.Service.HandleEvent,
		Logger:     m.Logger,
		Workers:    m.Config.Workers.Deliveries,
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
		if err := m.Queue.Start(workCtx); err != nil {
			cancel()
			_ = db.Close()
			return fmt.Errorf("start queue: %w", err)
		}
		m.wg.Go(func() { m.watchRuns(workCtx, verifications) })
	}
	if m.WorkerOnly {
		m.Logger.Info("patchgate worker running", "database", db.Dialect(), "workers", workers, "owner", rc.Owner)
		return nil
	}

	srv := &server.Server{
		Tickets:       tickets,
		Changes:       changes,
		Links:         links,
		Deliveries:    deliveries,
		Tokens:        tokens,
		Verifications: verifications,
		Verifier:      m.Service,
		Releases:      releases,
		Releaser:      m.Service,
		Audit:         store.NewAuditService(db),
		Linker:        m.Service,
		Repos:         dir,
		SLA:           slaOf,
		Secrets:       secrets,
		Notify:        m.Processor.Notify,
		Ready:         db.Ping,
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

	m.wg.Go(func() { m.Processor.Run(workCtx) })
	m.wg.Go(func() { m.pruneDeliveries(workCtx, deliveries) })
	m.wg.Go(func() {
		if err := m.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("http server stopped", "err", err)
		}
	})
	m.Logger.Info("patchgate serving", "addr", ln.Addr().String(), "database", db.Dialect(),
		"repos", len(repos), "public_url", m.Config.PublicURL)
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
		m.Reporter.Wait()
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

// announcer sends the release webhook, when one is configured; a failure is
// logged, the promotion stands.
func (m *Main) announcer() func(ctx context.Context, c *patchgate.Candidate, r *patchgate.ForgeRelease) {
	wh := m.Config.ReleaseWebhook
	if wh.URL == "" {
		return nil
	}
	hook := &notify.Webhook{URL: wh.URL, Secret: wh.Secret}
	return func(ctx context.Context, c *patchgate.Candidate, r *patchgate.ForgeRelease) {
		payload := map[string]any{"action": "promoted", "release": c, "tag": r.Tag, "sha": r.SHA, "url": r.URL}
		if err := hook.Send(ctx, "release.promoted", payload); err != nil {
			m.Logger.Error("release webhook not delivered", "release", c.Name, "repo", c.Repo, "err", err)
		}
	}
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
// says so, so that upgrades are a deliberate step.
func openDatabase(ctx context.Context, cfg Config, logger *slog.Logger) (*store.DB, error) {
	db, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", redactURL(cfg.Database), err)
	}
	version, err := db.SchemaVersion(ctx)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	if version == 0 || cfg.Migrate {
		n, err := db.Migrate(ctx)
		if err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("migrate: %w", err)
		}
		if n > 0 {
			logger.Info("applied migrations", "count", n)
		}
	}
	if err := db.CheckSchema(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}
