package main

// The areas Run builds, each in its own function, in the order it builds
// them; each pushes what it holds open onto Main's cleanup stack.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges"
	"github.com/patchgate/patchgate/runners"
	"github.com/patchgate/patchgate/server"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/testenv"
	"github.com/patchgate/patchgate/usecase/commands"
	"github.com/patchgate/patchgate/usecase/delivery"
	"github.com/patchgate/patchgate/usecase/enforcement"
	"github.com/patchgate/patchgate/usecase/gate"
	"github.com/patchgate/patchgate/usecase/linking"
	"github.com/patchgate/patchgate/usecase/people"
	"github.com/patchgate/patchgate/usecase/reconcile"
	"github.com/patchgate/patchgate/usecase/tracking"
	"github.com/patchgate/patchgate/usecase/verification"
	"github.com/prometheus/client_golang/prometheus"
)

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
	sources patchgate.WebhookSources
	jiras   *jiraSites
	slaOf   func(t *patchgate.Ticket) patchgate.SLAStatus
}

// useCases are the use cases, wired.
type useCases struct {
	// protection reads what the forges enforce, for the dashboard.
	protection server.EnforcementChecker
	linker     *linking.Linker
	verifier   *verification.Verifier
	planner    *verification.Planner
	verdicts   *verification.Verdicts
	candidates *gate.Candidates
	gate       *gate.Gate
	bisector   *gate.Bisector
	commands   *commands.Handler
	trackers   *tracking.Trackers
	dispatch   *delivery.Dispatcher
	// people pin logins to forge user ids: trust, comment commands and
	// tokens compare people by them.
	people   *people.Directory
	enforcer *enforcement.Enforcer
}

// repositories indexes the configured repositories, the webhook sources that
// verify their deliveries, the Jira sites, and the SLA each ticket is held to.
func (m *Main) repositories() repositories {
	list := make([]*patchgate.Repository, len(m.Config.Repos))
	for i, rc := range m.Config.Repos {
		list[i] = rc.Repository(m.Config.Release)
	}
	dir := patchgate.NewRepositoryDirectory(list)
	jiras := newJiraSites(m.Config.Trackers)
	sources := webhookSources(m.Config, list, dir, jiras.source)
	slaOf := func(t *patchgate.Ticket) patchgate.SLAStatus {
		tracked := func(key string) bool { return jiras.site(key) >= 0 }
		return patchgate.TicketSLAPolicy(dir, t, tracked).Evaluate(t, time.Now())
	}
	return repositories{dir: dir, sources: sources, jiras: jiras, slaOf: slaOf}
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
	m.Trackers = &tracking.Trackers{Tickets: observed, Updates: st.tickets, ManagedBy: repos.jiras.managedBy}
	return observed
}

// useCases wires the use cases, each from the ones it calls: configuration
// reading, planning and ticket reconciling first, then the release gate, the
// verdicts, verification, linking and comment commands, and the dispatch of
// events to them.
func (m *Main) useCases(st *stores, repos repositories, clients forgeAPIs, commenters map[patchgate.Forge]patchgate.Commenter) *useCases {
	dir := m.people(clients)
	trust := verification.Trust{ReleaseManagers: map[patchgate.Forge][]string{
		patchgate.GitHub: m.Config.ReleaseManagers["github"],
		patchgate.GitLab: m.Config.ReleaseManagers["gitlab"],
	}, People: dir}
	configs := &verification.Configs{Sources: clients.sources, Ceilings: m.runnerCeilings(), APIQuarantines: st.quarantines}
	reconciler := &linking.Reconciler{Tickets: st.observed, Links: st.links}
	uc := &useCases{people: dir}
	answers := m.enforcementAnswers(clients)
	uc.planner = &verification.Planner{Configs: configs, Verifications: st.verifications, Changes: st.changes,
		Links: st.links, Repos: repos.dir, Forges: clients.proofSources, Trust: trust, Logger: m.Logger}
	bisections := store.NewBisectionService(m.DB)
	uc.bisector = &gate.Bisector{Configs: configs, Candidates: st.releases, Evidence: st.verifications, Bisections: bisections,
		Runs: st.verifications, Queue: m.Queue, Comparers: clients.comparers, Logger: m.Logger}
	uc.candidates = &gate.Candidates{Configs: configs, Releases: st.releases, Changes: st.changes, Links: st.links,
		Repos: repos.dir, Comparers: clients.comparers, Logger: m.Logger, Watcher: uc.bisector}
	uc.gate = &gate.Gate{Configs: configs, Releases: st.releases, Evidence: gateEvidence{st.verifications, bisections},
		Authorship: &gate.AuthorRule{Authors: clients.authors, Comparers: clients.comparers, Branches: st.changes, Logger: m.Logger},
		Publisher:  &gate.Publisher{Releasers: clients.releasers, Commenters: commenters, Announcer: announcers{m.announcer(), answers}, Logger: m.Logger},
		Repos:      repos.dir, Logger: m.Logger}
	uc.verdicts = &verification.Verdicts{Changes: st.changes, Tickets: reconciler, Releases: uc.candidates, Bisections: uc.bisector, Logger: m.Logger}
	uc.protection = m.enforcementChecker(repos.dir, clients, configuredGitHubAppID(m.Config))
	cmds := store.NewCommandService(m.DB)
	uc.verifier = &verification.Verifier{Verifications: st.verifications, Queue: m.Queue, Reporter: m.Reporter,
		Changes: st.changes, Repos: repos.dir, Vouches: cmds, Trust: trust, Logger: m.Logger}
	uc.linker = &linking.Linker{Tickets: st.observed, Changes: st.changes, Links: st.links, Repos: repos.dir,
		Commenters: commenters, Heads: uc.verifier, Hosts: []string{m.Config.GitHub.WebHost(), m.Config.GitLab.WebHost()},
		Logger: m.Logger}
	uc.commands = &commands.Handler{Changes: st.changes, Releases: releaseGate{st.releases, uc.gate}, Verifier: uc.verifier,
		Commands: cmds, Commenters: commenters, Comments: clients.comments, People: dir, Logger: m.Logger}
	uc.trackers = m.Trackers
	uc.enforcer = m.enforcer(st, repos, clients, uc.gate, answers)
	uc.dispatch = &delivery.Dispatcher{Repos: repos.dir, Links: uc.linker, Commands: uc.commands, Trackers: uc.trackers,
		Checks: m.checkActions(st, clients, uc), Enforcement: uc.enforcer}
	m.Linker, m.Verifier, m.Planner, m.Verdicts = uc.linker, uc.verifier, uc.planner, uc.verdicts
	m.Candidates, m.Gate, m.Commands = uc.candidates, uc.gate, uc.commands
	return uc
}

