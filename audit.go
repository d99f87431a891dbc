package patchgate

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AuditEntry is one record of who did what, when, on which SHA. Entries form a
// hash chain: each one's Hash covers its content and the previous entry's Hash,
// so an edited, removed or reordered entry breaks the chain from there on.
//
// Hash is keyed: from the AuditKeyed entry on, it is ComputeMAC with a key kept
// outside the database, so that someone who can write the database cannot
// recompute the chain after an edit. Entries before it (written before the
// key existed) keep their plain ComputeHash, and the AuditKeyed entry, whose
// own MAC covers the last plain entry's hash, vouches for them.
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
	AuditQuarantineCreated    = "quarantine.created"
	AuditQuarantineRemoved    = "quarantine.removed"

	AuditCandidateRenamed  = "candidate.renamed" // a named release create took over the automatic candidate at its SHA
	AuditApprovalCreated   = "approval.created"
	AuditApprovalWithdrawn = "approval.withdrawn"
	AuditReleasePromoted   = "release.promoted"
	AuditConfigChanged     = "config.changed"
	// AuditKeyed is the first keyed entry (Subject "audit", Detail
	// plain_through: the Seq of the last plain entry, 0 for none).
	AuditKeyed = "audit.keyed"
	// AuditDeploymentReviewed: patchgate approved or rejected a deployment
	// to a guarded environment.
	AuditDeploymentReviewed = "deployment.reviewed"
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

// auditMACVersion prefixes the keyed encoding, so that a MAC can never be
// taken for a plain hash of the same entry or the other way round.
const auditMACVersion = "patchgate-audit-v2-hmac-sha256"

// auditTime is how At enters the hash: UTC at microsecond precision, the
// precision both databases store.
const auditTime = "2006-01-02T15:04:05.000000Z"

// ComputeHash returns the hex SHA-256 of a canonical encoding of every field but
// Hash: a version tag, then Seq, At, Actor, Action, Subject, SHA, the number of
// Detail entries and each key and value in key order, and PrevHash, each written
// as a netstring (length:bytes,) so that no two entries encode alike. A nil and
// an empty Detail hash the same. It is the Hash of entries written before the
// chain was keyed.
func (e *AuditEntry) ComputeHash() string {
	sum := sha256.Sum256(e.encode(auditHashVersion))
	return hex.EncodeToString(sum[:])
}

// ComputeMAC returns the hex HMAC-SHA256 under key of the encoding ComputeHash
// uses, with its own version tag. It is the Hash of keyed entries.
func (e *AuditEntry) ComputeMAC(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(e.encode(auditMACVersion))
	return hex.EncodeToString(m.Sum(nil))
}

// encode is the canonical encoding ComputeHash documents, under version.
func (e *AuditEntry) encode(version string) []byte {
	var b []byte
	str := func(s string) {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
		b = append(b, ',')
	}
	str(version)
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
	return b
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

// AuditHead is the last entry of the chain: its Seq and Hash (a MAC once the
// chain is keyed). Operators copy it somewhere the database's writers cannot
// reach; checking against it later finds a log cut short after it.
type AuditHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// String renders the head as SEQ:HASH, what ParseAuditHead reads.
func (h AuditHead) String() string { return strconv.FormatInt(h.Seq, 10) + ":" + h.Hash }

// ParseAuditHead reads SEQ:HASH (64 hex digits; "0:" is the empty log's head).
// A malformed head is EINVALID.
func ParseAuditHead(s string) (AuditHead, error) {
	seq, hash, ok := strings.Cut(strings.TrimSpace(s), ":")
	n, err := strconv.ParseInt(seq, 10, 64)
	switch {
	case !ok || err != nil || n < 0:
		return AuditHead{}, Errorf(EINVALID, "audit head %q: want SEQ:HASH as `patchgate audit head` prints it", s)
	case n == 0 && hash == "":
		return AuditHead{}, nil
	case len(hash) != 2*sha256.Size || strings.ToLower(hash) != hash:
		return AuditHead{}, Errorf(EINVALID, "audit head %q: the hash must be 64 lower-case hex digits", s)
	}
	if _, err := hex.DecodeString(hash); err != nil {
		return AuditHead{}, Errorf(EINVALID, "audit head %q: the hash must be 64 lower-case hex digits", s)
	}
	return AuditHead{Seq: n, Hash: hash}, nil
}

// AuditCheck says what CheckAudit compares the log with besides itself.
type AuditCheck struct {
	// Head, when set, is an anchored head: the log must still contain it,
	// unchanged.
	Head *AuditHead
}

// AuditReport is what CheckAudit found.
type AuditReport struct {
	// Checked is how many entries, from the first, are intact.
	Checked int64 `json:"checked"`
	// Head is the log's last entry as read (the zero head for an empty log).
	Head AuditHead `json:"head"`
	// KeyedFrom is the Seq of the AuditKeyed entry, 0 when the chain is not keyed.
	KeyedFrom int64 `json:"keyed_from"`
	// RecordsFrom is the Seq of the entry from which records are cross-checked
	// against their entries (see AuditBaselineMark), 0 when the log has
	// none yet: then only approvals, promotions and ticket states are.
	RecordsFrom int64 `json:"records_from"`
	// Break is the first place the chain (or the anchor) does not hold.
	Break *AuditBreak `json:"break,omitempty"`
	// Unaudited names each approval, withdrawal, promotion and ticket state
	// that has no audit entry, each such entry whose record is not there, and
	// each token, verdict, suite-run state, candidate, change author and
	// session that does not match its entry (AuditMismatch), in that order.
	Unaudited []string `json:"unaudited,omitempty"`
}

// OK reports whether the log holds and every record has its entry.
func (r *AuditReport) OK() bool { return r.Break == nil && len(r.Unaudited) == 0 }

// AuditService reads and checks the audit log. There is no method to write it:
// entries are appended inside the transaction of the change they record, by the
// services that make it. Implementations are safe for concurrent use.
type AuditService interface {
	// FindAudit returns matching entries in ascending Seq.
	FindAudit(ctx context.Context, filter AuditFilter) ([]*AuditEntry, error)
	// VerifyAudit walks the whole chain and returns how many entries it found
	// intact. It returns a nil error when the chain holds, an *AuditBreak
	// naming the first broken entry (hash or MAC mismatch, prev-hash mismatch,
	// a gap in Seq, a plain entry where a keyed one belongs) when it does not,
	// and any other error when it could not read.
	VerifyAudit(ctx context.Context) (checked int64, err error)
	// CheckAudit does what VerifyAudit does, checks the anchored head check
	// names, and checks that every approval, withdrawal, promotion and current
	// ticket state has its audit entry. Whatever it finds is in the report;
	// the error is for failing to read.
	CheckAudit(ctx context.Context, check AuditCheck) (*AuditReport, error)
	// HeadAudit returns the last entry's Seq and Hash.
	HeadAudit(ctx context.Context) (AuditHead, error)
	// ExportAudit writes every entry to w as JSON lines, in ascending Seq.
	ExportAudit(ctx context.Context, w io.Writer) error
}

// AuditCandidateHeld records an automatic proposal not made because a
// candidate a person proposed is open (Subject: that candidate; Detail
// proposed_sha, proposed_name, held_by).
const AuditCandidateHeld = "candidate.auto_held"
