// Package verification orchestrates verifying changes' heads: it decides
// whether a head may run (trust, a maintainer's ok-to-test), records and
// enqueues its verification, supersedes older heads' runs, plans what a worker
// runs (.patchgate.yml read through the forge, run policy, quarantines, the
// fail-to-pass proof) and, after a verdict, has the tickets it is evidence for
// re-derived and a release proposed. It talks to storage, forges and the queue
// only through the small interfaces declared beside their consumers.
package verification

import (
	"context"

	"github.com/patchgate/patchgate"
)

// Repos finds configured repositories (patchgate.RepositoryDirectory).
type Repos interface {
	Find(forge patchgate.Forge, name string) (*patchgate.Repository, error)
	Resolve(forge patchgate.Forge, name string) (*patchgate.Repository, error)
}

// ChangeFinder reads stored changes.
type ChangeFinder interface {
	FindChangeByID(ctx context.Context, id int64) (*patchgate.Change, error)
	FindChanges(ctx context.Context, filter patchgate.ChangeFilter) ([]*patchgate.Change, int, error)
}
