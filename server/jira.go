package server

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// JiraHooks verifies and classifies Jira Cloud webhook deliveries; the
// trackers/jira adapter provides the functions (cmd wires them).
type JiraHooks struct {
	// ID returns the delivery's X-Atlassian-Webhook-Identifier; EINVALID when
	// it is missing.
	ID func(h http.Header) (string, error)
	// Verify checks X-Hub-Signature against every Jira tracker's secrets and
	// returns the projects of the tracker whose secret matched;
	// EUNAUTHORIZED when none did.
	Verify func(h http.Header, body []byte) (projects []string, err error)
	// Peek reads a verified body's event, action and project key; ignored is
	// a reason when the event is not one patchgate acts on.
	Peek func(body []byte) (event, action, project, ignored string, err error)
}

// handleJiraWebhook serves POST /webhooks/jira like the forges' endpoints:
// the id and signature are checked before the body is read as JSON (the body
// takes one of the unverified places while it arrives, as GitHub's does), the
// delivery is stored (deduplicated by its identifier) and answered 202, and
// the processor applies it after the answer. An issue of a project not
// configured for the tracker that signed it is stored as ignored, with why.
func (s *Server) handleJiraWebhook(c *gin.Context) {
	forge := patchgate.SourceJira
	if s.Jira == nil {
		s.rejectDelivery(c, forge, "", patchgate.Errorf(patchgate.EUNAUTHORIZED, "no Jira tracker is configured"))
		return
	}
	id, err := s.Jira.ID(c.Request.Header)
	if err != nil {
		s.rejectDelivery(c, forge, "", err)
		return
	}
	c.Set("delivery_id", id)
	if c.Request.ContentLength > MaxWebhookBody {
		s.rejectDelivery(c, forge, id, patchgate.Errorf(patchgate.ETOOLARGE, "body of %d bytes is over the %d byte limit", c.Request.ContentLength, MaxWebhookBody))
		return
	}
	// The signature covers the body, as GitHub's does: the same places
	// among the unverified bodies, the same read deadline.
	if !s.takeUnverifiedPlace(c.Request.Context()) {
		if c.Request.Context().Err() != nil {
			return // the sender left; nothing was read or accepted
		}
		c.Header("Retry-After", retryAfterBusy)
		s.rejectDelivery(c, forge, id, patchgate.Errorf(patchgate.EUNAVAILABLE,
			"%d unverified deliveries are being read: try again later", cap(s.unverified)))
		return
	}
	_ = http.NewResponseController(c.Writer).SetReadDeadline(time.Now().Add(unverifiedReadTimeout))
	body, err := s.readBody(c)
	var projects []string
	if err == nil {
		s.intake.Add(1)
		defer s.intake.Add(-1)
		projects, err = s.Jira.Verify(c.Request.Header, body)
	}
	<-s.unverified
	if err != nil {
		s.rejectDelivery(c, forge, id, err)
		return
	}
	event, action, project, ignored, err := s.Jira.Peek(body)
	if err != nil {
		s.rejectDelivery(c, forge, id, err)
		return
	}
	del := &patchgate.Delivery{ID: id, Source: forge, Event: event, Action: action, Repo: project,
		Status: patchgate.DeliveryAccepted, Outcome: patchgate.OutcomePending, ReceivedAt: time.Now().UTC()}
	known := false
	for _, p := range projects {
		known = known || p == project
	}
	switch {
	case ignored != "":
		del.Status, del.Outcome, del.Reason = patchgate.DeliveryIgnored, patchgate.OutcomeIgnored, ignored
	case !known:
		del.Status, del.Outcome = patchgate.DeliveryIgnored, patchgate.OutcomeIgnored
		del.Reason = fmt.Sprintf("Jira project %s is not configured", project)
	default:
		del.Payload = body
	}
	created, err := s.Deliveries.CreateDelivery(c.Request.Context(), del)
	if err != nil {
		s.writeError(c, fmt.Errorf("store delivery %s %s: %w", forge, id, err))
		return
	}
	resp := webhookResponse{Delivery: id, Status: del.Status, Reason: del.Reason}
	if !created {
		resp.Status, resp.Reason = patchgate.DeliveryDuplicate, ""
	}
	s.countDelivery(forge, event, string(resp.Status))
	if resp.Status == patchgate.DeliveryAccepted && s.Notify != nil {
		s.Notify()
	}
	c.JSON(http.StatusAccepted, resp)
}
