package patchgate

import "net/http"

// WebhookSource is one sender of webhook deliveries (GitHub, GitLab, Jira,
// and the forge-enforcement hooks to come) as intake and the delivery
// processor see it. The adapter says who sent a delivery, whether to trust
// it and what it means; the server owns what every source shares: the
// bounded read, the read deadline, the limit on bodies read before they are
// verified, deduplication by delivery id, durable storage and the 202.
//
// The methods run in the order of trust: Identify on the headers alone,
// Verify, then Peek on the verified body, on the request path; Parse later,
// on the stored body, after the 202. Implementations are safe for concurrent
// use and do no I/O. Errors are *Error: EINVALID (400), EUNAUTHORIZED (401),
// EFORBIDDEN (403); an authentic delivery patchgate does not act on is not an
// error but an ignored reason.
type WebhookSource interface {
	// Source is the DeliverySource its deliveries are stored with.
	Source() DeliverySource
	// Identify reads the delivery id, the key for deduplication, and the
	// event name from the headers, before a byte of the body is read. The
	// event is "" when the source names it only in the body (Peek then
	// does). EINVALID for missing or malformed headers; EUNAUTHORIZED for a
	// missing signature, or when nothing of this source is configured.
	Identify(h http.Header) (id, event string, err error)
	// SignsBody reports whether Verify needs the body (a signature over it)
	// or checks a token in the headers alone. Bodies that must be read
	// before they can be verified take one of a bounded number of places.
	SignsBody() bool
	// Verify checks the delivery's signature or token against every
	// configured secret, several at once so that secrets can be rotated;
	// body is nil unless SignsBody. It returns the scope of the secret that
	// matched: the repositories or projects it vouches for, nil for any.
	// EUNAUTHORIZED when no secret matches or none is configured.
	Verify(h http.Header, body []byte) (scope []string, err error)
	// Peek reads from a verified body only what intake stores with it: the
	// event, the repository or project, the action, or why it is ignored
	// (not an event patchgate acts on, not a configured repository). A body
	// naming what scope does not cover is EFORBIDDEN or ignored, as the
	// source decides; malformed JSON is EINVALID.
	Peek(event string, body []byte, scope []string) (WebhookPeek, error)
	// Parse turns a stored, verified body into an Event of this source;
	// ignored is a reason, and ev nil, when it is not something patchgate
	// acts on. An error is permanent: retrying the same body cannot help.
	Parse(event string, body []byte) (ev *Event, ignored string, err error)
}

// WebhookPeek is what intake learns from a verified body before it answers.
type WebhookPeek struct {
	// Event is the event name stored with the delivery.
	Event string
	// Repo is the repository (or the tracker's project key) the body names;
	// it keys the processor's order and leases.
	Repo   string
	Action string
	// Ignored says why an authentic delivery is stored as ignored; "" when
	// it is accepted and will be processed.
	Ignored string
}

// WebhookSources are the configured webhook sources by DeliverySource.
type WebhookSources map[DeliverySource]WebhookSource

// Parse parses a stored delivery with its source's Parse (the delivery
// processor's parser). A source no longer configured is EINVALID.
func (w WebhookSources) Parse(source DeliverySource, event string, body []byte) (*Event, string, error) {
	s, ok := w[source]
	if !ok {
		return nil, "", Errorf(EINVALID, "deliveries of %s are not configured", source)
	}
	return s.Parse(event, body)
}
