package patchgate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"time"
)

// An evidence pack is what an auditor can check months after a release
// without patchgate's database: a JSON Lines bundle of in-toto Statements in
// DSSE envelopes, each about the release commit and its tag, signed with
// patchgate's own key. This file holds what the statements say, as root types
// the gate fills and the offline check (CheckEvidence) judges; the in-toto and
// DSSE encoding is the evidence adapter's.

// Predicate types of the statements of an evidence pack.
const (
	// PredicateTestResult is one required suite's run on the release commit.
	PredicateTestResult = "https://in-toto.io/attestation/test-result/v0.1"
	// PredicateFixProof is one ticket's fail-to-pass proof.
	PredicateFixProof = "https://patchgate.dev/attestation/fix-proof/v1"
	// PredicateReleaseApproval is the release: its tickets, authors,
	// approvals and the effective release policy with its digest.
	PredicateReleaseApproval = "https://patchgate.dev/attestation/release-approval/v1"
	// PredicateVerificationSummary is patchgate's decision (SLSA VSA).
	PredicateVerificationSummary = "https://slsa.dev/verification_summary/v1"
	// PredicateReleaseCombination is the check of the fixes together: each
	// ticket's proof tests on the release commit, and the culprit
	// bisection's result, if one ran.
	PredicateReleaseCombination = "https://patchgate.dev/attestation/release-combination/v1"
)

// EvidenceVerifierID names patchgate as the verifier in a pack's summary.
const EvidenceVerifierID = "https://patchgate.dev/verifier/v1"

// EvidenceMediaType is the media type of a pack (an in-toto bundle).
const EvidenceMediaType = "application/vnd.in-toto.bundle"

// Test results as the in-toto test-result predicate writes them.
const (
	EvidencePassed = "PASSED"
	EvidenceWarned = "WARNED"
	EvidenceFailed = "FAILED"
)

// Reference URIs in a verification summary: a statement of the pack (by its
// 1-based line) and the audit chain's head at promotion.
const (
	EvidenceStatementURI = "urn:patchgate:statement:"
	EvidenceAuditHeadURI = "urn:patchgate:audit-head:"
	EvidencePolicyURI    = "urn:patchgate:release-policy:"
)

// EvidenceFileName is the pack's file name for release tag: what the forge
// release's asset and the API's download are called.
func EvidenceFileName(tag string) string { return "release-" + tag + ".intoto.jsonl" }

// EvidenceRelease is what every statement of a pack is about.
type EvidenceRelease struct {
	Forge Forge  `json:"forge"`
	Repo  string `json:"repo"`
	Tag   string `json:"tag"`
	SHA   string `json:"sha"`
	// BaseSHA is the previous release's commit, "" for a first release.
	BaseSHA string `json:"base_sha,omitempty"`
	URL     string `json:"url,omitempty"`
}

// EvidenceDescriptor is an in-toto resource descriptor: a subject, a
// configuration item or an image.
type EvidenceDescriptor struct {
	Name   string            `json:"name,omitempty"`
	URI    string            `json:"uri,omitempty"`
	Digest map[string]string `json:"digest,omitempty"`
}

// EvidenceTestResult is one suite's run on the release commit.
type EvidenceTestResult struct {
	Suite          string `json:"suite"`
	VerificationID int64  `json:"verification_id"`
	// Result is PASSED, WARNED (passed with quarantined failures) or FAILED.
	Result      string   `json:"result"`
	Passed      []string `json:"passed,omitempty"`
	Failed      []string `json:"failed,omitempty"`
	Quarantined []string `json:"quarantined,omitempty"`
	// ConfigDigest is the sha256 of the .patchgate.yml it ran under.
	ConfigDigest string `json:"config_digest"`
	// Images maps each image the suite ran (runner and services) to its
	// digest ("sha256:…").
	Images map[string]string `json:"images,omitempty"`
	URL    string            `json:"url,omitempty"`
}

// EvidenceProofTest is one changed test of a fix-proof with its outcomes.
type EvidenceProofTest struct {
	Test    string       `json:"test"`
	Base    ProofOutcome `json:"base"`
	Head    ProofOutcome `json:"head"`
	Verdict string       `json:"verdict,omitempty"`
}

