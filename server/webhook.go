package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/webhooks"
)

// WebhookSecrets are the secrets webhook deliveries are verified with: each
// forge's own (valid for every repository on it) and per-repository ones, which
// are valid only for deliveries naming that repository. Several secrets at once
// allow rotation.
type WebhookSecrets struct {
	GitHub []string
	GitLab []string
	// Repos maps "forge:name" (name lower-cased) to that repository's secrets.
	Repos map[string][]string
}

// webhookResponse is the body of every 202.
type webhookResponse struct {
	Delivery string                   `json:"delivery"`
	Status   patchgate.DeliveryStatus `json:"status"`
	Reason   string                   `json:"reason,omitempty"`
}

func (s *Server) handleGitHubWebhook(c *gin.Context) { s.handleWebhook(c, patchgate.GitHub) }

func (s *Server) handleGitLabWebhook(c *gin.Context) { s.handleWebhook(c, patchgate.GitLab) }

// handleWebhook validates headers, reads the body through the size limit,
// verifies the signature or token, peeks at the repository and action, stores
// the delivery durably, answers 202 and wakes the processor. Nothing is parsed
// before it is verified. A GitLab token is checked before the body is read; a
// GitHub signature needs the body, so at most cap(s.unverified) such bodies
// are read at once, and the rest get 503 with Retry-After.
func (s *Server) handleWebhook(c *gin.Context, forge patchgate.Forge) {
	ctx := c.Request.Context()
	h := c.Request.Header
	var (
		d   webhooks.Delivery
		err error
	)
	if forge == patchgate.GitHub {
		d, err = webhooks.GitHubDelivery(h)
	} else {
		d, err = webhooks.GitLabDelivery(h)
	}
	if err != nil {
		s.rejectDelivery(c, forge, d.ID, err)
		return
	}
	c.Set("delivery_id", d.ID)

	if c.Request.ContentLength > MaxWebhookBody {
		s.rejectDelivery(c, forge, d.ID, patchgate.Errorf(patchgate.ETOOLARGE, "body of %d bytes is over the %d byte limit", c.Request.ContentLength, MaxWebhookBody))
		return
	}
	var (
		body   []byte
		scopes []string
	)
	if forge == patchgate.GitLab {
		// X-Gitlab-Token is a header: check it before reading a byte of the body.
		if scopes, err = s.Secrets.verify(forge, h, nil); err != nil {
			s.rejectDelivery(c, forge, d.ID, err)
			return
		}
		if body, err = s.readBody(c); err != nil {
			s.rejectDelivery(c, forge, d.ID, err)
			return
		}
		s.intake.Add(1)
		defer s.intake.Add(-1)
	} else {
		// The signature covers the body, so the body must be read first: only
		// so many at once, each within unverifiedReadTimeout.
		if !s.takeUnverifiedPlace(c.Request.Context()) {
			if c.Request.Context().Err() != nil {
				return // the sender left; nothing was read or accepted
			}
			c.Header("Retry-After", retryAfterBusy)
			s.rejectDelivery(c, forge, d.ID, patchgate.Errorf(patchgate.EUNAVAILABLE,
				"%d unverified deliveries are being read: try again later", cap(s.unverified)))
			return
		}
		_ = http.NewResponseController(c.Writer).SetReadDeadline(time.Now().Add(unverifiedReadTimeout))
		body, err = s.readBody(c)
		if err == nil {
			// Counted once its body is in (see IntakeBusy).
			s.intake.Add(1)
			defer s.intake.Add(-1)
			scopes, err = s.Secrets.verify(forge, h, body)
		}
		<-s.unverified
		if err != nil {
			s.rejectDelivery(c, forge, d.ID, err)
			return
		}
	}

	del := &patchgate.Delivery{
		ID:         d.ID,
		Forge:      forge,
		Event:      d.Event,
		Status:     patchgate.DeliveryAccepted,
		Outcome:    patchgate.OutcomePending,
		ReceivedAt: time.Now().UTC(),
	}
	// Only a peek here: the full parse runs after the 202, in the processor.
	sum, err := webhooks.Peek(forge, d.Event, body)
	var ignored *webhooks.IgnoredError
	switch {
	case errors.As(err, &ignored):
		del.Status, del.Outcome, del.Reason = patchgate.DeliveryIgnored, patchgate.OutcomeIgnored, ignored.Reason
		del.Repo, _ = webhooks.RepoOf(forge, body)
	case err != nil:
		s.rejectDelivery(c, forge, d.ID, err)
		return
	default:
		del.Action, del.Repo = sum.Action, sum.Repo
	}

	if !inScope(scopes, del.Repo) {
		s.rejectDelivery(c, forge, d.ID, patchgate.Errorf(patchgate.EFORBIDDEN,
			"the secret that signed this delivery belongs to %s, but the payload names %s", strings.Join(scopes, ", "), del.Repo))
		return
	}
	if del.Status == patchgate.DeliveryAccepted {
		if _, err := s.Repos.Find(forge, del.Repo); err != nil {
			del.Status, del.Outcome = patchgate.DeliveryIgnored, patchgate.OutcomeIgnored
			del.Reason = fmt.Sprintf("repository %s is not configured", del.Repo)
		} else {
			del.Payload = body
		}
	}

	created, err := s.Deliveries.CreateDelivery(ctx, del)
	if err != nil {
		// Not stored: a 5xx tells the forge (or whoever redelivers) to try again.
		s.writeError(c, fmt.Errorf("store delivery %s %s: %w", forge, d.ID, err))
		return
	}
	resp := webhookResponse{Delivery: d.ID, Status: del.Status, Reason: del.Reason}
	if !created {
		resp.Status, resp.Reason = patchgate.DeliveryDuplicate, ""
	}
	s.countDelivery(forge, d.Event, string(resp.Status))
	if resp.Status == patchgate.DeliveryIgnored {
		s.Logger.Debug("delivery ignored", "delivery_id", d.ID, "forge", forge, "event", d.Event, "repo", del.Repo, "reason", del.Reason)
	}
	switch {
	case resp.Status != patchgate.DeliveryAccepted:
	case s.NotifyRepo != nil:
		s.NotifyRepo(forge, del.Repo)
	case s.Notify != nil:
		s.Notify()
	}
	c.JSON(http.StatusAccepted, resp)
}

