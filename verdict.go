package patchgate

// VerdictEvidence is one verification of a commit as evidence about a fix: its
// state, whether a newer head made it stale, and its fail-to-pass proof.
type VerdictEvidence struct {
	State RunState
	Stale bool
	// Proof is the verification's proof ("" when it has none).
	Proof ProofState
	// ProofRequired is release.require_proof as recorded with the
	// verification when it was planned, or with its proof (proofs recorded
	// before verifications kept it).
	ProofRequired bool
	// ConfigDigest identifies the .patchgate.yml the verification ran under.
	ConfigDigest string
}

// HeadVerdict returns the verdict that counts for a change's current head,
// given the verifications of that commit newest first: the newest that is
// neither canceled nor stale (a verdict a newer head made stale says nothing
// about the head now), with its proof and whether proof was required. It is
// "" when there is none.
func HeadVerdict(newestFirst []VerdictEvidence) (RunState, ProofState, bool) {
	for _, v := range newestFirst {
		if v.State != RunCanceled && !v.Stale {
			return v.State, v.Proof, v.ProofRequired
		}
	}
	return "", "", false
}

// LandedVerdict returns the verdict that counts for the commit a fix landed
// as (a merge commit, a direct push's commit), given the verifications of that
// commit newest first: the newest final one that is not canceled, stale or not,
// since the branch moving on does not undo that the commit passed. It is ""
// when there is none.
func LandedVerdict(newestFirst []VerdictEvidence) RunState {
	for _, v := range newestFirst {
		if v.State != RunCanceled && v.State.Final() {
			return v.State
		}
	}
	return ""
}

// ReleaseVerdict returns which of a commit's verifications, newest first,
// counts as release evidence for a candidate whose own commit holds the
// .patchgate.yml with configDigest: HeadVerdict's rule (the newest that is
// neither canceled nor stale) among those run under exactly that
// configuration, so that a run under another branch's file (say `run: "true"`)
// never stands in for the suites the release branch requires. It is the index
// into newestFirst, or -1 when none counts.
func ReleaseVerdict(newestFirst []VerdictEvidence, configDigest string) int {
	for i, v := range newestFirst {
		if v.ConfigDigest == configDigest && v.State != RunCanceled && !v.Stale {
			return i
		}
	}
	return -1
}
