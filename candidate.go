package patchgate

import (
	"fmt"
	"slices"
)

// SupersedeCandidates decides what cutting candidate c does to the other
// candidates of its repository (existing; only their ID, Name and State are
// read): it returns the IDs of the open ones c supersedes, all of them, in the
// order given. A promoting candidate is not superseded: a promotion in flight
// is finished, not cancelled, and c stays open beside it. c may take the name
// of an open candidate it supersedes (re-cutting a candidate before it is
// tagged), since a superseded candidate gives its name back; ECONFLICT when a
// promoting or promoted candidate holds it.
func SupersedeCandidates(c *Candidate, existing []*Candidate) ([]int64, error) {
	var ids []int64
	for _, e := range existing {
		switch {
		case e.State == CandidateOpen:
			ids = append(ids, e.ID)
		case e.State != CandidateSuperseded && e.Name == c.Name:
			return nil, Errorf(ECONFLICT, "candidate %s: the name is taken by candidate %d (%s)",
				fmt.Sprintf("%s:%s %s", c.Forge, c.Repo, c.Name), e.ID, e.State)
		}
	}
	return ids, nil
}

// ChangeCommits are the commits whose presence in a candidate means that the
// merged change ch is in it: its merge commit (the squash or rebase result
// too), else its head. A candidate contains ch when one of them is an ancestor
// of the candidate's commit, which only the forge's commit graph can tell.
func ChangeCommits(ch *Change) []string {
	var out []string
	for _, sha := range []string{ch.MergeCommitSHA, ch.HeadSHA} {
		if sha != "" && !slices.Contains(out, sha) {
			out = append(out, sha)
		}
	}
	return out
}
