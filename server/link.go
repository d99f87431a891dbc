package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// handleListLinks serves GET /api/v1/links?ticket_id=&change_id=&source=.
func (s *Server) handleListLinks(c *gin.Context) {
	var (
		f   patchgate.LinkFilter
		err error
	)
	if f.Offset, f.Limit, err = page(c); err != nil {
		s.writeError(c, err)
		return
	}
	if f.TicketID, err = optID(c, "ticket_id"); err != nil {
		s.writeError(c, err)
		return
	}
	if f.ChangeID, err = optID(c, "change_id"); err != nil {
		s.writeError(c, err)
		return
	}
	f.Source, _ = optEnum[patchgate.LinkSource](c, "source", nil)
	links, err := s.Links.FindLinks(c.Request.Context(), f)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"links": links})
}

// handleCreateLink serves POST /api/v1/links: a developer links a ticket to a
// change by hand.
func (s *Server) handleCreateLink(c *gin.Context) {
	var req patchgate.ManualLinkRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		s.writeError(c, patchgate.Errorf(patchgate.EINVALID, "body: %v", err))
		return
	}
	p, _ := patchgate.PrincipalFromContext(c.Request.Context())
	req.By = p.Name
	link, err := s.Linker.LinkManually(c.Request.Context(), req)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"link": link})
}

// handleDeleteLinks serves DELETE /api/v1/links?ticket_id=&change_id=.
func (s *Server) handleDeleteLinks(c *gin.Context) {
	ticketID, err := optID(c, "ticket_id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	changeID, err := optID(c, "change_id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	if ticketID == nil || changeID == nil {
		s.writeError(c, patchgate.Errorf(patchgate.EINVALID, "ticket_id and change_id are required"))
		return
	}
	if err := s.Linker.UnlinkManually(c.Request.Context(), *ticketID, *changeID); err != nil {
		s.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
