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

// handleDeleteLinks serves DELETE /api/v1/links, naming the ticket and the
// change either by id (?ticket_id=&change_id=, answered 204) or as a manual
// link names them (?ticket=PAY-12&repo=acme/shop&number=42 or &commit=SHA,
// &forge= when the name is on both forges; answered 200 with both).
func (s *Server) handleDeleteLinks(c *gin.Context) {
	ctx := c.Request.Context()
	if ref := optString(c, "ticket"); ref != nil {
		req := patchgate.ManualLinkRequest{Ticket: *ref, Repo: c.Query("repo"), Forge: patchgate.Forge(c.Query("forge")), Commit: c.Query("commit")}
		number, err := intQuery(c, "number", 0)
		if err != nil {
			s.writeError(c, err)
			return
		}
		req.Number = number
		t, ch, err := s.Linker.UnlinkReference(ctx, req)
		if err != nil {
			s.writeError(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"ticket": t, "change": ch})
		return
	}
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
		s.writeError(c, patchgate.Errorf(patchgate.EINVALID, "name the link's ends: ticket_id and change_id, or ticket, repo and number (or commit)"))
		return
	}
	if err := s.Linker.UnlinkManually(ctx, *ticketID, *changeID); err != nil {
		s.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
