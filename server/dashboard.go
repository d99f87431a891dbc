package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// The dashboard is server-rendered: html/template pages from embedded files,
// one round trip per page, forms that work without JavaScript, and one small
// hand-written script that follows a running suite's log.

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// dashboardPages are the page templates; each is parsed with layout.html.
var dashboardPages = []string{"signin", "releases", "candidate", "promote", "tickets", "ticket", "verification", "audit", "error",
	"repos", "enforcement", "report_sla", "report_delivery"}

// ReleasePolicy answers whether a principal may act on a candidate now, with
// the rules the release gate applies when it is asked to (gate.Gate).
type ReleasePolicy interface {
	CanApprove(ctx context.Context, c *patchgate.Candidate, ev *patchgate.Evaluation, p patchgate.Principal) error
	CanWithdraw(c *patchgate.Candidate, p patchgate.Principal) error
	CanPromote(c *patchgate.Candidate, ev *patchgate.Evaluation, p patchgate.Principal) error
}

// dashboard is the parsed templates and the hashed static assets.
type dashboard struct {
	pages map[string]*template.Template
	// assets maps a static file's name to its content-addressed path.
	assets map[string]string
	// files maps a content-addressed path's hash/name to the file.
	files map[string][]byte
}

// newDashboard parses every page and hashes every asset; an error here is a
// broken build, reported at start-up rather than on a user's first visit.
func newDashboard() (*dashboard, error) {
	d := &dashboard{pages: map[string]*template.Template{}, assets: map[string]string{}, files: map[string][]byte{}}
	err := fs.WalkDir(staticFiles, "static", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "static/")
		key := hex.EncodeToString(sum[:6]) + "/" + name
		d.assets[name] = "/ui/static/" + key
		d.files[key] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hash dashboard assets: %w", err)
	}
	funcs := template.FuncMap{
		"asset": func(name string) (string, error) {
			if p, ok := d.assets[name]; ok {
				return p, nil
			}
			return "", fmt.Errorf("no asset %q", name)
		},
		"shortSHA": shortSHA,
		"when":     when,
		"dur":      duration,
		"secs":     reportSeconds,
		"stats":    statsText,
		"ratio":    ratioText,
	}
	for _, name := range dashboardPages {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/partials.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse dashboard page %s: %w", name, err)
		}
		d.pages[name] = t
	}
	return d, nil
}

// shortSHA is the first 7 characters of a commit SHA.
func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// when formats a time for people, in UTC; "" for the zero time.
func when(v any) string {
	switch t := v.(type) {
	case time.Time:
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	case *time.Time:
		if t == nil {
			return ""
		}
		return when(*t)
	}
	return ""
}

