package patchgate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
)

// AuditEntry is one record of who did what, when, on which SHA. Entries form a
// hash chain: each one's Hash covers its content and the previous entry's Hash,
// so an edited, removed or reordered entry breaks the chain from there on.
type AuditEntry struct {
	// Seq numbers entries 1, 2, 3, … without gaps.
	Seq int64     `json:"seq"`
	At  time.Time `json:"at"`
	// Actor is the principal's name, or SystemActor for what patchgate did on
	// its own (links found in a webhook's text, verdicts of its runners).
	Actor  string `json:"actor"`
	Action string `json:"action"`
	// Subject names what was acted on: "ticket:PAY-1 change:7",
	// "verification:12", "token:ci".
	Subject string `json:"subject"`
	// SHA is the commit the action concerns, when there is one.
	SHA    string            `json:"sha,omitempty"`
	Detail map[string]string `json:"detail,omitempty"`
	// PrevHash is the Hash of entry Seq-1, "" for the first entry.
	PrevHash string `json:"prev_hash"`
	// Hash is ComputeHash() as it was when the entry was appended.
	Hash string `json:"hash"`
}

// Audit actions; scripts filter on these names, so they never change.
const (
	AuditLinkCreated = "link.created"
	AuditLinkRemoved = "link.removed"
	AuditVerdict     = "verdict" // a verification finished, or was cancelled by a newer head
	// AuditVerificationRequeued: a verification whose worker died runs again.
	AuditVerificationRequeued = "verification.requeued"
	AuditTicketState          = "ticket.state"
	AuditTokenCreated         = "token.created"
	AuditTokenRevoked         = "token.revoked"

	AuditApprovalCreated   = "approval.created"
	AuditApprovalWithdrawn = "approval.withdrawn"
	AuditReleasePromoted   = "release.promoted"
	AuditConfigChanged     = "config.changed"
)

// SystemActor is the actor of what patchgate does on its own account.
const SystemActor = "patchgate"

// AuditActor returns who acts in ctx: the principal's name, else SystemActor.
func AuditActor(ctx context.Context) string {
	if p, ok := PrincipalFromContext(ctx); ok && p.Name != "" {
		return p.Name
	}
	return SystemActor
}

// auditHashVersion prefixes the hashed encoding, so that a later change of the
// encoding cannot be mistaken for tampering with entries hashed the old way.
const auditHashVersion = "patchgate-audit-v1"

// auditTime is how At enters the hash: UTC at microsecond precision, the
// precision both databases store.
const auditTime = "2006-01-02T15:04:05.000000Z"

// ComputeHash returns the hex SHA-256 of a canonical encoding of every field but
// Hash: a version tag, then Seq, At, Actor, Action, Subject, SHA, the number of
// Detail entries and each key and value in key order, and PrevHash, each written
// as a netstring (length:bytes,) so that no two entries encode alike. A nil and
// an empty Detail hash the same.
func (e *AuditEntry) ComputeHash() string {
	var b []byte
	str := func(s string) {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
		b = append(b, ',')
	}
	str(auditHashVersion)
	str(strconv.FormatInt(e.Seq, 10))
	str(e.At.UTC().Truncate(time.Microsecond).Format(auditTime))
	str(e.Actor)
	str(e.Action)
	str(e.Subject)
	str(e.SHA)
	str(strconv.Itoa(len(e.Detail)))
	keys := make([]string, 0, len(e.Detail))
	for k := range e.Detail {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		str(k)
		str(e.Detail[k])
	}
	str(e.PrevHash)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// AuditFilter selects audit entries; nil fields do not filter.
type AuditFilter struct {
	Actor   *string
	Action  *string
	Subject *string
	// AfterSeq returns only entries after this one: pass the last Seq of a page
	// to get the next.
	AfterSeq int64
	// Limit caps the page; 0 means the implementation's default.
	Limit int
}

// AuditBreak is the first place where the audit chain does not hold.
type AuditBreak struct {
	// Seq is the first entry found edited, missing or out of place.
	Seq    int64
	Reason string
}

// Error implements the error interface.
func (e *AuditBreak) Error() string {
	return fmt.Sprintf("audit log broken at entry %d: %s", e.Seq, e.Reason)
}

// AuditService reads and checks the audit log. There is no method to write it:
// entries are appended inside the transaction of the change they record, by the
// services that make it. Implementations are safe for concurrent use.
type AuditService interface {
	// FindAudit returns matching entries in ascending Seq.
	FindAudit(ctx context.Context, filter AuditFilter) ([]*AuditEntry, error)
	// VerifyAudit walks the whole chain and returns how many entries it found
	// intact. It returns a nil error when the chain holds, an *AuditBreak
	// naming the first broken entry (hash mismatch, prev-hash mismatch, a gap
	// in Seq) when it does not, and any other error when it could not read.
	VerifyAudit(ctx context.Context) (checked int64, err error)
	// ExportAudit writes every entry to w as JSON lines, in ascending Seq.
	ExportAudit(ctx context.Context, w io.Writer) error
}
