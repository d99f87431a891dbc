package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// handleEnforcement serves GET /api/v1/repos/{forge}/{owner/name}/enforcement
// ?branch=: what `patchgate forge check` answers, read from the forge now.
// A forge that refuses patchgate's token is a 422 naming the forge's answer:
// the caller's own token is not at fault.
func (s *Server) handleEnforcement(c *gin.Context, ref patchgate.RepoRef) {
	if s.Enforcement == nil || s.Repos == nil {
		s.writeError(c, patchgate.Errorf(patchgate.ENOTFOUND, "this server checks no forge settings"))
		return
	}
	repo, err := s.Repos.Find(ref.Forge, ref.Name)
	if err != nil {
		s.writeError(c, err)
		return
	}
	e, err := s.Enforcement.Check(c.Request.Context(), repo.Forge, repo.Name, c.Query("branch"))
	if err != nil {
		if patchgate.ErrorCode(err) != patchgate.EINTERNAL {
			err = patchgate.Errorf(patchgate.EUNPROCESSABLE, "patchgate could not read the forge's settings: %s; check the token's permissions (GitHub's branch protection needs admin rights)",
				patchgate.ErrorMessage(err))
		}
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, e)
}