// gateEvidence is what the gate weighs: the verifications and proofs, and
// the culprit bisections of failing candidates.
type gateEvidence struct {
	*store.VerificationService
	*store.BisectionService
}

// people makes the directory of people: the configured release managers
// and trusted users, pinned to forge user ids on first use.
func (m *Main) people(clients forgeAPIs) *people.Directory {
	return &people.Directory{ReleaseManagers: map[patchgate.Forge][]string{
		patchgate.GitHub: m.Config.ReleaseManagers["github"],
		patchgate.GitLab: m.Config.ReleaseManagers["gitlab"],
	}, Pins: store.NewPersonService(m.DB), Lookups: clients.users, Logger: m.Logger}
}

// executor makes this process's runner of verifications: the environments it
// runs suites in, and the executor the queue hands jobs to.
func (m *Main) executor(st *stores, clients forgeAPIs, uc *useCases, metrics *server.Metrics) *runners.Executor {
	rc := m.Config.Runners
	ceilings := m.runnerCeilings()
	logCeilings(m.Logger, ceilings)
	m.envs = &testenv.Runner{
		Owner:       m.Owner,
		Instance:    m.Instance,
		Logger:      m.Logger,
		MaxParallel: rc.MaxEnvironments,
		Limits:      defaultLimits(ceilings),
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
		Tokens:        &people.Tokens{TokenService: st.tokens, People: uc.people},
		Verifications: st.verifications,
		Proofs:        st.verifications,
		FlakyTests:    st.verifications,
		Quarantines:   st.quarantines,
		Rerunner:      uc.verifier,
		Releases:      st.releases,
		Proposer:      uc.candidates,
		Releaser:      uc.gate,
		Audit:         store.NewAuditService(m.DB),
		EvidencePacks: store.NewEvidencePackService(m.DB),
		Bisector:      uc.bisector,
		Linker:        uc.linker,
		TicketUpdater: uc.trackers,
		Repos:         repos.dir,
		SLA:           repos.slaOf,
		Escalations:   store.NewEscalationService(m.DB),
		Reports:       m.reports(repos),
		Webhooks:      repos.sources,
		MaxUnverified: m.Config.Intake.MaxUnverified,
		Notify:        inbox.Notify,
		NotifyRepo:    inbox.NotifyRepo,
		Ready:         m.DB.Ping,
		Sessions:      store.NewSessionService(m.DB),
		ReleasePolicy: uc.gate,
		PublicURL:     m.Config.PublicURL,
		Enforcement:   uc.protection,
		LastReconcile: m.reconcile.Last,
		Refused:       m.reconcile.Refused,
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
		Parser:     reconcile.Parser{Next: repos.sources},
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
	if m.Escalator = m.escalator(st.tickets, repos); m.Escalator != nil {
		m.wg.Go(func() { m.Escalator.Run(workCtx) })
	}
	m.wg.Go(func() { m.pruneSessions(workCtx, srv.Sessions) })
	m.wg.Go(func() { m.sweepEnforcement(workCtx, uc.enforcer) })
}

// releaseGate is the release gate as comment commands see it: candidates
// found in the store, approved through the gate.
type releaseGate struct {
	*store.ReleaseService
	*gate.Gate
}
