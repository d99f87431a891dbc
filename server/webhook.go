package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
)

// webhookResponse is the body of every 202.
type webhookResponse struct {
	Delivery string                   `json:"delivery"`
	Status   patchgate.DeliveryStatus `json:"status"`
	Reason   string                   `json:"reason,omitempty"`
}

func (s *Server) handleGitHubWebhook(c *gin.Context) { s.handleWebhook(c, patchgate.SourceGitHub) }

func (s *Server) handleGitLabWebhook(c *gin.Context) { s.handleWebhook(c, patchgate.SourceGitLab) }

func (s *Server) handleJiraWebhook(c *gin.Context) { s.handleWebhook(c, patchgate.SourceJira) }

// handleWebhook is the one intake of every source: it validates the headers,
// reads the body through the size limit, verifies the signature or token,
// peeks at the repository and action, stores the delivery durably (once per
// delivery id), answers 202 and wakes the processor. Nothing is parsed before
// it is verified. The source's adapter (Server.Webhooks) says how each step
// is done for its deliveries.
func (s *Server) handleWebhook(c *gin.Context, source patchgate.DeliverySource) {
	src := s.Webhooks[source]
	if src == nil {
		s.rejectDelivery(c, source, "", patchgate.Errorf(patchgate.EUNAUTHORIZED, "no webhook secret is configured for %s", source))
		return
	}
	id, event, err := src.Identify(c.Request.Header)
	if err != nil {
		s.rejectDelivery(c, source, id, err)
		return
	}
	c.Set("delivery_id", id)

	if c.Request.ContentLength > MaxWebhookBody {
		s.rejectDelivery(c, source, id, patchgate.Errorf(patchgate.ETOOLARGE, "body of %d bytes is over the %d byte limit", c.Request.ContentLength, MaxWebhookBody))
		return
	}
	body, scope, done, err := s.readVerified(c, src)
	defer done()
	if errors.Is(err, errSenderLeft) {
		return // nothing was read or accepted
	} else if err != nil {
		s.rejectDelivery(c, source, id, err)
		return
	}

	// Only a peek here: the full parse runs after the 202, in the processor.
	peek, err := src.Peek(event, body, scope)
	if err != nil {
		s.rejectDelivery(c, source, id, err)
		return
	}
	del := &patchgate.Delivery{
		ID:         id,
		Source:     source,
		Event:      peek.Event,
		Action:     peek.Action,
		Repo:       peek.Repo,
		Status:     patchgate.DeliveryAccepted,
		Outcome:    patchgate.OutcomePending,
		ReceivedAt: time.Now().UTC(),
	}
	if peek.Ignored != "" {
		del.Status, del.Outcome, del.Reason = patchgate.DeliveryIgnored, patchgate.OutcomeIgnored, peek.Ignored
	} else {
		del.Payload = body
	}

	created, err := s.Deliveries.CreateDelivery(c.Request.Context(), del)
	if err != nil {
		// Not stored: a 5xx tells the sender (or whoever redelivers) to try again.
		if s.Refused != nil {
			s.Refused()
		}
		s.writeError(c, fmt.Errorf("store delivery %s %s: %w", source, id, err))
		return
	}
	resp := webhookResponse{Delivery: id, Status: del.Status, Reason: del.Reason}
	if !created {
		resp.Status, resp.Reason = patchgate.DeliveryDuplicate, ""
	}
	s.countDelivery(source, del.Event, string(resp.Status))
	if resp.Status == patchgate.DeliveryIgnored {
		s.Logger.Debug("delivery ignored", "delivery_id", id, "forge", source, "event", del.Event, "repo", del.Repo, "reason", del.Reason)
	}
	switch {
	case resp.Status != patchgate.DeliveryAccepted:
	case s.NotifyRepo != nil:
		s.NotifyRepo(source, del.Repo)
	case s.Notify != nil:
		s.Notify()
	}
	c.JSON(http.StatusAccepted, resp)
}

// readVerified reads the body through the size limit and verifies it. A token
// in the headers is checked before a byte of the body is read. A signature
// covers the body, so the body must be read first: at most cap(s.unverified)
// such bodies at once, each within unverifiedReadTimeout, and the rest get 503
// with Retry-After (errSenderLeft when the sender left while waiting). done
// ends the delivery's count in IntakeBusy, which starts once its body is in;
// it is never nil.
func (s *Server) readVerified(c *gin.Context, src patchgate.WebhookSource) (body []byte, scope []string, done func(), err error) {
	done = func() {}
	h := c.Request.Header
	if src.SignsBody() {
		if !s.takeUnverifiedPlace(c.Request.Context()) {
			if c.Request.Context().Err() != nil {
				return nil, nil, done, errSenderLeft
			}
			c.Header("Retry-After", retryAfterBusy)
			return nil, nil, done, patchgate.Errorf(patchgate.EUNAVAILABLE,
				"%d unverified deliveries are being read: try again later", cap(s.unverified))
		}
		defer func() { <-s.unverified }()
		_ = http.NewResponseController(c.Writer).SetReadDeadline(time.Now().Add(unverifiedReadTimeout))
	} else if scope, err = src.Verify(h, nil); err != nil {
		return nil, nil, done, err
	}
	if body, err = s.readBody(c); err != nil {
		return nil, nil, done, err
	}
	s.intake.Add(1)
	done = func() { s.intake.Add(-1) }
	if src.SignsBody() {
		scope, err = src.Verify(h, body)
	}
	return body, scope, done, err
}

