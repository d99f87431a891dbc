package verification

import (
	"context"

	"github.com/patchgate/patchgate"
)

// Maintainers say, by forge user id, who may vouch for others' code in a
// repository: its trusted users and its forge's release managers, pinned
// (people.Directory).
type Maintainers interface {
	Maintainer(ctx context.Context, repo *patchgate.Repository, userID int64) (bool, error)
}

// Trust says whose code runs without a maintainer's word and who may vouch
// for others' code: the server configuration's release managers, per forge,
// and each repository's trusted users, compared by pinned forge user id.
type Trust struct {
	ReleaseManagers map[patchgate.Forge][]string
	// People compare the configured logins by their pinned user ids; nil
	// compares logins (patchgate.HeadTrust), which a renamed or re-registered
	// login fools, so cmd always sets it.
	People Maintainers
}

// TrustedChange reports whether ch may be verified without a maintainer's
// approval, with the suite secrets and caches: see patchgate.HeadTrust. A
// push counts for its pusher, like a PR for its author, by the user id the
// forge reported: an author whose id no event named is not trusted, and
// whoever registers a trusted user's released login is not either.
func (t Trust) TrustedChange(ctx context.Context, repo *patchgate.Repository, ch *patchgate.Change) (bool, error) {
	head := patchgate.HeadTrust{
		Kind: ch.Kind, FromFork: ch.FromFork, Author: ch.Author,
		TrustedUsers: repo.TrustedUsers, ReleaseManagers: t.ReleaseManagers[repo.Forge],
	}
	if t.People == nil || ch.FromFork || len(repo.TrustedUsers) == 0 {
		return head.Trusted(), nil
	}
	if ch.AuthorID == 0 {
		return false, nil
	}
	return t.People.Maintainer(ctx, repo, ch.AuthorID)
}

// Maintainer reports whether person may vouch for others' changes: a trusted
// user of the repository or a release manager of its forge, by the user id
// person carries (a token's pinned id). Without People, or for a person
// whose id is unknown, the logins decide.
func (t Trust) Maintainer(ctx context.Context, repo *patchgate.Repository, person patchgate.ForgeUser) (bool, error) {
	if t.People == nil || person.UserID == 0 {
		return patchgate.Vouches(repo.TrustedUsers, t.ReleaseManagers[repo.Forge], person.Login), nil
	}
	return t.People.Maintainer(ctx, repo, person.UserID)
}
