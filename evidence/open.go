package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	trv0 "github.com/in-toto/attestation/go/predicates/test_result/v0"
	vsav1 "github.com/in-toto/attestation/go/predicates/vsa/v1"
	ita1 "github.com/in-toto/attestation/go/v1"
	"github.com/patchgate/patchgate"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"google.golang.org/protobuf/encoding/protojson"
)

// Open reads a pack offline: each line must be a DSSE envelope exactly as
// patchgate writes it (so a pack edited in any byte fails here or in its
// signature), signed by one of keys (matched by key id), holding a valid
// in-toto Statement v1 with a known predicate. It returns the statements
// that passed and, for the others, why not (a sentence naming the line).
// What the statements must say to each other is patchgate.CheckEvidence's.
func Open(ctx context.Context, data []byte, keys []*PublicKey) (*patchgate.EvidencePack, []string) {
	pack := &patchgate.EvidencePack{}
	var problems []string
	if len(keys) == 0 {
		return pack, []string{"no public key given: pass --key with the key `patchgate evidence key` printed"}
	}
	verifiers := make([]dsse.Verifier, len(keys))
	ids := make([]string, len(keys))
	for i, k := range keys {
		verifiers[i], ids[i] = k, k.ID()
	}
	if len(data) == 0 {
		return pack, []string{"the pack is empty"}
	}
	if data[len(data)-1] != '\n' {
		problems = append(problems, "the pack does not end with a newline: it was cut or edited")
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	for i, line := range lines {
		st, err := openLine(ctx, line, verifiers, ids)
		if err != nil {
			problems = append(problems, fmt.Sprintf("line %d: %s", i+1, err))
			continue
		}
		st.Line = i + 1
		pack.Statements = append(pack.Statements, *st)
	}
	return pack, problems
}

// openLine checks one envelope's form and signature and decodes its statement.
func openLine(ctx context.Context, line []byte, verifiers []dsse.Verifier, ids []string) (*patchgate.EvidenceStatement, error) {
	if len(line) > maxLine {
		return nil, fmt.Errorf("longer than %d bytes: not a pack patchgate wrote", maxLine)
	}
	var env dsse.Envelope
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return nil, fmt.Errorf("not a DSSE envelope (%v): the line was edited", err)
	}
	canonical, err := json.Marshal(env)
	if err != nil || !bytes.Equal(canonical, line) {
		return nil, fmt.Errorf("the envelope is not byte for byte as patchgate wrote it (its JSON was edited or re-encoded)")
	}
	if env.PayloadType != PayloadType {
		return nil, fmt.Errorf("payload type %q, not %s", env.PayloadType, PayloadType)
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil || base64.StdEncoding.EncodeToString(payload) != env.Payload {
		return nil, fmt.Errorf("the payload is not standard base64 as patchgate writes it: the line was edited")
	}
	if len(env.Signatures) == 0 {
		return nil, fmt.Errorf("the envelope carries no signature")
	}
	var signers []string
	known := false
	for _, s := range env.Signatures {
		signers = append(signers, s.KeyID)
		known = known || slices.Contains(ids, s.KeyID)
	}
	if !known {
		return nil, fmt.Errorf("signed by key %s, which is none of the given keys (%s): pass the key that signed it with --key, "+
			"or the pack was signed by someone else", strings.Join(signers, ", "), strings.Join(ids, ", "))
	}
	verifier, err := dsse.NewEnvelopeVerifier(verifiers...)
	if err != nil {
		return nil, fmt.Errorf("set up the signature check: %w", err)
	}
	accepted, err := verifier.Verify(ctx, &env)
	if err != nil || len(accepted) == 0 {
		return nil, fmt.Errorf("the signature by key %s does not verify: the statement or its signature was changed after signing", strings.Join(signers, ", "))
	}
	st, err := decodeStatement(payload)
	if err != nil {
		return nil, err
	}
	for _, a := range accepted {
		st.KeyIDs = append(st.KeyIDs, a.KeyID)
	}
	return st, nil
}

// decodeStatement reads a signed in-toto Statement v1 and its predicate.
func decodeStatement(payload []byte) (*patchgate.EvidenceStatement, error) {
	var stmt ita1.Statement
	if err := protojson.Unmarshal(payload, &stmt); err != nil {
		return nil, fmt.Errorf("not an in-toto statement: %v", err)
	}
	if stmt.GetType() != ita1.StatementTypeUri {
		return nil, fmt.Errorf("statement type %q, not %s", stmt.GetType(), ita1.StatementTypeUri)
	}
	if err := stmt.Validate(); err != nil {
		return nil, fmt.Errorf("invalid in-toto statement: %v", err)
	}
	sum := sha256.Sum256(payload)
	st := &patchgate.EvidenceStatement{PredicateType: stmt.GetPredicateType(), SHA256: hex.EncodeToString(sum[:])}
	for _, d := range stmt.GetSubject() {
		st.Subject = append(st.Subject, patchgate.EvidenceDescriptor{Name: d.GetName(), URI: d.GetUri(), Digest: d.GetDigest()})
	}
	pred, err := protojson.Marshal(stmt.GetPredicate())
	if err != nil {
		return nil, fmt.Errorf("read the predicate: %v", err)
	}
	switch st.PredicateType {
	case patchgate.PredicateTestResult:
		var p trv0.TestResult
		if err := protojson.Unmarshal(pred, &p); err != nil {
			return nil, fmt.Errorf("the test-result predicate: %v", err)
		}
		if st.TestResult, err = fromTestResult(&p); err != nil {
			return nil, fmt.Errorf("the test-result predicate: %v", err)
		}
	case patchgate.PredicateVerificationSummary:
		var p vsav1.VerificationSummary
		if err := protojson.Unmarshal(pred, &p); err != nil {
			return nil, fmt.Errorf("the verification summary: %v", err)
		}
		if st.Summary, err = fromSummary(&p); err != nil {
			return nil, fmt.Errorf("the verification summary: %v", err)
		}
	case patchgate.PredicateFixProof:
		st.FixProof = &patchgate.EvidenceFixProof{}
		if err := strictJSON(pred, st.FixProof); err != nil {
			return nil, fmt.Errorf("the fix-proof predicate: %v", err)
		}
	case patchgate.PredicateReleaseApproval:
		st.Approval = &patchgate.EvidenceApproval{}
		if err := strictJSON(pred, st.Approval); err != nil {
			return nil, fmt.Errorf("the release-approval predicate: %v", err)
		}
	case patchgate.PredicateReleaseCombination:
		st.Combination = &patchgate.EvidenceCombination{}
		if err := strictJSON(pred, st.Combination); err != nil {
			return nil, fmt.Errorf("the release-combination predicate: %v", err)
		}
	}
	return st, nil
}

// strictJSON decodes one of patchgate's predicates, refusing fields it does
// not know.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