// IntakeBusy reports whether forge deliveries are arriving faster than they
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
func (s *Server) rejectDelivery(c *gin.Context, forge patchgate.Forge, id string, err error) {
	c.Header("Connection", "close")
	// The event header is not trusted yet, so it stays out of metric labels.
	s.countDelivery(forge, "unverified", "rejected")
	s.Logger.Info("delivery rejected", "forge", forge, "delivery_id", id, "reason", patchgate.ErrorMessage(err))
	s.writeError(c, err)
}

func (s *Server) countDelivery(forge patchgate.Forge, event, outcome string) {
	if s.Metrics != nil {
		s.Metrics.deliveries.WithLabelValues(string(forge), event, outcome).Inc()
	}
}

// verify checks the delivery against the forge's secrets and each repository's.
// It returns nil scopes when a forge-wide secret matched, else the repositories
// whose own secrets matched (several when repositories share a secret).
func (w WebhookSecrets) verify(forge patchgate.Forge, h http.Header, body []byte) (scopes []string, err error) {
	check := func(secrets []string) error {
		if forge == patchgate.GitHub {
			return webhooks.VerifyGitHub(h, body, secrets)
		}
		return webhooks.VerifyGitLab(h, secrets)
	}
	forgeWide := w.GitHub
	if forge == patchgate.GitLab {
		forgeWide = w.GitLab
	}
	if len(forgeWide) > 0 {
		if err = check(forgeWide); err == nil {
			return nil, nil
		}
	}
	prefix := string(forge) + ":"
	for key, secrets := range w.Repos {
		if name, ok := strings.CutPrefix(key, prefix); ok && len(secrets) > 0 {
			if e := check(secrets); e == nil {
				scopes = append(scopes, name)
			} else {
				err = e
			}
		}
	}
	if len(scopes) > 0 {
		return scopes, nil
	}
	if err == nil {
		// No secret was tried at all: nothing can be verified, so nothing is accepted.
		err = patchgate.Errorf(patchgate.EUNAUTHORIZED, "no webhook secret is configured for %s", forge)
	}
	return nil, err
}

// inScope reports whether repo may be named by a delivery signed with a secret of
// the given scopes (nil: a forge-wide secret, valid for any repository).
func inScope(scopes []string, repo string) bool {
	if scopes == nil || repo == "" {
		return true
	}
	for _, s := range scopes {
		if strings.EqualFold(s, repo) {
			return true
		}
	}
	return false
}
