package server

import (
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

// handleVerifyAudit serves GET /api/v1/audit/verify[?head=SEQ:HASH]: 200 when
// the chain holds (and reaches the anchored head unchanged), every approval,
// promotion and ticket state has its entry, and every token, verdict, suite-run
// state, candidate, change author and session matches its entry; 409 naming the
// first broken entry and each record that does not match when not.
func (s *Server) handleVerifyAudit(c *gin.Context) {
	var check patchgate.AuditCheck
	if raw := c.Query("head"); raw != "" {
		h, err := patchgate.ParseAuditHead(raw)
		if err != nil {
			s.writeError(c, err)
			return
		}
		check.Head = &h
	}
	rep, err := s.Audit.CheckAudit(c.Request.Context(), check)
	if err != nil {
		s.writeError(c, err)
		return
	}
	body := gin.H{"ok": rep.OK(), "checked": rep.Checked, "head": rep.Head, "keyed_from": rep.KeyedFrom,
		"records_from": rep.RecordsFrom, "unaudited": rep.Unaudited}
	if rep.Unaudited == nil {
		body["unaudited"] = []string{}
	}
	c.Header("X-Audit-Checked", strconv.FormatInt(rep.Checked, 10))
	if !rep.OK() {
		if rep.Break != nil {
			body["broken_seq"], body["reason"] = rep.Break.Seq, rep.Break.Reason
		}
		c.JSON(http.StatusConflict, body)
		return
	}
	c.JSON(http.StatusOK, body)
}

// handleAuditHead serves GET /api/v1/audit/head: the last entry's seq and hash,
// to anchor somewhere the database's writers cannot reach.
func (s *Server) handleAuditHead(c *gin.Context) {
	h, err := s.Audit.HeadAudit(c.Request.Context())
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"seq": h.Seq, "hash": h.Hash, "head": h.String()})
}
