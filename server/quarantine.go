package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/patchgate/patchgate"
)

// quarantineRepo checks that repo is a repository this server verifies, so
// that a typo cannot quarantine a test nowhere.
func (s *Server) quarantineRepo(c *gin.Context, repo patchgate.RepoRef) bool {
	if err := repo.Validate(); err != nil {
		s.writeError(c, err)
		return false
	}
	if s.Quarantines == nil {
		s.writeError(c, patchgate.Errorf(patchgate.ENOTFOUND, "this server does not verify"))
		return false
	}
	if s.Repos != nil {
		if _, err := s.Repos.Find(repo.Forge, repo.Name); err != nil {
			s.writeError(c, err)
			return false
		}
	}
	return true
}

// handleListQuarantines lists the quarantines created through the API for a
// repository, expired ones included with "expired": true (those of
// .patchgate.yml are in the file).
func (s *Server) handleListQuarantines(c *gin.Context, repo patchgate.RepoRef) {
	if !s.quarantineRepo(c, repo) {
		return
	}
	qs, err := s.Quarantines.FindQuarantines(c.Request.Context(), repo)
	if err != nil {
		s.writeError(c, err)
		return
	}
	type item struct {
		patchgate.Quarantine
		Expired bool `json:"expired"`
	}
	now := time.Now()
	out := make([]item, 0, len(qs))
	for _, q := range qs {
		out = append(out, item{Quarantine: q, Expired: q.Expired(now)})
	}
	c.JSON(http.StatusOK, gin.H{"repo": repo.String(), "quarantines": out})
}

// handleCreateQuarantine serves POST …/quarantine {"test","suite","owner",
// "ticket","reason","expires_at"}: expires_at is a date (its UTC midnight) or
// an RFC 3339 time at most 30 days ahead. 422 when the test's results show it
// broken, not flaky.
func (s *Server) handleCreateQuarantine(c *gin.Context, repo patchgate.RepoRef) {
	if !s.quarantineRepo(c, repo) {
		return
	}
	var req struct {
		Suite     string `json:"suite"`
		Test      string `json:"test"`
		Owner     string `json:"owner"`
		Ticket    string `json:"ticket"`
		Reason    string `json:"reason"`
		ExpiresAt string `json:"expires_at"`
	}
	if err := c.ShouldBindJSON(&req); err != nil {
		s.writeError(c, patchgate.Errorf(patchgate.EINVALID, "body: %v", err))
		return
	}
	q := &patchgate.Quarantine{Forge: repo.Forge, Repo: repo.Name, Suite: req.Suite, Test: req.Test,
		Owner: req.Owner, Ticket: req.Ticket, Reason: req.Reason}
	if req.ExpiresAt != "" {
		t, err := time.Parse(time.DateOnly, req.ExpiresAt)
		if err != nil {
			if t, err = time.Parse(time.RFC3339, req.ExpiresAt); err != nil {
				s.writeError(c, patchgate.Errorf(patchgate.EINVALID, "expires_at %q: want a date like 2026-12-20 or an RFC 3339 time, at most 30 days ahead", req.ExpiresAt))
				return
			}
		}
		q.ExpiresAt = t.UTC()
	}
	if err := s.Quarantines.CreateQuarantine(c.Request.Context(), q); err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, q)
}

// handleDeleteQuarantine serves DELETE …/quarantine/{id}, audited.
func (s *Server) handleDeleteQuarantine(c *gin.Context, repo patchgate.RepoRef, rawID string) {
	id, err := strconv.ParseInt(rawID, 10, 64)
	if err != nil || id <= 0 {
		s.writeError(c, patchgate.Errorf(patchgate.EINVALID, "quarantine id %q: want a positive number", rawID))
		return
	}
	if !s.quarantineRepo(c, repo) {
		return
	}
	if err := s.Quarantines.DeleteQuarantine(c.Request.Context(), repo, id); err != nil {
		s.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
