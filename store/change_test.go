package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// permutations returns every order of n items as index slices.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := slices.Insert(slices.Clone(p), i, n-1)
			out = append(out, q)
		}
	}
	return out
}

// prLifecycle is a real sequence of pull-request events: opened at A, two pushes
// (A→B, B→C), then merged at C.
func prLifecycle(number int) []patchgate.ChangeUpdate {
	t0 := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	base := patchgate.ChangeUpdate{Forge: patchgate.GitHub, Repo: "acme/payments", Kind: patchgate.ChangePullRequest,
		Number: number, Title: "PAY-1: fix rounding", Body: "Fixes #45", SourceBranch: "fix/PAY-1", TargetBranch: "main",
		Author: "dev", State: patchgate.ChangeOpen, URL: fmt.Sprintf("https://github.com/acme/payments/pull/%d", number)}
	opened, syncB, syncC, merged := base, base, base, base
	opened.HeadSHA, opened.UpdatedAt = sha("A"), t0
	syncB.HeadSHA, syncB.PreviousHeadSHA, syncB.UpdatedAt = sha("B"), sha("A"), t0.Add(time.Minute)
	syncC.HeadSHA, syncC.PreviousHeadSHA, syncC.UpdatedAt = sha("C"), sha("B"), t0.Add(2*time.Minute)
	merged.HeadSHA, merged.State, merged.MergeCommitSHA, merged.UpdatedAt = sha("C"), patchgate.ChangeMerged, sha("M"), t0.Add(3*time.Minute)
	return []patchgate.ChangeUpdate{opened, syncB, syncC, merged}
}

