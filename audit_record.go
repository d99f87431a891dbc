package patchgate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Audit actions of the records the gate decides with, besides approvals,
// promotions and ticket states; scripts filter on these names, so they never
// change.
const (
	// AuditCandidateCreated records a candidate and its items (Subject
	// "candidate:ID", Detail items as AuditItems encodes them).
	AuditCandidateCreated = "candidate.created"
	// AuditSuiteRunState records a suite run's final state (Subject
	// "suite_run:ID", Detail state and verification).
	AuditSuiteRunState = "suite_run.state"
	// AuditSessionCreated records a dashboard sign-in (Subject "session:ID",
	// Detail token, hash (the fingerprint of the cookie secret's hash) and
	// expires).
	AuditSessionCreated = "session.created"
	// AuditChangeAuthor records the author a change is stored with, when it
	// is first set and whenever it changes (Subject "change:ID", Detail author).
	AuditChangeAuthor = "change.author"
	// AuditBaseline marks where the cross-checks of records against their
	// entries start on a log written before these entries existed; see
	// AuditBaselineMark. The AuditKeyed entry of a log keyed since carries
	// the same detail and needs none.
	AuditBaseline = "audit.baseline"
)

// AuditFingerprint returns what an audit entry records of a stored secret's
// hash (a token's or a session's): a hash of the hash, so that the exported log
// never holds what authentication looks up, yet a row whose hash was replaced
// no longer matches its entry.
func AuditFingerprint(hash string) string {
	sum := sha256.Sum256([]byte("patchgate-audit-fingerprint:" + hash))
	return hex.EncodeToString(sum[:16])
}

// AuditItems encodes a candidate's items as its candidate.created entry
// records them: "change/ticket" per item in order, comma-separated, ticket 0
// for an item fixing none.
func AuditItems(items []*CandidateItem) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = strconv.FormatInt(it.ChangeID, 10) + "/" + strconv.FormatInt(it.TicketID, 10)
	}
	return strings.Join(parts, ",")
}

// The baseline is the entry from which records are cross-checked against
// their entries (the AuditBaseline entry, or an AuditKeyed one that carries
// its detail). Rows that existed then (ids up to the highest ids it records)
// were written before every such row had its entry: they may lack one, but an
// entry they have must still match. What it lists row by row (tokens by name,
// sessions, open candidates) it vouches for as their entry.
const (
	// AuditBaselineMark is the detail key that says an entry is the baseline.
	AuditBaselineMark = "baseline"
	// auditBaselineMax prefixes the highest id of a table: "max:changes".
	auditBaselineMax = "max:"
)

// AuditBaselineMax is the detail key of table's highest id in a baseline.
func AuditBaselineMax(table string) string { return auditBaselineMax + table }

// AuditRecord is what a row holds, or what its latest audit entry says it
// holds, field by field.
type AuditRecord struct {
	// Seq is the entry's, 0 for a row.
	Seq    int64
	Fields map[string]string
}

// AuditMismatch is a record that does not match its audit entries.
type AuditMismatch struct {
	// Table and ID name the row: "tokens", "7".
	Table, ID string
	// Field is the first field that differs, "" when the row or the entry is
	// missing altogether.
	Field string
	// Recorded is what the row holds, Audited what the entry says; Seq is
	// that entry's (0 when there is none).
	Recorded, Audited string
	Seq               int64
}

// String says what does not match, in words.
func (m AuditMismatch) String() string {
	switch {
	case m.Seq == 0:
		return fmt.Sprintf("%s %s: %s has no audit entry", m.Table, m.ID, m.Recorded)
	case m.Field == "":
		return fmt.Sprintf("%s %s: audit entry %d records %s, but the row does not exist", m.Table, m.ID, m.Seq, m.Audited)
	}
	return fmt.Sprintf("%s %s: %s recorded %q, audited %q (entry %d)", m.Table, m.ID, m.Field, m.Recorded, m.Audited, m.Seq)
}

// CompareAuditRecord decides whether the row of table with id matches its
// latest audit entry, comparing fields in order; nil when it does. A nil row
// is an entry whose row is gone; a nil entry a row without one, which is
// allowed only when predates (the row existed before the baseline). A field
// an entry does not carry is compared as "", except in an entry of a row
// that predates the baseline, written before that field was recorded.
func CompareAuditRecord(table, id string, fields []string, row, entry *AuditRecord, predates bool) *AuditMismatch {
	switch {
	case row == nil && entry == nil:
		return nil
	case entry == nil:
		if predates {
			return nil
		}
		return &AuditMismatch{Table: table, ID: id, Recorded: describeRecord(fields, row)}
	case row == nil:
		return &AuditMismatch{Table: table, ID: id, Audited: describeRecord(fields, entry), Seq: entry.Seq}
	}
	for _, f := range fields {
		audited, ok := entry.Fields[f]
		if !ok && predates {
			continue
		}
		if row.Fields[f] != audited {
			return &AuditMismatch{Table: table, ID: id, Field: f, Recorded: row.Fields[f], Audited: audited, Seq: entry.Seq}
		}
	}
	return nil
}

// describeRecord renders a record's fields for a message: "role=admin users=".
func describeRecord(fields []string, r *AuditRecord) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f + "=" + r.Fields[f]
	}
	return strings.Join(parts, " ")
}

// The fields each cross-checked table compares, in the order a mismatch is
// looked for.
var (
	// AuditTokenFields: a token's secret (fingerprinted), role and person,
	// whether it is revoked ("true", else ""), and the projects it is
	// limited to (comma-separated, "" for all).
	AuditTokenFields = []string{"hash", "role", "users", "revoked", "projects"}
	// AuditVerificationFields: a verification's final state and what it is
	// evidence for: the commit, the repository and the configuration.
	AuditVerificationFields = []string{"state", "sha", "repo", "config_digest", "require_proof"}
	// AuditSuiteRunFields: a suite run's final state, its verification, its
	// name and whether it is required.
	AuditSuiteRunFields = []string{"state", "verification", "suite", "required"}
	// AuditCandidateFields: a candidate's SHA and items.
	AuditCandidateFields = []string{"sha", "items"}
	// AuditChangeFields: a change's author, and their forge user id ("" when
	// unknown), which the author rule and trust compare.
	AuditChangeFields = []string{"author", "author_id"}
	// AuditSessionFields: a session's token and secret (fingerprinted).
	AuditSessionFields = []string{"token", "hash", "expires"}
)

// AuditVerificationRecord is what a verdict entry records of v, by the names
// of AuditVerificationFields.
func AuditVerificationRecord(v *Verification) map[string]string {
	return map[string]string{"state": string(v.State), "sha": v.SHA, "repo": RepoRef{Forge: v.Forge, Name: v.Repo}.String(),
		"config_digest": v.ConfigDigest, "require_proof": strconv.FormatBool(v.RequireProof)}
}

// AuditSuiteRunRecord is what a suite_run.state entry records of sr, by the
// names of AuditSuiteRunFields.
func AuditSuiteRunRecord(sr *SuiteRun) map[string]string {
	return map[string]string{"state": string(sr.State), "verification": strconv.FormatInt(sr.VerificationID, 10),
		"suite": sr.Name, "required": strconv.FormatBool(sr.Required)}
}
