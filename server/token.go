package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// handleListTokens serves GET /api/v1/tokens (names and roles, never secrets).
func (s *Server) handleListTokens(c *gin.Context) {
	tokens, err := s.Tokens.FindTokens(c.Request.Context())
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"tokens": tokens})
}

// handleCreateToken serves POST /api/v1/tokens {"name","role","users","projects"}; the
// secret is in this response and nowhere else.
func (s *Server) handleCreateToken(c *gin.Context) {
	var req struct {
		Name  string         `json:"name"`
		Role  patchgate.Role `json:"role"`
		Users []string       `json:"users"` // "github:alice", "gitlab:alice.b"
		// Projects limit a token to the tickets of these projects.
		Projects []string `json:"projects"`
	}
	if err := c.ShouldBindJSON(&req); err != nil {
		s.writeError(c, patchgate.Errorf(patchgate.EINVALID, "body: %v", err))
		return
	}
	users, err := patchgate.ParseForgeUsers(req.Users)
	if err != nil {
		s.writeError(c, err)
		return
	}
	secret, hash, err := patchgate.NewTokenSecret()
	if err != nil {
		s.writeError(c, err)
		return
	}
	tok := &patchgate.Token{Name: req.Name, Role: req.Role, Users: users, Projects: req.Projects, Hash: hash}
	if err := tok.Validate(); err != nil {
		s.writeError(c, err)
		return
	}
	if err := s.Tokens.CreateToken(c.Request.Context(), tok); err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"token": tok, "secret": secret})
}

// handleRevokeToken serves DELETE /api/v1/tokens/:name.
func (s *Server) handleRevokeToken(c *gin.Context) {
	if err := s.Tokens.RevokeToken(c.Request.Context(), c.Param("name")); err != nil {
		s.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
