package patchgate

import "slices"

// HeadTrust is what decides whether a change's head may run without a
// maintainer's word: where it comes from, who put it there, and whom the
// operator trusts.
type HeadTrust struct {
	Kind     ChangeKind
	FromFork bool
	// Author opened the PR/MR or, for a branch, pushed its head.
	Author string
	// TrustedUsers are the repository's trusted users; empty, every writer of
	// the repository is.
	TrustedUsers []string
	// ReleaseManagers are the release managers of the repository's forge.
	ReleaseManagers []string
}

// Trusted reports whether the head runs without a maintainer's ok-to-test
// (and so may see suite secrets and write caches): never from a fork;
// otherwise when the repository lists no trusted users, or its author (for a
// push, its pusher) is one of them or a release manager. A push is trusted
// for who pushed it, not for being a push: write access is not trust.
func (h HeadTrust) Trusted() bool {
	if h.FromFork {
		return false
	}
	return len(h.TrustedUsers) == 0 || Vouches(h.TrustedUsers, h.ReleaseManagers, h.Author)
}

// Vouches reports whether user may vouch for others' code: a trusted user of
// the repository or a release manager of its forge.
func Vouches(trustedUsers, releaseManagers []string, user string) bool {
	same := func(u string) bool { return SamePerson(u, user) }
	return slices.ContainsFunc(trustedUsers, same) || slices.ContainsFunc(releaseManagers, same)
}

// SamePerson reports whether two names of people (as configured, as a forge
// reports them) are one person, by login alone. People whose forge user ids
// are known are compared by SameUser instead; this is what is left where
// only names are (HeadTrust without a pinned directory).
func SamePerson(a, b string) bool { return SameLogin(a, b) }
