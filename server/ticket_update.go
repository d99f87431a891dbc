package server

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// TicketUpdater applies what a tracker says through the API about an
// external ticket, as the principal in ctx; see tracking.Trackers.PutTicket.
type TicketUpdater interface {
	PutTicket(ctx context.Context, u patchgate.TicketUpdate) (*patchgate.Ticket, error)
}

// ticketUpdateRequest is the body of PUT /api/v1/tickets/{key}; fields left
// out are left as they are.
type ticketUpdateRequest struct {
	Title    *string             `json:"title"`
	URL      *string             `json:"url"`
	Severity *patchgate.Severity `json:"severity"`
	// SupportLevel is who works on the ticket: L1, L2, L3 or L4.
	SupportLevel *patchgate.SupportLevel `json:"support_level"`
	OpenedAt     *time.Time              `json:"opened_at"`
	// State is the ticket's own state in its tracker: open or closed.
	State patchgate.TrackerState `json:"state"`
	// UpdatedAt is the tracker's time of this news (default now): older news
	// than what was applied changes nothing.
	UpdatedAt *time.Time `json:"updated_at"`
}

// handlePutTicket serves PUT /api/v1/tickets/{key}: a helpdesk, tracker or
// script tells what it knows of an external ticket (PAY-12).
func (s *Server) handlePutTicket(c *gin.Context) {
	var req ticketUpdateRequest
	if err := c.ShouldBindJSON(&req); err != nil {
		s.writeError(c, patchgate.Errorf(patchgate.EINVALID, "body: %v", err))
		return
	}
	if req.State == patchgate.TrackerDeleted {
		s.writeError(c, patchgate.Errorf(patchgate.EINVALID, "state: want open or closed"))
		return
	}
	u := patchgate.TicketUpdate{Key: c.Param("id"), Title: req.Title, URL: req.URL, Severity: req.Severity,
		SupportLevel: req.SupportLevel, State: req.State, Source: "api"}
	if req.OpenedAt != nil {
		u.OpenedAt = *req.OpenedAt
	}
	if req.UpdatedAt != nil {
		u.UpdatedAt = *req.UpdatedAt
	}
	if err := u.Validate(); err != nil {
		s.writeError(c, err)
		return
	}
	t, err := s.TicketUpdater.PutTicket(c.Request.Context(), u)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"ticket": ticketView{Ticket: t, SLA: s.slaOf(t)}})
}
