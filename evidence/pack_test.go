package evidence_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/evidence"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

const (
	releaseSHA = "1111111111111111111111111111111111111111"
	fixSHA     = "2222222222222222222222222222222222222222"
	baseSHA    = "3333333333333333333333333333333333333333"
)

// release is a promoted candidate as the gate sees it: PAY-7 fixed in #42 by
// dave, approved by alice and bob, two approvals and proof required.
func release() patchgate.EvidenceSource {
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	c := &patchgate.Candidate{ID: 9, Forge: patchgate.GitHub, Repo: "acme/payments", SHA: releaseSHA, Name: "v1.6.0",
		State: patchgate.CandidatePromoting, PromotedBy: "alice",
		Items: []*patchgate.CandidateItem{{ChangeID: 1, TicketID: 1,
			Change: &patchgate.Change{Kind: patchgate.ChangePullRequest, Number: 42, Author: "dave", HeadSHA: fixSHA},
			Ticket: &patchgate.Ticket{Key: "PAY-7"}}},
		Approvals: []*patchgate.Approval{
			{Approver: "alice", ApproverID: 101, SHA: releaseSHA, Token: "tok-alice", Via: "api", CreatedAt: at},
			{Approver: "bob", ApproverID: 102, SHA: releaseSHA, Via: "comment", CreatedAt: at.Add(time.Minute)},
		}}
	policy := patchgate.EffectivePolicy{ReleasePolicy: patchgate.ReleasePolicy{Approvals: 2, RequireProof: true, Required: []string{"regression"}}}
	v := &patchgate.Verification{ID: 5, SHA: releaseSHA, ConfigDigest: strings.Repeat("ab", 32), State: patchgate.RunSuccess,
		Suites: []*patchgate.SuiteRun{{ID: 50, Name: "regression", State: patchgate.RunSuccess,
			ImageDigests: map[string]string{"golang:1.26": "sha256:" + strings.Repeat("cd", 32)}}}}
	return patchgate.EvidenceSource{
		Candidate:  c,
		Evaluation: &patchgate.Evaluation{Releasable: true, Policy: &policy, Verification: v},
		Tests: map[int64][]patchgate.TestResult{50: {
			{Class: "calc", Name: "TestRound", Status: patchgate.TestPassed},
			{Class: "calc", Name: "TestFlaky", Status: patchgate.TestFailed, Quarantined: true},
		}},
		Proofs: map[string]*patchgate.Proof{"PAY-7": {VerificationID: 6, BaseSHA: baseSHA, State: patchgate.ProofHolds,
			Tests: []patchgate.ProofRecord{{ProofTest: patchgate.ProofTest{File: "calc/calc_test.go", Name: "TestRound", Language: patchgate.LangGo},
				Base: patchgate.ProofFailed, Head: patchgate.ProofPassed}}}},
		UserIDs:   map[string]int64{"alice": 101, "bob": 102, "dave": 104},
		AuditHead: patchgate.AuditHead{Seq: 77, Hash: strings.Repeat("ef", 32)},
		At:        at.Add(time.Hour),
	}
}

func mustSign(t *testing.T, key *evidence.Key, src patchgate.EvidenceSource) []byte {
	t.Helper()
	content, err := patchgate.BuildEvidence(src)
	if err != nil {
		t.Fatal(err)
	}
	pack, err := (&evidence.Signer{Key: key}).SignPack(context.Background(), content)
	if err != nil {
		t.Fatal(err)
	}
	return pack
}

// verify opens and checks a pack as `patchgate evidence verify` does.
func verify(data []byte, want patchgate.EvidenceWant, keys ...*evidence.PublicKey) []string {
	pack, problems := evidence.Open(context.Background(), data, keys)
	return append(problems, patchgate.CheckEvidence(pack, want).Problems...)
}