// EvidenceFixProof is one ticket's fail-to-pass proof: the tests that failed
// on BaseSHA (the fix left out) and passed on HeadSHA (the fix).
type EvidenceFixProof struct {
	Ticket         string              `json:"ticket"`
	Change         string              `json:"change"`
	BaseSHA        string              `json:"base_sha"`
	HeadSHA        string              `json:"head_sha"`
	VerificationID int64               `json:"verification_id"`
	State          ProofState          `json:"state"`
	FailToPass     []string            `json:"fail_to_pass"`
	Tests          []EvidenceProofTest `json:"tests"`
}

// EvidenceTicket is a ticket the release fixes, with the change that fixes it.
type EvidenceTicket struct {
	Key     string `json:"key"`
	Change  string `json:"change"`
	HeadSHA string `json:"head_sha"`
}

// EvidencePerson is a person by forge user id (0 when patchgate never pinned
// the login) and login.
type EvidencePerson struct {
	Login  string `json:"login"`
	UserID int64  `json:"user_id,omitempty"`
}

// EvidenceAuthor is an author of an included change.
type EvidenceAuthor struct {
	EvidencePerson
	Change string `json:"change"`
}

// EvidenceApprover is one approval that counted.
type EvidenceApprover struct {
	EvidencePerson
	// Token is the API token it came through ("" for a comment).
	Token string    `json:"token,omitempty"`
	Via   string    `json:"via"`
	At    time.Time `json:"at"`
	SHA   string    `json:"sha"`
}

// EvidenceApproval is the release-approval predicate: what the release
// contains, who wrote it, who approved it, under which policy.
type EvidenceApproval struct {
	Release   EvidenceRelease    `json:"release"`
	Tickets   []EvidenceTicket   `json:"tickets"`
	Authors   []EvidenceAuthor   `json:"authors"`
	Approvals []EvidenceApprover `json:"approvals"`
	Policy    ReleasePolicy      `json:"policy"`
	// PolicySources say where each policy value came from (the server's
	// floor or the repository's file).
	PolicySources map[string]PolicySource `json:"policy_sources,omitempty"`
	// PolicyDigest is ReleasePolicyDigest(Policy).
	PolicyDigest string    `json:"policy_digest"`
	PromotedBy   string    `json:"promoted_by"`
	PromotedAt   time.Time `json:"promoted_at"`
}

// EvidenceReference is an input of the verification summary: a statement of
// the pack or the audit head, with its sha256.
type EvidenceReference struct {
	URI    string `json:"uri"`
	SHA256 string `json:"sha256"`
}

// EvidenceSummary is patchgate's decision, as a SLSA verification summary.
type EvidenceSummary struct {
	VerifierID   string    `json:"verifier_id"`
	TimeVerified time.Time `json:"time_verified"`
	ResourceURI  string    `json:"resource_uri"`
	PolicyURI    string    `json:"policy_uri"`
	PolicyDigest string    `json:"policy_digest"`
	// Inputs are the pack's other statements (EvidenceStatementURI) and the
	// audit head (EvidenceAuditHeadURI).
	Inputs []EvidenceReference `json:"inputs"`
	Result string              `json:"result"`
	// AuditHead is the audit chain's head when the pack was made.
	AuditHead AuditHead `json:"audit_head"`
}

// EvidenceCombinationTest is one proof test's outcome in the release's own
// run.
type EvidenceCombinationTest struct {
	Test   string       `json:"test"`
	Result ProofOutcome `json:"result"`
	// Message is the failure's, when it did not pass.
	Message string `json:"message,omitempty"`
}

// EvidenceCombinationTicket is one ticket's proof tests on the release commit.
type EvidenceCombinationTicket struct {
	Ticket string                    `json:"ticket"`
	Change string                    `json:"change"`
	Tests  []EvidenceCombinationTest `json:"tests"`
}

