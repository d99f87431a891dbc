package patchgate_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

func TestSupersedeCandidates(t *testing.T) {
	c := &patchgate.Candidate{Forge: patchgate.GitHub, Repo: "acme/payments", Name: "v1.4.2"}
	cand := func(id int64, name string, state patchgate.CandidateState) *patchgate.Candidate {
		return &patchgate.Candidate{ID: id, Name: name, State: state}
	}
	tests := []struct {
		name     string
		existing []*patchgate.Candidate
		want     []int64
		err      string
	}{
		{"the first candidate", nil, nil, ""},
		{"every open candidate is superseded", []*patchgate.Candidate{cand(1, "v1.4.0", patchgate.CandidateOpen), cand(2, "v1.4.1", patchgate.CandidateOpen)}, []int64{1, 2}, ""},
		{"a promoting one is not", []*patchgate.Candidate{cand(1, "v1.4.0", patchgate.CandidatePromoting), cand(2, "v1.4.1", patchgate.CandidateOpen)}, []int64{2}, ""},
		{"promoted and superseded ones stay as they are", []*patchgate.Candidate{cand(1, "v1.4.0", patchgate.CandidatePromoted), cand(2, "v1.4.1", patchgate.CandidateSuperseded)}, nil, ""},
		{"re-cutting an open candidate's name", []*patchgate.Candidate{cand(1, "v1.4.2", patchgate.CandidateOpen)}, []int64{1}, ""},
		{"a superseded candidate gave its name back", []*patchgate.Candidate{cand(1, "v1.4.2", patchgate.CandidateSuperseded)}, nil, ""},
		{"a promoted candidate holds the name", []*patchgate.Candidate{cand(1, "v1.4.1", patchgate.CandidateOpen), cand(2, "v1.4.2", patchgate.CandidatePromoted)}, nil, patchgate.ECONFLICT},
		{"a promoting candidate holds the name", []*patchgate.Candidate{cand(2, "v1.4.2", patchgate.CandidatePromoting)}, nil, patchgate.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rename, err := patchgate.SupersedeCandidates(c, tt.existing)
			if code := patchgate.ErrorCode(err); code != tt.err || !slices.Equal(got, tt.want) || rename != 0 {
				t.Fatalf("got %v, %v; want %v, code %q", got, err, tt.want, tt.err)
			}
		})
	}
}

// TestSupersedeNamedAndAutomatic: an automatic proposal never takes the place
// of a candidate a person proposed, at its commit or any other; a named one at
// the commit of an open automatic candidate renames it instead of racing it.
func TestSupersedeNamedAndAutomatic(t *testing.T) {
	at := func(id int64, c byte, name, by string, state patchgate.CandidateState) *patchgate.Candidate {
		sha := strings.Repeat(string(c), 40)
		if name == "" {
			name = patchgate.DefaultCandidateName(sha)
		}
		return &patchgate.Candidate{ID: id, SHA: sha, Name: name, CreatedBy: by, State: state}
	}
	auto := func(id int64, c byte) *patchgate.Candidate {
		return at(id, c, "", patchgate.AutoProposer, patchgate.CandidateOpen)
	}
	named := func(id int64, c byte, name string) *patchgate.Candidate {
		return at(id, c, name, "alice", patchgate.CandidateOpen)
	}
	tests := []struct {
		name       string
		c          *patchgate.Candidate
		existing   []*patchgate.Candidate
		want       []int64
		wantRename int64
		err        string
	}{
		{"automatic at a named candidate's commit", auto(0, 'd'), []*patchgate.Candidate{named(1, 'd', "v1.6.0")}, nil, 0, patchgate.ECONFLICT},
		{"automatic at a newer commit leaves the named one", auto(0, 'e'), []*patchgate.Candidate{named(1, 'd', "v1.6.0")}, nil, 0, patchgate.ECONFLICT},
		{"automatic at an older commit leaves the named one", auto(0, 'c'), []*patchgate.Candidate{named(1, 'd', "v1.6.0")}, nil, 0, patchgate.ECONFLICT},
		{"automatic leaves one cut by hand", auto(0, 'e'), []*patchgate.Candidate{at(1, 'd', "", "alice", patchgate.CandidateOpen)}, nil, 0, patchgate.ECONFLICT},
		{"automatic leaves a renamed automatic one", auto(0, 'e'), []*patchgate.Candidate{at(1, 'd', "v1.6.0", patchgate.AutoProposer, patchgate.CandidateOpen)}, nil, 0, patchgate.ECONFLICT},
		{"automatic supersedes the automatic one beside a promoting named one", auto(0, 'e'),
			[]*patchgate.Candidate{auto(1, 'd'), at(2, 'c', "v1.5.9", "alice", patchgate.CandidatePromoting)}, []int64{1}, 0, ""},
		{"automatic supersedes the automatic one", auto(0, 'e'), []*patchgate.Candidate{auto(1, 'd')}, []int64{1}, 0, ""},
		{"a re-run automatic proposal at the same commit", auto(0, 'd'), []*patchgate.Candidate{auto(1, 'd')}, []int64{1}, 0, ""},
		{"named at the automatic one's commit renames it", named(0, 'd', "v1.6.0"), []*patchgate.Candidate{named(1, 'c', "v1.5.9"), auto(2, 'd')}, []int64{1}, 2, ""},
		{"named at another commit supersedes the automatic one", named(0, 'e', "v1.6.0"), []*patchgate.Candidate{auto(2, 'd')}, []int64{2}, 0, ""},
		{"named by hand under the default name is not a name", at(0, 'd', "", "alice", patchgate.CandidateOpen), []*patchgate.Candidate{auto(2, 'd')}, []int64{2}, 0, ""},
		{"named re-cuts a named one at the same commit", named(0, 'd', "v1.6.1"), []*patchgate.Candidate{named(1, 'd', "v1.6.0")}, []int64{1}, 0, ""},
		{"the name is taken by a promoted one", named(0, 'd', "v1.6.0"), []*patchgate.Candidate{auto(2, 'd'), at(1, 'a', "v1.6.0", "bob", patchgate.CandidatePromoted)}, nil, 0, patchgate.ECONFLICT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rename, err := patchgate.SupersedeCandidates(tt.c, tt.existing)
			if code := patchgate.ErrorCode(err); code != tt.err || !slices.Equal(got, tt.want) || rename != tt.wantRename {
				t.Fatalf("got %v, rename %d, %v; want %v, rename %d, code %q", got, rename, err, tt.want, tt.wantRename, tt.err)
			}
		})
	}
}

