package patchgate

import (
	"fmt"
	"slices"
)

// AutoProposer is who proposes the automatic candidates: a new head of the
// release branch that passed.
const AutoProposer = "patchgate"

// DefaultCandidateName is the name (the tag) of a candidate at sha that
// nobody named.
func DefaultCandidateName(sha string) string { return "release-" + ShortSHA(sha) }

// Automatic reports whether c is an automatic proposal: made by patchgate
// under the default name.
func (c *Candidate) Automatic() bool {
	return c.CreatedBy == AutoProposer && c.Name == DefaultCandidateName(c.SHA)
}

// Named reports whether someone gave c its name (release create --name).
func (c *Candidate) Named() bool { return c.Name != DefaultCandidateName(c.SHA) }

// SupersedeCandidates decides what cutting candidate c does to the other
// candidates of its repository (existing; only their ID, SHA, Name, State and
// CreatedBy are read): it returns the IDs of the open ones c supersedes, all
// of them, in the order given, or, when c is named and an open automatic
// candidate stands at c's SHA, that candidate's ID as rename: c is not
// created, that candidate takes c's name and c supersedes the others. A
// promoting candidate is not superseded: a promotion in flight is finished,
// not cancelled, and c stays open beside it. c may take the name of an open
// candidate it supersedes (re-cutting a candidate before it is tagged), since a
// superseded candidate gives its name back; ECONFLICT when a promoting or
// promoted candidate holds it, and when c is automatic and an open candidate
// a person proposed stands (HeldBy), at whatever commit: an automatic proposal
// never takes the place of a release manager's candidate.
func SupersedeCandidates(c *Candidate, existing []*Candidate) (superseded []int64, rename int64, err error) {
	ref := fmt.Sprintf("%s:%s %s", c.Forge, c.Repo, c.Name)
	if held := HeldBy(c, existing); held != nil {
		return nil, 0, Errorf(ECONFLICT, "candidate %s: candidate %d (%s at %s), proposed by %s, is open: an automatic proposal never supersedes a candidate a person proposed; promote it, or cut a newer one with release create",
			ref, held.ID, held.Name, ShortSHA(held.SHA), held.CreatedBy)
	}
	for _, e := range existing {
		switch {
		case e.State != CandidateOpen && e.State != CandidateSuperseded && e.Name == c.Name:
			return nil, 0, Errorf(ECONFLICT, "candidate %s: the name is taken by candidate %d (%s)", ref, e.ID, e.State)
		case e.State != CandidateOpen || e.SHA != c.SHA:
		case c.Named() && e.Automatic() && rename == 0:
			rename = e.ID
		}
	}
	for _, e := range existing {
		if e.State == CandidateOpen && e.ID != rename {
			superseded = append(superseded, e.ID)
		}
	}
	return superseded, rename, nil
}

// HeldBy returns the open candidate that holds back automatic proposal c, nil
// when none does (or c is not automatic). A candidate a person proposed
// (named with release create --name, cut by hand, or an automatic one a
// person renamed) is theirs until they promote it or cut another: an
// automatic proposal, at the same commit or a newer or older one, never
// replaces it behind their back, so it is never released under a name nobody
// chose nor at a commit nobody picked. The proposal is recorded against the
// candidate that held it instead (candidate.auto_held).
func HeldBy(c *Candidate, existing []*Candidate) *Candidate {
	if !c.Automatic() {
		return nil
	}
	for _, e := range existing {
		if e.State == CandidateOpen && !e.Automatic() {
			return e
		}
	}
	return nil
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
