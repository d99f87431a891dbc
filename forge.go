package patchgate

import "context"

// Commenter posts patchgate's comment on a pull or merge request. Implementations
// talk to one forge's API and are safe for concurrent use.
type Commenter interface {
	// UpsertComment makes sure the change has exactly one comment of patchgate's
	// containing marker: it edits the existing one when its body differs, and
	// creates one when there is none. Returns EINVALID for a push change.
	UpsertComment(ctx context.Context, change *Change, marker, body string) error
}
