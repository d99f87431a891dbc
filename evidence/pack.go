package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	ita1 "github.com/in-toto/attestation/go/v1"
	"github.com/patchgate/patchgate"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// PayloadType is the DSSE payload type of an in-toto statement.
const PayloadType = "application/vnd.in-toto+json"

// Signer signs release evidence packs with patchgate's key.
type Signer struct {
	Key *Key
}

// statement is one statement before signing.
type statement struct {
	predicateType string
	predicate     *structpb.Struct
}

// SignPack encodes c as in-toto statements about the release commit and tag,
// signs each in a DSSE envelope, and returns the pack (JSON Lines): the test
// results, the fix-proofs, the release approval, the release combination
// (each ticket's proof tests on the release commit), then the verification
// summary whose inputs are the sha256 of every statement before it.
func (s *Signer) SignPack(ctx context.Context, c patchgate.EvidenceContent) ([]byte, error) {
	if s.Key == nil {
		return nil, patchgate.Errorf(patchgate.EINVALID, "no evidence key: set evidence.key_file")
	}
	signer, err := dsse.NewEnvelopeSigner(s.Key)
	if err != nil {
		return nil, fmt.Errorf("evidence signer: %w", err)
	}
	var stmts []statement
	for _, tr := range c.TestResults {
		p, err := protoPredicate(testResultProto(tr))
		if err != nil {
			return nil, fmt.Errorf("encode the test result of %s: %w", tr.Suite, err)
		}
		stmts = append(stmts, statement{patchgate.PredicateTestResult, p})
	}
	for _, fp := range c.FixProofs {
		p, err := jsonPredicate(fp)
		if err != nil {
			return nil, fmt.Errorf("encode the fix-proof of %s: %w", fp.Ticket, err)
		}
		stmts = append(stmts, statement{patchgate.PredicateFixProof, p})
	}
	p, err := jsonPredicate(c.Approval)
	if err != nil {
		return nil, fmt.Errorf("encode the release approval: %w", err)
	}
	stmts = append(stmts, statement{patchgate.PredicateReleaseApproval, p})
	if p, err = jsonPredicate(c.Combination); err != nil {
		return nil, fmt.Errorf("encode the release combination: %w", err)
	}
	stmts = append(stmts, statement{patchgate.PredicateReleaseCombination, p})

	var out []byte
	summary := c.Summary
	summary.Inputs = nil
	for i, st := range stmts {
		line, digest, err := signStatement(ctx, signer, c.Release, st)
		if err != nil {
			return nil, err
		}
		out = append(append(out, line...), '\n')
		summary.Inputs = append(summary.Inputs, patchgate.EvidenceReference{URI: patchgate.EvidenceStatementURI + strconv.Itoa(i+1), SHA256: digest})
	}
	summary.Inputs = append(summary.Inputs, patchgate.EvidenceReference{
		URI: patchgate.EvidenceAuditHeadURI + strconv.FormatInt(summary.AuditHead.Seq, 10), SHA256: summary.AuditHead.Hash})
	vsa, err := protoPredicate(summaryProto(summary))
	if err != nil {
		return nil, fmt.Errorf("encode the verification summary: %w", err)
	}
	line, _, err := signStatement(ctx, signer, c.Release, statement{patchgate.PredicateVerificationSummary, vsa})
	if err != nil {
		return nil, err
	}
	return append(append(out, line...), '\n'), nil
}

// signStatement wraps st in an in-toto Statement v1 about rel, signs it and
// returns the envelope's JSON line and the statement's sha256.
func signStatement(ctx context.Context, signer *dsse.EnvelopeSigner, rel patchgate.EvidenceRelease, st statement) ([]byte, string, error) {
	stmt := &ita1.Statement{Type: ita1.StatementTypeUri, Subject: subject(rel), PredicateType: st.predicateType, Predicate: st.predicate}
	if err := stmt.Validate(); err != nil {
		return nil, "", fmt.Errorf("statement %s about %s: %w", st.predicateType, rel.SHA, err)
	}
	payload, err := protojson.Marshal(stmt)
	if err != nil {
		return nil, "", fmt.Errorf("encode statement %s: %w", st.predicateType, err)
	}
	env, err := signer.SignPayload(ctx, PayloadType, payload)
	if err != nil {
		return nil, "", fmt.Errorf("sign statement %s: %w", st.predicateType, err)
	}
	line, err := json.Marshal(env)
	if err != nil {
		return nil, "", fmt.Errorf("encode the envelope of %s: %w", st.predicateType, err)
	}
	sum := sha256.Sum256(payload)
	return line, hex.EncodeToString(sum[:]), nil
}

// subject is what every statement is about: the release commit (gitCommit,
// and sha1 for a SHA-1 repository) and the tag.
func subject(rel patchgate.EvidenceRelease) []*ita1.ResourceDescriptor {
	commit := map[string]string{"gitCommit": rel.SHA}
	if len(rel.SHA) == 40 {
		commit["sha1"] = rel.SHA
	}
	return []*ita1.ResourceDescriptor{
		{Name: string(rel.Forge) + ":" + rel.Repo, Digest: commit},
		{Name: "refs/tags/" + rel.Tag, Digest: map[string]string{"gitCommit": rel.SHA}},
	}
}

// protoPredicate turns a predicate proto into the statement's predicate, as
// the in-toto Go bindings document: through protojson.
func protoPredicate(m proto.Message) (*structpb.Struct, error) {
	data, err := protojson.Marshal(m)
	if err != nil {
		return nil, err
	}
	s := &structpb.Struct{}
	return s, protojson.Unmarshal(data, s)
}

// jsonPredicate turns one of patchgate's own predicates into a statement's.
func jsonPredicate(v any) (*structpb.Struct, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	s := &structpb.Struct{}
	return s, protojson.Unmarshal(data, s)
}

// digestOf splits "sha256:HEX" into a resource descriptor's digest.
func digestOf(d string) map[string]string {
	alg, hexed, ok := strings.Cut(d, ":")
	if !ok {
		return map[string]string{"sha256": d}
	}
	return map[string]string{alg: hexed}
}

// The configuration of a test result names the suite, the verification and
// the .patchgate.yml it ran under, then each image with its digest.
const (
	configSuite        = "patchgate-suite"
	configVerification = "patchgate-verification"
	configFile         = ".patchgate.yml"
	suiteURI           = "urn:patchgate:suite:"
	verificationURI    = "urn:patchgate:verification:"
)

// firstLine guards a pack's size in Open: lines longer than this are refused.
const maxLine = 16 << 20

// KeyID names the key the signer signs with.
func (s *Signer) KeyID() string {
	if s.Key == nil {
		return ""
	}
	return s.Key.ID()
}
