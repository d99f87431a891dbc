package server

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// Releaser is the use case behind the release gate.
type Releaser interface {
	CreateCandidate(ctx context.Context, req patchgate.CandidateRequest, by string) (*patchgate.Candidate, error)
	Evaluate(ctx context.Context, c *patchgate.Candidate) (*patchgate.Evaluation, error)
	Approve(ctx context.Context, id int64, sha string, by patchgate.Principal, via string) (*patchgate.Candidate, *patchgate.Evaluation, error)
	Withdraw(ctx context.Context, id int64, by patchgate.Principal) error
	Promote(ctx context.Context, id int64, by patchgate.Principal) (*patchgate.Candidate, error)
}

// handleListReleases serves GET /api/v1/releases?repo=&state=.
func (s *Server) handleListReleases(c *gin.Context) {
	var (
		f   patchgate.CandidateFilter
		err error
	)
	if f.Offset, f.Limit, err = page(c); err != nil {
		s.writeError(c, err)
		return
	}
	if f.Forge, err = optEnum(c, "forge", patchgate.Forge.Validate); err != nil {
		s.writeError(c, err)
		return
	}
	f.State, _ = optEnum[patchgate.CandidateState](c, "state", nil)
	f.Repo = optString(c, "repo")
	cs, total, err := s.Releases.FindCandidates(c.Request.Context(), f)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"releases": cs, "total": total})
}

// handleGetRelease serves GET /api/v1/releases/:id: the candidate, what it
// contains, its approvals, and whether it is releasable (with the blockers).
func (s *Server) handleGetRelease(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	cand, err := s.Releases.FindCandidateByID(ctx, id)
	if err != nil {
		s.writeError(c, err)
		return
	}
	ev, err := s.Releaser.Evaluate(ctx, cand)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"release": cand, "evaluation": ev})
}

// handleCreateRelease serves POST /api/v1/releases.
func (s *Server) handleCreateRelease(c *gin.Context) {
	var req patchgate.CandidateRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		s.writeError(c, patchgate.Errorf(patchgate.EINVALID, "body: %v", err))
		return
	}
	p, _ := patchgate.PrincipalFromContext(c.Request.Context())
	cand, err := s.Releaser.CreateCandidate(c.Request.Context(), req, p.Name)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"release": cand})
}

// handleApproveRelease serves POST /api/v1/releases/:id/approve {"sha"}.
func (s *Server) handleApproveRelease(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	var req struct {
		SHA string `json:"sha"`
		Via string `json:"via"`
	}
	if c.Request.ContentLength != 0 {
		if err := c.ShouldBindJSON(&req); err != nil {
			s.writeError(c, patchgate.Errorf(patchgate.EINVALID, "body: %v", err))
			return
		}
	}
	if req.Via != "cli" {
		req.Via = "api"
	}
	p, _ := patchgate.PrincipalFromContext(c.Request.Context())
	cand, ev, err := s.Releaser.Approve(c.Request.Context(), id, req.SHA, p, req.Via)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"release": cand, "evaluation": ev})
}

// handleWithdrawApproval serves DELETE /api/v1/releases/:id/approve.
func (s *Server) handleWithdrawApproval(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	p, _ := patchgate.PrincipalFromContext(c.Request.Context())
	if err := s.Releaser.Withdraw(c.Request.Context(), id, p); err != nil {
		s.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// handlePromoteRelease serves POST /api/v1/releases/:id/promote.
func (s *Server) handlePromoteRelease(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	p, _ := patchgate.PrincipalFromContext(c.Request.Context())
	cand, err := s.Releaser.Promote(c.Request.Context(), id, p)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"release": cand})
}