// EvidenceCombination is the release-combination predicate: each fix proved
// alone must hold with the others, so each ticket's proof tests (the
// fail-to-pass ones) are read again in the run of the release commit; and
// the culprit bisection, when one searched for the merge it failed from.
type EvidenceCombination struct {
	SHA            string                      `json:"sha"`
	VerificationID int64                       `json:"verification_id"`
	Tickets        []EvidenceCombinationTicket `json:"tickets"`
	Bisection      *Bisection                  `json:"bisection,omitempty"`
}

// EvidenceContent is what patchgate signs for one release: every statement
// but the summary's inputs, which the signer fills from the statements it
// wrote.
type EvidenceContent struct {
	Release     EvidenceRelease
	TestResults []EvidenceTestResult
	FixProofs   []EvidenceFixProof
	Approval    EvidenceApproval
	Combination EvidenceCombination
	Summary     EvidenceSummary
}

// EvidenceStatement is one decoded statement of a pack whose signature
// verified, with its predicate (exactly one of the pointers is set for a
// known predicate type).
type EvidenceStatement struct {
	Line          int                  `json:"line"`
	PredicateType string               `json:"predicate_type"`
	Subject       []EvidenceDescriptor `json:"subject"`
	// SHA256 is the hex sha256 of the statement as signed (the payload).
	SHA256 string `json:"sha256"`
	// KeyIDs are the given keys whose signatures on it verified.
	KeyIDs     []string            `json:"key_ids"`
	TestResult *EvidenceTestResult `json:"test_result,omitempty"`
	FixProof   *EvidenceFixProof   `json:"fix_proof,omitempty"`
	Approval   *EvidenceApproval   `json:"approval,omitempty"`
	Summary    *EvidenceSummary    `json:"summary,omitempty"`
	// Combination is the release-combination statement's predicate.
	Combination *EvidenceCombination `json:"combination,omitempty"`
}

// EvidencePack is a decoded pack whose signatures verified.
type EvidencePack struct {
	Statements []EvidenceStatement
}

// ReleasePolicyDigest is the hex sha256 of p's canonical JSON (required
// suites sorted), so a policy edited in the pack no longer matches the
// digest the summary and the approval statement record.
func ReleasePolicyDigest(p ReleasePolicy) string {
	p.Required = slices.Clone(p.Required)
	if p.Required == nil {
		p.Required = []string{}
	}
	slices.Sort(p.Required)
	data, _ := json.Marshal(p) // a struct of plain fields always marshals
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// EvidencePackRecord is a signed pack as patchgate stores it.
type EvidencePackRecord struct {
	CandidateID int64  `json:"candidate_id"`
	Name        string `json:"name"`
	// SHA256 is the hex sha256 of Data.
	SHA256 string `json:"sha256"`
	KeyID  string `json:"key_id"`
	Data   []byte `json:"-"`
	// AssetURL is where the forge release carries it, "" until attached.
	AssetURL  string    `json:"asset_url,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// EvidencePackService stores release evidence packs. Implementations are
// safe for concurrent use.
type EvidencePackService interface {
	// SaveEvidencePack stores p unless its candidate has a pack already, and
	// returns the pack that holds: the first one signed, for good, so a retried
	// promotion never signs a second, different pack.
	SaveEvidencePack(ctx context.Context, p *EvidencePackRecord) (*EvidencePackRecord, error)
	// FindEvidencePack returns a candidate's pack; ENOTFOUND when none.
	FindEvidencePack(ctx context.Context, candidateID int64) (*EvidencePackRecord, error)
	// SetEvidenceAsset records where the forge release carries the pack.
	SetEvidenceAsset(ctx context.Context, candidateID int64, url string) error
}

// ReleaseAssets attach files to a forge release.
type ReleaseAssets interface {
	// AttachReleaseAsset attaches data as name to rel (of repo) and returns the
	// asset's download URL. An asset of that name already there is kept and
	// its URL returned, so a retried promotion attaches it once.
	AttachReleaseAsset(ctx context.Context, repo RepoRef, rel *ForgeRelease, name, mediaType string, data []byte) (string, error)
}

// AuditEvidenceSigned is the audit action of a stored evidence pack: its
// sha256 and key id, so a pack swapped in the database no longer matches.
const AuditEvidenceSigned = "evidence.signed"
