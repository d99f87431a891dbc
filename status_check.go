package patchgate

import "time"

// StatusCheckStatus is an answer to a GitLab external status check.
type StatusCheckStatus string

// Status check answers.
const (
	StatusCheckPending StatusCheckStatus = "pending"
	StatusCheckPassed  StatusCheckStatus = "passed"
	StatusCheckFailed  StatusCheckStatus = "failed"
)

// StatusCheckPendingLimit is how long an answer may stay pending before
// patchgate answers failed: GitLab fails a pending check after two minutes
// on its own, unexplained, so patchgate says it first and re-answers when
// the verdict arrives.
const StatusCheckPendingLimit = 90 * time.Second

// StatusCheckGitLabTimeout is when GitLab fails a check left pending (GitLab
// 16.6 and later): a pending answer older than that is failed on GitLab's
// side, and must be retried before a verdict can pass it.
const StatusCheckGitLabTimeout = 2 * time.Minute

// StatusCheckMaxAge is how long a question about one head stays open: a head
// without a verdict after that (its merge request closed, its run never
// allowed) is answered no more, so sweeps do not grow without end.
const StatusCheckMaxAge = 30 * 24 * time.Hour

// StatusCheckAnswer is the answer for a merge request's head whose verdict
// (HeadVerdict) is head: passed for a success, failed for a failure or an
// error, pending while there is none; final reports whether the answer can
// no longer change for that head.
func StatusCheckAnswer(head RunState) (status StatusCheckStatus, final bool) {
	switch {
	case head == RunSuccess:
		return StatusCheckPassed, true
	case head == RunFailure || head == RunError:
		return StatusCheckFailed, true
	}
	return StatusCheckPending, false
}

// StatusCheck is one external status check GitLab asked about: a merge
// request's head, with what patchgate last answered.
type StatusCheck struct {
	ID        int64  `json:"id"`
	Repo      string `json:"repo"`
	ProjectID int64  `json:"project_id"`
	MRIID     int    `json:"mr_iid"`
	SHA       string `json:"sha"`
	// CheckID is GitLab's external status check (its external_approval_rule).
	CheckID int64 `json:"check_id"`
	// Answered is the last answer given ("" before the first).
	Answered StatusCheckStatus `json:"answered,omitempty"`
	// Final is set once a passed or failed verdict was answered.
	Final       bool       `json:"final"`
	RequestedAt time.Time  `json:"requested_at"`
	AnsweredAt  *time.Time `json:"answered_at,omitempty"`
}
