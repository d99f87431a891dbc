package patchgate_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

func TestDeriveHead(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	move := func(before, after string, s int) patchgate.HeadEvent {
		return patchgate.HeadEvent{Before: before, After: after, At: at(s)}
	}
	report := func(sha string, s int) patchgate.HeadEvent { return patchgate.HeadEvent{After: sha, At: at(s)} }
	tests := []struct {
		name   string
		events []patchgate.HeadEvent
		want   string
	}{
		{"nothing", nil, ""},
		{"opened", []patchgate.HeadEvent{report(shaA, 0)}, shaA},
		{"one push", []patchgate.HeadEvent{report(shaA, 0), move(shaA, shaB, 1)}, shaB},
		{"force-push back to an earlier head", []patchgate.HeadEvent{report(shaA, 0), move(shaA, shaB, 1), move(shaB, shaA, 2)}, shaA},
		{"back and forth in one second", []patchgate.HeadEvent{report(shaA, 0), move(shaA, shaB, 1), move(shaB, shaA, 1), move(shaA, shaC, 1)}, shaC},
		{"closed walk without a report starts at the earliest move", []patchgate.HeadEvent{move(shaA, shaB, 1), move(shaB, shaA, 2)}, shaA},
		// A push's time may be its head commit's (GitLab): moving back to an old
		// commit then carries an old time, and the walk still decides.
		{"move back with an older time", []patchgate.HeadEvent{report(shaA, 5), move(shaA, shaB, 7), move(shaB, shaA, 1)}, shaA},
		{"a move whose before is the head advances it", []patchgate.HeadEvent{report(shaA, 0), move(shaA, shaB, 1), move(shaB, shaC, 2), move(shaC, shaB, 3)}, shaB},
		// Reports come with pull/merge request events, whose times are the
		// forge's own: one newer than every move saw the head after them.
		{"a report newer than a move away from it", []patchgate.HeadEvent{report(shaB, 9), move(shaB, shaC, 3)}, shaB},
		{"missing move: the commit entered last leads", []patchgate.HeadEvent{report(shaA, 0), move(shaA, shaB, 1), move(shaC, shaM, 3)}, shaM},
		{"a report newer than every move saw the end", []patchgate.HeadEvent{report(shaA, 0), move(shaA, shaB, 1), report(shaC, 2)}, shaC},
		{"a report as old as the last move does not override it", []patchgate.HeadEvent{report(shaA, 0), move(shaA, shaB, 1), move(shaB, shaC, 1), report(shaB, 1)}, shaC},
		{"an older report changes nothing", []patchgate.HeadEvent{report(shaB, 3), report(shaA, 1)}, shaB},
		{"replayed moves count once", []patchgate.HeadEvent{report(shaA, 0), move(shaA, shaB, 1), move(shaA, shaB, 1), move(shaB, shaA, 2)}, shaA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := patchgate.DeriveHead(tt.events)
			if got != tt.want {
				t.Fatalf("got %q, want %q", short(got), short(tt.want))
			}
		})
	}
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// headHistory is a random life of a pull request as a model knows it: opened
// on a commit, then pushes (force-pushes included) that often go back to a
// commit it had before, some in the same second, with label or edit events that
// report the head in between. It returns the events the forge would send and
// the head the change really ends on.
func headHistory(rng *rand.Rand) ([]patchgate.ChangeUpdate, string) {
	pool := []string{shaA, shaB, shaC, shaM, "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"}
	t := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	base := patchgate.ChangeUpdate{Forge: patchgate.GitHub, Repo: "acme/payments", Kind: patchgate.ChangePullRequest, Number: 7}
	head := pool[rng.IntN(len(pool))]
	open := base
	open.HeadSHA, open.UpdatedAt, open.State = head, t, patchgate.ChangeOpen
	events := []patchgate.ChangeUpdate{open}
	type move struct {
		before, after string
		at            time.Time
	}
	moves := map[move]bool{}
	for range 1 + rng.IntN(8) {
		// Pushes may share a second; the first comes at least a second after the
		// opening, since a report and a closed walk in one second are ambiguous.
		if len(events) == 1 || rng.IntN(3) > 0 {
			t = t.Add(time.Duration(1+rng.IntN(60)) * time.Second)
		}
		next := pool[rng.IntN(len(pool))]
		for next == head {
			next = pool[rng.IntN(len(pool))]
		}
		m := move{head, next, t}
		if moves[m] {
			// The same move twice in one second is, to anyone, a replay.
			continue
		}
		moves[m] = true
		push := base
		push.PreviousHeadSHA, push.HeadSHA, push.UpdatedAt = head, next, t
		events = append(events, push)
		head = next
		if rng.IntN(3) == 0 {
			label := base
			label.HeadSHA, label.UpdatedAt = head, t
			events = append(events, label)
		}
	}
	return events, head
}

// TestHeadAnyOrderWithRevisits is gate invariant 6 for heads that come back:
// every random history, delivered in any order with replays, ends on the head
// the model says the change is on.
func TestHeadAnyOrderWithRevisits(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	revisits := 0
	for i := range 3000 {
		events, want := headHistory(rng)
		seen := map[string]bool{}
		for _, e := range events {
			if e.PreviousHeadSHA != "" && seen[e.HeadSHA] {
				revisits++
				break
			}
			seen[e.HeadSHA] = true
		}
		rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
		for range rng.IntN(3) {
			events = append(events, events[rng.IntN(len(events))])
		}
		if got := applyAll(events); got.HeadSHA != want {
			var trace string
			for _, e := range events {
				trace += fmt.Sprintf("\n  %s → %s at %s", short(e.PreviousHeadSHA), short(e.HeadSHA), e.UpdatedAt.Format("15:04:05"))
			}
			t.Fatalf("history %d: got head %s, want %s; events:%s", i, short(got.HeadSHA), short(want), trace)
		}
	}
	if revisits < 1000 {
		t.Fatalf("only %d of 3000 histories revisit a head; the property needs many", revisits)
	}
}
