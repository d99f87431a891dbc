package jira

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
)

// Headers of Jira Cloud admin webhooks.
const (
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256 of the raw body
	// with the webhook's secret.
	HeaderSignature = "X-Hub-Signature"
	// HeaderIdentifier is unique per delivery and kept across Jira's retries.
	HeaderIdentifier = "X-Atlassian-Webhook-Identifier"
)

// The webhook events patchgate acts on.
const (
	EventIssueCreated = "jira:issue_created"
	EventIssueUpdated = "jira:issue_updated"
	EventIssueDeleted = "jira:issue_deleted"
)

// Sign returns the X-Hub-Signature value Jira sends for body with secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks X-Hub-Signature against each secret in constant time;
// any match passes (secrets rotate by configuring old and new together).
// Anything else is EUNAUTHORIZED. Empty secrets never match.
func VerifySignature(h http.Header, body []byte, secrets []string) error {
	sigs := h.Values(HeaderSignature)
	switch {
	case len(sigs) == 0:
		return patchgate.Errorf(patchgate.EUNAUTHORIZED, "header %s is missing", HeaderSignature)
	case len(sigs) > 1:
		return patchgate.Errorf(patchgate.EUNAUTHORIZED, "header %s is sent %d times", HeaderSignature, len(sigs))
	}
	got, ok := strings.CutPrefix(sigs[0], "sha256=")
	mac, err := hex.DecodeString(got)
	if !ok || err != nil || len(mac) != sha256.Size {
		return patchgate.Errorf(patchgate.EUNAUTHORIZED, "header %s: want sha256= and 64 hex digits", HeaderSignature)
	}
	matched := false
	for _, s := range secrets {
		if s == "" {
			continue
		}
		m := hmac.New(sha256.New, []byte(s))
		m.Write(body)
		// No early return: every secret costs the same whichever matches.
		if hmac.Equal(mac, m.Sum(nil)) {
			matched = true
		}
	}
	if !matched {
		return patchgate.Errorf(patchgate.EUNAUTHORIZED, "header %s does not match the body", HeaderSignature)
	}
	return nil
}

// DeliveryID returns the delivery's X-Atlassian-Webhook-Identifier; EINVALID
// when it is missing or not a plausible id.
func DeliveryID(h http.Header) (string, error) {
	id := strings.TrimSpace(h.Get(HeaderIdentifier))
	if id == "" || len(id) > 200 {
		return "", patchgate.Errorf(patchgate.EINVALID, "header %s is missing or too long", HeaderIdentifier)
	}
	return id, nil
}

// Webhook is a parsed Jira issue webhook.
type Webhook struct {
	// Event is the webhookEvent: jira:issue_created, …
	Event string
	// Timestamp is when Jira sent the event.
	Timestamp time.Time
	Issue     Issue
}

// Action is patchgate's word for the event: created, updated or deleted.
func (w *Webhook) Action() string {
	a, _ := strings.CutPrefix(w.Event, "jira:issue_")
	return a
}

// IgnoredError says an authentic delivery is not one patchgate acts on.
type IgnoredError struct{ Reason string }

// Error implements the error interface.
func (e *IgnoredError) Error() string { return "ignored: " + e.Reason }

// ParseWebhook parses a verified issue webhook. Events other than issue
// created, updated and deleted are an *IgnoredError; a payload without an
// issue key is EINVALID.
func ParseWebhook(body []byte) (*Webhook, error) {
	var p struct {
		Timestamp    int64  `json:"timestamp"`
		WebhookEvent string `json:"webhookEvent"`
		Issue        *Issue `json:"issue"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, patchgate.Errorf(patchgate.EINVALID, "jira webhook: %v", err)
	}
	switch p.WebhookEvent {
	case EventIssueCreated, EventIssueUpdated, EventIssueDeleted:
	case "":
		return nil, patchgate.Errorf(patchgate.EINVALID, "jira webhook: no webhookEvent")
	default:
		return nil, &IgnoredError{Reason: fmt.Sprintf("event %q is not used", p.WebhookEvent)}
	}
	if p.Issue == nil || !patchgate.ValidExternalKey(p.Issue.Key) {
		return nil, patchgate.Errorf(patchgate.EINVALID, "jira webhook %s: no valid issue key", p.WebhookEvent)
	}
	w := &Webhook{Event: p.WebhookEvent, Issue: *p.Issue}
	if p.Timestamp > 0 {
		w.Timestamp = time.UnixMilli(p.Timestamp).UTC()
	}
	return w, nil
}

// Update is what w says about its ticket under c: title, URL, severity,
// opened time and open or closed; a deleted issue is deleted. Its time is the
// issue's updated time, else the event's timestamp.
func (c *Config) Update(w *Webhook) patchgate.TicketUpdate {
	ti := c.TrackerIssue(&w.Issue)
	if ti.UpdatedAt.IsZero() {
		ti.UpdatedAt = w.Timestamp
	}
	u := ti.Update("jira:" + c.Name)
	if w.Event == EventIssueDeleted {
		u = patchgate.TicketUpdate{Key: ti.Key, State: patchgate.TrackerDeleted, UpdatedAt: w.Timestamp, Source: "jira:" + c.Name}
		if u.UpdatedAt.IsZero() {
			u.UpdatedAt = ti.UpdatedAt
		}
	}
	return u
}
