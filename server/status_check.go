package server

import (
	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// handleGitLabStatusCheckWebhook takes GitLab's external status checks
// through the one intake: the signature is verified before the body is
// parsed, and the answer goes to GitLab's API after the 202.
func (s *Server) handleGitLabStatusCheckWebhook(c *gin.Context) {
	s.handleWebhook(c, patchgate.SourceGitLabStatusCheck)
}
