package patchgate

import (
	"context"
	"time"
)

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
// Its identity is (Forge, ID).
type Delivery struct {
	// ID is the forge's delivery id (X-GitHub-Delivery, Idempotency-Key or
	// X-Gitlab-Event-UUID).
	ID      string          `json:"id"`
	Forge   Forge           `json:"forge"`
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
	Forge   *Forge
	Repo    *string
	Outcome *DeliveryOutcome
	Offset  int
	Limit   int
}

// DeliveryService stores deliveries durably. Implementations are safe for
// concurrent use.
type DeliveryService interface {
	// CreateDelivery stores d durably and reports whether it was new. A delivery
	// whose (Forge, ID) is already stored is not changed and created is false.
	CreateDelivery(ctx context.Context, d *Delivery) (created bool, err error)
	// FindDelivery returns ENOTFOUND when absent.
	FindDelivery(ctx context.Context, forge Forge, id string) (*Delivery, error)
	// FindDeliveries returns matching deliveries, newest first, without payloads,
	// and the total count.
	FindDeliveries(ctx context.Context, filter DeliveryFilter) ([]*Delivery, int, error)
	// PendingDeliveries returns up to limit pending deliveries, oldest first,
	// without payloads (FindDelivery has them): the queue is scanned often and
	// payloads are large.
	PendingDeliveries(ctx context.Context, limit int) ([]*Delivery, error)
	// LeaseRepository gives holder the right to apply the deliveries of
	// (forge, repo) until until, and reports whether it has it: false while
	// another holder's lease is live. A holder renews its own lease by leasing
	// again. Processes sharing one database apply a repository's deliveries one
	// at a time this way.
	LeaseRepository(ctx context.Context, forge Forge, repo, holder string, until time.Time) (bool, error)
	// ReleaseRepository ends holder's lease on (forge, repo), if it has one.
	ReleaseRepository(ctx context.Context, forge Forge, repo, holder string) error
	// FinishDelivery records the outcome of processing a delivery.
	FinishDelivery(ctx context.Context, forge Forge, id string, outcome DeliveryOutcome, reason string) error
	// DeleteDeliveriesBefore removes deliveries received before t that are no
	// longer pending; DESIGN.md keeps them at least 7 days for dedup.
	DeleteDeliveriesBefore(ctx context.Context, t time.Time) (int, error)
}
