package patchgate

import (
	"context"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The forge interfaces below are implemented by the forges package, one type per
// forge (forges.GitHub, forges.GitLab). Every method has the same error contract:
//   - EINVALID when an argument is malformed or names another forge's repository
//     (and, for UpsertComment, a push change);
//   - ENOTFOUND when the repository, change, ref or file does not exist, or the
//     token cannot see it (forges answer 404 for both);
//   - EUNAUTHORIZED when the forge rejects the token, EFORBIDDEN when the token
//     lacks the permission;
//   - any other error (rate limit still exceeded after the retry budget, 5xx,
//     network, ctx cancelled) is transient: ErrorCode reports EINTERNAL and the
//     caller may retry the whole operation later.
//
// Implementations retry rate-limited and transient failures themselves within a
// bounded budget, stop as soon as ctx is done, build API URLs only from their
// configured base URL, never log tokens, and are safe for concurrent use.

// Commenter posts patchgate's comment on a pull or merge request. Implementations
// talk to one forge's API and are safe for concurrent use.
type Commenter interface {
	// UpsertComment makes sure the change has exactly one comment of patchgate's
	// containing marker: it edits the existing one when its body differs, and
	// creates one when there is none. Returns EINVALID for a push change.
	//
	// "Of patchgate's" means written by the token's own user: comments by anyone
	// else that quote the marker are never touched. marker is an HTML comment such
	// as "<!-- patchgate:links -->"; it is prepended to body when body lacks it. An
	// unchanged body costs reads only, no write. Should earlier races have left
	// several own comments with the marker, the oldest is kept and the others are
	// deleted, so the change converges to one. Returns ENOTFOUND when the change
	// does not exist on the forge.
	UpsertComment(ctx context.Context, change *Change, marker, body string) error
}

// StatusState is the state of a commit status, in patchgate's words. Each forge
// maps it onto its own vocabulary (see the constants).
type StatusState string

// Commit status states and how each forge shows them.
const (
	// StatusPending: queued, not started. GitHub "pending", GitLab "pending".
	StatusPending StatusState = "pending"
	// StatusRunning: suites are running. GitHub has no such state and shows
	// "pending"; GitLab "running".
	StatusRunning StatusState = "running"
	// StatusSuccess: every suite passed. GitHub "success", GitLab "success".
	StatusSuccess StatusState = "success"
	// StatusFailure: a suite failed. GitHub "failure", GitLab "failed".
	StatusFailure StatusState = "failure"
	// StatusError: the infrastructure broke, the verdict is unknown. GitHub
	// "error", GitLab "failed" (GitLab has no separate error state).
	StatusError StatusState = "error"
	// StatusCanceled: the run was stopped, usually because a newer head
	// superseded it (gate invariant 2). GitHub "error", GitLab "canceled".
	StatusCanceled StatusState = "canceled"
)

// Validate reports whether s is a known status state.
func (s StatusState) Validate() error {
	switch s {
	case StatusPending, StatusRunning, StatusSuccess, StatusFailure, StatusError, StatusCanceled:
		return nil
	}
	return Errorf(EINVALID, "unknown commit status state %q", string(s))
}

// MaxStatusDescription is the longest description GitHub accepts, in characters;
// patchgate truncates to it on every forge so that both show the same text.
const MaxStatusDescription = 140

// CommitStatus is one status patchgate posts on a commit: one per suite
// ("patchgate/regression") plus the overall verdict ("patchgate").
type CommitStatus struct {
	// Context names the status; a later post with the same context replaces it
	// in the forge's UI (GitLab calls it "name").
	Context     string
	State       StatusState
	Description string
	// TargetURL links to patchgate's page for the run; optional.
	TargetURL string
}

// Validate checks a status before it is posted.
func (s *CommitStatus) Validate() error {
	if s.Context == "" || len(s.Context) > 255 {
		return Errorf(EINVALID, "commit status context required (at most 255 bytes)")
	}
	return s.State.Validate()
}

// TruncateStatusDescription shortens d to MaxStatusDescription characters,
// ending in "…" when it cut something; it never splits a UTF-8 character.
func TruncateStatusDescription(d string) string {
	if utf8.RuneCountInString(d) <= MaxStatusDescription {
		return d
	}
	n := 0
	for i := range d {
		if n == MaxStatusDescription-1 {
			return d[:i] + "…"
		}
		n++
	}
	return d
}

// StatusPoster reports verification results on commits.
type StatusPoster interface {
	// PostStatus sets the status s.Context on commit sha to s (description
	// truncated to MaxStatusDescription). Posting the state the commit already
	// has for that context is not an error. EINVALID for an invalid status or
	// SHA, ENOTFOUND when the forge does not know the repository or commit.
	PostStatus(ctx context.Context, repo RepoRef, sha string, s CommitStatus) error
}

// SourceFetcher reads a repository's source at a commit.
type SourceFetcher interface {
	// FileAt returns the content of the file at path (relative to the repository
	// root, "/"-separated) in the tree at ref: a branch, tag or commit SHA.
	// ENOTFOUND when the repository, ref or file does not exist; EINVALID when
	// path is empty, absolute or contains "..", and when it names a directory
	// on GitHub (GitLab cannot tell a directory from a missing file: ENOTFOUND).
	FileAt(ctx context.Context, repo RepoRef, path, ref string) ([]byte, error)

	// Archive streams the tree at sha as a gzip-compressed tar archive (a
	// ".tar.gz") exactly as the forge serves it: every entry sits under one
	// top-level directory whose name the forge chooses ("owner-repo-1a2b3c4/" on
	// GitHub, "project-<sha>-<sha>/" on GitLab), and GitHub adds a pax global
	// header carrying the commit SHA. forges.NormalizeArchive turns it into a
	// plain tar with that directory stripped. The caller must Close the stream;
	// cancelling ctx aborts it. ENOTFOUND when the repository or commit is unknown.
	Archive(ctx context.Context, repo RepoRef, sha string) (io.ReadCloser, error)
}

// Comparison says how a head commit relates to a base commit.
type Comparison struct {
	Base string // the base as asked (branch, tag or SHA)
	Head string // the head as asked
	// Ahead counts the commits reachable from head but not from base; Behind
	// those reachable from base but not from head.
	Ahead  int
	Behind int
	// Commits are the Ahead commits, oldest first. SHA, Message, Author and
	// Timestamp (authored) are set; Author is the forge login when the forge
	// knows one (GitHub), else the author's name.
	Commits []Commit
	// Files are the files changed from the merge base to head, as the forge
	// lists them (it may cap the list or omit a large file's patch).
	Files []ChangedFile
	// FilesCapped says the forge listed only the first files of a longer
	// list (GitHub stops at 300): what Files does not name is unknown.
	FilesCapped bool
}

// MaxComparedFiles is how many files GitHub's compare lists at most.
const MaxComparedFiles = 300

// FileStatus is how a compared file changed.
type FileStatus string

// File statuses.
const (
	FileAdded    FileStatus = "added"
	FileModified FileStatus = "modified"
	FileRemoved  FileStatus = "removed"
	FileRenamed  FileStatus = "renamed"
)

// ChangedFile is one file a comparison changes.
type ChangedFile struct {
	Path string
	// PreviousPath is the path before a rename.
	PreviousPath string
	Status       FileStatus
	// Patch is the unified diff's hunks ("@@ -1,3 +1,4 @@ …"); "" when the
	// forge left it out (binary or too large).
	Patch string
	// BlobSHA is the git blob id of the file's content after the change;
	// "" for a removed file, or when the forge does not report it (GitLab).
	BlobSHA string
}

// MergeOnlyMerges decides whether a two-parent merge commit only merged: ours
// are the files it changed against its first parent, theirs the files its
// second parent changed since the two parents' merge base. It only merged
// when each file it changed is one the second parent changed, to the same
// content (or removed, as there). A file both sides changed, even merged
// without a conflict, counts as written: patchgate cannot redo git's merge
// through the API, and the safe side is to name the merger an author.
// known is false when a forge reports no blob ids (GitLab's compare): then
// nothing can be said, and the caller keeps merging from being writing.
func MergeOnlyMerges(ours, theirs []ChangedFile) (only, known bool) {
	side := make(map[string]ChangedFile, len(theirs))
	for _, f := range theirs {
		if f.BlobSHA == "" && f.Status != FileRemoved {
			return false, false
		}
		side[f.Path] = f
	}
	for _, f := range ours {
		if f.BlobSHA == "" && f.Status != FileRemoved {
			return false, false
		}
		t, ok := side[f.Path]
		if !ok || (f.Status == FileRemoved) != (t.Status == FileRemoved) || f.BlobSHA != t.BlobSHA {
			return false, true
		}
	}
	return true, true
}

// Comparer compares two commits of a repository; releases use it to find what a
// candidate adds since the last promoted release.
type Comparer interface {
	// Compare returns how head relates to base. base and head are branches, tags
	// or SHAs. ENOTFOUND when the repository or either ref is unknown.
	Compare(ctx context.Context, repo RepoRef, base, head string) (*Comparison, error)
}

// AuthorFinder asks the forge who opened a pull or merge request, for changes
// whose webhooks did not say (GitLab's merge request hooks name the author only
// by id unless the author acted).
type AuthorFinder interface {
	// ChangeAuthor returns the login of the author of PR/MR number. ENOTFOUND
	// when the change does not exist or the forge names no author.
	ChangeAuthor(ctx context.Context, repo RepoRef, number int) (string, error)
}

// ForgeRelease is a tag and a release on the forge at one commit.
type ForgeRelease struct {
	// Tag is the tag's short name ("v1.4.2", not "refs/tags/v1.4.2"); see
	// ValidateTagName.
	Tag string
	// SHA is the full commit id the tag points at (through an annotated tag
	// object when the tag is annotated).
	SHA string
	// Name is the release's title; PublishRelease uses Tag when it is empty, as
	// GitLab does, so that both forges show the same title.
	Name string
	// Notes are the release notes in Markdown (GitHub "body", GitLab
	// "description").
	Notes string
	// URL is the release's page for people; set by the forge.
	URL string
	// ID is the forge's id for the release: GitHub's numeric release id, and on
	// GitLab, which addresses releases by tag, the tag name. Set by the forge.
	ID string
}

// Validate checks a release before it is published: a valid tag name and a
// full commit SHA. Name, Notes, URL and ID are not checked.
func (r ForgeRelease) Validate() error {
	if err := ValidateTagName(r.Tag); err != nil {
		return err
	}
	if !ValidSHA(r.SHA) {
		return Errorf(EINVALID, "release %s: %q is not a full commit SHA", r.Tag, r.SHA)
	}
	return nil
}

// MaxTagName is the longest tag name patchgate creates, in bytes.
const MaxTagName = 200

// ValidateTagName checks a tag's short name against git check-ref-format's
// rules, slightly stricter where that is simpler: not empty, at most
// MaxTagName bytes, not starting with "-" or "/" nor ending with "/" or ".", no
// ASCII control character, space or any of ~ ^ : ? * [ \, no "..", "@{" or
// "//", no component that starts with "." or ends with ".lock", and not "@".
// A tag that fails these could not be created, or would be read back as
// another ref.
func ValidateTagName(tag string) error {
	bad := func(why string) error { return Errorf(EINVALID, "tag name %q: %s", tag, why) }
	switch {
	case tag == "":
		return Errorf(EINVALID, "tag name required")
	case len(tag) > MaxTagName:
		return Errorf(EINVALID, "tag name of %d bytes: at most %d allowed", len(tag), MaxTagName)
	case !utf8.ValidString(tag):
		return bad("not valid UTF-8")
	case tag == "@":
		return bad(`"@" alone is not a ref name`)
	case tag[0] == '-':
		return bad(`must not start with "-"`)
	case tag[0] == '/' || tag[len(tag)-1] == '/' || tag[len(tag)-1] == '.':
		return bad(`must not start or end with "/" nor end with "."`)
	}
	for i := 0; i < len(tag); i++ {
		if c := tag[i]; c < 0x20 || c == 0x7f || c == ' ' || c == '~' || c == '^' || c == ':' ||
			c == '?' || c == '*' || c == '[' || c == '\\' {
			return bad("must not contain spaces, control characters or any of ~^:?*[\\")
		}
	}
	for _, s := range []string{"..", "@{", "//"} {
		if strings.Contains(tag, s) {
			return bad("must not contain " + strconv.Quote(s))
		}
	}
	for _, part := range strings.Split(tag, "/") {
		if part[0] == '.' || strings.HasSuffix(part, ".lock") {
			return bad(`no component may start with "." or end with ".lock"`)
		}
	}
	return nil
}

// Releaser publishes releases: promotion's last step (gate invariant 5). Both
// methods follow the forge error contract above; implementations are safe for
// concurrent use, also with other processes publishing the same release.
type Releaser interface {
	// PublishRelease makes sure tag r.Tag exists at r.SHA and a release for it
	// exists with r.Name (r.Tag when empty) and r.Notes, and returns the
	// release as it is on the forge.
	//
	// It is idempotent, so a promotion interrupted by a crash or a forge error
	// is finished by calling it again: an existing tag at r.SHA is reused, an
	// existing release for the tag is returned, edited in place only when its
	// name or notes differ (an unchanged release costs reads only). It never
	// creates a second tag or release, even when a write failed ambiguously
	// (a 502 after the forge stored it) or another process raced it.
	//
	// A tag that exists at ANOTHER commit is ECONFLICT and is never moved; no
	// release is created then. EINVALID for an invalid r (see
	// ForgeRelease.Validate); ENOTFOUND when the repository or the commit does
	// not exist.
	PublishRelease(ctx context.Context, repo RepoRef, r ForgeRelease) (*ForgeRelease, error)

	// FindRelease returns the release for tag, with SHA the commit its tag
	// points at ("" when the tag itself is gone); ENOTFOUND when there is no
	// release for tag (draft releases are not found on GitHub).
	FindRelease(ctx context.Context, repo RepoRef, tag string) (*ForgeRelease, error)
}

// ForgeUnreachableError says that a forge did not answer a call (no response,
// or 5xx and rate limits past the client's own retries): unlike a coded
// error, trying again later may succeed. Its message says so in words:
// "forge github unreachable: …".
type ForgeUnreachableError struct {
	Forge Forge
	Err   error
}

func (e *ForgeUnreachableError) Error() string {
	return "forge " + string(e.Forge) + " unreachable: " + e.Err.Error()
}

// Unwrap returns the forge call's error.
func (e *ForgeUnreachableError) Unwrap() error { return e.Err }
