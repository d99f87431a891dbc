package evidence

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	trv0 "github.com/in-toto/attestation/go/predicates/test_result/v0"
	vsav1 "github.com/in-toto/attestation/go/predicates/vsa/v1"
	ita1 "github.com/in-toto/attestation/go/v1"
	"github.com/patchgate/patchgate"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// verifiedLevel is the level patchgate's summary states: the release passed
// its gate (an organisation-defined level, as the VSA allows).
const verifiedLevel = "PATCHGATE_RELEASE_GATE_PASSED"

// testResultProto is tr as the in-toto test-result predicate: quarantined
// failures are its warned tests.
func testResultProto(tr patchgate.EvidenceTestResult) *trv0.TestResult {
	cfg := []*ita1.ResourceDescriptor{
		{Name: configSuite, Uri: suiteURI + tr.Suite},
		{Name: configVerification, Uri: verificationURI + strconv.FormatInt(tr.VerificationID, 10)},
		{Name: configFile, Digest: map[string]string{"sha256": tr.ConfigDigest}},
	}
	images := make([]string, 0, len(tr.Images))
	for img := range tr.Images {
		images = append(images, img)
	}
	sort.Strings(images)
	for _, img := range images {
		cfg = append(cfg, &ita1.ResourceDescriptor{Name: img, Digest: digestOf(tr.Images[img])})
	}
	return &trv0.TestResult{Result: tr.Result, Configuration: cfg, Url: tr.URL,
		PassedTests: tr.Passed, WarnedTests: tr.Quarantined, FailedTests: tr.Failed}
}

// fromTestResult reads a test-result predicate back.
func fromTestResult(p *trv0.TestResult) (*patchgate.EvidenceTestResult, error) {
	tr := &patchgate.EvidenceTestResult{Result: p.GetResult(), URL: p.GetUrl(), Passed: p.GetPassedTests(),
		Quarantined: p.GetWarnedTests(), Failed: p.GetFailedTests()}
	for _, d := range p.GetConfiguration() {
		if err := d.Validate(); err != nil {
			return nil, fmt.Errorf("configuration %q: %w", d.GetName(), err)
		}
		switch d.GetName() {
		case configSuite:
			tr.Suite = strings.TrimPrefix(d.GetUri(), suiteURI)
		case configVerification:
			id, err := strconv.ParseInt(strings.TrimPrefix(d.GetUri(), verificationURI), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("configuration %s: %q is not a verification", configVerification, d.GetUri())
			}
			tr.VerificationID = id
		case configFile:
			tr.ConfigDigest = d.GetDigest()["sha256"]
		default:
			if tr.Images == nil {
				tr.Images = map[string]string{}
			}
			for alg, v := range d.GetDigest() {
				tr.Images[d.GetName()] = alg + ":" + v
			}
		}
	}
	if tr.Suite == "" {
		return nil, fmt.Errorf("its configuration names no suite (%s)", configSuite)
	}
	return tr, nil
}

// summaryProto is s as a SLSA verification summary.
func summaryProto(s patchgate.EvidenceSummary) *vsav1.VerificationSummary {
	vsa := &vsav1.VerificationSummary{
		Verifier:           &vsav1.VerificationSummary_Verifier{Id: s.VerifierID},
		TimeVerified:       timestamppb.New(s.TimeVerified),
		ResourceUri:        s.ResourceURI,
		Policy:             &vsav1.VerificationSummary_Policy{Uri: s.PolicyURI, Digest: map[string]string{"sha256": s.PolicyDigest}},
		VerificationResult: s.Result,
		VerifiedLevels:     []string{verifiedLevel},
	}
	for _, in := range s.Inputs {
		vsa.InputAttestations = append(vsa.InputAttestations, &vsav1.VerificationSummary_InputAttestation{
			Uri: in.URI, Digest: map[string]string{"sha256": in.SHA256}})
	}
	return vsa
}

// fromSummary reads a verification summary back; the audit head is its
// input of that kind.
func fromSummary(v *vsav1.VerificationSummary) (*patchgate.EvidenceSummary, error) {
	s := &patchgate.EvidenceSummary{VerifierID: v.GetVerifier().GetId(), ResourceURI: v.GetResourceUri(),
		PolicyURI: v.GetPolicy().GetUri(), PolicyDigest: v.GetPolicy().GetDigest()["sha256"], Result: v.GetVerificationResult(),
		Inputs: []patchgate.EvidenceReference{}}
	if v.GetTimeVerified() != nil {
		s.TimeVerified = v.GetTimeVerified().AsTime()
	}
	for _, in := range v.GetInputAttestations() {
		ref := patchgate.EvidenceReference{URI: in.GetUri(), SHA256: in.GetDigest()["sha256"]}
		s.Inputs = append(s.Inputs, ref)
		if seq, ok := strings.CutPrefix(ref.URI, patchgate.EvidenceAuditHeadURI); ok {
			n, err := strconv.ParseInt(seq, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("audit head input %q: not a sequence number", ref.URI)
			}
			s.AuditHead = patchgate.AuditHead{Seq: n, Hash: ref.SHA256}
		}
	}
	return s, nil
}
