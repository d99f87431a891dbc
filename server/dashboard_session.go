package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// SessionIdle ends a dashboard session unused this long.
const SessionIdle = 2 * time.Hour

const (
	sessionCookie = "patchgate_session"
	signinCookie  = "patchgate_signin"
	flashCookie   = "patchgate_flash"
	sessionKey    = "session"

	// sessionLifetime ends a session however active. Long enough that an
	// open tab's forms keep working.
	sessionLifetime = 12 * time.Hour
	// touchEvery bounds the writes that keep a session from idling out.
	touchEvery = time.Minute
)

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// secureCookies reports whether cookies get the Secure flag: when the public
// URL is https, never guessed from a forwarded header.
func (s *Server) secureCookies() bool {
	return strings.HasPrefix(strings.ToLower(s.PublicURL), "https://")
}

// setCookie sets an HttpOnly, SameSite=Strict cookie on /ui; maxAge < 0 deletes it.
func (s *Server) setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: "/ui", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secureCookies(), SameSite: http.SameSiteStrictMode})
}

// principalOf is who a session acts as: its token, with the token's role now.
func principalOf(sess *patchgate.Session) patchgate.Principal {
	return patchgate.Principal{Name: sess.Token.Name, Role: sess.Token.Role, Token: sess.Token.Name, Users: sess.Token.Users,
		Projects: sess.Token.Projects}
}

// crossOrigin refuses cross-origin unsafe requests (Sec-Fetch-Site, Origin):
// a second line behind the CSRF tokens.
func (s *Server) crossOrigin(c *gin.Context) {
	if err := s.cop.Check(c.Request); err != nil {
		s.dashboardError(c, patchgate.Errorf(patchgate.EFORBIDDEN, "cross-origin request refused: reload the page and retry"))
		return
	}
	c.Next()
}

// session resolves the session cookie into the principal; without a valid
// one, GETs go to the sign-in page and other requests get 401.
func (s *Server) session(c *gin.Context) {
	sess := s.findSession(c)
	if sess == nil {
		if c.Request.Method == http.MethodGet && c.GetHeader("Accept") != "text/event-stream" {
			c.Redirect(http.StatusSeeOther, "/ui/signin?next="+url.QueryEscape(c.Request.URL.RequestURI()))
			c.Abort()
			return
		}
		s.dashboardError(c, patchgate.Errorf(patchgate.EUNAUTHORIZED, "signed out: sign in again"))
		return
	}
	c.Set(sessionKey, sess)
	p := principalOf(sess)
	c.Set(principalKey, p)
	c.Request = c.Request.WithContext(patchgate.NewContextWithPrincipal(c.Request.Context(), p))
	c.Next()
}

// findSession returns the request's live session, or nil.
func (s *Server) findSession(c *gin.Context) *patchgate.Session {
	ck, err := c.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	id, secret, ok := strings.Cut(ck, ".")
	if !ok || id == "" || secret == "" {
		return nil
	}
	ctx := c.Request.Context()
	sess, err := s.Sessions.FindSession(ctx, id)
	if err != nil {
		if patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
			s.Logger.Error("find session", "err", err, "request_id", c.GetString(requestIDKey))
		}
		return nil
	}
	if subtle.ConstantTimeCompare([]byte(patchgate.HashToken(secret)), []byte(sess.Hash)) != 1 {
		return nil
	}
	now := time.Now()
	if now.Sub(sess.LastSeenAt) > SessionIdle {
		_ = s.Sessions.DeleteSession(ctx, id)
		return nil
	}
	if now.Sub(sess.LastSeenAt) > touchEvery {
		if err := s.Sessions.TouchSession(ctx, id); err != nil {
			s.Logger.Warn("touch session", "err", err)
		}
	}
	return sess
}

// checkCSRF requires the session's CSRF token in every unsafe request's form,
// compared in constant time.
func (s *Server) checkCSRF(c *gin.Context) {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		c.Next()
		return
	}
	sess := c.MustGet(sessionKey).(*patchgate.Session)
	if subtle.ConstantTimeCompare([]byte(c.PostForm("csrf")), []byte(sess.CSRF)) != 1 {
		s.dashboardError(c, patchgate.Errorf(patchgate.EFORBIDDEN, "the form's security token is missing or stale: reload the page and retry"))
		return
	}
	c.Next()
}

