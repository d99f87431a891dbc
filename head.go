package patchgate

import (
	"cmp"
	"slices"
	"time"
)

// HeadEvent is one piece of evidence about a change's head: an event said the
// head moved from Before to After at At (a push, a synchronize), or, with Before
// empty, only that the head was After at At (opened, edited, labeled).
type HeadEvent struct {
	Before string    `json:"before,omitempty"`
	After  string    `json:"after"`
	At     time.Time `json:"at"`
}

// DeriveHead returns the head a change's evidence points to, and the newest
// time among the evidence. It is a pure function of the set of events: their
// order, and duplicates, do not matter (gate invariant 6).
//
// The moves (Before → After) of a change's life form one walk through its
// commits, and a walk may visit a commit again (a force-push back, A → B → A).
// Whatever the order in which its steps are learnt, the walk ends where more
// steps arrive than leave: counting each move once, the head is the commit
// whose in-degree exceeds its out-degree. That needs no timestamps, so it holds
// for same-second pushes and for forges whose push times are commit times.
//
//   - A walk that returns to its start (every commit balanced) ends where it
//     began: at the first head reported without a move (the opened event), else
//     at the Before of the earliest move.
//   - While moves are missing (a lost delivery), several commits may lead; the
//     one entered most recently wins.
//   - A head reported without a move after every known move (an edit that
//     arrived with a newer forge time) is the head: it saw the walk's end.
//
// Ties that no evidence decides are broken by SHA, so the result is still a
// function of the set.
func DeriveHead(events []HeadEvent) (string, time.Time) {
	type key struct {
		before, after string
		at            int64
	}
	seen := make(map[key]bool, len(events))
	degree := map[string]int{}
	enteredAt := map[string]time.Time{}
	var latest time.Time
	var moves, reports []HeadEvent
	for _, e := range events {
		if e.After == "" {
			continue
		}
		k := key{e.Before, e.After, e.At.UnixMicro()}
		if seen[k] {
			continue
		}
		seen[k] = true
		if e.At.After(latest) {
			latest = e.At
		}
		if e.Before == "" || e.Before == e.After {
			reports = append(reports, HeadEvent{After: e.After, At: e.At})
			continue
		}
		moves = append(moves, e)
		degree[e.After]++
		degree[e.Before]--
		if e.At.After(enteredAt[e.After]) {
			enteredAt[e.After] = e.At
		}
	}

	walkEnd, lastMove := "", time.Time{}
	if len(moves) > 0 {
		var ends []string
		for sha, d := range degree {
			if d > 0 {
				ends = append(ends, sha)
			}
		}
		slices.SortFunc(ends, func(a, b string) int {
			if c := enteredAt[b].Compare(enteredAt[a]); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		if len(ends) > 0 {
			walkEnd = ends[0]
		} else {
			walkEnd = walkStart(moves, reports, degree)
		}
		for _, m := range moves {
			if m.At.After(lastMove) {
				lastMove = m.At
			}
		}
	}

	if len(reports) == 0 {
		return walkEnd, latest
	}
	// The newest report; among reports of the same instant, the one that agrees
	// with the walk, else the smallest SHA.
	report := slices.MinFunc(reports, func(a, b HeadEvent) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		if (a.After == walkEnd) != (b.After == walkEnd) {
			if a.After == walkEnd {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.After, b.After)
	})
	if walkEnd == "" || report.At.After(lastMove) {
		return report.After, latest
	}
	return walkEnd, latest
}

// walkStart is where a closed walk began: the earliest head reported without a
// move that the walk visits, else the Before of the earliest move.
func walkStart(moves, reports []HeadEvent, degree map[string]int) string {
	var start *HeadEvent
	for i, r := range reports {
		if _, visited := degree[r.After]; !visited {
			continue
		}
		if start == nil || r.At.Before(start.At) || r.At.Equal(start.At) && r.After < start.After {
			start = &reports[i]
		}
	}
	if start != nil {
		return start.After
	}
	first := slices.MinFunc(moves, func(a, b HeadEvent) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return cmp.Compare(a.Before, b.Before)
	})
	return first.Before
}
