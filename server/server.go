// Package server is patchgate's HTTP face: the Gin engine, its middleware, the
// webhook endpoints, the JSON API and the health and metrics endpoints. Handlers
// parse, call a service, and render; the work happens elsewhere.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MaxWebhookBody is the largest webhook body accepted (GitHub caps payloads at
// 25 MB); larger bodies get 413 without being read whole.
const MaxWebhookBody = 25 << 20

// DefaultMaxUnverified is how many webhook bodies are read at once before
// their signature is verified, unless Server.MaxUnverified says otherwise.
const DefaultMaxUnverified = 8

// Server holds the HTTP handlers' dependencies. Set the fields, then call Handler.
type Server struct {
	Tickets    patchgate.TicketService
	Changes    patchgate.ChangeService
	Links      patchgate.LinkService
	Deliveries patchgate.DeliveryService
	Tokens     patchgate.TokenService
	// Verifications is nil when the server does not verify.
	Verifications patchgate.VerificationService
	// FlakyTests lists flaky tests; nil when the server does not verify.
	FlakyTests patchgate.FlakyTestService
	// Quarantines are the API's quarantines; nil when the server does not
	// verify.
	Quarantines patchgate.QuarantineService
	// Proofs reads verifications' fail-to-pass proofs; nil when the server
	// does not verify.
	Proofs   patchgate.ProofService
	Rerunner Rerunner
	// Releases is nil when the server does not run the release gate.
	Releases patchgate.ReleaseService
	// Proposer proposes candidates; Releaser evaluates, approves and
	// promotes them.
	Proposer Proposer
	Releaser Releaser
	Audit    patchgate.AuditService
	// Reports computes the SLA and delivery reports; nil serves none.
	Reports Reporter
	// EvidencePacks are the releases' signed evidence packs; nil serves none.
	EvidencePacks patchgate.EvidencePackService
	// Bisector starts and stops culprit bisections; nil refuses to.
	Bisector Bisector
	// Linker performs manual link and unlink requests.
	Linker Linker
	// TicketUpdater applies trackers' news about external tickets.
	TicketUpdater TicketUpdater
	// Repos are the configured repositories.
	Repos *patchgate.RepositoryDirectory
	// SLA returns a ticket's SLA status now, under its repository's policy;
	// nil shows every ticket without an SLA.
	SLA func(t *patchgate.Ticket) patchgate.SLAStatus
	// Escalations are the tickets' escalations; nil shows none.
	Escalations EscalationFinder
	// Webhooks are the webhook sources (GitHub, GitLab, Jira) by
	// DeliverySource; a source without one refuses every delivery.
	Webhooks patchgate.WebhookSources
	// MaxUnverified is how many webhook bodies may be read at once before
	// their signature is verified (GitHub's and Jira's cover the body); more
	// get 503 with Retry-After. 0 means DefaultMaxUnverified.
	MaxUnverified int
	// Notify wakes the delivery processor after a delivery is stored; the
	// processor also polls, so a lost wake-up delays but loses nothing.
	Notify func()
	// NotifyRepo, when set, is called instead of Notify after a delivery is
	// stored, with its source and repository (or project): the processor need
	// not look for it while that repository's deliveries are being applied.
	NotifyRepo func(source patchgate.DeliverySource, repo string)
	// Ready reports whether the database is reachable.
	Ready func(ctx context.Context) error

	// Sessions holds dashboard sign-ins; nil serves no dashboard.
	Sessions patchgate.SessionService
	// ReleasePolicy decides which release buttons the dashboard shows.
	ReleasePolicy ReleasePolicy
	// PublicURL is where users reach the server; https makes cookies Secure.
	PublicURL string
	// Enforcement says whether a repository's forge enforces the gate; nil
	// shows no forge enforcement pages.
	Enforcement EnforcementChecker
	// LastReconcile is this process's last head reconciliation, for the
	// repositories page; false before the first. nil shows none.
	LastReconcile func() (patchgate.ReconcileRun, bool)
	// Refused, when set, is called when a verified delivery could not be
	// stored (answered 5xx): reconciliation then asks for it again as soon
	// as the database is back. It must not block.
	Refused func()

	Logger  *slog.Logger
	Metrics *Metrics
	// Gatherer serves /metrics.
	Gatherer prometheus.Gatherer

	// unverified holds one token per unverified body being read; engine makes it.
	unverified chan struct{}
	// intake counts webhook deliveries being answered (IntakeBusy).
	intake atomic.Int64
	dash   *dashboard
	cop    *http.CrossOriginProtection
	// streams closes when the server shuts down, ending live logs.
	streams     chan struct{}
	streamsOnce sync.Once
}

// Linker is the use case behind manual linking (linking.Linker).
type Linker interface {
	// LinkManually links a ticket to a change by hand; see linking.Linker.
	LinkManually(ctx context.Context, req patchgate.ManualLinkRequest) (*patchgate.Link, error)
	// UnlinkManually removes the links between a ticket and a change.
	UnlinkManually(ctx context.Context, ticketID, changeID int64) error
	// UnlinkReference removes the links between a ticket and a change named as
	// LinkManually names them; see linking.Linker.
	UnlinkReference(ctx context.Context, req patchgate.ManualLinkRequest) (*patchgate.Ticket, *patchgate.Change, error)
}

