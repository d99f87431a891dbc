package patchgate_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

const (
	shaA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	shaB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	shaC = "cccccccccccccccccccccccccccccccccccccccc"
	shaM = "dddddddddddddddddddddddddddddddddddddddd"
)

// prHistory is the life of one pull request as its forge reports it: opened on A,
// two pushes, an edit, a merge. Some timestamps tie, as real ones (whole seconds) do.
func prHistory() []patchgate.ChangeUpdate {
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	base := patchgate.ChangeUpdate{Forge: patchgate.GitHub, Repo: "acme/payments", Kind: patchgate.ChangePullRequest, Number: 7, SourceBranch: "fix/PAY-7"}
	u := func(mod func(*patchgate.ChangeUpdate)) patchgate.ChangeUpdate {
		c := base
		mod(&c)
		return c
	}
	return []patchgate.ChangeUpdate{
		u(func(c *patchgate.ChangeUpdate) {
			c.Title, c.HeadSHA, c.State, c.UpdatedAt = "PAY-7: fix rounding", shaA, patchgate.ChangeOpen, t0
		}),
		u(func(c *patchgate.ChangeUpdate) {
			c.Title, c.HeadSHA, c.PreviousHeadSHA, c.State, c.UpdatedAt = "PAY-7: fix rounding", shaB, shaA, patchgate.ChangeOpen, t0.Add(time.Minute)
		}),
		u(func(c *patchgate.ChangeUpdate) {
			c.Title, c.HeadSHA, c.State, c.UpdatedAt = "PAY-7: fix rounding of refunds", shaB, patchgate.ChangeOpen, t0.Add(time.Minute)
		}),
		u(func(c *patchgate.ChangeUpdate) {
			c.Title, c.HeadSHA, c.PreviousHeadSHA, c.State, c.UpdatedAt = "PAY-7: fix rounding of refunds", shaC, shaB, patchgate.ChangeOpen, t0.Add(2*time.Minute)
		}),
		u(func(c *patchgate.ChangeUpdate) {
			c.Title, c.HeadSHA, c.State, c.MergeCommitSHA, c.UpdatedAt = "PAY-7: fix rounding of refunds", shaC, patchgate.ChangeMerged, shaM, t0.Add(3*time.Minute)
		}),
	}
}

// applyAll applies updates the way the store does: every update's head event
// is recorded before Apply sees the update.
func applyAll(updates []patchgate.ChangeUpdate) patchgate.Change {
	var c patchgate.Change
	var heads []patchgate.HeadEvent
	for _, u := range updates {
		if u.HeadSHA != "" {
			heads = append(heads, u.HeadEvent())
		}
		c.Apply(u, heads)
	}
	return c
}

func TestChangeApplyInOrder(t *testing.T) {
	c := applyAll(prHistory())
	if c.HeadSHA != shaC || c.State != patchgate.ChangeMerged || c.Title != "PAY-7: fix rounding of refunds" || c.MergeCommitSHA != shaM {
		t.Fatalf("got head %s state %s title %q merge %s, want C merged, new title, M", c.HeadSHA, c.State, c.Title, c.MergeCommitSHA)
	}
}

// TestChangeApplyAnyOrder is the property behind gate invariant 6: every
// permutation of the history, with any update delivered twice, ends in the state
// the in-order history ends in.
func TestChangeApplyAnyOrder(t *testing.T) {
	want := applyAll(prHistory())
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		h := prHistory()
		rng.Shuffle(len(h), func(i, j int) { h[i], h[j] = h[j], h[i] })
		if rng.IntN(2) == 0 {
			h = append(h, h[rng.IntN(len(h))])
		}
		got := applyAll(h)
		if got.HeadSHA != want.HeadSHA || got.State != want.State || got.Title != want.Title || got.MergeCommitSHA != want.MergeCommitSHA {
			t.Fatalf("permutation %d: got head %s state %s title %q, want head %s state %s title %q",
				i, got.HeadSHA, got.State, got.Title, want.HeadSHA, want.State, want.Title)
		}
	}
}

