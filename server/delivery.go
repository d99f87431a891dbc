package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// handleListDeliveries serves GET /api/v1/deliveries?forge=&repo=&outcome=, the
// most recent first.
func (s *Server) handleListDeliveries(c *gin.Context) {
	var (
		f   patchgate.DeliveryFilter
		err error
	)
	if f.Offset, f.Limit, err = page(c); err != nil {
		s.writeError(c, err)
		return
	}
	if f.Source, err = optEnum(c, "forge", patchgate.DeliverySource.Validate); err != nil {
		s.writeError(c, err)
		return
	}
	f.Outcome, _ = optEnum[patchgate.DeliveryOutcome](c, "outcome", nil)
	f.Repo = optString(c, "repo")
	deliveries, total, err := s.Deliveries.FindDeliveries(c.Request.Context(), f)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"deliveries": deliveries, "total": total})
}
