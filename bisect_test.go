package patchgate

import (
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBisect(t *testing.T) {
	P, F, B := BisectPassed, BisectFailed, BisectBroken
	tests := []struct {
		name  string
		n     int
		tried map[int]BisectOutcome
		want  BisectStep
	}{
		{"one merge is the culprit without a run", 1, nil, BisectStep{Culprit: 1}},
		{"two merges: try the first", 2, nil, BisectStep{Next: 1}},
		{"two merges, the first passes: the second", 2, map[int]BisectOutcome{1: P}, BisectStep{Culprit: 2}},
		{"two merges, the first fails: the first", 2, map[int]BisectOutcome{1: F}, BisectStep{Culprit: 1}},
		{"eight merges: the middle", 8, nil, BisectStep{Next: 4}},
		{"eight, 4 passes: between 4 and 8", 8, map[int]BisectOutcome{4: P}, BisectStep{Next: 6}},
		{"eight, 4 passes, 6 fails", 8, map[int]BisectOutcome{4: P, 6: F}, BisectStep{Next: 5}},
		{"eight, 4 passes, 6 fails, 5 passes", 8, map[int]BisectOutcome{4: P, 6: F, 5: P}, BisectStep{Culprit: 6}},
		{"a run of the last point (the candidate) is not needed", 3, map[int]BisectOutcome{3: F}, BisectStep{Next: 1}},
		{"a passing last point contradicts the candidate's failure", 3, map[int]BisectOutcome{3: P}, BisectStep{Inconclusive: 3}},
		{"a broken run in the window stops the bisection", 8, map[int]BisectOutcome{4: B}, BisectStep{Inconclusive: 4}},
		{"a broken run outside the window does not matter", 8, map[int]BisectOutcome{2: B, 4: F, 3: P}, BisectStep{Culprit: 4}},
		{"non-monotonic: the lowest failure bounds the search", 8, map[int]BisectOutcome{2: F, 5: P, 6: F}, BisectStep{Next: 1}},
		{"non-monotonic: culprit is the lowest failure above the passes below it", 8, map[int]BisectOutcome{1: P, 2: F, 5: P, 6: F}, BisectStep{Culprit: 2}},
		{"a live run is waited for", 8, map[int]BisectOutcome{4: BisectRunning}, BisectStep{Next: 4, Waiting: true}},
		{"no merges: nothing to bisect", 0, nil, BisectStep{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Bisect(tt.n, tt.tried); got != tt.want {
				t.Errorf("Bisect(%d, %v) = %+v, want %+v", tt.n, tt.tried, got, tt.want)
			}
		})
	}
}

// TestBisectFindsTheFirstFailingPrefix plays the bisection to its end on
// random monotonic histories (every prefix from the culprit on fails): it
// names the culprit in at most ceil(log2 n) runs and never runs a prefix twice.
func TestBisectFindsTheFirstFailingPrefix(t *testing.T) {
	rnd := rand.New(rand.NewPCG(19, uint64(time.Now().UnixNano())))
	for range 2000 {
		n := 1 + rnd.IntN(200)
		culprit := 1 + rnd.IntN(n)
		tried := map[int]BisectOutcome{}
		var runs []int
		for {
			step := Bisect(n, tried)
			if step.Inconclusive != 0 || step.Waiting {
				t.Fatalf("n=%d culprit=%d: %+v after %v", n, culprit, step, runs)
			}
			if step.Culprit != 0 {
				if step.Culprit != culprit {
					t.Fatalf("n=%d: culprit %d, want %d (runs %v)", n, step.Culprit, culprit, runs)
				}
				break
			}
			if step.Next < 1 || step.Next >= n || slices.Contains(runs, step.Next) {
				t.Fatalf("n=%d culprit=%d: next %d after %v", n, culprit, step.Next, runs)
			}
			runs = append(runs, step.Next)
			tried[step.Next] = BisectPassed
			if step.Next >= culprit {
				tried[step.Next] = BisectFailed
			}
		}
		if limit := bits.Len(uint(n - 1)); len(runs) > limit {
			t.Fatalf("n=%d culprit=%d: %d runs %v, want at most %d", n, culprit, len(runs), runs, limit)
		}
	}
}

func TestBisectPoints(t *testing.T) {
	a, b, c := BisectPoint{SHA: "a", Change: "#1"}, BisectPoint{SHA: "b", Change: "#2"}, "c"
	if got := BisectPoints("b", []BisectPoint{a, b}); !slices.Equal(got, []BisectPoint{a, b}) {
		t.Errorf("candidate at the last merge: got %v, want %v", got, []BisectPoint{a, b})
	}
	if got := BisectPoints(c, []BisectPoint{a, b}); !slices.Equal(got, []BisectPoint{a, b, {SHA: c}}) {
		t.Errorf("commits after the last merge: got %v, want the candidate last", got)
	}
}

func TestBisectionBlocker(t *testing.T) {
	culprit := &BisectPoint{SHA: "4b825dc642cb6eb9a060e54bf8d69288fbee4904", Change: "#43", Ticket: "PAY-9"}
	tests := []struct {
		name string
		b    Bisection
		code ReasonCode
		msg  string
	}{
		{"found", Bisection{State: BisectionFound, Points: 4, Culprit: culprit, Tests: []string{"TestLedgerTotals"}},
			ReasonReleaseCulpritFound, "the release fails from #43 (PAY-9) on: TestLedgerTotals"},
		{"running", Bisection{State: BisectionRunning, Points: 4, Reason: "verifying #42 (PAY-7)"},
			ReasonReleaseBisecting, "every fix passed alone but the release fails: bisecting its 4 merges to find the one it fails from (verifying #42 (PAY-7))"},
		{"found without a culprit", Bisection{State: BisectionFound, Points: 4},
			ReasonReleaseBisectStopped, "the bisection of its 4 merges ended found but names no merge: restart it"},
		{"canceled", Bisection{State: BisectionCanceled, Points: 4, Reason: "canceled by alice"},
			ReasonReleaseBisectStopped, "the bisection of its 4 merges ended canceled: canceled by alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BisectionBlocker(&tt.b)
			if got.Code != tt.code || got.Message != tt.msg || got.Action == "" {
				t.Errorf("got %+v, want code %s, message %q and an action", got, tt.code, tt.msg)
			}
		})
	}
	if got := BisectionBlocker(&tests[0].b); got.Ticket != "PAY-9" || got.Change != "#43" {
		t.Errorf("culprit blocker is about %s %s, want PAY-9 #43", got.Ticket, got.Change)
	}
}
