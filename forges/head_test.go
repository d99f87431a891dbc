package forges_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
)

// headReader is what reconciliation reads through each forge's client.
type headReader interface {
	ChangeHead(ctx context.Context, repo patchgate.RepoRef, number int) (*patchgate.ForgeHead, error)
	BranchHead(ctx context.Context, repo patchgate.RepoRef, branch string) (*patchgate.ForgeHead, error)
}

// TestChangeAndBranchHead: each forge's client reads a PR/MR's head and
// state (open, closed, merged with its merge commit) and a branch's head
// from the routes the real forges serve; a missing one is ENOTFOUND, a
// forge that stays down EUNAVAILABLE.
func TestChangeAndBranchHead(t *testing.T) {
	a, b, m := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)
	for _, tc := range forgeCases {
		t.Run(tc.name, func(t *testing.T) {
			ff := MustForge(t)
			r := tc.MustClient(t, ff).(headReader)
			ctx := context.Background()
			ff.AddPullRequest(tc.repo, fakeforge.PullRequest{Number: 1, HeadSHA: a, HeadRef: "fix", BaseRef: "main"})
			ff.AddPullRequest(tc.repo, fakeforge.PullRequest{Number: 2, HeadSHA: b, State: "closed"})
			ff.AddPullRequest(tc.repo, fakeforge.PullRequest{Number: 3, HeadSHA: b, State: "merged", MergeCommitSHA: m})
			ff.SetBranch(tc.repo, "release/1.x", m)
			for n, want := range map[int]patchgate.ForgeHead{
				1: {HeadSHA: a, State: patchgate.ChangeOpen},
				2: {HeadSHA: b, State: patchgate.ChangeClosed},
				3: {HeadSHA: b, State: patchgate.ChangeMerged, MergeCommitSHA: m},
			} {
				got, err := r.ChangeHead(ctx, tc.ref(), n)
				if err != nil || *got != want {
					t.Errorf("change %d: got %+v, %v; want %+v", n, got, err, want)
				}
			}
			if got, err := r.BranchHead(ctx, tc.ref(), "release/1.x"); err != nil || got.HeadSHA != m {
				t.Errorf("branch: got %+v, %v; want %s", got, err, m)
			}
			if _, err := r.ChangeHead(ctx, tc.ref(), 9); patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
				t.Errorf("missing change: got %v, want ENOTFOUND", err)
			}
			if _, err := r.BranchHead(ctx, tc.ref(), "gone"); patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
				t.Errorf("missing branch: got %v, want ENOTFOUND", err)
			}
			ff.FailNext(1000, http.StatusServiceUnavailable, nil)
			if _, err := r.ChangeHead(ctx, tc.ref(), 1); patchgate.ErrorCode(err) != patchgate.EUNAVAILABLE {
				t.Errorf("forge down: got %v, want EUNAVAILABLE", err)
			}
		})
	}
}