// duration formats the time between two optional times, or a duration.
func duration(v any, end ...*time.Time) string {
	var d time.Duration
	switch t := v.(type) {
	case time.Duration:
		d = t
	case *time.Time:
		if t == nil || len(end) == 0 || end[0] == nil {
			return ""
		}
		d = end[0].Sub(*t)
	default:
		return ""
	}
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

// page is what every dashboard page shows around its content.
type pageView struct {
	Title string
	// Actor is who is signed in; nil on the sign-in page.
	Actor *patchgate.Principal
	// CSRF goes into every form.
	CSRF  string
	Flash string
	// Error is shown as an alert (a refused action, a bad filter).
	Error string
	// Nav names the section the page belongs to.
	Nav string
}

// Page returns p, so that views embedding page satisfy viewer.
func (p *pageView) Page() *pageView { return p }

type viewer interface{ Page() *pageView }

// render fills v's page from the request and writes the named page with
// status. It renders into a buffer first, so that a template error is a clean
// 500, not half a page.
func (s *Server) render(c *gin.Context, status int, name string, v viewer) {
	p := v.Page()
	if sess, ok := c.Get(sessionKey); ok {
		sess := sess.(*patchgate.Session)
		p.CSRF = sess.CSRF
		pr := principalOf(sess)
		p.Actor = &pr
	}
	if p.Flash == "" {
		p.Flash = s.takeFlash(c)
	}
	t := s.dash.pages[name]
	if t == nil {
		s.Logger.Error("no dashboard page", "page", name)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		s.Logger.Error("render dashboard page", "page", name, "err", err, "request_id", c.GetString(requestIDKey))
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// errorView is the error page.
type errorView struct {
	pageView
	Status int
}

// dashboardError renders err as a page with the status its code maps to;
// internal errors are logged here and shown as "internal error".
func (s *Server) dashboardError(c *gin.Context, err error) {
	code := patchgate.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	msg := patchgate.ErrorMessage(err)
	if code == patchgate.EINTERNAL {
		s.Logger.Error("dashboard request failed", "err", err, "method", c.Request.Method,
			"path", c.FullPath(), "request_id", c.GetString(requestIDKey))
	}
	s.render(c, status, "error", &errorView{pageView: pageView{Title: http.StatusText(status), Error: msg}, Status: status})
	c.Abort()
}

// dashboardHeaders sets the headers every dashboard response carries: no
// framing, no sniffing, and scripts and styles from here only.
func (s *Server) dashboardHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	c.Next()
}

// handleStatic serves /ui/static/<hash>/<file>: content-addressed, so cached
// for good.
func (s *Server) handleStatic(c *gin.Context) {
	key := strings.TrimPrefix(c.Param("path"), "/")
	b, ok := s.dash.files[key]
	if !ok {
		c.Status(http.StatusNotFound)
		return
	}
	hash, _, _ := strings.Cut(key, "/")
	etag := `"` + hash + `"`
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	c.Header("ETag", etag)
	if c.GetHeader("If-None-Match") == etag {
		c.Status(http.StatusNotModified)
		return
	}
	ctype := "application/octet-stream"
	switch path.Ext(key) {
	case ".css":
		ctype = "text/css; charset=utf-8"
	case ".js":
		ctype = "text/javascript; charset=utf-8"
	case ".svg":
		ctype = "image/svg+xml"
	}
	c.Data(http.StatusOK, ctype, b)
}

// dashboardRoutes adds the dashboard under /ui/ to r; GET / redirects there.
// It is the dashboard's route table.
func (s *Server) dashboardRoutes(r *gin.Engine) {
	d, err := newDashboard()
	if err != nil {
		panic(err) // embedded files: a broken build, never a runtime condition
	}
	s.dash, s.cop, s.streams = d, http.NewCrossOriginProtection(), make(chan struct{})
	r.GET("/", func(c *gin.Context) { c.Redirect(http.StatusSeeOther, "/ui/") })
	r.GET("/ui", func(c *gin.Context) { c.Redirect(http.StatusSeeOther, "/ui/") })
	ui := r.Group("/ui", s.dashboardHeaders, s.crossOrigin)
	ui.GET("/static/*path", s.handleStatic)
	ui.GET("/signin", s.handleSignInPage)
	ui.POST("/signin", s.handleSignIn)

	in := ui.Group("", s.session, s.checkCSRF)
	in.POST("/signout", s.handleSignOut)
	in.GET("/", s.handleReleasesPage)
	in.GET("/releases/:id", s.handleCandidatePage)
	in.GET("/releases/:id/promote", s.handlePromotePage)
	in.GET("/releases/:id/evidence", s.handleDashboardEvidence)
	in.POST("/releases/:id/approve", s.handleDashboardApprove)
	in.POST("/releases/:id/withdraw", s.handleDashboardWithdraw)
	in.POST("/releases/:id/promote", s.handleDashboardPromote)
	in.GET("/tickets", s.handleTicketsPage)
	in.GET("/tickets/:id", s.handleTicketPage)
	in.GET("/repos", s.handleReposPage)
	in.GET("/repos/:forge/*path", s.handleEnforcementPage) // …/{owner/name}/enforcement
	in.GET("/verifications/:id", s.handleVerificationPage)
	in.GET("/verifications/:id/suites/:suite/events", s.handleLogEvents)
	in.GET("/audit", s.handleAuditPage)
	in.POST("/audit/verify", s.handleAuditVerify)
	in.GET("/reports/sla", s.handleSLAReportPage)
	in.GET("/reports/delivery", s.handleDeliveryReportPage)
}
