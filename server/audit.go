package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// handleListAudit serves GET /api/v1/audit?actor=&action=&subject=&after=&limit=,
// oldest first; page with after=<last seq>.
func (s *Server) handleListAudit(c *gin.Context) {
	var f patchgate.AuditFilter
	var err error
	if f.Limit, err = intQuery(c, "limit", 100); err != nil {
		s.writeError(c, err)
		return
	}
	after, err := intQuery(c, "after", 0)
	if err != nil {
		s.writeError(c, err)
		return
	}
	f.AfterSeq = int64(after)
	f.Actor, f.Action, f.Subject = optString(c, "actor"), optString(c, "action"), optString(c, "subject")
	entries, err := s.Audit.FindAudit(c.Request.Context(), f)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"entries": entries})
}

// handleVerifyAudit serves GET /api/v1/audit/verify: 200 when the chain holds,
// 409 naming the first broken entry when it does not.
func (s *Server) handleVerifyAudit(c *gin.Context) {
	checked, err := s.Audit.VerifyAudit(c.Request.Context())
	var broken *patchgate.AuditBreak
	if errors.As(err, &broken) {
		c.JSON(http.StatusConflict, gin.H{"ok": false, "checked": checked, "broken_seq": broken.Seq, "reason": broken.Reason})
		return
	} else if err != nil {
		s.writeError(c, err)
		return
	}
	c.Header("X-Audit-Checked", strconv.FormatInt(checked, 10))
	c.JSON(http.StatusOK, gin.H{"ok": true, "checked": checked})
}
