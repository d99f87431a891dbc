package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// handleListTickets serves GET /api/v1/tickets?state=&severity=&repo=&tracker=&key=.
func (s *Server) handleListTickets(c *gin.Context) {
	var (
		f   patchgate.TicketFilter
		err error
	)
	if f.Offset, f.Limit, err = page(c); err != nil {
		s.writeError(c, err)
		return
	}
	if f.State, err = optEnum(c, "state", patchgate.TicketState.Validate); err != nil {
		s.writeError(c, err)
		return
	}
	if f.Severity, err = optEnum[patchgate.Severity](c, "severity", nil); err != nil {
		s.writeError(c, err)
		return
	}
	if f.Tracker, err = optEnum[patchgate.Tracker](c, "tracker", nil); err != nil {
		s.writeError(c, err)
		return
	}
	f.Repo, f.Key = optString(c, "repo"), optString(c, "key")
	tickets, total, err := s.Tickets.FindTickets(c.Request.Context(), f)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"tickets": tickets, "total": total})
}

// handleGetTicket serves GET /api/v1/tickets/:id with the ticket's links and
// their changes.
func (s *Server) handleGetTicket(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	t, err := s.Tickets.FindTicketByID(ctx, id)
	if err != nil {
		s.writeError(c, err)
		return
	}
	links, err := s.Links.FindLinks(ctx, patchgate.LinkFilter{TicketID: &id, Limit: 500})
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"ticket": t, "links": links})
}
