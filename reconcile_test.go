package patchgate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// TestReconcileEvent: what reconciliation corrects, and what it leaves alone.
func TestReconcileEvent(t *testing.T) {
	a, b, m := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	pr := func(head string, state patchgate.ChangeState) *patchgate.Change {
		return &patchgate.Change{ID: 5, Forge: patchgate.GitHub, Repo: "acme/pay", Kind: patchgate.ChangePullRequest, Number: 7,
			HeadSHA: head, State: state}
	}
	branch := &patchgate.Change{ID: 6, Forge: patchgate.GitLab, Repo: "acme/api", Kind: patchgate.ChangePush, SourceBranch: "main", HeadSHA: a, State: patchgate.ChangeOpen}
	for _, tc := range []struct {
		name    string
		c       *patchgate.Change
		f       patchgate.ForgeHead
		wantID  string // "" no correction
		checkEv func(t *testing.T, ev *patchgate.Event)
	}{
		{"same head, same state", pr(a, patchgate.ChangeOpen), patchgate.ForgeHead{HeadSHA: a, State: patchgate.ChangeOpen}, "", nil},
		{"the forge names no head", pr(a, patchgate.ChangeOpen), patchgate.ForgeHead{State: patchgate.ChangeClosed}, "", nil},
		{"not a SHA", pr(a, patchgate.ChangeOpen), patchgate.ForgeHead{HeadSHA: "main"}, "", nil},
		{"a missed push", pr(a, patchgate.ChangeOpen), patchgate.ForgeHead{HeadSHA: b, State: patchgate.ChangeOpen}, "reconcile:5:" + b,
			func(t *testing.T, ev *patchgate.Event) {
				c := ev.Change
				if ev.Kind != patchgate.EventChange || c.BeforeSHA != a || c.HeadSHA != b || !c.UpdatedAt.Equal(now) || ev.Source != patchgate.SourceReconcile {
					t.Errorf("got %+v %+v, want a move %s → %s at the read", ev, c, a, b)
				}
			}},
		{"a missed close", pr(a, patchgate.ChangeOpen), patchgate.ForgeHead{HeadSHA: a, State: patchgate.ChangeClosed}, "reconcile:5:" + a + ":closed",
			func(t *testing.T, ev *patchgate.Event) {
				if ev.Change.State != patchgate.ChangeClosed || ev.Change.BeforeSHA != "" {
					t.Errorf("got %+v, want closed at the same head", ev.Change)
				}
			}},
		{"a missed merge", pr(a, patchgate.ChangeOpen), patchgate.ForgeHead{HeadSHA: a, State: patchgate.ChangeMerged, MergeCommitSHA: m}, "reconcile:5:" + a + ":merged",
			func(t *testing.T, ev *patchgate.Event) {
				if ev.Change.State != patchgate.ChangeMerged || ev.Change.MergeCommitSHA != m {
					t.Errorf("got %+v, want merged as %s", ev.Change, m)
				}
			}},
		{"a missed reopen", pr(a, patchgate.ChangeClosed), patchgate.ForgeHead{HeadSHA: a, State: patchgate.ChangeOpen}, "reconcile:5:" + a + ":open",
			func(t *testing.T, ev *patchgate.Event) {
				if ev.Change.State != patchgate.ChangeOpen {
					t.Errorf("got %+v, want open", ev.Change)
				}
			}},
		{"merged is final", pr(a, patchgate.ChangeMerged), patchgate.ForgeHead{HeadSHA: a, State: patchgate.ChangeOpen}, "", nil},
		{"a forge time after the read wins", pr(a, patchgate.ChangeOpen), patchgate.ForgeHead{HeadSHA: b, UpdatedAt: now.Add(time.Minute)}, "reconcile:5:" + b,
			func(t *testing.T, ev *patchgate.Event) {
				if !ev.Change.UpdatedAt.Equal(now.Add(time.Minute)) || ev.Change.State != patchgate.ChangeOpen {
					t.Errorf("got %+v, want the forge's later time and the stored state", ev.Change)
				}
			}},
		{"a branch moved", branch, patchgate.ForgeHead{HeadSHA: b}, "reconcile:6:" + b,
			func(t *testing.T, ev *patchgate.Event) {
				if ev.Kind != patchgate.EventPush || ev.Push.Branch != "main" || ev.Push.Before != a || ev.Push.After != b {
					t.Errorf("got %+v, want a push to main %s → %s", ev.Push, a, b)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, fix := patchgate.ReconcileEvent(tc.c, tc.f, now)
			if tc.wantID == "" {
				if ev != nil || fix != nil {
					t.Fatalf("got %+v, want no correction", fix)
				}
				return
			}
			if ev == nil || fix.DeliveryID != tc.wantID || fix.StoredHead != tc.c.HeadSHA || fix.ForgeHead != tc.f.HeadSHA {
				t.Fatalf("got %+v, want delivery %s", fix, tc.wantID)
			}
			tc.checkEv(t, ev)
		})
	}
}

// TestReconcileEventAdvancesTheHead: applied through Change.Apply with the
// change's evidence, a correction makes the forge's head the head, even when
// the derived head came from a report newer than the missed push, and a late
// report of the old head (an edit sent before the push) does not undo it.
func TestReconcileEventAdvancesTheHead(t *testing.T) {
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	c := &patchgate.Change{ID: 1, Forge: patchgate.GitHub, Repo: "acme/pay", Kind: patchgate.ChangePullRequest, Number: 7}
	heads := []patchgate.HeadEvent{}
	apply := func(u patchgate.ChangeUpdate) patchgate.ApplyResult {
		heads = append(heads, u.HeadEvent())
		return c.Apply(u, heads)
	}
	apply(patchgate.ChangeUpdate{Number: 7, HeadSHA: a, State: patchgate.ChangeOpen, UpdatedAt: t0})
	apply(patchgate.ChangeUpdate{Number: 7, HeadSHA: a, State: patchgate.ChangeOpen, UpdatedAt: t0.Add(time.Hour)}) // an edit

	ev, _ := patchgate.ReconcileEvent(c, patchgate.ForgeHead{HeadSHA: b, State: patchgate.ChangeOpen}, t0.Add(2*time.Hour))
	e := ev.Change
	r := apply(patchgate.ChangeUpdate{Number: 7, HeadSHA: e.HeadSHA, PreviousHeadSHA: e.BeforeSHA, State: e.State, UpdatedAt: e.UpdatedAt})
	if c.HeadSHA != b || !r.HeadChanged || r.OldHead != a {
		t.Fatalf("after the correction: head %s (%+v), want %s", c.HeadSHA, r, b)
	}
	apply(patchgate.ChangeUpdate{Number: 7, HeadSHA: a, State: patchgate.ChangeOpen, UpdatedAt: t0.Add(90 * time.Minute)})
	if c.HeadSHA != b {
		t.Fatalf("a late report of the old head brought it back: head %s, want %s", c.HeadSHA, b)
	}
}