// Handler builds the Gin engine with every route. It is the route table: read it
// top to bottom.
func (s *Server) Handler() http.Handler { return s.engine() }

func (s *Server) engine() *gin.Engine {
	n := s.MaxUnverified
	if n <= 0 {
		n = DefaultMaxUnverified
	}
	s.unverified = make(chan struct{}, n)
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.ContextWithFallback = true
	r.Use(s.requestID, s.recovery, s.accessLog)
	r.NoRoute(func(c *gin.Context) {
		s.writeError(c, patchgate.Errorf(patchgate.ENOTFOUND, "no route %s %s", c.Request.Method, c.Request.URL.Path))
	})
	r.HandleMethodNotAllowed = true
	r.NoMethod(func(c *gin.Context) {
		c.Header("Allow", "POST")
		s.writeErrorStatus(c, http.StatusMethodNotAllowed, patchgate.EINVALID, "method not allowed")
	})

	r.GET("/healthz", s.handleHealthz)
	r.GET("/readyz", s.handleReadyz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.Gatherer, promhttp.HandlerOpts{})))

	r.POST("/webhooks/github", s.handleGitHubWebhook)
	r.POST("/webhooks/gitlab", s.handleGitLabWebhook)
	r.POST("/webhooks/jira", s.handleJiraWebhook)
	r.POST("/webhooks/gitlab/status-check", s.handleGitLabStatusCheckWebhook)

	r.GET("/api/v1/openapi.yaml", s.handleOpenAPI)
	api := r.Group("/api/v1", s.authenticate)
	viewer := api.Group("", s.require(patchgate.RoleViewer))
	viewer.GET("/tickets", s.handleListTickets)
	viewer.GET("/tickets/:id", s.handleGetTicket)
	viewer.GET("/changes", s.handleListChanges)
	viewer.GET("/changes/:id", s.handleGetChange)
	viewer.GET("/links", s.handleListLinks)
	viewer.GET("/deliveries", s.handleListDeliveries)
	viewer.GET("/verifications", s.handleListVerifications)
	viewer.GET("/verifications/:id", s.handleGetVerification)
	viewer.GET("/verifications/:id/suites/:suite/log", s.handleSuiteLog)
	viewer.GET("/verifications/:id/suites/:suite/tests", s.handleSuiteTests)
	viewer.GET("/repos/:forge/*path", s.handleRepoPath) // …/{owner/name}/flaky, …/quarantine
	viewer.GET("/releases", s.handleListReleases)
	viewer.GET("/releases/:id", s.handleGetRelease)
	viewer.GET("/releases/:id/evidence", s.handleReleaseEvidence)
	viewer.GET("/audit", s.handleListAudit)
	viewer.GET("/audit/head", s.handleAuditHead)
	viewer.GET("/reports/sla", s.handleSLAReport)
	viewer.GET("/reports/delivery", s.handleDeliveryReport)

	tracker := api.Group("", s.require(patchgate.RoleTracker))
	tracker.PUT("/tickets/:id", s.handlePutTicket) // :id is the ticket's key, PAY-12

	developer := api.Group("", s.require(patchgate.RoleDeveloper))
	developer.POST("/links", s.handleCreateLink)
	developer.DELETE("/links", s.handleDeleteLinks)
	developer.POST("/verifications", s.handleCreateVerification)

	manager := api.Group("", s.require(patchgate.RoleReleaseManager))
	manager.POST("/releases", s.handleCreateRelease)
	manager.POST("/releases/:id/approve", s.handleApproveRelease)
	manager.DELETE("/releases/:id/approve", s.handleWithdrawApproval)
	manager.POST("/releases/:id/promote", s.handlePromoteRelease)
	manager.POST("/releases/:id/bisect", s.handleStartBisection)
	manager.DELETE("/releases/:id/bisect", s.handleCancelBisection)

	admin := api.Group("", s.require(patchgate.RoleAdmin))
	admin.GET("/audit/verify", s.handleVerifyAudit)
	admin.GET("/tokens", s.handleListTokens)
	admin.POST("/tokens", s.handleCreateToken)
	admin.DELETE("/tokens/:name", s.handleRevokeToken)
	admin.POST("/repos/:forge/*path", s.handleRepoAdminPath)   // …/{owner/name}/quarantine
	admin.DELETE("/repos/:forge/*path", s.handleRepoAdminPath) // …/{owner/name}/quarantine/{id}

	if s.Sessions != nil {
		s.dashboardRoutes(r)
	}
	return r
}

func (s *Server) handleHealthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *Server) handleReadyz(c *gin.Context) {
	if err := s.Ready(c.Request.Context()); err != nil {
		s.Logger.Warn("not ready", "err", err)
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reason": "database unreachable"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}