func testChanges(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()

	// applyAll applies events in the given order to change number and returns the
	// result of the last update and the stored change.
	applyAll := func(t *testing.T, s *store.ChangeService, number int, events []patchgate.ChangeUpdate, perm []int) (last, stored *patchgate.Change) {
		t.Helper()
		for j, k := range perm {
			c, r, err := s.ApplyChangeUpdate(ctx, events[k])
			if err != nil {
				t.Fatalf("order %v, event %d: %v", perm, k, err)
			}
			if r.Created != (j == 0) {
				t.Errorf("order %v, event %d: Created = %v, want %v", perm, k, r.Created, j == 0)
			}
			last = c
		}
		stored, err := s.FindChange(ctx, patchgate.GitHub, "acme/payments", patchgate.ChangeKey(patchgate.ChangePullRequest, number, ""))
		if err != nil {
			t.Fatalf("FindChange: %v", err)
		}
		return last, stored
	}
	final := func(c *patchgate.Change) string {
		names := map[string]string{sha("A"): "A", sha("B"): "B", sha("C"): "C", sha("M"): "M"}
		return fmt.Sprintf("head %s %s merge %s title %q branch %q", names[c.HeadSHA], c.State, names[c.MergeCommitSHA], c.Title, c.SourceBranch)
	}
	const wantFinal = `head C merged merge M title "PAY-1: fix rounding" branch "fix/PAY-1"`

	t.Run("order independence", func(t *testing.T) {
		s := store.NewChangeService(open(t))
		for i, perm := range permutations(4) {
			last, stored := applyAll(t, s, i+1, prLifecycle(i+1), perm)
			if got := final(last); got != wantFinal || final(stored) != got || stored.ID != last.ID {
				t.Errorf("order %v: returned %s, stored %s; want %s", perm, got, final(stored), wantFinal)
			}
		}
	})

	t.Run("order independence within one second", func(t *testing.T) {
		// Forge timestamps have a resolution of a second; a bot can push and merge
		// within one. Known failure, in the root package's Change.Apply: in the
		// orders opened(A), merged(C), sync(B→C), sync(A→B) and opened(A),
		// sync(B→C), merged(C), sync(A→B) the head stays at the replaced A,
		// because when both the current head and the update's head are replaced,
		// Apply has nothing to move to. It is reported as a skip, so the test turns
		// green by itself once Apply handles it.
		s := store.NewChangeService(open(t))
		var failures []string
		for i, perm := range permutations(4) {
			events := prLifecycle(100 + i)
			for j := range events {
				events[j].UpdatedAt = events[0].UpdatedAt
			}
			last, stored := applyAll(t, s, 100+i, events, perm)
			if got := final(last); got != wantFinal || final(stored) != got {
				failures = append(failures, fmt.Sprintf("order %v ends %s", perm, got))
			}
		}
		if len(failures) > 0 {
			t.Fatalf("want %s in every order:\n%s", wantFinal, strings.Join(failures, "\n"))
		}
	})

	t.Run("result and round trip", func(t *testing.T) {
		s := store.NewChangeService(open(t))
		ev := prLifecycle(9)
		c, r, err := s.ApplyChangeUpdate(ctx, ev[0])
		if err != nil {
			t.Fatal(err)
		}
		if !r.Created || !r.HeadChanged || !r.Changed || r.OldHead != "" {
			t.Errorf("first update result = %+v, want created, head changed", r)
		}
		// A duplicate delivery changes nothing.
		c2, r, err := s.ApplyChangeUpdate(ctx, ev[0])
		if err != nil {
			t.Fatal(err)
		}
		if r != (patchgate.ApplyResult{}) || !c2.UpdatedAt.Equal(c.UpdatedAt) {
			t.Errorf("duplicate update result = %+v, UpdatedAt %v → %v; want nothing changed", r, c.UpdatedAt, c2.UpdatedAt)
		}
		_, r, err = s.ApplyChangeUpdate(ctx, ev[1])
		if err != nil {
			t.Fatal(err)
		}
		if r.Created || !r.HeadChanged || r.OldHead != sha("A") {
			t.Errorf("push result = %+v, want head changed from A", r)
		}
		got, err := s.FindChangeByID(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := *c2
		want.HeadSHA, want.HeadUpdatedAt, want.ForgeUpdatedAt = sha("B"), ev[1].UpdatedAt, ev[1].UpdatedAt
		want.UpdatedAt = got.UpdatedAt
		if *got != want {
			t.Errorf("stored change:\n got %+v\nwant %+v", *got, want)
		}
		if !got.UpdatedAt.After(c.UpdatedAt) || got.CreatedAt != c.CreatedAt {
			t.Errorf("times: created %v → %v, updated %v → %v", c.CreatedAt, got.CreatedAt, c.UpdatedAt, got.UpdatedAt)
		}
		// A replayed event changes nothing, however often it comes.
		for range 2 {
			replay, r, err := s.ApplyChangeUpdate(ctx, ev[0])
			if err != nil || replay.HeadSHA != sha("B") || r.HeadChanged {
				t.Errorf("replayed opening: head %s, %+v, %v; want head B unchanged", replay.HeadSHA, r, err)
			}
		}
		// A force-push back to A (B → A) makes A the head again.
		forced := ev[1]
		forced.PreviousHeadSHA, forced.HeadSHA, forced.UpdatedAt = sha("B"), sha("A"), ev[1].UpdatedAt.Add(time.Minute)
		back, r, err := s.ApplyChangeUpdate(ctx, forced)
		if err != nil || back.HeadSHA != sha("A") || !r.HeadChanged || r.OldHead != sha("B") {
			t.Errorf("force-push back: head %s, %+v, %v; want head A again, moved from B", back.HeadSHA, r, err)
		}
	})

	t.Run("branch pushes", func(t *testing.T) {
		s := store.NewChangeService(open(t))
		t0 := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
		push := func(before, after string, at time.Time) patchgate.ChangeUpdate {
			return patchgate.ChangeUpdate{Forge: patchgate.GitLab, Repo: "acme/platform/api", Kind: patchgate.ChangePush,
				SourceBranch: "main", HeadSHA: after, PreviousHeadSHA: before, UpdatedAt: at}
		}
		for _, u := range []patchgate.ChangeUpdate{push(sha("2"), sha("3"), t0.Add(2*time.Second)), push(sha("1"), sha("2"), t0.Add(time.Second))} {
			if _, _, err := s.ApplyChangeUpdate(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		c, err := s.FindChange(ctx, patchgate.GitLab, "acme/platform/api", "branch/main")
		if err != nil || c.HeadSHA != sha("3") || c.Kind != patchgate.ChangePush || c.Ref() != "acme/platform/api@main" {
			t.Errorf("branch change = %+v, %v; want head 3", c, err)
		}
	})

	t.Run("invalid updates", func(t *testing.T) {
		s := store.NewChangeService(open(t))
		good := prLifecycle(1)[0]
		for _, tc := range []struct {
			name string
			edit func(u *patchgate.ChangeUpdate)
		}{
			{"forge", func(u *patchgate.ChangeUpdate) { u.Forge = "bitbucket" }},
			{"repo", func(u *patchgate.ChangeUpdate) { u.Repo = "payments" }},
			{"number", func(u *patchgate.ChangeUpdate) { u.Number = 0 }},
			{"head", func(u *patchgate.ChangeUpdate) { u.HeadSHA = "main" }},
			{"previous head", func(u *patchgate.ChangeUpdate) { u.PreviousHeadSHA = "HEAD~1" }},
			{"branch", func(u *patchgate.ChangeUpdate) { u.Kind, u.SourceBranch = patchgate.ChangePush, "" }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				u := good
				tc.edit(&u)
				_, _, err := s.ApplyChangeUpdate(ctx, u)
				wantCode(t, err, patchgate.EINVALID)
			})
		}
		if _, total, err := s.FindChanges(ctx, patchgate.ChangeFilter{}); err != nil || total != 0 {
			t.Errorf("after invalid updates: %d changes, %v; want none stored", total, err)
		}
	})

	t.Run("concurrent updates", func(t *testing.T) {
		db := open(t)
		s := store.NewChangeService(db)
		other := store.NewChangeService(reopen(t, db))
		// Many deliveries of one change's life, racing: each event four times, on
		// two handles.
		var events []patchgate.ChangeUpdate
		for range 4 {
			events = append(events, prLifecycle(77)...)
		}
		rand.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
		var wg sync.WaitGroup
		created := make([]bool, len(events))
		errs := make([]error, len(events))
		for i, u := range events {
			h := s
			if i%2 == 1 {
				h = other
			}
			wg.Go(func() {
				_, r, err := h.ApplyChangeUpdate(ctx, u)
				created[i], errs[i] = r.Created, err
			})
		}
		wg.Wait()
		n := 0
		for i := range events {
			if errs[i] != nil {
				t.Fatalf("ApplyChangeUpdate #%d: %v", i, errs[i])
			}
			if created[i] {
				n++
			}
		}
		if n != 1 {
			t.Errorf("Created reported %d times, want once", n)
		}
		cs, total, err := s.FindChanges(ctx, patchgate.ChangeFilter{})
		if err != nil || total != 1 {
			t.Fatalf("FindChanges = %d changes, %v; want 1", total, err)
		}
		if cs[0].HeadSHA != sha("C") || cs[0].State != patchgate.ChangeMerged {
			t.Errorf("final change head %s state %s, want C merged", cs[0].HeadSHA, cs[0].State)
		}
	})

	t.Run("not found", func(t *testing.T) {
		s := store.NewChangeService(open(t))
		_, err := s.FindChangeByID(ctx, 31337)
		wantCode(t, err, patchgate.ENOTFOUND)
		_, err = s.FindChange(ctx, patchgate.GitHub, "acme/payments", "pr/1")
		wantCode(t, err, patchgate.ENOTFOUND)
	})

	t.Run("find with filters", func(t *testing.T) {
		db := open(t)
		s := store.NewChangeService(db)
		apply := func(u patchgate.ChangeUpdate) *patchgate.Change {
			t.Helper()
			c, _, err := s.ApplyChangeUpdate(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		a := apply(prLifecycle(1)[0])
		b := apply(prLifecycle(2)[3])
		mr := prLifecycle(3)[1]
		mr.Forge, mr.Repo, mr.Kind, mr.SourceBranch = patchgate.GitLab, "acme/platform/api", patchgate.ChangeMergeRequest, "feature"
		c := apply(mr)
		tk, err := store.NewTicketService(db).EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-1"})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.NewLinkService(db).CreateManualLink(ctx, &patchgate.Link{TicketID: tk.ID, ChangeID: a.ID, CreatedBy: "alice"}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			f     patchgate.ChangeFilter
			want  []int64
			total int
		}{
			{name: "all, recently updated first", want: []int64{c.ID, b.ID, a.ID}, total: 3},
			{name: "forge", f: patchgate.ChangeFilter{Forge: ptr(patchgate.GitHub)}, want: []int64{b.ID, a.ID}, total: 2},
			{name: "repo", f: patchgate.ChangeFilter{Repo: ptr("acme/platform/api")}, want: []int64{c.ID}, total: 1},
			{name: "kind", f: patchgate.ChangeFilter{Kind: ptr(patchgate.ChangeMergeRequest)}, want: []int64{c.ID}, total: 1},
			{name: "number", f: patchgate.ChangeFilter{Number: ptr(2)}, want: []int64{b.ID}, total: 1},
			{name: "state", f: patchgate.ChangeFilter{State: ptr(patchgate.ChangeMerged)}, want: []int64{b.ID}, total: 1},
			{name: "branch", f: patchgate.ChangeFilter{SourceBranch: ptr("feature")}, want: []int64{c.ID}, total: 1},
			{name: "head", f: patchgate.ChangeFilter{HeadSHA: ptr(sha("A"))}, want: []int64{a.ID}, total: 1},
			{name: "ticket", f: patchgate.ChangeFilter{TicketID: ptr(tk.ID)}, want: []int64{a.ID}, total: 1},
			{name: "combined", f: patchgate.ChangeFilter{Forge: ptr(patchgate.GitHub), HeadSHA: ptr(sha("C"))}, want: []int64{b.ID}, total: 1},
			{name: "limit", f: patchgate.ChangeFilter{Limit: 2}, want: []int64{c.ID, b.ID}, total: 3},
			{name: "limit over max", f: patchgate.ChangeFilter{Limit: 100000}, want: []int64{c.ID, b.ID, a.ID}, total: 3},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, total, err := s.FindChanges(ctx, tc.f)
				if err != nil {
					t.Fatal(err)
				}
				ids := []int64{}
				for _, c := range got {
					ids = append(ids, c.ID)
				}
				if !slices.Equal(ids, tc.want) || total != tc.total {
					t.Errorf("got %v (total %d), want %v (total %d)", ids, total, tc.want, tc.total)
				}
			})
		}
	})
}
