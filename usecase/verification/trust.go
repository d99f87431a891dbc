package verification

import (
	"slices"
	"strings"

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
// approval: not from a fork, and, when the repository lists trusted users, by
// one of them or a release manager.
func (t Trust) TrustedChange(repo *patchgate.Repository, ch *patchgate.Change) bool {
	if ch.Kind == patchgate.ChangePush {
		return true // pushes need write access to the repository
	}
	if ch.FromFork {
		return false
	}
	return len(repo.TrustedUsers) == 0 || t.Maintainer(repo, ch.Author)
}

// Maintainer reports whether user may vouch for others' changes: a trusted
// user of the repository or a release manager of its forge.
func (t Trust) Maintainer(repo *patchgate.Repository, user string) bool {
	if user == "" {
		return false
	}
	for _, u := range append(slices.Clone(repo.TrustedUsers), t.ReleaseManagers[repo.Forge]...) {
		if strings.EqualFold(u, user) {
			return true
		}
	}
	return false
}

// ReleaseManager reports whether user is a configured release manager of
// forge.
func (t Trust) ReleaseManager(forge patchgate.Forge, user string) bool {
	return slices.ContainsFunc(t.ReleaseManagers[forge], func(u string) bool { return patchgate.SameLogin(u, user) })
}
