package verification_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/config"
	"github.com/patchgate/patchgate/store"
)

// TestProofPlan: for the head of a pull request that fixes a ticket, the plan
// names the tests the change adds, carries the head's test files to lay over
// the base, and runs exactly those tests in the proof suite's environment; a
// change that fixes nothing has nothing to prove.
func TestProofPlan(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, &patchgate.Repository{Forge: patchgate.GitHub, Name: relRepo, TicketKeys: []string{"PAY"}})
	head := sha('5')
	w.forge.AddCommit(relRepo, head, map[string][]byte{
		"calc.go":      []byte("package calc\n\nfunc Round() {}\n"),
		"calc_test.go": []byte("package calc\n\nimport \"testing\"\n\nfunc TestRound(t *testing.T) {\n\tRound()\n}\n"),
	}, "PAY-1: fix rounding", "dev", w.base)
	cfg, err := config.ParseRepoFile(".patchgate.yml", []byte(releaseConfig))
	if err != nil {
		t.Fatal(err)
	}
	change := func(number int, title string) (*patchgate.Change, *patchgate.Verification) {
		t.Helper()
		ch := w.change(t, number, title, "dev", head, false)
		return ch, &patchgate.Verification{Forge: patchgate.GitHub, Repo: relRepo, SHA: head, ChangeID: ch.ID,
			ConfigRef: head, ConfigDigest: cfg.Digest}
	}
	fix, v := change(2, "PAY-1: fix rounding")
	if _, _, err := w.links.SyncExtractedLinks(ctx, fix.ID, []patchgate.LinkSource{patchgate.SourceTitle},
		[]*patchgate.Link{{TicketID: w.ticket.ID, ChangeID: fix.ID, Kind: patchgate.LinkFixes, Source: patchgate.SourceTitle, Provenance: "PAY-1", CreatedBy: "patchgate"}}); err != nil {
		t.Fatal(err)
	}
	plan, err := w.planner.ProofPlan(ctx, v)
	if err != nil {
		t.Fatalf("ProofPlan: %v", err)
	}
	if plan.BaseSHA != w.base || len(plan.Tests) != 1 || plan.Tests[0].String() != "calc_test.go:TestRound" {
		t.Errorf("got base %s tests %v, want %s and calc_test.go:TestRound", plan.BaseSHA, plan.Tests, w.base)
	}
	if len(plan.Overlay) != 1 || !strings.Contains(string(plan.Overlay["calc_test.go"]), "func TestRound") {
		t.Errorf("overlay: got %v, want the head's calc_test.go only (not the fix)", plan.Overlay)
	}
	if want := "go test -v -count=1 -run '^(TestRound)$' ./..."; plan.Suite.Spec.Command != want || plan.Suite.Name != "regression" {
		t.Errorf("got suite %s command %q, want regression %q", plan.Suite.Name, plan.Suite.Spec.Command, want)
	}

	// A quarantined test never serves as proof: the plan names it excluded.
	qs := store.NewQuarantineService(w.db)
	if err := qs.CreateQuarantine(ctx, &patchgate.Quarantine{Forge: patchgate.GitHub, Repo: relRepo,
		Test: "TestRound", Owner: "alice", Ticket: "PAY-9", ExpiresAt: time.Now().Add(24 * time.Hour), CreatedBy: "admin"}); err != nil {
		t.Fatal(err)
	}
	if plan, err = w.planner.ProofPlan(ctx, v); err != nil {
		t.Fatalf("ProofPlan with a quarantine: %v", err)
	}
	if !plan.Excluded["TestRound"] {
		t.Errorf("quarantined TestRound: got excluded %v, want it excluded from the proof", plan.Excluded)
	}

	_, other := change(3, "refactor")
	if _, err := w.planner.ProofPlan(ctx, other); patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
		t.Errorf("a change that fixes no ticket: got %v, want ENOTFOUND", err)
	}
}
