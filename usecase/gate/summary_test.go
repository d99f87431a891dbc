package gate_test

import (
	"context"
	"slices"
	"testing"

	"github.com/patchgate/patchgate"
)

// TestApprovedCandidateBlockedByALaterFailure: what `release list` and GET
// /api/v1/releases show of a candidate is the gate's evaluation. An approved
// candidate whose release commit's suite fails afterwards is blocked by that
// failure alone, and keeps its approval, 1 of 1, by alice.
func TestApprovedCandidateBlockedByALaterFailure(t *testing.T) {
	ctx := context.Background()
	w, c := newReleasableWorld(t)
	if _, _, err := w.gate.Approve(ctx, c.ID, "", w.person("alice"), "api"); err != nil {
		t.Fatal(err)
	}
	summary := func() patchgate.CandidateSummary {
		t.Helper()
		c, err := w.releases.FindCandidateByID(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := w.gate.Evaluate(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return patchgate.SummarizeCandidate(c, ev)
	}
	if s := summary(); !s.Releasable || s.Approvals != 1 || s.Needed != 1 || !slices.Equal(s.Approvers, []string{"alice"}) {
		t.Fatalf("after alice's approval: got %+v; want releasable, 1 of 1 approvals by alice", s)
	}

	// The release commit's suite fails afterwards: the candidate is blocked.
	w.verify(w.cand, 0, patchgate.RunFailure)
	blocker := "failed `regression` on " + w.cand[:7]
	if s := summary(); s.Releasable || !slices.Equal(patchgate.BlockerMessages(s.Blockers), []string{blocker}) ||
		s.Approvals != 1 || s.Needed != 1 || !slices.Equal(s.Approvers, []string{"alice"}) {
		t.Fatalf("after the failure: got %+v; want blocked by %q, 1 of 1 approvals by alice", s, blocker)
	}
}
