package server

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// serveEvidence writes candidate id's signed evidence pack as a download,
// byte for byte as signed (any change would break its signatures).
func (s *Server) serveEvidence(c *gin.Context, id int64) error {
	if s.EvidencePacks == nil {
		return patchgate.Errorf(patchgate.ENOTFOUND, "evidence packs are not kept on this server")
	}
	pack, err := s.EvidencePacks.FindEvidencePack(c.Request.Context(), id)
	if patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
		return patchgate.Errorf(patchgate.ENOTFOUND, "release %d has no evidence pack: packs are written when a release is promoted", id)
	} else if err != nil {
		return err
	}
	c.Header("Content-Disposition", `attachment; filename="`+pack.Name+`"`)
	c.Header("X-Patchgate-Key-Id", pack.KeyID)
	c.Header("X-Patchgate-Sha256", pack.SHA256) // hex, as sha256sum prints it
	c.Header("Content-Length", strconv.Itoa(len(pack.Data)))
	c.Data(http.StatusOK, patchgate.EvidenceMediaType, pack.Data)
	return nil
}

// handleReleaseEvidence serves GET /api/v1/releases/:id/evidence.
func (s *Server) handleReleaseEvidence(c *gin.Context) {
	id, err := pathID(c, "id")
	if err == nil {
		err = s.serveEvidence(c, id)
	}
	if err != nil {
		s.writeError(c, err)
	}
}

// handleDashboardEvidence serves GET /ui/releases/:id/evidence.
func (s *Server) handleDashboardEvidence(c *gin.Context) {
	id, err := pathID(c, "id")
	if err == nil {
		err = s.serveEvidence(c, id)
	}
	if err != nil {
		s.dashboardError(c, err)
	}
}
