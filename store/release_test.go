package store_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// newCandidate is a candidate of repo on GitHub at the commit named commit.
func newCandidate(repo, name, commit string, items ...*patchgate.CandidateItem) *patchgate.Candidate {
	return &patchgate.Candidate{Forge: patchgate.GitHub, Repo: repo, Branch: "main", SHA: sha(commit), Name: name,
		BaseSHA: sha("base"), CreatedBy: "alice", Items: items}
}

// mustCreateCandidate stores c and fails unless it was created open.
func mustCreateCandidate(t *testing.T, s *store.ReleaseService, c *patchgate.Candidate) *patchgate.Candidate {
	t.Helper()
	if err := s.CreateCandidate(context.Background(), c); err != nil {
		t.Fatalf("CreateCandidate(%s %s): %v", c.Repo, c.Name, err)
	}
	if c.ID == 0 || c.State != patchgate.CandidateOpen || c.CreatedAt.IsZero() {
		t.Fatalf("created candidate = id %d, state %s, created %v; want an id, open, a time", c.ID, c.State, c.CreatedAt)
	}
	return c
}

// mustFindCandidate returns the stored candidate id.
func mustFindCandidate(t *testing.T, s *store.ReleaseService, id int64) *patchgate.Candidate {
	t.Helper()
	c, err := s.FindCandidateByID(context.Background(), id)
	if err != nil {
		t.Fatalf("FindCandidateByID(%d): %v", id, err)
	}
	return c
}

// userIDs are the test people's forge user ids: an approval counts only with
// its approver's id (patchgate.Approval.NamesPerson).
var userIDs = map[string]int64{"bob": 2, "dave": 4, "erin": 5, "frank": 6}

// candidateIn stores a candidate v1.0.0 of repo at commit A that bob (id 2)
// approved through a token and brings it to state: superseded by v1.0.1, promoting or promoted by carol.
func candidateIn(t *testing.T, s *store.ReleaseService, repo string, state patchgate.CandidateState) *patchgate.Candidate {
	t.Helper()
	ctx := context.Background()
	c := mustCreateCandidate(t, s, newCandidate(repo, "v1.0.0", "A"))
	if _, err := s.AddApproval(ctx, &patchgate.Approval{CandidateID: c.ID, SHA: c.SHA, Approver: "bob", ApproverID: userIDs["bob"], Token: "tok-bob", Via: "api"}); err != nil {
		t.Fatalf("AddApproval: %v", err)
	}
	switch state {
	case patchgate.CandidateOpen:
	case patchgate.CandidateSuperseded:
		mustCreateCandidate(t, s, newCandidate(repo, "v1.0.1", "B"))
	case patchgate.CandidatePromoting, patchgate.CandidatePromoted:
		if _, err := s.BeginPromotion(ctx, c.ID, "carol", 0); err != nil {
			t.Fatalf("BeginPromotion: %v", err)
		}
		if state == patchgate.CandidatePromoted {
			if err := s.FinishPromotion(ctx, c.ID, "https://github.com/"+repo+"/releases/v1.0.0"); err != nil {
				t.Fatalf("FinishPromotion: %v", err)
			}
		}
	default:
		t.Fatalf("candidateIn: unknown state %q", state)
	}
	got := mustFindCandidate(t, s, c.ID)
	if got.State != state {
		t.Fatalf("candidateIn: state %s, want %s", got.State, state)
	}
	return got
}

// candidateStates are the states candidateIn brings a candidate to.
var candidateStates = []patchgate.CandidateState{patchgate.CandidateOpen, patchgate.CandidateSuperseded,
	patchgate.CandidatePromoting, patchgate.CandidatePromoted}