func TestSignedPackVerifies(t *testing.T) {
	key, _ := evidence.GenerateKey()
	data := mustSign(t, key, release())
	if problems := verify(data, patchgate.EvidenceWant{SHA: releaseSHA[:10], Tag: "v1.6.0"}, key.PublicKey()); len(problems) != 0 {
		t.Fatalf("a pack patchgate signed: got problems %q, want none", problems)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 5 { // test result, fix-proof, approval, combination, summary
		t.Fatalf("got %d lines, want 5", len(lines))
	}
	pack, _ := evidence.Open(context.Background(), data, []*evidence.PublicKey{key.PublicKey()})
	rep := patchgate.CheckEvidence(pack, patchgate.EvidenceWant{})
	if len(rep.Approvers) != 2 || rep.Approvers[0].UserID != 101 || rep.Approvers[0].Token != "tok-alice" {
		t.Errorf("approvers: got %+v, want alice (101, tok-alice) and bob", rep.Approvers)
	}
	if len(rep.Suites) != 1 || rep.Suites[0].Result != patchgate.EvidenceWarned || rep.Suites[0].Quarantined[0] != "calc.TestFlaky" ||
		rep.Suites[0].Images["golang:1.26"] != "sha256:"+strings.Repeat("cd", 32) || rep.Suites[0].ConfigDigest != strings.Repeat("ab", 32) {
		t.Errorf("suites: got %+v, want regression WARNED with its quarantined test, image and config digest", rep.Suites)
	}
	if len(rep.Proofs) != 1 || rep.Proofs[0].FailToPass[0] != "calc/calc_test.go:TestRound" || rep.Proofs[0].BaseSHA != baseSHA {
		t.Errorf("proofs: got %+v, want PAY-7's TestRound failing on the base, passing on the fix", rep.Proofs)
	}
	if rep.AuditHead.Seq != 77 || rep.KeyIDs[0] != key.ID() {
		t.Errorf("got audit head %v and keys %v, want 77 and %s", rep.AuditHead, rep.KeyIDs, key.ID())
	}
	// Every signature names the key by the hex sha256 of its public DER.
	var env dsse.Envelope
	if err := json.Unmarshal([]byte(lines[0]), &env); err != nil {
		t.Fatal(err)
	}
	if len(env.Signatures) != 1 || env.Signatures[0].KeyID != key.ID() || len(key.ID()) != 64 {
		t.Errorf("signatures: got %+v, want one by key %s", env.Signatures, key.ID())
	}
}

// editLine decodes line n (1-based) of data, lets edit change its statement
// as JSON, re-signs it with key and, when summary is set, rewrites the
// summary's inputs to the edited statements' digests and re-signs it too: a
// forger holding the key, so only the pack's own rules can catch the edit.
func editLine(t *testing.T, data []byte, key *evidence.Key, n int, fixSummary bool, edit func(st map[string]any)) []byte {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	lines[n-1] = resign(t, key, lines[n-1], edit)
	if fixSummary {
		last := len(lines) - 1
		lines[last] = resign(t, key, lines[last], func(st map[string]any) {
			inputs := st["predicate"].(map[string]any)["inputAttestations"].([]any)
			for i := 0; i < last && i < len(inputs); i++ {
				inputs[i].(map[string]any)["digest"] = map[string]any{"sha256": payloadDigest(t, lines[i])}
			}
		})
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}

func resign(t *testing.T, key *evidence.Key, line string, edit func(st map[string]any)) string {
	t.Helper()
	var env dsse.Envelope
	if err := json.Unmarshal([]byte(line), &env); err != nil {
		t.Fatal(err)
	}
	payload, _ := base64.StdEncoding.DecodeString(env.Payload)
	var st map[string]any
	if err := json.Unmarshal(payload, &st); err != nil {
		t.Fatal(err)
	}
	edit(st)
	payload, _ = json.Marshal(st)
	signer, _ := dsse.NewEnvelopeSigner(key)
	out, err := signer.SignPayload(context.Background(), env.PayloadType, payload)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(out)
	return string(b)
}

func payloadDigest(t *testing.T, line string) string {
	t.Helper()
	var env dsse.Envelope
	if err := json.Unmarshal([]byte(line), &env); err != nil {
		t.Fatal(err)
	}
	payload, _ := base64.StdEncoding.DecodeString(env.Payload)
	sum := sha256.Sum256(payload)
	return hex.EncodeToString(sum[:])
}

func pred(st map[string]any) map[string]any { return st["predicate"].(map[string]any) }

func TestEditedPackFailsWithItsReason(t *testing.T) {
	key, _ := evidence.GenerateKey()
	other, _ := evidence.GenerateKey()
	good := mustSign(t, key, release())
	lines := strings.SplitAfter(string(good), "\n")
	// Line 1 is the regression suite, 2 PAY-7's fix-proof, 3 the release
	// approval, 4 the release combination, 5 the summary.
	tests := []struct {
		name string
		pack func() []byte
		keys []*evidence.PublicKey
		want patchgate.EvidenceWant
		// reason is a part of the problem that must be reported.
		reason string
	}{
		{"subject digest of a test result", func() []byte {
			return editLine(t, good, key, 1, true, func(st map[string]any) {
				st["subject"].([]any)[0].(map[string]any)["digest"] = map[string]any{"gitCommit": fixSHA}
			})
		}, nil, patchgate.EvidenceWant{}, "line 1 (test result of suite regression): its subject \"github:acme/payments\" is commit " + fixSHA},
		{"a failed test in a suite recorded as passed", func() []byte {
			return editLine(t, good, key, 1, true, func(st map[string]any) {
				pred(st)["result"] = "PASSED"
				pred(st)["failedTests"] = []any{"calc.TestRound"}
			})
		}, nil, patchgate.EvidenceWant{}, "suite regression is recorded PASSED but lists failed tests"},
		{"the required suite failed", func() []byte {
			return editLine(t, good, key, 1, true, func(st map[string]any) { pred(st)["result"] = "FAILED" })
		}, nil, patchgate.EvidenceWant{}, "required suite regression FAILED on the release commit"},
		{"an approval by the author", func() []byte {
			return editLine(t, good, key, 3, true, func(st map[string]any) {
				a := pred(st)["approvals"].([]any)[1].(map[string]any)
				a["login"], a["user_id"] = "dave", 104
			})
		}, nil, patchgate.EvidenceWant{}, "dave approved but wrote #42"},
		{"two logins of one person (same forge id)", func() []byte {
			return editLine(t, good, key, 3, true, func(st map[string]any) {
				pred(st)["approvals"].([]any)[1].(map[string]any)["user_id"] = 101
			})
		}, nil, patchgate.EvidenceWant{}, "1 distinct people approved the release commit; the recorded policy needs 2"},
		{"an approval of another commit", func() []byte {
			return editLine(t, good, key, 3, true, func(st map[string]any) {
				pred(st)["approvals"].([]any)[0].(map[string]any)["sha"] = fixSHA
			})
		}, nil, patchgate.EvidenceWant{}, "alice's approval is of commit 2222222"},
		{"the policy lowered", func() []byte {
			return editLine(t, good, key, 3, true, func(st map[string]any) { pred(st)["policy"].(map[string]any)["approvals"] = 1 })
		}, nil, patchgate.EvidenceWant{}, "the recorded release policy does not match its digest"},
		{"the fix-proof's outcome", func() []byte {
			return editLine(t, good, key, 2, true, func(st map[string]any) {
				pred(st)["tests"].([]any)[0].(map[string]any)["base"] = "passed"
			})
		}, nil, patchgate.EvidenceWant{}, "the fix-proof of PAY-7 names calc/calc_test.go:TestRound as failing without the fix"},
		{"a statement re-signed without fixing the summary", func() []byte {
			return editLine(t, good, key, 1, false, func(st map[string]any) { pred(st)["url"] = "https://elsewhere" })
		}, nil, patchgate.EvidenceWant{}, "line 1 (test result of suite regression) is not among the verification summary's inputs"},
		{"a signature byte", func() []byte {
			var env dsse.Envelope
			_ = json.Unmarshal([]byte(lines[2]), &env)
			sig, _ := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
			sig[0] ^= 1
			env.Signatures[0].Sig = base64.StdEncoding.EncodeToString(sig)
			b, _ := json.Marshal(env)
			return []byte(lines[0] + lines[1] + string(b) + "\n" + lines[3] + lines[4])
		}, nil, patchgate.EvidenceWant{}, "line 3: the signature by key " + key.ID() + " does not verify"},
		{"a payload byte", func() []byte {
			b := bytes.Clone(good)
			i := bytes.Index(b, []byte(`"payload":"`)) + len(`"payload":"`) + 20
			b[i] ^= 1
			return b
		}, nil, patchgate.EvidenceWant{}, "line 1:"},
		{"a whitespace byte", func() []byte {
			return bytes.Replace(good, []byte(`{"payloadType"`), []byte(`{ "payloadType"`), 1)
		}, nil, patchgate.EvidenceWant{}, "line 1: the envelope is not byte for byte as patchgate wrote it"},
		{"a missing fix-proof", func() []byte { return []byte(lines[0] + lines[2] + lines[3] + lines[4]) }, nil, patchgate.EvidenceWant{},
			"ticket PAY-7 (fixed in #42) has no fail-to-pass proof, and the recorded policy requires proof"},
		{"a missing test result", func() []byte { return []byte(lines[1] + lines[2] + lines[3] + lines[4]) }, nil, patchgate.EvidenceWant{},
			"required suite regression has no test result in the pack"},
		{"a missing summary", func() []byte { return []byte(lines[0] + lines[1] + lines[2] + lines[3]) }, nil, patchgate.EvidenceWant{},
			"the pack has 0 verification summaries"},
		{"the approval moved after the summary", func() []byte { return []byte(lines[0] + lines[1] + lines[4] + lines[2] + lines[3]) }, nil,
			patchgate.EvidenceWant{}, "line 3: the verification summary is not the pack's last statement"},
		{"a proof test failed on the release commit", func() []byte {
			return editLine(t, good, key, 4, true, func(st map[string]any) {
				pred(st)["tickets"].([]any)[0].(map[string]any)["tests"].([]any)[0].(map[string]any)["result"] = "failed"
			})
		}, nil, patchgate.EvidenceWant{}, "the proof test calc/calc_test.go:TestRound of PAY-7 is failed on the release commit"},
		{"the combination's tickets emptied", func() []byte {
			return editLine(t, good, key, 4, true, func(st map[string]any) { pred(st)["tickets"] = []any{} })
		}, nil, patchgate.EvidenceWant{}, "the proof test calc/calc_test.go:TestRound of PAY-7 has no result on the release commit"},
		{"a missing release combination", func() []byte { return []byte(lines[0] + lines[1] + lines[2] + lines[4]) }, nil, patchgate.EvidenceWant{},
			"the pack has no release-combination statement"},
		{"a culprit added to the combination", func() []byte {
			return editLine(t, good, key, 4, true, func(st map[string]any) {
				pred(st)["bisection"] = map[string]any{"candidate_id": 9, "state": "found", "points": 2, "started_by": "patchgate",
					"started_at": "2026-12-07T12:00:00Z", "culprit": map[string]any{"sha": fixSHA, "change": "#42", "ticket": "PAY-7"}}
			})
		}, nil, patchgate.EvidenceWant{}, "the culprit bisection found that the release fails from #42 (PAY-7)"},
		{"another key", func() []byte { return good }, []*evidence.PublicKey{other.PublicKey()}, patchgate.EvidenceWant{},
			"line 1: signed by key " + key.ID() + ", which is none of the given keys (" + other.ID() + ")"},
		{"a pack signed by another key", func() []byte { return mustSign(t, other, release()) }, nil, patchgate.EvidenceWant{},
			"which is none of the given keys"},
		{"another commit expected", func() []byte { return good }, nil, patchgate.EvidenceWant{SHA: fixSHA}, "the pack is about commit " + releaseSHA + ", not " + fixSHA},
		{"another tag expected", func() []byte { return good }, nil, patchgate.EvidenceWant{Tag: "v1.5.0"}, "the pack is about tag v1.6.0, not v1.5.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := tt.keys
			if keys == nil {
				keys = []*evidence.PublicKey{key.PublicKey()}
			}
			problems := verify(tt.pack(), tt.want, keys...)
			found := false
			for _, p := range problems {
				found = found || strings.Contains(p, tt.reason)
			}
			if !found {
				t.Errorf("got problems %q, want one containing %q", problems, tt.reason)
			}
		})
	}
}

// A rotated key: the old pack verifies when both keys are given.
func TestVerifyTakesSeveralKeys(t *testing.T) {
	oldKey, _ := evidence.GenerateKey()
	newKey, _ := evidence.GenerateKey()
	data := mustSign(t, oldKey, release())
	if problems := verify(data, patchgate.EvidenceWant{}, newKey.PublicKey(), oldKey.PublicKey()); len(problems) != 0 {
		t.Errorf("got %q, want the pack to verify under the old key among several", problems)
	}
}

func TestPolicyWithoutProofNeedsNoProof(t *testing.T) {
	key, _ := evidence.GenerateKey()
	src := release()
	src.Evaluation.Policy.RequireProof = false
	delete(src.Proofs, "PAY-7")
	if problems := verify(mustSign(t, key, src), patchgate.EvidenceWant{}, key.PublicKey()); len(problems) != 0 {
		t.Errorf("got %q, want a pack without proof to verify when the policy required none", problems)
	}
}

// TestPrivateKeyRoundTrip: the key file's content (PrivatePEM) reads back
// as the same key (ParseKey); anything else is refused naming where it came
// from and what to do. Keeping the file private is keyfile's (tested there
// and in cmd/patchgate's TestEvidenceKeyFileMustBePrivate).
func TestPrivateKeyRoundTrip(t *testing.T) {
	k, err := evidence.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	data, err := k.PrivatePEM()
	if err != nil {
		t.Fatal(err)
	}
	again, err := evidence.ParseKey("evidence key file k", data)
	if err != nil || again.ID() != k.ID() {
		t.Fatalf("reloaded key: got %v (%v), want id %s", again, err, k.ID())
	}
	pub, err := evidence.ParsePublicKey("pub.pem", k.PublicPEM())
	if err != nil || pub.ID() != k.ID() {
		t.Fatalf("public key round trip: got %v (%v), want id %s", pub, err, k.ID())
	}
	for name, bad := range map[string][]byte{"empty": nil, "a public key": k.PublicPEM(), "garbage": []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")} {
		if _, err := evidence.ParseKey("evidence key file k", bad); err == nil ||
			!strings.Contains(err.Error(), "evidence key file k") || !strings.Contains(err.Error(), "restore the file patchgate created") {
			t.Errorf("%s: got %v, want a refusal naming the file and what to do", name, err)
		}
	}
}
