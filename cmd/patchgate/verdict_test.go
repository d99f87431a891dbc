package main

import (
	"context"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// pass records that every suite passed on sha and reports the verdict, as a
// verification worker does.
func (a *testApp) pass(t *testing.T, sha string) {
	t.Helper()
	ctx := context.Background()
	vs := store.NewVerificationService(a.main.DB)
	// Under the .patchgate.yml sha holds: a candidate there counts the run.
	a.passUnderItsConfig(t, patchgate.RepoRef{Forge: patchgate.GitHub, Name: testRepo}, sha)
	got, _, err := vs.FindVerifications(ctx, patchgate.VerificationFilter{SHA: &sha, Limit: 1})
	if err != nil || len(got) == 0 {
		t.Fatalf("find the verification of %s: %v", sha[:7], err)
	}
	a.main.Verdicts.OnVerdict(ctx, got[0])
}
