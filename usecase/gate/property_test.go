package gate_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/patchgate/patchgate"
)

// TestNothingIsPromotedWithoutEvidence builds random histories of
// verifications, reopenings, approvals, withdrawals, new candidates and
// promotion attempts, and checks at every successful promotion that gate
// invariants 3, 4 and 5 held at that moment: the candidate's own SHA and its
// fix's head passed, the fixed ticket was not reopened, a release manager who
// is not the author approved exactly that SHA, and no tag or release was ever
// made twice.
func TestNothingIsPromotedWithoutEvidence(t *testing.T) {
	ctx := context.Background()
	seeds := 40
	if testing.Short() {
		seeds = 8
	}
	promotions := 0
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 99))
			w := newReleaseWorld(t)
			c := w.candidate()
			state := map[string]patchgate.RunState{} // latest verdict per SHA
			reopened := false
			approvers := map[string]bool{}
			promoted := false
			version := 1
			for step := range 30 {
				// Weighted: verifications and approvals are common, new
				// candidates and reopenings rare, as in real histories.
				op := []int{0, 0, 0, 1, 1, 1, 2, 3, 3, 3, 3, 4, 5, 6, 6, 6}[rng.IntN(16)]
				switch op {
				case 0, 1:
					target, id := w.cand, int64(0)
					if op == 1 {
						target, id = w.head, w.pr.ID
					}
					st := patchgate.RunSuccess
					if rng.IntN(3) == 0 {
						st = patchgate.RunFailure
					}
					w.verify(target, id, st)
					state[target] = st
				case 2:
					if rng.IntN(3) == 0 && !reopened {
						w.reopen()
						reopened = true
					}
				case 3:
					who := []string{"alice", "bob", "dev"}[rng.IntN(3)]
					if _, _, err := w.gate.Approve(ctx, c.ID, "", w.person(who), "api"); err == nil {
						approvers[who] = true
					}
				case 4:
					for who := range approvers {
						if rng.IntN(2) == 0 && w.gate.Withdraw(ctx, c.ID, w.person(who)) == nil {
							delete(approvers, who)
						}
					}
				case 5:
					// A new candidate after the promotion would be a second
					// release by design; this property is about one.
					if rng.IntN(3) == 0 && !promoted {
						version++
						next, err := w.cands.CreateCandidate(ctx, patchgate.CandidateRequest{Repo: relRepo, SHA: w.cand, Name: fmt.Sprintf("v1.%d.0", version)}, "ops")
						if err == nil {
							c, approvers = next, map[string]bool{}
						}
					}
				case 6:
					got, err := w.gate.Promote(ctx, c.ID, w.person("alice"))
					if err != nil {
						continue
					}
					if promoted {
						// A retry finishes the same promotion and makes nothing new.
						if got.State != patchgate.CandidatePromoted || got.SHA != w.cand {
							t.Fatalf("step %d: promoting again gave %s at %s", step, got.State, got.SHA)
						}
						continue
					}
					promoted = true
					promotions++
					switch {
					case state[w.cand] != patchgate.RunSuccess:
						t.Fatalf("step %d: promoted with the candidate's own SHA at %q", step, state[w.cand])
					case state[w.head] != patchgate.RunSuccess:
						t.Fatalf("step %d: promoted with the fix's head at %q", step, state[w.head])
					case reopened:
						t.Fatalf("step %d: promoted with PAY-1 reopened", step)
					case approvers["dev"]:
						t.Fatalf("step %d: the author's approval counted", step)
					case !approvers["alice"] && !approvers["bob"]:
						t.Fatalf("step %d: promoted without a live approval", step)
					case got.SHA != w.cand:
						t.Fatalf("step %d: promoted %s, want the candidate's SHA", step, got.SHA)
					}
					if tk, err := w.tickets.FindTicketByID(ctx, w.ticket.ID); err != nil || tk.State != patchgate.TicketReleased {
						t.Fatalf("step %d: after the promotion PAY-1 is %v (%v), want released", step, tk, err)
					}
				}
			}
			tags := w.forge.Tags(relRepo)
			if len(tags) > 1 || len(w.forge.Releases(relRepo)) > 1 {
				t.Fatalf("got tags %v and %d releases, want at most one of each", tags, len(w.forge.Releases(relRepo)))
			}
		})
	}
	t.Logf("%d of %d histories promoted", promotions, seeds)
	if promotions == 0 {
		t.Fatal("no history promoted: the property was never exercised")
	}
}