// errSenderLeft says the sender went away before its body was read.
var errSenderLeft = errors.New("the sender left")

// IntakeBusy reports whether deliveries are arriving faster than they
// are answered one at a time: more than one delivery whose body has arrived
// is being answered right now. Requests still sending their bodies do not
// count, so that a client without a secret cannot hold processing back by
// keeping slow requests open; one that wants to must send whole bodies
// faster than they are rejected, a flood. The
// delivery processor defers its work while it is (delivery.Processor.Intake):
// on a small machine the processor's CPU time and its writes on SQLite's one
// writer would otherwise slow every acknowledgement down during a burst, and
// what is acknowledged is stored, so it can wait.
func (s *Server) IntakeBusy() bool { return s.intake.Load() > 1 }

// unverifiedReadTimeout bounds how long an unverified body may take to
// arrive; GitHub itself gives up on a delivery after 10 seconds.
const unverifiedReadTimeout = 15 * time.Second

// unverifiedWait is how long a delivery waits for a place among the
// unverified bodies before 503: a burst of honest deliveries (GitHub sends a
// repository's events concurrently and redelivers none by itself) waits a
// moment for the bodies ahead of it, which take milliseconds, while bodies
// held open by someone without the secret still cost a 503, not memory. The
// waiting request's body stays in the kernel's socket buffer, unread.
const unverifiedWait = time.Second

// takeUnverifiedPlace takes a place among the unverified bodies: at once when
// one is free (no timer on the common path), else within unverifiedWait; false
// when none came free in time or ctx ended.
func (s *Server) takeUnverifiedPlace(ctx context.Context) bool {
	select {
	case s.unverified <- struct{}{}:
		return true
	default:
	}
	wait := time.NewTimer(unverifiedWait)
	defer wait.Stop()
	select {
	case s.unverified <- struct{}{}:
		return true
	case <-ctx.Done():
	case <-wait.C:
	}
	return false
}

// retryAfterBusy is the Retry-After of a 503 for too many unverified bodies.
const retryAfterBusy = "5"

// readBody reads the request body through the size limit. A body of announced
// length is read into one buffer of that size (the length was checked against
// the limit before): io.ReadAll would grow its buffer step by step, copying a
// 28 KB delivery several times, the largest allocation of intake. Only up to
// maxPreallocatedBody: a client announcing 25 MB without sending them must
// not get them allocated.
func (s *Server) readBody(c *gin.Context) ([]byte, error) {
	r := http.MaxBytesReader(c.Writer, c.Request.Body, MaxWebhookBody)
	var (
		body []byte
		err  error
	)
	if n := c.Request.ContentLength; n >= 0 && n <= maxPreallocatedBody {
		body = make([]byte, n)
		_, err = io.ReadFull(r, body)
	} else {
		body, err = io.ReadAll(r)
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, patchgate.Errorf(patchgate.ETOOLARGE, "body is over the %d byte limit", MaxWebhookBody)
	} else if err != nil {
		return nil, patchgate.Errorf(patchgate.EINVALID, "read body: %v", err)
	}
	return body, nil
}

// maxPreallocatedBody is the largest announced body read into a buffer
// allocated before the bytes arrive.
const maxPreallocatedBody = 1 << 20

// rejectDelivery answers a delivery that was not stored with its 4xx (or 503)
// and logs why. The connection is closed after the answer: what is left of
// the body is not read.
func (s *Server) rejectDelivery(c *gin.Context, source patchgate.DeliverySource, id string, err error) {
	c.Header("Connection", "close")
	// The event header is not trusted yet, so it stays out of metric labels.
	s.countDelivery(source, "unverified", "rejected")
	s.Logger.Info("delivery rejected", "forge", source, "delivery_id", id, "reason", patchgate.ErrorMessage(err))
	s.writeError(c, err)
}

func (s *Server) countDelivery(source patchgate.DeliverySource, event, outcome string) {
	if s.Metrics != nil {
		s.Metrics.deliveries.WithLabelValues(string(source), event, outcome).Inc()
	}
}