// signinView is the sign-in page.
type signinView struct {
	pageView
	Guard string
	Next  string
}

// handleSignInPage serves GET /ui/signin. The form carries a fresh value also
// set as a cookie (double submit), so that no other site can sign a browser in.
func (s *Server) handleSignInPage(c *gin.Context) {
	if s.findSession(c) != nil {
		c.Redirect(http.StatusSeeOther, safeNext(c.Query("next")))
		return
	}
	s.signinForm(c, http.StatusOK, "")
}

func (s *Server) signinForm(c *gin.Context, status int, msg string) {
	guard := randomHex(16)
	s.setCookie(c, signinCookie, guard, 600)
	s.render(c, status, "signin", &signinView{pageView: pageView{Title: "Sign in", Error: msg}, Guard: guard, Next: safeNext(c.Query("next"))})
}

// handleSignIn serves POST /ui/signin: the pasted API token, checked as the
// API checks it, becomes a session. The token itself is never stored in the
// browser.
func (s *Server) handleSignIn(c *gin.Context) {
	guard, err := c.Cookie(signinCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(guard), []byte(c.PostForm("guard"))) != 1 {
		s.signinForm(c, http.StatusForbidden, "The sign-in form expired: try again.")
		return
	}
	s.setCookie(c, signinCookie, "", -1)
	ctx := c.Request.Context()
	secret := strings.TrimSpace(c.PostForm("token"))
	tok, err := s.Tokens.FindTokenByHash(ctx, patchgate.HashToken(secret))
	if patchgate.ErrorCode(err) == patchgate.ENOTFOUND || secret == "" {
		s.signinForm(c, http.StatusUnauthorized, "That token is unknown or revoked.")
		return
	} else if err != nil {
		s.dashboardError(c, err)
		return
	}
	// A fresh id and secret at every sign-in: nothing set before it survives.
	if old, err := c.Cookie(sessionCookie); err == nil {
		if id, _, ok := strings.Cut(old, "."); ok {
			_ = s.Sessions.DeleteSession(ctx, id)
		}
	}
	id, cookieSecret := randomHex(16), randomHex(32)
	sess := &patchgate.Session{ID: id, TokenID: tok.ID, Hash: patchgate.HashToken(cookieSecret),
		CSRF: randomHex(32), ExpiresAt: time.Now().Add(sessionLifetime)}
	if err := s.Sessions.CreateSession(ctx, sess); err != nil {
		s.dashboardError(c, err)
		return
	}
	s.setCookie(c, sessionCookie, id+"."+cookieSecret, int(sessionLifetime/time.Second))
	s.setFlash(c, "Signed in as "+tok.Name+" ("+string(tok.Role)+").")
	c.Redirect(http.StatusSeeOther, safeNext(c.PostForm("next")))
}

// handleSignOut serves POST /ui/signout: the session ends on the server too.
func (s *Server) handleSignOut(c *gin.Context) {
	sess := c.MustGet(sessionKey).(*patchgate.Session)
	if err := s.Sessions.DeleteSession(c.Request.Context(), sess.ID); err != nil {
		s.dashboardError(c, err)
		return
	}
	s.setCookie(c, sessionCookie, "", -1)
	c.Redirect(http.StatusSeeOther, "/ui/signin")
}

// safeNext returns next when it is a path inside the dashboard, else /ui/:
// sign-in never redirects off the site.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/ui/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return "/ui/"
}

// setFlash leaves a message for the next page this browser shows.
func (s *Server) setFlash(c *gin.Context, msg string) {
	s.setCookie(c, flashCookie, base64.RawURLEncoding.EncodeToString([]byte(msg)), 60)
}

// takeFlash returns and clears the pending message.
func (s *Server) takeFlash(c *gin.Context) string {
	v, err := c.Cookie(flashCookie)
	if err != nil || v == "" {
		return ""
	}
	s.setCookie(c, flashCookie, "", -1)
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) > 500 {
		return ""
	}
	return string(b)
}
