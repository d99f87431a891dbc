package patchgate

import (
	"context"
	"fmt"
	"path"
	"strings"
)

// CheckRun is one of patchgate's results on a commit as a GitHub check run,
// which only a GitHub App can write and which is bound to that App: another
// token with write access can post a commit status of the same name, but not
// this. In App mode the verdict and each suite are check runs named like
// their status contexts ("patchgate/verdict", "patchgate/regression"), so a
// branch protection that requires those names keeps working and can be
// bound to the App.
type CheckRun struct {
	// Name is the check's name, the status context's.
	Name string
	// ExternalID ties the check run to patchgate's verification: each
	// verification of a commit gets its own runs, so a re-run's annotations
	// never pile onto the last run's.
	ExternalID string
	// State maps onto the check's status and conclusion: pending → queued,
	// running → in_progress, the others → completed with a conclusion.
	State StatusState
	// Title is the one line under the name; Summary is Markdown (CheckSummary).
	Title   string
	Summary string
	// DetailsURL links to patchgate's page for the run.
	DetailsURL string
	// Annotations point at the failing tests' files and lines.
	Annotations []CheckAnnotation
	// Rerun offers the "Re-run" button (CheckActionRerun), which
	// maintainers may press.
	Rerun bool
}

// CheckAnnotation is one note on a file and line of the commit.
type CheckAnnotation struct {
	// Path is relative to the repository's root.
	Path    string
	Line    int
	Title   string
	Message string
}

// Check run limits GitHub sets.
const (
	// MaxCheckAnnotationsPerRequest is how many annotations one create or
	// update may carry; further ones go in further updates, which append.
	MaxCheckAnnotationsPerRequest = 50
	// MaxCheckAnnotations bounds what patchgate sends for one run: a suite
	// with thousands of failures needs its log, not thousands of notes.
	MaxCheckAnnotations = 500
	// MaxCheckSummary is the longest summary GitHub accepts, in characters.
	MaxCheckSummary = 65535
)

// CheckActionRerun is the identifier of the "Re-run" requested action.
const CheckActionRerun = "rerun"

// CheckRunPoster writes check runs (GitHub in App mode). Implementations are
// safe for concurrent use and follow the forge error contract above.
type CheckRunPoster interface {
	// PostCheckRun creates the check run run.Name on commit sha, or updates
	// the one patchgate's App already made there, sending the annotations in
	// as many requests as the forge's per-request limit asks. EINVALID for a
	// bad SHA or run, ENOTFOUND when the commit is unknown.
	PostCheckRun(ctx context.Context, repo RepoRef, sha string, run CheckRun) error
}

// CheckActionEvent is GitHub's check_run event with action
// requested_action: someone pressed a button patchgate's check run offered.
// Everything in it is the payload's claim; the use case reads the check run
// and the sender's permission back from the API before acting.
type CheckActionEvent struct {
	CheckRunID int64  `json:"check_run_id"`
	Name       string `json:"name"`
	HeadSHA    string `json:"head_sha"`
	// Identifier is the pressed action's identifier (CheckActionRerun).
	Identifier string `json:"identifier"`
	// SenderID is the forge's user id of the sender, as the payload says.
	SenderID int64 `json:"sender_id"`
	// AppID is the App that owns the check run, as the payload says.
	AppID int64 `json:"app_id,omitempty"`
}

// CheckSummary renders a check run's summary: the outcome, the reason in
// patchgate's words, and the link to the dashboard. It is the one place the
// summary is worded, so that reason codes can join it.
func CheckSummary(state StatusState, reason, dashboardURL string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**Outcome:** %s\n\n", state)
	if reason != "" {
		fmt.Fprintf(&b, "**Reason:** %s\n\n", reason)
	}
	if r, ok := ReasonFor(VerdictReasonCode(state, reason)); ok {
		fmt.Fprintf(&b, "**Code:** `%s` → %s\n\n", r.Code, r.Action)
	}
	if dashboardURL != "" {
		fmt.Fprintf(&b, "[Details in patchgate](%s)\n", dashboardURL)
	}
	s := b.String()
	if len(s) > MaxCheckSummary {
		s = TruncateUTF8Bytes(s, MaxCheckSummary-len("…")) + "…"
	}
	return s
}

// VerdictReasonCode is the reason code of a verdict that did not pass, the
// same a candidate's blocker gets for it: a failure is suite_failed, an error
// verification_error (runner_unavailable when no runner started it, as the
// queue-wait sweep says in its reason); "" for a pass or a run still going.
func VerdictReasonCode(state StatusState, reason string) ReasonCode {
	switch state {
	case StatusFailure:
		return ReasonSuiteFailed
	case StatusError, StatusCanceled:
		if strings.Contains(reason, string(ReasonRunnerUnavailable)) {
			return ReasonRunnerUnavailable
		}
		return ReasonVerificationError
	}
	return ""
}

// TruncateUTF8Bytes cuts s to at most n bytes without splitting a character.
func TruncateUTF8Bytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}

// FailureAnnotations points an annotation at each failed test that says
// where it failed, in the repository repoName ("owner/name"). Go prints the
// file relative to the package's directory, so the path is the package's
// import path from the repository's name on ("github.com/acme/pay/calc" in
// acme/pay → "calc/round_test.go"); a package outside the repository's
// import path (a vanity path) keeps the path after its module's host and
// first element, the best guess without reading go.mod. At most
// MaxCheckAnnotations are returned.
func FailureAnnotations(repoName string, tests []TestResult) []CheckAnnotation {
	var out []CheckAnnotation
	for _, t := range tests {
		if len(out) == MaxCheckAnnotations {
			break
		}
		if t.Status != TestFailed && t.Status != TestErrored || t.Kind != TestCase || t.File == "" || t.Line <= 0 || t.Quarantined {
			continue
		}
		p := path.Join(packageDir(repoName, t.Class), t.File)
		if p == "." || p == ".." || strings.HasPrefix(p, "../") || path.IsAbs(p) {
			continue // not a file inside the repository
		}
		msg := t.Message
		if msg == "" {
			msg = "failed"
		}
		out = append(out, CheckAnnotation{Path: p, Line: t.Line, Title: t.Name + " failed", Message: msg})
	}
	return out
}

// packageDir is the directory of Go package pkg inside repository repoName.
func packageDir(repoName, pkg string) string {
	if pkg == "" {
		return ""
	}
	lower := strings.ToLower(pkg)
	name := strings.ToLower(repoName)
	if i := strings.Index(lower+"/", "/"+name+"/"); i >= 0 {
		return strings.TrimPrefix(pkg[i+1+len(name):], "/")
	}
	// example.com/module/sub… : drop the host and the module's first element.
	parts := strings.SplitN(pkg, "/", 3)
	if len(parts) == 3 && strings.Contains(parts[0], ".") {
		return parts[2]
	}
	return ""
}

// ForgeCheckRun is a check run as the forge's API reports it.
type ForgeCheckRun struct {
	ID         int64
	Name       string
	HeadSHA    string
	ExternalID string
	// AppID is the App that made it: only runs of patchgate's own App are
	// patchgate's.
	AppID int64
}

// RepoRole is a person's role on a repository as the forge's API reports it
// (GitHub: admin, maintain, write, triage, read, none).
type RepoRole struct {
	Login  string
	UserID int64
	Role   string
}

// MaintainsRepo reports whether the role is one that maintains the
// repository on the forge (GitHub's maintain and admin).
func (r RepoRole) MaintainsRepo() bool { return r.Role == "admin" || r.Role == "maintain" }
