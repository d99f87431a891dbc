package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

const (
	requestIDKey = "request_id"
	principalKey = "principal"
)

// requestID takes X-Request-Id from a trusted proxy or makes one, and echoes it.
func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if id == "" || len(id) > 128 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(requestIDKey, id)
	c.Header("X-Request-Id", id)
	c.Next()
}

// recovery turns a handler panic into a logged internal error.
func (s *Server) recovery(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.writeError(c, fmt.Errorf("panic: %v", v))
		}
	}()
	c.Next()
}

// accessLog logs each request at debug (info for errors) and records metrics.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	elapsed := time.Since(start)
	status := c.Writer.Status()
	if s.Metrics != nil {
		s.Metrics.requests.WithLabelValues(c.Request.Method, route, strconv.Itoa(status)).Inc()
		s.Metrics.latency.WithLabelValues(c.Request.Method, route).Observe(elapsed.Seconds())
	}
	level := slogLevelFor(status)
	if !s.Logger.Enabled(c.Request.Context(), level) {
		return
	}
	s.Logger.Log(c.Request.Context(), level, "http request",
		"method", c.Request.Method, "route", route, "status", status,
		"duration_ms", float64(elapsed.Microseconds())/1000, "request_id", c.GetString(requestIDKey),
		"delivery_id", c.GetString("delivery_id"))
}

// authenticate resolves the bearer token into a principal; 401 without one.
func (s *Server) authenticate(c *gin.Context) {
	header := c.GetHeader("Authorization")
	secret, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || secret == "" {
		c.Header("WWW-Authenticate", `Bearer realm="patchgate"`)
		s.writeError(c, patchgate.Errorf(patchgate.EUNAUTHORIZED, "missing bearer token"))
		return
	}
	tok, err := s.Tokens.FindTokenByHash(c.Request.Context(), patchgate.HashToken(strings.TrimSpace(secret)))
	if patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
		c.Header("WWW-Authenticate", `Bearer realm="patchgate", error="invalid_token"`)
		s.writeError(c, patchgate.Errorf(patchgate.EUNAUTHORIZED, "invalid or revoked token"))
		return
	} else if err != nil {
		s.writeError(c, fmt.Errorf("authenticate: %w", err))
		return
	}
	p := patchgate.Principal{Name: tok.Name, Role: tok.Role, Token: tok.Name, Users: tok.Users, Projects: tok.Projects}
	c.Set(principalKey, p)
	c.Request = c.Request.WithContext(patchgate.NewContextWithPrincipal(c.Request.Context(), p))
	c.Next()
}

// require admits principals whose role includes want.
func (s *Server) require(want patchgate.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, _ := c.Get(principalKey)
		principal, _ := p.(patchgate.Principal)
		if !principal.Role.Allows(want) {
			s.writeError(c, patchgate.Errorf(patchgate.EFORBIDDEN, "this needs the %s role; token %q has %s", want, principal.Name, principal.Role))
			return
		}
		c.Next()
	}
}
