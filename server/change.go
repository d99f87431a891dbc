package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// handleListChanges serves GET /api/v1/changes?forge=&repo=&state=&kind=&ticket_id=.
func (s *Server) handleListChanges(c *gin.Context) {
	var (
		f   patchgate.ChangeFilter
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
	if f.State, err = optEnum[patchgate.ChangeState](c, "state", nil); err != nil {
		s.writeError(c, err)
		return
	}
	if f.Kind, err = optEnum[patchgate.ChangeKind](c, "kind", nil); err != nil {
		s.writeError(c, err)
		return
	}
	if f.TicketID, err = optID(c, "ticket_id"); err != nil {
		s.writeError(c, err)
		return
	}
	f.Repo, f.HeadSHA = optString(c, "repo"), optString(c, "head_sha")
	changes, total, err := s.Changes.FindChanges(c.Request.Context(), f)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"changes": changes, "total": total})
}

// handleGetChange serves GET /api/v1/changes/:id with the change's links.
func (s *Server) handleGetChange(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	ch, err := s.Changes.FindChangeByID(ctx, id)
	if err != nil {
		s.writeError(c, err)
		return
	}
	links, err := s.Links.FindLinks(ctx, patchgate.LinkFilter{ChangeID: &id, Limit: 500})
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"change": ch, "links": links})
}
