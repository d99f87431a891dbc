package server

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// Bisector starts and stops candidates' culprit bisections (gate.Bisector).
type Bisector interface {
	// Start (re)starts a bisection that ended without a culprit;
	// EUNPROCESSABLE when there is nothing to bisect.
	Start(ctx context.Context, id int64, by string) (*patchgate.Bisection, error)
	// Cancel stops a running bisection and its live runs; ECONFLICT when it
	// is not running.
	Cancel(ctx context.Context, id int64, by string) (*patchgate.Bisection, error)
}

// handleStartBisection serves POST /api/v1/releases/:id/bisect.
func (s *Server) handleStartBisection(c *gin.Context) {
	s.bisect(c, s.Bisector.Start)
}

// handleCancelBisection serves DELETE /api/v1/releases/:id/bisect.
func (s *Server) handleCancelBisection(c *gin.Context) {
	s.bisect(c, s.Bisector.Cancel)
}

func (s *Server) bisect(c *gin.Context, act func(ctx context.Context, id int64, by string) (*patchgate.Bisection, error)) {
	id, err := pathID(c, "id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	if s.Bisector == nil {
		s.writeError(c, patchgate.Errorf(patchgate.EINVALID, "this server does not bisect releases"))
		return
	}
	p, _ := patchgate.PrincipalFromContext(c.Request.Context())
	b, err := act(c.Request.Context(), id, p.Name)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"bisection": b})
}
