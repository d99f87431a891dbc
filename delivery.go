package patchgate

import (
	"context"
	"time"
)

// DeliverySource is where a webhook delivery comes from: a forge (GitHub,
// GitLab) or a tracker (Jira). Deliveries of every source share one table, its
// deduplication and its processor; the stored values are the deliveries
// table's "forge" column, unchanged.
type DeliverySource string

// Delivery sources.
const (
	SourceGitHub DeliverySource = "github"
	SourceGitLab DeliverySource = "gitlab"
	SourceJira   DeliverySource = "jira"
	// SourceGitLabStatusCheck is GitLab's external status checks, signed
	// with each check's shared secret.
	SourceGitLabStatusCheck DeliverySource = "gitlab-status-check"
	// SourceReconcile is patchgate's own correction of a head or state the
	// forge reports differently (see ReconcileEvent): no webhook, the same
	// table, deduplication and processor.
	SourceReconcile DeliverySource = "reconcile"
)

// Validate reports whether s is a source patchgate takes deliveries from.
func (s DeliverySource) Validate() error {
	if s == SourceJira || s == SourceGitLabStatusCheck || s == SourceReconcile {
		return nil
	}
	return Forge(s).Validate()
}

// Forge returns the forge whose deliveries s names; false for a tracker.
func (s DeliverySource) Forge() (Forge, bool) {
	switch s {
	case SourceGitHub:
		return GitHub, true
	case SourceGitLab:
		return GitLab, true
	}
	return "", false
}

// SourceOf is the delivery source of a forge's deliveries.
func SourceOf(f Forge) DeliverySource { return DeliverySource(f) }

// DeliveryStatus is what patchgate answered when the delivery arrived.
type DeliveryStatus string

// Delivery statuses, as in the webhook response body.
const (
	DeliveryAccepted  DeliveryStatus = "accepted"
	DeliveryDuplicate DeliveryStatus = "duplicate"
	DeliveryIgnored   DeliveryStatus = "ignored"
)

// DeliveryOutcome is what became of an accepted delivery after the 202.
type DeliveryOutcome string

// Delivery outcomes. Pending deliveries are processed again after a restart.
const (
	OutcomePending   DeliveryOutcome = "pending"
	OutcomeProcessed DeliveryOutcome = "processed"
	OutcomeIgnored   DeliveryOutcome = "ignored"
	OutcomeFailed    DeliveryOutcome = "failed"
)

// Delivery is one webhook delivery as received, stored before it is answered.
// Its identity is (Source, ID).
type Delivery struct {
	// ID is the forge's delivery id (X-GitHub-Delivery, Idempotency-Key or
	// X-Gitlab-Event-UUID, X-Atlassian-Webhook-Identifier).
	ID string `json:"id"`
	// Source is where it came from; "forge" in JSON and in the database, the
	// name it had before Jira shared the table.
	Source  DeliverySource  `json:"forge"`
	Event   string          `json:"event"`
	Action  string          `json:"action,omitempty"`
	Repo    string          `json:"repo,omitempty"`
	Status  DeliveryStatus  `json:"status"`
	Outcome DeliveryOutcome `json:"outcome"`
	// Reason says why a delivery was ignored or failed.
	Reason string `json:"reason,omitempty"`
	// Payload is the raw body, kept so that processing can be retried.
	Payload     []byte     `json:"-"`
	Attempts    int        `json:"attempts"`
	ReceivedAt  time.Time  `json:"received_at"`
	ProcessedAt *time.Time `json:"processed_at,omitempty"`
}

// DeliveryFilter selects deliveries; nil fields do not filter.
type DeliveryFilter struct {
	Source  *DeliverySource
	Repo    *string
	Outcome *DeliveryOutcome
	Offset  int
	Limit   int
}

// DeliveryService stores deliveries durably. Implementations are safe for
// concurrent use.
type DeliveryService interface {
	// CreateDelivery stores d durably and reports whether it was new. A delivery
	// whose (Source, ID) is already stored is not changed and created is false.
	CreateDelivery(ctx context.Context, d *Delivery) (created bool, err error)
	// FindDelivery returns ENOTFOUND when absent.
	FindDelivery(ctx context.Context, source DeliverySource, id string) (*Delivery, error)
	// FindDeliveries returns matching deliveries, newest first, without payloads,
	// and the total count.
	FindDeliveries(ctx context.Context, filter DeliveryFilter) ([]*Delivery, int, error)
	// PendingDeliveries returns up to limit pending deliveries, oldest first,
	// without payloads (FindDelivery has them): the queue is scanned often and
	// payloads are large.
	PendingDeliveries(ctx context.Context, limit int) ([]*Delivery, error)
	// LeaseRepository gives holder the right to apply the deliveries of
	// (source, repo) until until, and reports whether it has it: false while
	// another holder's lease is live. A holder renews its own lease by leasing
	// again. Processes sharing one database apply a repository's deliveries one
	// at a time this way.
	LeaseRepository(ctx context.Context, source DeliverySource, repo, holder string, until time.Time) (bool, error)
	// ReleaseRepository ends holder's lease on (source, repo), if it has one.
	ReleaseRepository(ctx context.Context, source DeliverySource, repo, holder string) error
	// FinishDelivery records the outcome of processing a delivery.
	FinishDelivery(ctx context.Context, source DeliverySource, id string, outcome DeliveryOutcome, reason string) error
	// DeleteDeliveriesBefore removes deliveries received before t that are no
	// longer pending; DESIGN.md keeps them at least 7 days for dedup.
	DeleteDeliveriesBefore(ctx context.Context, t time.Time) (int, error)
}