func testReleases(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()

	t.Run("create supersedes open candidates, not promoting ones", func(t *testing.T) {
		s := store.NewReleaseService(open(t))
		inFlight := mustCreateCandidate(t, s, newCandidate("acme/payments", "v1.0.0", "A"))
		if _, err := s.BeginPromotion(ctx, inFlight.ID, "carol", 0); err != nil {
			t.Fatal(err)
		}
		older := mustCreateCandidate(t, s, newCandidate("acme/payments", "v1.1.0", "B"))
		otherRepo := mustCreateCandidate(t, s, newCandidate("acme/other", "v1.1.0", "B"))
		gitlab := newCandidate("acme/payments", "v1.1.0", "B")
		gitlab.Forge = patchgate.GitLab
		mustCreateCandidate(t, s, gitlab)
		newest := mustCreateCandidate(t, s, newCandidate("acme/payments", "v1.2.0", "C"))
		for _, tc := range []struct {
			name string
			id   int64
			want patchgate.CandidateState
		}{
			{"promotion in flight", inFlight.ID, patchgate.CandidatePromoting},
			{"older open", older.ID, patchgate.CandidateSuperseded},
			{"other repository", otherRepo.ID, patchgate.CandidateOpen},
			{"same name on another forge", gitlab.ID, patchgate.CandidateOpen},
			{"newest", newest.ID, patchgate.CandidateOpen},
		} {
			if got := mustFindCandidate(t, s, tc.id).State; got != tc.want {
				t.Errorf("%s: state %s, want %s", tc.name, got, tc.want)
			}
		}
	})

	t.Run("items round-trip with changes and tickets", func(t *testing.T) {
		db := open(t)
		s := store.NewReleaseService(db)
		changes, tickets := store.NewChangeService(db), store.NewTicketService(db)
		ch1, ch2 := mustChange(t, db, 1), mustChange(t, db, 2)
		var ts []*patchgate.Ticket
		for _, key := range []string{"PAY-1", "PAY-2"} {
			tk, err := tickets.EnsureTicket(ctx, &patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: key, Labels: []string{"bug"}})
			if err != nil {
				t.Fatal(err)
			}
			ts = append(ts, tk)
		}
		items := []*patchgate.CandidateItem{{ChangeID: ch2}, {ChangeID: ch1, TicketID: ts[1].ID}, {ChangeID: ch1, TicketID: ts[0].ID}}
		c := mustCreateCandidate(t, s, newCandidate("acme/payments", "v1.0.0", "A", items...))

		got := mustFindCandidate(t, s, c.ID)
		if got.Forge != c.Forge || got.Repo != c.Repo || got.Branch != "main" || got.SHA != c.SHA || got.Name != "v1.0.0" ||
			got.State != patchgate.CandidateOpen || got.BaseSHA != sha("base") || got.CreatedBy != "alice" ||
			!got.CreatedAt.Equal(c.CreatedAt) || got.PromotedBy != "" || got.PromotedAt != nil || got.ReleaseURL != "" {
			t.Errorf("stored candidate = %+v, want %+v", got, c)
		}
		if got.Approvals == nil || len(got.Approvals) != 0 {
			t.Errorf("approvals = %#v, want empty", got.Approvals)
		}
		if len(got.Items) != len(items) {
			t.Fatalf("got %d items, want %d", len(got.Items), len(items))
		}
		for i, want := range items {
			it := got.Items[i]
			if it.ChangeID != want.ChangeID || it.TicketID != want.TicketID {
				t.Errorf("item %d = change %d ticket %d, want change %d ticket %d (in the order given)",
					i, it.ChangeID, it.TicketID, want.ChangeID, want.TicketID)
			}
			wantChange, err := changes.FindChangeByID(ctx, want.ChangeID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(it.Change, wantChange) {
				t.Errorf("item %d change:\n got %+v\nwant %+v", i, it.Change, wantChange)
			}
			if want.TicketID == 0 {
				if it.Ticket != nil {
					t.Errorf("item %d ticket = %+v, want nil", i, it.Ticket)
				}
				continue
			}
			wantTicket, err := tickets.FindTicketByID(ctx, want.TicketID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(it.Ticket, wantTicket) {
				t.Errorf("item %d ticket:\n got %+v\nwant %+v", i, it.Ticket, wantTicket)
			}
		}
		_, err := s.FindCandidateByID(ctx, c.ID+1000)
		wantCode(t, err, patchgate.ENOTFOUND)
	})

	t.Run("invalid candidates change nothing", func(t *testing.T) {
		db := open(t)
		s := store.NewReleaseService(db)
		ch := mustChange(t, db, 1)
		for _, tc := range []struct {
			name string
			c    *patchgate.Candidate
			code string
		}{
			{"bad commit", &patchgate.Candidate{Forge: patchgate.GitHub, Repo: "acme/payments", SHA: "main", Name: "v2"}, patchgate.EINVALID},
			{"no name", newCandidate("acme/payments", "", "B"), patchgate.EINVALID},
			{"item without change", newCandidate("acme/payments", "v2", "B", &patchgate.CandidateItem{TicketID: 1}), patchgate.EINVALID},
			{"item twice", newCandidate("acme/payments", "v2", "B", &patchgate.CandidateItem{ChangeID: ch},
				&patchgate.CandidateItem{ChangeID: ch}), patchgate.EINVALID},
			{"unknown change", newCandidate("acme/payments", "v2", "B", &patchgate.CandidateItem{ChangeID: ch},
				&patchgate.CandidateItem{ChangeID: ch + 1000}), patchgate.EINVALID},
			{"unknown ticket", newCandidate("acme/payments", "v2", "B", &patchgate.CandidateItem{ChangeID: ch, TicketID: 1000}), patchgate.EINVALID},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := mustCreateCandidate(t, s, newCandidate("acme/payments", "v1-"+tc.name, "A"))
				wantCode(t, s.CreateCandidate(ctx, tc.c), tc.code)
				if tc.c.ID != 0 {
					t.Errorf("failed create set id %d", tc.c.ID)
				}
				if got := mustFindCandidate(t, s, before.ID).State; got != patchgate.CandidateOpen {
					t.Errorf("open candidate after a failed create is %s, want open (rolled back)", got)
				}
			})
		}
	})

	t.Run("find candidates newest first", func(t *testing.T) {
		s := store.NewReleaseService(open(t))
		a1 := mustCreateCandidate(t, s, newCandidate("acme/a", "v1", "A"))
		a2 := mustCreateCandidate(t, s, newCandidate("acme/a", "v2", "B"))
		b1 := mustCreateCandidate(t, s, newCandidate("acme/b", "v1", "A"))
		ids := func(cs []*patchgate.Candidate) []int64 {
			out := []int64{}
			for _, c := range cs {
				out = append(out, c.ID)
				if c.Items != nil || c.Approvals != nil {
					t.Errorf("FindCandidates loaded items or approvals of %d", c.ID)
				}
			}
			return out
		}
		for _, tc := range []struct {
			name  string
			f     patchgate.CandidateFilter
			want  []int64
			total int
		}{
			{"all", patchgate.CandidateFilter{}, []int64{b1.ID, a2.ID, a1.ID}, 3},
			{"repo", patchgate.CandidateFilter{Repo: ptr("acme/a")}, []int64{a2.ID, a1.ID}, 2},
			{"state", patchgate.CandidateFilter{State: ptr(patchgate.CandidateOpen)}, []int64{b1.ID, a2.ID}, 2},
			{"forge", patchgate.CandidateFilter{Forge: ptr(patchgate.GitLab)}, []int64{}, 0},
			{"page", patchgate.CandidateFilter{Offset: 1, Limit: 1}, []int64{a2.ID}, 3},
		} {
			cs, total, err := s.FindCandidates(ctx, tc.f)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if got := ids(cs); !slices.Equal(got, tc.want) || total != tc.total {
				t.Errorf("%s: got %v total %d, want %v total %d", tc.name, got, total, tc.want, tc.total)
			}
		}
	})

	t.Run("name reuse", func(t *testing.T) {
		s := store.NewReleaseService(open(t))
		for _, tc := range []struct {
			state patchgate.CandidateState
			code  string // "" when the name may be reused
		}{
			{patchgate.CandidateOpen, ""}, // re-cut before tagging: supersedes it
			{patchgate.CandidateSuperseded, ""},
			{patchgate.CandidatePromoting, patchgate.ECONFLICT},
			{patchgate.CandidatePromoted, patchgate.ECONFLICT},
		} {
			t.Run(string(tc.state), func(t *testing.T) {
				repo := "acme/reuse-" + string(tc.state)
				old := candidateIn(t, s, repo, tc.state)
				again := newCandidate(repo, old.Name, "C")
				err := s.CreateCandidate(ctx, again)
				if tc.code != "" {
					wantConflict(t, err, fmt.Sprintf("taken by candidate %d (%s)", old.ID, tc.state))
					mustCreateCandidate(t, s, newCandidate("acme/elsewhere-"+string(tc.state), old.Name, "C"))
					return
				}
				if err != nil {
					t.Fatalf("CreateCandidate(%s) = %v, want the name free", old.Name, err)
				}
				if got := mustFindCandidate(t, s, old.ID).State; got != patchgate.CandidateSuperseded {
					t.Errorf("old candidate is %s, want superseded", got)
				}
			})
		}
	})

	t.Run("approve", func(t *testing.T) {
		s := store.NewReleaseService(open(t))
		cands := map[patchgate.CandidateState]*patchgate.Candidate{}
		for _, st := range candidateStates {
			cands[st] = candidateIn(t, s, "acme/approve-"+string(st), st)
		}
		c := cands[patchgate.CandidateOpen] // bob approved it already
		for _, tc := range []struct {
			name     string
			a        patchgate.Approval
			want     int
			code, ws string
		}{
			{name: "second approver", a: patchgate.Approval{CandidateID: c.ID, SHA: c.SHA, Approver: "dave", ApproverID: 4, Token: "tok-dave"}, want: 2},
			{name: "third approver", a: patchgate.Approval{CandidateID: c.ID, SHA: c.SHA, Approver: "erin", ApproverID: 5, Via: "comment"}, want: 3},
			{name: "an approver without an id is recorded but does not count", a: patchgate.Approval{CandidateID: c.ID, SHA: c.SHA, Approver: "gina", Token: "tok-gina"}, want: 3},
			{name: "duplicate", a: patchgate.Approval{CandidateID: c.ID, SHA: c.SHA, Approver: "dave", ApproverID: 4, Token: "tok-dave"},
				code: patchgate.ECONFLICT, ws: "dave (id 4) already approved"},
			{name: "stale commit", a: patchgate.Approval{CandidateID: c.ID, SHA: sha("Z"), Approver: "frank"},
				code: patchgate.ECONFLICT, ws: "is at " + c.SHA},
			{name: "superseded", a: patchgate.Approval{CandidateID: cands[patchgate.CandidateSuperseded].ID, SHA: sha("A"), Approver: "dave"},
				code: patchgate.ECONFLICT, ws: "is superseded"},
			{name: "promoting", a: patchgate.Approval{CandidateID: cands[patchgate.CandidatePromoting].ID, SHA: sha("A"), Approver: "dave"},
				code: patchgate.ECONFLICT, ws: "is promoting"},
			{name: "promoted", a: patchgate.Approval{CandidateID: cands[patchgate.CandidatePromoted].ID, SHA: sha("A"), Approver: "dave"},
				code: patchgate.ECONFLICT, ws: "is promoted"},
			{name: "no approver", a: patchgate.Approval{CandidateID: c.ID, SHA: c.SHA}, code: patchgate.EINVALID},
			{name: "not a commit", a: patchgate.Approval{CandidateID: c.ID, SHA: "main", Approver: "frank"}, code: patchgate.EINVALID},
			{name: "unknown candidate", a: patchgate.Approval{CandidateID: c.ID + 1000, SHA: c.SHA, Approver: "frank"}, code: patchgate.ENOTFOUND},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a := tc.a
				n, err := s.AddApproval(ctx, &a)
				if tc.code != "" {
					wantCode(t, err, tc.code)
					if !strings.Contains(err.Error(), tc.ws) {
						t.Errorf("error %q does not say %q", err, tc.ws)
					}
					return
				}
				if err != nil || n != tc.want {
					t.Fatalf("AddApproval = %d, %v; want %d, nil", n, err, tc.want)
				}
				if a.ID == 0 || a.CreatedAt.IsZero() {
					t.Errorf("approval = %+v, want an id and a time", a)
				}
			})
		}
		got := mustFindCandidate(t, s, c.ID).Approvals
		var who []string
		for i, a := range got {
			who = append(who, a.Approver)
			if a.CandidateID != c.ID || a.SHA != c.SHA || a.WithdrawnAt != nil || (i > 0 && a.ID <= got[i-1].ID) {
				t.Errorf("approval %d = %+v", i, a)
			}
		}
		if want := []string{"bob", "dave", "erin", "gina"}; !slices.Equal(who, want) {
			t.Errorf("approvers = %v, want %v in order", who, want)
		}
		if got[2].Via != "comment" {
			t.Errorf("erin's approval via %q, want comment", got[2].Via)
		}
	})

	t.Run("approvers are user ids", func(t *testing.T) {
		s := store.NewReleaseService(open(t))
		// bob approved it before ids were pinned: his row names a login only
		// and does not count.
		c := mustCreateCandidate(t, s, newCandidate("acme/approve-ids", "v1.0.0", "A"))
		if n, err := s.AddApproval(ctx, &patchgate.Approval{CandidateID: c.ID, SHA: c.SHA, Approver: "bob", Token: "tok-bob", Via: "api"}); err != nil || n != 0 {
			t.Fatalf("AddApproval(bob without an id) = %d, %v; want 0, nil", n, err)
		}
		for _, tc := range []struct {
			name     string
			a        patchgate.Approval
			want     int
			code, ws string
		}{
			{name: "alice", a: patchgate.Approval{Approver: "alice", ApproverID: 11, Token: "laptop"}, want: 1},
			{name: "alice under a new login", a: patchgate.Approval{Approver: "alice-renamed", ApproverID: 11, Via: "comment"},
				code: patchgate.ECONFLICT, ws: "alice-renamed (id 11) already approved candidate"},
			{name: "another account under alice's released login", a: patchgate.Approval{Approver: "alice", ApproverID: 99, Token: "new"}, want: 2},
			{name: "bob's login with an id: the login decides while bob's id is unknown", a: patchgate.Approval{Approver: "bob", ApproverID: 12, Token: "b"},
				code: patchgate.ECONFLICT, ws: "bob (id 12) already approved"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a := tc.a
				a.CandidateID, a.SHA = c.ID, c.SHA
				n, err := s.AddApproval(ctx, &a)
				if tc.code != "" {
					wantCode(t, err, tc.code)
					if err == nil || !strings.Contains(err.Error(), tc.ws) {
						t.Errorf("error %v does not say %q", err, tc.ws)
					}
					return
				}
				if err != nil || n != tc.want {
					t.Fatalf("AddApproval = %d, %v; want %d, nil", n, err, tc.want)
				}
			})
		}
		// Withdrawing is the person's, under whichever login.
		if err := s.WithdrawApproval(ctx, c.ID, patchgate.ForgeUser{Login: "alice-renamed", UserID: 11}); err != nil {
			t.Fatalf("alice withdraws under her new login: %v", err)
		}
		var live []string
		for _, a := range mustFindCandidate(t, s, c.ID).Approvals {
			if a.WithdrawnAt == nil {
				live = append(live, fmt.Sprintf("%s#%d", a.Approver, a.ApproverID))
			}
		}
		if want := []string{"bob#0", "alice#99"}; !slices.Equal(live, want) {
			t.Errorf("live approvals = %v, want %v", live, want)
		}
	})

	t.Run("concurrent approvals", func(t *testing.T) {
		db := open(t)
		other := reopen(t, db) // a second process, as far as the database knows
		other.Now = db.Now
		services := []*store.ReleaseService{store.NewReleaseService(db), store.NewReleaseService(other)}
		for _, tc := range []struct {
			name       string
			approvers  [2]string
			wantCounts []int
		}{
			{"different approvers", [2]string{"bob", "dave"}, []int{1, 2}},
			{"same approver", [2]string{"bob", "bob"}, []int{1}}, // and one ECONFLICT
		} {
			t.Run(tc.name, func(t *testing.T) {
				for round := range 10 {
					c := mustCreateCandidate(t, services[0], newCandidate(fmt.Sprintf("acme/race-%d", round), "v1", "A"))
					counts, errs := make([]int, 2), make([]error, 2)
					start := make(chan struct{})
					var wg sync.WaitGroup
					for i, s := range services {
						wg.Go(func() {
							<-start
							counts[i], errs[i] = s.AddApproval(ctx, &patchgate.Approval{CandidateID: c.ID, SHA: c.SHA,
								Approver: tc.approvers[i], ApproverID: userIDs[tc.approvers[i]], Token: "tok-" + tc.approvers[i], Via: "api"})
						})
					}
					close(start)
					wg.Wait()
					var got []int
					for i, err := range errs {
						switch patchgate.ErrorCode(err) {
						case "":
							got = append(got, counts[i])
						case patchgate.ECONFLICT:
							if tc.approvers[0] != tc.approvers[1] {
								t.Errorf("round %d: approval %d: %v", round, i, err)
							}
						default:
							t.Fatalf("round %d: approval %d: %v", round, i, err)
						}
					}
					slices.Sort(got)
					if !slices.Equal(got, tc.wantCounts) {
						t.Errorf("round %d: counts %v, want %v", round, got, tc.wantCounts)
					}
					if n := len(mustFindCandidate(t, services[0], c.ID).Approvals); n != len(tc.wantCounts) {
						t.Errorf("round %d: %d approval rows, want %d", round, n, len(tc.wantCounts))
					}
				}
			})
		}
	})

	t.Run("withdraw then approve again", func(t *testing.T) {
		s := store.NewReleaseService(open(t))
		c := candidateIn(t, s, "acme/payments", patchgate.CandidateOpen) // bob approved
		approve := func(who string, want int) {
			t.Helper()
			if n, err := s.AddApproval(ctx, &patchgate.Approval{CandidateID: c.ID, SHA: c.SHA, Approver: who, ApproverID: userIDs[who], Token: "tok-" + who}); err != nil || n != want {
				t.Fatalf("AddApproval(%s) = %d, %v; want %d, nil", who, n, err, want)
			}
		}
		approve("dave", 2)
		if err := s.WithdrawApproval(ctx, c.ID, patchgate.ForgeUser{Login: "bob"}); err != nil {
			t.Fatalf("WithdrawApproval: %v", err)
		}
		wantCode(t, s.WithdrawApproval(ctx, c.ID, patchgate.ForgeUser{Login: "bob"}), patchgate.ENOTFOUND)
		wantCode(t, s.WithdrawApproval(ctx, c.ID, patchgate.ForgeUser{Login: "nobody"}), patchgate.ENOTFOUND)
		wantCode(t, s.WithdrawApproval(ctx, c.ID+1000, patchgate.ForgeUser{Login: "bob"}), patchgate.ENOTFOUND)
		approve("erin", 2) // the withdrawn approval no longer counts
		approve("bob", 3)
		var got []string
		for _, a := range mustFindCandidate(t, s, c.ID).Approvals {
			got = append(got, fmt.Sprintf("%s withdrawn=%v", a.Approver, a.WithdrawnAt != nil))
		}
		want := []string{"bob withdrawn=true", "dave withdrawn=false", "erin withdrawn=false", "bob withdrawn=false"}
		if !slices.Equal(got, want) {
			t.Errorf("approvals = %v, want %v", got, want)
		}
	})

	t.Run("withdraw by state", func(t *testing.T) {
		s := store.NewReleaseService(open(t))
		for _, tc := range []struct {
			state patchgate.CandidateState
			code  string
		}{
			{patchgate.CandidateOpen, ""},
			{patchgate.CandidateSuperseded, ""},
			{patchgate.CandidatePromoting, patchgate.ECONFLICT},
			{patchgate.CandidatePromoted, patchgate.ECONFLICT},
		} {
			t.Run(string(tc.state), func(t *testing.T) {
				c := candidateIn(t, s, "acme/withdraw-"+string(tc.state), tc.state)
				err := s.WithdrawApproval(ctx, c.ID, patchgate.ForgeUser{Login: "bob"})
				wantCode(t, err, tc.code)
				live := mustFindCandidate(t, s, c.ID).Approvals[0].WithdrawnAt == nil
				if live != (tc.code != "") {
					t.Errorf("bob's approval live = %v after withdraw returned %v", live, err)
				}
			})
		}
	})

	t.Run("begin promotion", func(t *testing.T) {
		s := store.NewReleaseService(open(t))
		for _, tc := range []struct {
			state  patchgate.CandidateState
			want   patchgate.CandidateState
			wantBy string
			code   string
		}{
			{state: patchgate.CandidateOpen, want: patchgate.CandidatePromoting, wantBy: "erin"},
			{state: patchgate.CandidatePromoting, want: patchgate.CandidatePromoting, wantBy: "carol"},
			{state: patchgate.CandidatePromoted, want: patchgate.CandidatePromoted, wantBy: "carol"},
			{state: patchgate.CandidateSuperseded, code: patchgate.ECONFLICT},
		} {
			t.Run(string(tc.state), func(t *testing.T) {
				c := candidateIn(t, s, "acme/begin-"+string(tc.state), tc.state)
				for try := range 2 { // a retry returns the same
					got, err := s.BeginPromotion(ctx, c.ID, "erin", 0)
					if tc.code != "" {
						wantConflict(t, err, "superseded")
						continue
					}
					if err != nil {
						t.Fatalf("try %d: BeginPromotion: %v", try, err)
					}
					if got.State != tc.want || got.PromotedBy != tc.wantBy || len(got.Approvals) != 1 || got.Items == nil {
						t.Errorf("try %d: BeginPromotion = state %s by %q, %d approvals, items %v; want %s by %q, 1, loaded",
							try, got.State, got.PromotedBy, len(got.Approvals), got.Items, tc.want, tc.wantBy)
					}
					if stored := mustFindCandidate(t, s, c.ID); !reflect.DeepEqual(stored, got) {
						t.Errorf("try %d: stored\n %+v\nreturned\n %+v", try, stored, got)
					}
				}
			})
		}
		_, err := s.BeginPromotion(ctx, 1000, "erin", 0)
		wantCode(t, err, patchgate.ENOTFOUND)
		_, err = s.BeginPromotion(ctx, 1, "", 0)
		wantCode(t, err, patchgate.EINVALID)
	})

	t.Run("a withdrawal racing a promotion", func(t *testing.T) {
		// bob and dave approved, two are needed: bob withdraws while carol
		// promotes. One of them wins; the candidate never begins promoting
		// with bob's approval withdrawn.
		s := store.NewReleaseService(open(t))
		for i := range 20 {
			c := mustCreateCandidate(t, s, newCandidate("acme/race", fmt.Sprintf("v1.0.%d", i), fmt.Sprintf("R%d", i)))
			for _, who := range []string{"bob", "dave"} {
				if _, err := s.AddApproval(ctx, &patchgate.Approval{CandidateID: c.ID, SHA: c.SHA, Approver: who, ApproverID: userIDs[who], Token: "tok-" + who, Via: "api"}); err != nil {
					t.Fatalf("AddApproval: %v", err)
				}
			}
			var wg sync.WaitGroup
			var withdrawErr, promoteErr error
			start := make(chan struct{})
			wg.Go(func() { <-start; withdrawErr = s.WithdrawApproval(ctx, c.ID, patchgate.ForgeUser{Login: "bob"}) })
			wg.Go(func() { <-start; _, promoteErr = s.BeginPromotion(ctx, c.ID, "carol", 2) })
			close(start)
			wg.Wait()
			if (withdrawErr == nil) == (promoteErr == nil) {
				t.Fatalf("race %d: withdraw returned %v, promotion %v; want exactly one to succeed", i, withdrawErr, promoteErr)
			}
			got := mustFindCandidate(t, s, c.ID)
			if got.State == patchgate.CandidatePromoting && !patchgate.EnoughApprovals(got, 2) {
				t.Fatalf("race %d: promoting with approvers %v, want 2", i, got.Approvers())
			}
			if promoteErr != nil {
				wantConflict(t, promoteErr, "1 of the 2 approvals")
			}
			if got.State == patchgate.CandidatePromoting {
				// The next candidate supersedes nothing in flight.
				if err := s.FinishPromotion(ctx, c.ID, "https://example.com/r"); err != nil {
					t.Fatalf("FinishPromotion: %v", err)
				}
			}
		}
	})

	t.Run("finish promotion", func(t *testing.T) {
		s := store.NewReleaseService(open(t))
		for _, tc := range []struct {
			state   patchgate.CandidateState
			code    string
			wantURL string
		}{
			{state: patchgate.CandidatePromoting, wantURL: "https://example.com/first"},
			// candidateIn finished it with its own URL; a late finish keeps it.
			{state: patchgate.CandidatePromoted, wantURL: "https://github.com/acme/finish-promoted/releases/v1.0.0"},
			{state: patchgate.CandidateOpen, code: patchgate.ECONFLICT},
			{state: patchgate.CandidateSuperseded, code: patchgate.ECONFLICT},
		} {
			t.Run(string(tc.state), func(t *testing.T) {
				c := candidateIn(t, s, "acme/finish-"+string(tc.state), tc.state)
				err := s.FinishPromotion(ctx, c.ID, "https://example.com/first")
				if tc.code != "" {
					wantConflict(t, err, "is "+string(tc.state))
					if got := mustFindCandidate(t, s, c.ID); got.State != tc.state || got.PromotedAt != nil {
						t.Errorf("after a refused finish: state %s, promoted at %v", got.State, got.PromotedAt)
					}
					return
				}
				if err != nil {
					t.Fatalf("FinishPromotion: %v", err)
				}
				first := mustFindCandidate(t, s, c.ID)
				if first.State != patchgate.CandidatePromoted || first.PromotedAt == nil || first.ReleaseURL != tc.wantURL ||
					first.PromotedBy != "carol" {
					t.Errorf("finished = state %s at %v url %q by %q; want promoted, a time, %q, carol",
						first.State, first.PromotedAt, first.ReleaseURL, first.PromotedBy, tc.wantURL)
				}
				if err := s.FinishPromotion(ctx, c.ID, "https://example.com/second"); err != nil {
					t.Fatalf("second FinishPromotion: %v", err)
				}
				if again := mustFindCandidate(t, s, c.ID); !reflect.DeepEqual(again, first) {
					t.Errorf("second finish changed the candidate:\n got %+v\nwant %+v", again, first)
				}
			})
		}
		wantCode(t, s.FinishPromotion(ctx, 1000, ""), patchgate.ENOTFOUND)
	})

	t.Run("last promoted", func(t *testing.T) {
		s := store.NewReleaseService(open(t))
		_, err := s.LastPromoted(ctx, patchgate.GitHub, "acme/payments")
		wantCode(t, err, patchgate.ENOTFOUND)
		first := candidateIn(t, s, "acme/payments", patchgate.CandidatePromoted)
		second := mustCreateCandidate(t, s, newCandidate("acme/payments", "v1.1.0", "B"))
		if _, err := s.BeginPromotion(ctx, second.ID, "carol", 0); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			step string
			do   func() error
			want int64
		}{
			{"one promoted, one promoting", func() error { return nil }, first.ID},
			{"second promoted", func() error { return s.FinishPromotion(ctx, second.ID, "u") }, second.ID},
			{"a newer open candidate", func() error {
				return s.CreateCandidate(ctx, newCandidate("acme/payments", "v1.2.0", "C"))
			}, second.ID},
		} {
			if err := tc.do(); err != nil {
				t.Fatalf("%s: %v", tc.step, err)
			}
			got, err := s.LastPromoted(ctx, patchgate.GitHub, "acme/payments")
			if err != nil || got.ID != tc.want || got.Approvals == nil || got.Items == nil {
				t.Errorf("%s: LastPromoted = %+v, %v; want candidate %d with items and approvals", tc.step, got, err, tc.want)
			}
		}
		_, err = s.LastPromoted(ctx, patchgate.GitLab, "acme/payments")
		wantCode(t, err, patchgate.ENOTFOUND)
	})

	t.Run("audited", func(t *testing.T) {
		db := open(t)
		s, audit := store.NewReleaseService(db), store.NewAuditService(db)
		c := candidateIn(t, s, "acme/payments", patchgate.CandidateOpen) // bob approved
		// Refused changes write nothing.
		_, err := s.AddApproval(ctx, &patchgate.Approval{CandidateID: c.ID, SHA: c.SHA, Approver: "bob"})
		wantCode(t, err, patchgate.ECONFLICT)
		wantCode(t, s.WithdrawApproval(ctx, c.ID, patchgate.ForgeUser{Login: "dave"}), patchgate.ENOTFOUND)
		wantCode(t, s.FinishPromotion(ctx, c.ID, "u"), patchgate.ECONFLICT)
		if err := s.WithdrawApproval(ctx, c.ID, patchgate.ForgeUser{Login: "bob"}); err != nil {
			t.Fatal(err)
		}
		// A principal in the context is the actor; without one, who the call names.
		admin := patchgate.NewContextWithPrincipal(ctx, patchgate.Principal{Name: "root-admin"})
		if _, err := s.AddApproval(admin, &patchgate.Approval{CandidateID: c.ID, SHA: c.SHA, Approver: "dave", Via: "cli"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.BeginPromotion(ctx, c.ID, "carol", 0); err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second finish is a no-op and writes nothing
			if err := s.FinishPromotion(ctx, c.ID, "https://example.com/r"); err != nil {
				t.Fatal(err)
			}
		}
		es, err := audit.FindAudit(ctx, patchgate.AuditFilter{Subject: ptr(fmt.Sprintf("candidate:%d", c.ID))})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range es {
			if e.SHA != c.SHA || e.Detail["repo"] != "github:acme/payments" || e.Detail["name"] != c.Name {
				t.Errorf("entry %d = %+v, want the candidate's SHA, repo and name", e.Seq, e)
			}
			got = append(got, e.Actor+" "+e.Action+" "+e.Detail["approver"]+e.Detail["release_url"])
		}
		want := []string{"alice candidate.created ", "bob approval.created bob", "bob approval.withdrawn bob",
			"root-admin approval.created dave", "carol release.promoted https://example.com/r"}
		if !slices.Equal(got, want) {
			t.Errorf("audit entries:\n got %q\nwant %q", got, want)
		}
		if n, err := audit.VerifyAudit(ctx); err != nil || n != int64(len(want)) {
			t.Errorf("VerifyAudit = %d, %v; want %d, nil", n, err, len(want))
		}
	})

	t.Run("concurrent creates leave one open", func(t *testing.T) {
		db := open(t)
		other := reopen(t, db)
		other.Now = db.Now
		services := []*store.ReleaseService{store.NewReleaseService(db), store.NewReleaseService(other)}
		const n = 8
		start := make(chan struct{})
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = services[i%2].CreateCandidate(ctx, newCandidate("acme/payments", fmt.Sprintf("v1.%d", i), "A"))
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("CreateCandidate #%d: %v", i, err)
			}
		}
		for _, tc := range []struct {
			state patchgate.CandidateState
			want  int
		}{{patchgate.CandidateOpen, 1}, {patchgate.CandidateSuperseded, n - 1}} {
			_, total, err := services[0].FindCandidates(ctx, patchgate.CandidateFilter{State: ptr(tc.state)})
			if err != nil || total != tc.want {
				t.Errorf("%s candidates = %d, %v; want %d", tc.state, total, err, tc.want)
			}
		}
	})

	t.Run("an automatic proposal is held by a person's candidate, audited", func(t *testing.T) {
		db := open(t)
		s := store.NewReleaseService(db)
		named := mustCreateCandidate(t, s, newCandidate("acme/payments", "v1.6.0", "A"))
		auto := newCandidate("acme/payments", patchgate.DefaultCandidateName(sha("B")), "B")
		auto.CreatedBy = patchgate.AutoProposer
		if err := s.CreateCandidate(ctx, auto); patchgate.ErrorCode(err) != patchgate.ECONFLICT || !strings.Contains(patchgate.ErrorMessage(err), "v1.6.0") {
			t.Fatalf("automatic proposal beside v1.6.0: got %v, want ECONFLICT naming v1.6.0", err)
		}
		if got := mustFindCandidate(t, s, named.ID); got.State != patchgate.CandidateOpen || got.Name != "v1.6.0" {
			t.Fatalf("v1.6.0 after the automatic proposal: got %s %s, want open", got.Name, got.State)
		}
		if _, total, err := s.FindCandidates(ctx, patchgate.CandidateFilter{}); err != nil || total != 1 {
			t.Fatalf("candidates: got %d, %v; want only v1.6.0", total, err)
		}
		action := patchgate.AuditCandidateHeld
		entries, err := store.NewAuditService(db).FindAudit(ctx, patchgate.AuditFilter{Action: &action})
		if err != nil || len(entries) != 1 || entries[0].Subject != fmt.Sprintf("candidate:%d", named.ID) ||
			entries[0].Detail["proposed_sha"] != sha("B") || entries[0].Detail["name"] != "v1.6.0" || entries[0].Actor != patchgate.AutoProposer {
			t.Fatalf("audit: got %+v, %v; want one candidate.auto_held entry on v1.6.0 for %s", entries, err, sha("B"))
		}
	})
}
