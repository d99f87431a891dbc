package gate_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/evidence"
	"github.com/patchgate/patchgate/forges"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/usecase/gate"
	"github.com/patchgate/patchgate/usecase/people"
)

// runnerDigest is the runner image's digest the suites ran under.
var runnerDigest = "sha256:" + strings.Repeat("9f", 32)

// verifyWithTests records a passed regression suite on sha with its test
// results and image digest, under the candidate's .patchgate.yml.
func (w *releaseWorld) verifyWithTests(sha string, changeID int64, tests []patchgate.TestResult) *patchgate.Verification {
	w.t.Helper()
	ctx := context.Background()
	cfg, err := w.configs.Read(ctx, patchgate.RepoRef{Forge: patchgate.GitHub, Name: relRepo}, w.cand)
	if err != nil {
		w.t.Fatal(err)
	}
	v, _, err := w.vs.CreateVerification(ctx, &patchgate.Verification{
		Forge: patchgate.GitHub, Repo: relRepo, SHA: sha, ChangeID: changeID, ConfigRef: sha, ConfigDigest: cfg.Digest,
		Trigger: "test", Suites: []*patchgate.SuiteRun{{Name: "regression", Required: true, Image: "golang:1.26"}},
	})
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.vs.ClaimVerification(ctx, v.ID, v.Attempt, "w"); err != nil {
		w.t.Fatal(err)
	}
	s := v.Suites[0]
	s.State, s.Description, s.Tests = patchgate.RunSuccess, "tests", tests
	s.ImageDigests = map[string]string{"golang:1.26": runnerDigest}
	if err := w.vs.UpdateSuiteRun(ctx, s); err != nil {
		w.t.Fatal(err)
	}
	if err := w.vs.FinishVerification(ctx, v.ID, patchgate.RunSuccess, "test"); err != nil {
		w.t.Fatal(err)
	}
	return v
}

