package verification

import (
	"slices"

	"github.com/patchgate/patchgate"
)

// Trust says whose code runs without a maintainer's word and who may vouch
// for others' code. It is a value: the server configuration's release
// managers, per forge, who may also vouch for changes from forks and
// untrusted authors.
type Trust struct {
	ReleaseManagers map[patchgate.Forge][]string
}

// TrustedChange reports whether ch may be verified without a maintainer's
// approval, with the suite secrets and caches: see patchgate.HeadTrust. A
// push counts for its pusher, like a PR for its author.
func (t Trust) TrustedChange(repo *patchgate.Repository, ch *patchgate.Change) bool {
	return patchgate.HeadTrust{
		Kind: ch.Kind, FromFork: ch.FromFork, Author: ch.Author,
		TrustedUsers: repo.TrustedUsers, ReleaseManagers: t.ReleaseManagers[repo.Forge],
	}.Trusted()
}

// Maintainer reports whether user may vouch for others' changes: a trusted
// user of the repository or a release manager of its forge.
func (t Trust) Maintainer(repo *patchgate.Repository, user string) bool {
	return patchgate.Vouches(repo.TrustedUsers, t.ReleaseManagers[repo.Forge], user)
}

// ReleaseManager reports whether user is a configured release manager of
// forge.
func (t Trust) ReleaseManager(forge patchgate.Forge, user string) bool {
	return slices.ContainsFunc(t.ReleaseManagers[forge], func(u string) bool { return patchgate.SamePerson(u, user) })
}