// TestChangeApplyAnyOrderSameSecond is the same property when every event
// carries the same timestamp, so only the before → after chain can order heads.
func TestChangeApplyAnyOrderSameSecond(t *testing.T) {
	sameSecond := func() []patchgate.ChangeUpdate {
		h := prHistory()
		for i := range h {
			h[i].UpdatedAt = h[0].UpdatedAt
		}
		return h
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 2000 {
		h := sameSecond()
		rng.Shuffle(len(h), func(i, j int) { h[i], h[j] = h[j], h[i] })
		if got := applyAll(h); got.HeadSHA != shaC || got.State != patchgate.ChangeMerged {
			t.Fatalf("permutation %d: got head %s state %s, want C merged", i, got.HeadSHA[:1], got.State)
		}
	}
}

func TestChangeApplyRules(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		start     patchgate.Change
		update    patchgate.ChangeUpdate
		wantHead  string
		wantState patchgate.ChangeState
		wantMoved bool
	}{
		{
			name:      "older head without before does not move the head back",
			start:     patchgate.Change{HeadSHA: shaB, HeadUpdatedAt: t0.Add(time.Minute), State: patchgate.ChangeOpen, ForgeUpdatedAt: t0.Add(time.Minute)},
			update:    patchgate.ChangeUpdate{HeadSHA: shaA, State: patchgate.ChangeOpen, UpdatedAt: t0},
			wantHead:  shaB,
			wantState: patchgate.ChangeOpen,
		},
		{
			name:      "newer head moves forward",
			start:     patchgate.Change{HeadSHA: shaA, HeadUpdatedAt: t0, State: patchgate.ChangeOpen, ForgeUpdatedAt: t0},
			update:    patchgate.ChangeUpdate{HeadSHA: shaB, State: patchgate.ChangeOpen, UpdatedAt: t0.Add(time.Second)},
			wantHead:  shaB,
			wantState: patchgate.ChangeOpen,
			wantMoved: true,
		},
		{
			name:      "late reopen does not undo a merge",
			start:     patchgate.Change{HeadSHA: shaA, HeadUpdatedAt: t0, State: patchgate.ChangeMerged, ForgeUpdatedAt: t0},
			update:    patchgate.ChangeUpdate{HeadSHA: shaA, State: patchgate.ChangeOpen, UpdatedAt: t0.Add(time.Hour)},
			wantHead:  shaA,
			wantState: patchgate.ChangeMerged,
		},
		{
			name:      "same-second close beats open",
			start:     patchgate.Change{HeadSHA: shaA, HeadUpdatedAt: t0, State: patchgate.ChangeOpen, ForgeUpdatedAt: t0},
			update:    patchgate.ChangeUpdate{HeadSHA: shaA, State: patchgate.ChangeClosed, UpdatedAt: t0},
			wantHead:  shaA,
			wantState: patchgate.ChangeClosed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.start
			// The start's own head is evidence too, reported at its time.
			heads := []patchgate.HeadEvent{{After: c.HeadSHA, At: c.HeadUpdatedAt}, tt.update.HeadEvent()}
			r := c.Apply(tt.update, heads)
			if c.HeadSHA != tt.wantHead || c.State != tt.wantState || r.HeadChanged != tt.wantMoved {
				t.Fatalf("got head %s state %s moved %v, want %s %s %v", c.HeadSHA, c.State, r.HeadChanged, tt.wantHead, tt.wantState, tt.wantMoved)
			}
		})
	}
}

func TestChangeValidate(t *testing.T) {
	tests := []struct {
		name   string
		change patchgate.Change
		ok     bool
	}{
		{"pull request", patchgate.Change{Forge: patchgate.GitHub, Repo: "acme/api", Kind: patchgate.ChangePullRequest, Number: 1, HeadSHA: shaA, State: patchgate.ChangeOpen}, true},
		{"branch", patchgate.Change{Forge: patchgate.GitLab, Repo: "acme/platform/api", Kind: patchgate.ChangePush, SourceBranch: "main", State: patchgate.ChangeOpen}, true},
		{"no number", patchgate.Change{Forge: patchgate.GitHub, Repo: "acme/api", Kind: patchgate.ChangePullRequest, State: patchgate.ChangeOpen}, false},
		{"short sha", patchgate.Change{Forge: patchgate.GitHub, Repo: "acme/api", Kind: patchgate.ChangePullRequest, Number: 1, HeadSHA: "abc123", State: patchgate.ChangeOpen}, false},
		{"bad repo", patchgate.Change{Forge: patchgate.GitHub, Repo: "acme", Kind: patchgate.ChangePullRequest, Number: 1, State: patchgate.ChangeOpen}, false},
		{"bad forge", patchgate.Change{Forge: "bitbucket", Repo: "acme/api", Kind: patchgate.ChangePullRequest, Number: 1, State: patchgate.ChangeOpen}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.change.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("got %v, want ok=%v", err, tt.ok)
			}
			if err != nil && patchgate.ErrorCode(err) != patchgate.EINVALID {
				t.Fatalf("got code %s, want invalid", patchgate.ErrorCode(err))
			}
		})
	}
}

// TestReconciledHeadForgetsThePusher: a head read from the forge by a
// reconciliation names no pusher, so the branch's last pusher (trusted,
// say) stops being the head's; the push's own delivery, though older, names
// who pushed it.
func TestReconciledHeadForgetsThePusher(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	a, b := shaA, shaB
	c := &patchgate.Change{Kind: patchgate.ChangePush, SourceBranch: "fix", HeadSHA: a, Author: "trusted", AuthorID: 1, State: patchgate.ChangeOpen, ForgeUpdatedAt: t0, HeadUpdatedAt: t0}
	reconciled := patchgate.ChangeUpdate{Kind: patchgate.ChangePush, SourceBranch: "fix", HeadSHA: b, PreviousHeadSHA: a, State: patchgate.ChangeOpen,
		UpdatedAt: t0.Add(time.Hour), PusherUnknown: true}
	heads := []patchgate.HeadEvent{{After: a, At: t0}, reconciled.HeadEvent()}
	if r := c.Apply(reconciled, heads); !r.HeadChanged || c.HeadSHA != b || c.Author != "" || c.AuthorID != 0 {
		t.Fatalf("reconciled head: got head %s author %q#%d (%+v), want %s with no pusher", patchgate.ShortSHA(c.HeadSHA), c.Author, c.AuthorID, r, patchgate.ShortSHA(b))
	}
	push := patchgate.ChangeUpdate{Kind: patchgate.ChangePush, SourceBranch: "fix", HeadSHA: b, PreviousHeadSHA: a, State: patchgate.ChangeOpen,
		Author: "stranger", AuthorID: 2, UpdatedAt: t0.Add(time.Minute)}
	heads = append(heads, push.HeadEvent())
	if r := c.Apply(push, heads); !r.PusherNamed || c.Author != "stranger" || c.AuthorID != 2 {
		t.Fatalf("the push's delivery after it: got author %q#%d (%+v), want stranger#2 named", c.Author, c.AuthorID, r)
	}
}
