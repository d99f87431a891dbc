package linking_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// TestDeliveriesInAnyOrder applies the life of a pull request — opened, two
// pushes, an edit, the merge — in random orders, some events twice, and checks
// that the final state is the in-order one (gate invariant 6).
func TestDeliveriesInAnyOrder(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	var (
		shaA = strings.Repeat("a", 40)
		shaB = strings.Repeat("b", 40)
		shaC = strings.Repeat("c", 40)
		shaM = strings.Repeat("d", 40)
	)
	at := func(minute int) time.Time { return time.Date(2026, 11, 1, 10, minute, 0, 0, time.UTC) }
	history := func(number int) []*patchgate.Event {
		ev := func(action, title, head, before string, updated time.Time) *patchgate.Event {
			e := pr(number, action, title, head)
			e.Change.BeforeSHA, e.Change.UpdatedAt = before, updated
			return e
		}
		merged := ev("closed", "PAY-2: the real bug", shaC, "", at(3))
		merged.Change.State, merged.Change.MergeCommitSHA = patchgate.ChangeMerged, shaM
		return []*patchgate.Event{
			ev("opened", "PAY-1: first try", shaA, "", at(0)),
			ev("synchronize", "PAY-1: first try", shaB, shaA, at(1)),
			ev("edited", "PAY-2: the real bug", shaB, "", at(1)),
			ev("synchronize", "PAY-2: the real bug", shaC, shaB, at(2)),
			merged,
		}
	}
	rng := rand.New(rand.NewPCG(7, 7))
	const runs = 12
	for run := range runs {
		steps := history(100 + run)
		order := rng.Perm(len(steps))
		// Apply some events twice, as forges redeliver on retries.
		order = append(order, order[rng.IntN(len(order))])
		for _, i := range order {
			if err := w.linker.ApplyChange(ctx, w.repo, steps[i]); err != nil {
				t.Fatalf("run %d step %d: %v", run, i, err)
			}
		}
	}
	all, _, err := w.linker.Changes.FindChanges(ctx, patchgate.ChangeFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	byNumber := map[int]*patchgate.Change{}
	for _, ch := range all {
		byNumber[ch.Number] = ch
	}
	for run := range runs {
		ch := byNumber[100+run]
		if ch == nil {
			t.Fatalf("run %d: no change #%d", run, 100+run)
		}
		if ch.HeadSHA != shaC || ch.State != patchgate.ChangeMerged || ch.Title != "PAY-2: the real bug" || ch.MergeCommitSHA != shaM {
			t.Errorf("run %d: got head %s state %s title %q merge %s, want C, merged, the last title, M", run, ch.HeadSHA[:7], ch.State, ch.Title, ch.MergeCommitSHA)
		}
		links, err := w.links.FindLinks(ctx, patchgate.LinkFilter{ChangeID: &ch.ID})
		if err != nil || len(links) != 1 || links[0].Ticket == nil || links[0].Ticket.Key != "PAY-2" {
			t.Errorf("run %d: got links %+v, %v; want only PAY-2 (from the final title)", run, links, err)
		}
	}
}