// evidenceWorld is a release world whose gate writes evidence packs with
// key, two approvals and proof required, PAY-1's proof holding.
func newEvidenceWorld(t *testing.T) (*releaseWorld, *evidence.Key, *store.EvidencePackService) {
	t.Helper()
	ctx := context.Background()
	w := newReleaseWorld(t)
	w.forge.SetFile(relRepo, w.cand, ".patchgate.yml", []byte(strings.Replace(releaseConfig, "approvals: 1", "approvals: 2\n  require_proof: true", 1)))
	w.verifyWithTests(w.cand, 0, []patchgate.TestResult{
		{Class: "calc", Name: "TestRound", Status: patchgate.TestPassed},
		{Class: "calc", Name: "TestFlaky", Status: patchgate.TestFailed, Quarantined: true},
	})
	fix := w.verifyWithTests(w.head, w.pr.ID, []patchgate.TestResult{{Class: "calc", Name: "TestRound", Status: patchgate.TestPassed}})
	proof := patchgate.Proof{VerificationID: fix.ID, BaseSHA: w.base, State: patchgate.ProofHolds, RequireProof: true,
		Description: "1 test fails without the fix and passes with it",
		Tests: []patchgate.ProofRecord{{ProofTest: patchgate.ProofTest{File: "calc/calc_test.go", Name: "TestRound", Language: patchgate.LangGo},
			Base: patchgate.ProofFailed, Head: patchgate.ProofPassed, Verdict: "fails without the fix and passes with it"}}}
	if err := w.vs.SaveProof(ctx, &proof); err != nil {
		t.Fatal(err)
	}
	pins := store.NewPersonService(w.db)
	// The people as the fake forge knows them, pinned as token create and
	// the comment commands pin them.
	for _, login := range []string{"alice", "bob", "dev"} {
		id := w.forge.AddUser(login)
		if _, err := pins.PinPerson(ctx, patchgate.PersonPin{Forge: patchgate.GitHub, Login: login, UserID: id}); err != nil {
			t.Fatal(err)
		}
	}
	key, err := evidence.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	gh, err := forges.NewGitHub(forges.Config{BaseURL: w.forge.GitHubAPIURL(), Token: "tok", Retry: forges.RetryPolicy{MaxRetries: 1, BaseDelay: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	packs := store.NewEvidencePackService(w.db)
	rule := &gate.AuthorRule{Comparers: map[patchgate.Forge]patchgate.Comparer{patchgate.GitHub: gh}, Branches: w.changes}
	w.gate.Authorship = rule
	directory := &people.Directory{Pins: pins, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	w.gate.Packs = &gate.EvidenceRecorder{Runs: w.vs, Authors: rule, People: directory, Audit: store.NewAuditService(w.db),
		Signer: &evidence.Signer{Key: key}, Packs: packs, Assets: map[patchgate.Forge]patchgate.ReleaseAssets{patchgate.GitHub: gh},
		PublicURL: "https://patchgate.example"}
	return w, key, packs
}

// TestPromotionWritesAVerifiablePack: a real promotion (real SQLite, the real
// GitHub client on the fake forge) signs a pack that verifies offline with
// the key's public half only, keeps it in the database and attaches it to
// the release; a retried promotion keeps the same pack, attached once.
func TestPromotionWritesAVerifiablePack(t *testing.T) {
	ctx := context.Background()
	w, key, packs := newEvidenceWorld(t)
	c := w.candidate()
	for _, who := range []string{"alice", "bob"} {
		if _, _, err := w.gate.Approve(ctx, c.ID, "", w.person(who), "api"); err != nil {
			t.Fatalf("approve as %s: %v", who, err)
		}
	}
	promoted, err := w.gate.Promote(ctx, c.ID, w.person("alice"))
	if err != nil || promoted.State != patchgate.CandidatePromoted {
		t.Fatalf("Promote = %+v, %v; want promoted", promoted, err)
	}
	stored, err := packs.FindEvidencePack(ctx, c.ID)
	if err != nil {
		t.Fatalf("the promotion stored no pack: %v", err)
	}
	if stored.Name != "release-v1.1.0.intoto.jsonl" || stored.KeyID != key.ID() || stored.AssetURL == "" {
		t.Errorf("stored pack: got %s by %s at %q, want release-v1.1.0.intoto.jsonl by %s, attached", stored.Name, stored.KeyID, stored.AssetURL, key.ID())
	}
	assets := w.forge.ReleaseAssets(relRepo, "v1.1.0")
	if len(assets) != 1 || !bytes.Equal(assets[0].Data, stored.Data) || assets[0].URL != stored.AssetURL {
		t.Fatalf("release assets: got %+v, want the stored pack once", assets)
	}

	// Offline: only the bytes from the forge and the public key.
	pub, err := evidence.ParsePublicKey("patchgate.pub", key.PublicPEM())
	if err != nil {
		t.Fatal(err)
	}
	pack, problems := evidence.Open(ctx, assets[0].Data, []*evidence.PublicKey{pub})
	rep := patchgate.CheckEvidence(pack, patchgate.EvidenceWant{SHA: w.cand, Tag: "v1.1.0"})
	if problems = append(problems, rep.Problems...); len(problems) != 0 {
		t.Fatalf("the promotion's pack: got problems %q, want none", problems)
	}
	if len(rep.Tickets) != 1 || rep.Tickets[0].Key != "PAY-1" || rep.Tickets[0].HeadSHA != w.head {
		t.Errorf("tickets: got %+v, want PAY-1 fixed at %s", rep.Tickets, w.head)
	}
	if len(rep.Proofs) != 1 || rep.Proofs[0].BaseSHA != w.base || rep.Proofs[0].HeadSHA != w.head ||
		strings.Join(rep.Proofs[0].FailToPass, ",") != "calc/calc_test.go:TestRound" {
		t.Errorf("proofs: got %+v, want TestRound failing on %s and passing on %s", rep.Proofs, w.base, w.head)
	}
	alice, bob := w.forge.AddUser("alice"), w.forge.AddUser("bob")
	if len(rep.Approvers) != 2 || rep.Approvers[0].UserID != alice || rep.Approvers[1].UserID != bob ||
		rep.Approvers[0].Token != "alice-token" || rep.Approvers[0].SHA != w.cand {
		t.Errorf("approvers: got %+v, want alice (%d) and bob (%d) by their tokens at %s", rep.Approvers, alice, bob, w.cand)
	}
	if rep.PolicySources[patchgate.PolicyApprovals] != patchgate.SourceFile || rep.PolicySources[patchgate.PolicyAutoPromote] != patchgate.SourceServer {
		t.Errorf("policy sources: got %v, want approvals from the repository file, auto_promote from the server", rep.PolicySources)
	}
	if rep.Policy.Approvals != 2 || !rep.Policy.RequireProof || strings.Join(rep.Policy.Required, ",") != "regression" {
		t.Errorf("policy: got %+v, want 2 approvals, proof, regression required", rep.Policy)
	}
	if len(rep.Suites) != 1 || rep.Suites[0].Images["golang:1.26"] != runnerDigest || rep.Suites[0].ConfigDigest == "" ||
		strings.Join(rep.Suites[0].Quarantined, ",") != "calc.TestFlaky" || strings.Join(rep.Suites[0].Passed, ",") != "calc.TestRound" {
		t.Errorf("suites: got %+v, want regression with its tests, image and configuration digests", rep.Suites)
	}
	wrote := map[string]string{}
	for _, a := range rep.Authors {
		wrote[a.Login+" "+a.Change] = a.Change
	}
	if _, ok := wrote["dev #1"]; !ok || wrote["ops commits since "+w.base[:7]] == "" {
		t.Errorf("authors: got %+v, want dev for #1 and ops for the commits since the last release", rep.Authors)
	}
	if c := rep.Combination; c == nil || c.SHA != w.cand || len(c.Tickets) != 1 || c.Tickets[0].Ticket != "PAY-1" ||
		len(c.Tickets[0].Tests) != 1 || c.Tickets[0].Tests[0].Test != "calc/calc_test.go:TestRound" || c.Tickets[0].Tests[0].Result != patchgate.ProofPassed ||
		c.VerificationID != rep.Suites[0].VerificationID {
		t.Errorf("combination: got %+v, want PAY-1's TestRound passed in the release's run on %s", c, w.cand)
	}
	if rep.AuditHead.Seq == 0 {
		t.Error("the pack records no audit head")
	}
	head, err := store.NewAuditService(w.db).HeadAudit(ctx)
	if err != nil || head.Seq <= rep.AuditHead.Seq {
		t.Errorf("audit head now %v (%v), want past the pack's %v (evidence.signed and release.promoted come after)", head, err, rep.AuditHead)
	}

	// A retry (a crash after the forge work): same pack, no second asset.
	again, err := w.gate.Packs.Record(ctx, promoted, nil, &patchgate.ForgeRelease{Tag: "v1.1.0", ID: "0"})
	if err != nil || again.SHA256 != stored.SHA256 {
		t.Fatalf("Record again = %+v, %v; want the stored pack", again, err)
	}
	if n := len(w.forge.ReleaseAssets(relRepo, "v1.1.0")); n != 1 {
		t.Errorf("got %d assets after the retry, want 1", n)
	}
}

// TestPromotionWaitsForItsPack: when the pack cannot be attached, the
// promotion stays in progress and a retry finishes it with the pack.
func TestPromotionWaitsForItsPack(t *testing.T) {
	ctx := context.Background()
	w, _, packs := newEvidenceWorld(t)
	c := w.candidate()
	for _, who := range []string{"alice", "bob"} {
		if _, _, err := w.gate.Approve(ctx, c.ID, "", w.person(who), "api"); err != nil {
			t.Fatal(err)
		}
	}
	w.forge.FailNextOn("POST /api/uploads/repos/"+relRepo+"/releases/", 2, 502, nil) // the upload and its one retry
	if _, err := w.gate.Promote(ctx, c.ID, w.person("alice")); err == nil || !strings.Contains(err.Error(), "evidence pack of v1.1.0") {
		t.Fatalf("Promote with uploads failing: got %v, want the evidence pack's error", err)
	}
	if got, _ := w.releases.FindCandidateByID(ctx, c.ID); got.State != patchgate.CandidatePromoting {
		t.Fatalf("after the failure: got %s, want promoting", got.State)
	}
	first, err := packs.FindEvidencePack(ctx, c.ID)
	if err != nil || first.AssetURL != "" {
		t.Fatalf("after the failure: pack %+v, %v; want it stored, not attached", first, err)
	}
	got, err := w.gate.Promote(ctx, c.ID, w.person("alice"))
	if err != nil || got.State != patchgate.CandidatePromoted {
		t.Fatalf("retry: got %+v, %v; want promoted", got, err)
	}
	final, err := packs.FindEvidencePack(ctx, c.ID)
	if err != nil || final.SHA256 != first.SHA256 || final.AssetURL == "" {
		t.Fatalf("after the retry: pack %+v, %v; want the first pack, attached", final, err)
	}
}