func TestChangeCommits(t *testing.T) {
	tests := []struct {
		name string
		ch   patchgate.Change
		want string
	}{
		{"merge commit first, then head", patchgate.Change{MergeCommitSHA: "m", HeadSHA: "h"}, "m,h"},
		{"fast-forward: one commit", patchgate.Change{MergeCommitSHA: "h", HeadSHA: "h"}, "h"},
		{"no merge commit recorded", patchgate.Change{HeadSHA: "h"}, "h"},
		{"nothing", patchgate.Change{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(patchgate.ChangeCommits(&tt.ch), ","); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEnoughApprovals(t *testing.T) {
	now := time.Now()
	a := func(who, sha string, withdrawn bool) *patchgate.Approval {
		ids := map[string]int64{"alice": 1, "bob": 2}
		ap := &patchgate.Approval{Approver: who, ApproverID: ids[strings.ToLower(who)], SHA: sha, Token: "tok-" + strings.ToLower(who)}
		if withdrawn {
			ap.WithdrawnAt = &now
		}
		return ap
	}
	tests := []struct {
		name      string
		approvals []*patchgate.Approval
		needed    int
		want      bool
	}{
		{"none needed", nil, 0, true},
		{"two people", []*patchgate.Approval{a("alice", "s", false), a("bob", "s", false)}, 2, true},
		{"a withdrawn one does not count", []*patchgate.Approval{a("alice", "s", false), a("bob", "s", true)}, 2, false},
		{"one person counts once", []*patchgate.Approval{a("alice", "s", false), a("Alice", "s", false)}, 2, false},
		{"another SHA does not count", []*patchgate.Approval{a("alice", "s", false), a("bob", "old", false)}, 2, false},
		{"an approval naming no person does not count", []*patchgate.Approval{a("alice", "s", false), {Approver: "bob", ApproverID: 2, SHA: "s"}}, 2, false},
		{"an approval without a forge user id does not count", []*patchgate.Approval{a("alice", "s", false), {Approver: "bob", SHA: "s", Token: "tok-bob"}}, 2, false},
		{"a comment's approval without a forge user id does not count", []*patchgate.Approval{a("alice", "s", false), {Approver: "bob", SHA: "s", Via: "comment"}}, 2, false},
		{"a comment's approval with a forge user id counts", []*patchgate.Approval{a("alice", "s", false), {Approver: "bob", ApproverID: 2, SHA: "s", Via: "comment"}}, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &patchgate.Candidate{SHA: "s", Approvals: tt.approvals}
			if got := patchgate.EnoughApprovals(c, tt.needed); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
