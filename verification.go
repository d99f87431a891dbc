package patchgate

import (
	"context"
	"time"
)

// RunState is where a verification or one of its suite runs stands.
type RunState string

// Run states. Queued and running are live; the others are final.
const (
	RunQueued   RunState = "queued"
	RunRunning  RunState = "running"
	RunSuccess  RunState = "success" // every required suite passed
	RunFailure  RunState = "failure" // a required suite's command failed
	RunError    RunState = "error"   // the infrastructure broke: verdict unknown
	RunCanceled RunState = "canceled"
)

// Final reports whether s is a final state.
func (s RunState) Final() bool { return s != RunQueued && s != RunRunning }

// StatusState is the commit status that shows s on a forge.
func (s RunState) StatusState() StatusState {
	switch s {
	case RunQueued:
		return StatusPending
	case RunRunning:
		return StatusRunning
	case RunSuccess:
		return StatusSuccess
	case RunFailure:
		return StatusFailure
	case RunCanceled:
		return StatusCanceled
	}
	return StatusError
}

// Verification is one run of a repository's suites on one commit (gate invariant
// 1: a change is verified only by a successful verification of exactly its head).
type Verification struct {
	ID    int64  `json:"id"`
	Forge Forge  `json:"forge"`
	Repo  string `json:"repo"`
	SHA   string `json:"sha"`
	// ChangeID is the change whose head this is, when known (0 for a manual run
	// of a bare commit).
	ChangeID int64 `json:"change_id,omitempty"`
	// ConfigRef is where .patchgate.yml was read: the SHA itself, or the base
	// branch for a change from a fork.
	ConfigRef string `json:"config_ref"`
	// ConfigDigest identifies the .patchgate.yml the suites come from; empty
	// until a worker has read it (planning happens off the delivery path, so a
	// forge outage never holds up a delivery).
	ConfigDigest string `json:"config_digest"`
	// RequireProof is release.require_proof of that .patchgate.yml: a fix
	// verified here counts only with a fail-to-pass proof that holds.
	RequireProof bool     `json:"require_proof"`
	State        RunState `json:"state"`
	// Stale is set when the change's head moved on: the verdict no longer says
	// anything about the change (gate invariant 2).
	Stale bool `json:"stale"`
	// Reason explains a failure, an error or a cancellation in words.
	Reason string `json:"reason,omitempty"`
	// Trigger says why it ran: "opened", "synchronize", "push", "post-merge",
	// "manual by alice".
	Trigger string `json:"trigger"`
	// Attempt counts the runs of this verification: it grows when a run is
	// orphaned (its worker died) and the verification is queued again. A job
	// carries the attempt it was made for, so a stale job never runs twice.
	Attempt int `json:"attempt"`
	// Worker names the process running it; HeartbeatAt is its last sign of life.
	Worker      string      `json:"worker,omitempty"`
	HeartbeatAt *time.Time  `json:"heartbeat_at,omitempty"`
	Suites      []*SuiteRun `json:"suites,omitempty"`
	CreatedAt   time.Time   `json:"created_at"`
	StartedAt   *time.Time  `json:"started_at,omitempty"`
	FinishedAt  *time.Time  `json:"finished_at,omitempty"`
}

// Validate checks a verification before it is stored.
func (v *Verification) Validate() error {
	if err := (RepoRef{Forge: v.Forge, Name: v.Repo}).Validate(); err != nil {
		return err
	}
	if !ValidSHA(v.SHA) {
		return Errorf(EINVALID, "verification: %q is not a commit SHA", v.SHA)
	}
	return nil
}

// SuiteRun is one suite of a verification, run in its own environment.
type SuiteRun struct {
	ID             int64    `json:"id"`
	VerificationID int64    `json:"verification_id"`
	Name           string   `json:"name"`
	Required       bool     `json:"required"`
	State          RunState `json:"state"`
	Image          string   `json:"image"`
	// ExitCode is the command's exit code once it exited.
	ExitCode  *int `json:"exit_code,omitempty"`
	OOMKilled bool `json:"oom_killed"`
	TimedOut  bool `json:"timed_out"`
	// Description is the one line shown on the forge: "41 passed, 1 failed".
	Description string `json:"description"`
	// Counts from the JUnit report, when the suite writes one.
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	// ImageDigests maps each image used (runner and services) to its digest.
	ImageDigests map[string]string  `json:"image_digests,omitempty"`
	Timings      EnvironmentTimings `json:"timings"`
	StartedAt    *time.Time         `json:"started_at,omitempty"`
	FinishedAt   *time.Time         `json:"finished_at,omitempty"`
	Tests        []TestResult       `json:"tests,omitempty"`
}

// TestStatus is one test's outcome in a JUnit report.
type TestStatus string

// Test outcomes.
const (
	TestPassed  TestStatus = "passed"
	TestFailed  TestStatus = "failed"
	TestErrored TestStatus = "error"
	TestSkipped TestStatus = "skipped"
)

// TestResultKind says what a test result is about: a test case, or a
// package or test file that failed before any of its tests ran. The runner
// that read the result knows how its output says which; the proof judges by
// the kind alone.
type TestResultKind string

// Test result kinds.
const (
	// TestCase is a test (the zero value: a result that says nothing else).
	TestCase TestResultKind = ""
	// PackageBuild is a Go package whose tests did not compile.
	PackageBuild TestResultKind = "package_build"
	// PackageSetup is a Go package whose test binary could not be set up.
	PackageSetup TestResultKind = "package_setup"
	// SuiteSetup is a test file that failed to load before its tests ran (a
	// missing module, an import error).
	SuiteSetup TestResultKind = "suite_setup"
)

// TestResult is one test case from a suite's JUnit report, or one failure
// of a package or test file that a test runner reported instead of its tests
// (see Kind).
type TestResult struct {
	// Class is the JUnit classname (a Go package, a Java class).
	Class    string        `json:"class"`
	Name     string        `json:"name"`
	Status   TestStatus    `json:"status"`
	Duration time.Duration `json:"duration"`
	// Message is the failure or error message, truncated.
	Message string `json:"message,omitempty"`
	// Kind says whether this is a test case or a package's or file's failure;
	// Package, File and BuildError say which one and why. Only the runners'
	// readers set them, from the output they recognise; they are not stored,
	// so a result read back from the store is a TestCase.
	Kind TestResultKind `json:"kind,omitempty"`
	// Package is the Go import path a PackageBuild or PackageSetup result
	// concerns.
	Package string `json:"package,omitempty"`
	// File is the test file a SuiteSetup result concerns: its path, or the
	// dotted module a JUnit report names it by. For a failed Go test case it
	// is the file of the first "file.go:N:" line the test printed, as go test
	// prints it (relative to the package's directory), and Line is N: where
	// the check run's annotation points.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// BuildError is a PackageBuild result's first compiler error
	// ("calc/round_test.go:6:5: undefined: RoundHalfEven") when the output
	// showed it; Message says it in words.
	BuildError string `json:"build_error,omitempty"`
	// Attempt is the run of the suite this result comes from: 1, or a later
	// one when a failed suite was re-run on the same commit (flaky_retries).
	Attempt int `json:"attempt"`
	// Flaky marks a test that failed on one attempt and passed on a later one
	// on the same commit; both of its results carry it.
	Flaky bool `json:"flaky,omitempty"`
	// Quarantined marks the results of a flaky test whose failure a
	// quarantine excused: reported, but it neither fails its suite nor
	// serves as proof.
	Quarantined bool `json:"quarantined,omitempty"`
}

// VerificationFilter selects verifications; nil fields do not filter.
type VerificationFilter struct {
	Forge    *Forge
	Repo     *string
	SHA      *string
	ChangeID *int64
	State    *RunState
	Offset   int
	Limit    int
}

// VerificationService stores verifications, their suite runs, test results and
// logs. Implementations are safe for concurrent use.
type VerificationService interface {
	// CreateVerification stores v with its suites (each queued); v may be
	// unplanned (no config digest, no suites) until PlanVerification. If a live
	// (queued or running) verification with the same forge, repo, SHA and
	// config ref exists, it is returned instead and created is false.
	CreateVerification(ctx context.Context, v *Verification) (stored *Verification, created bool, err error)
	// PlanVerification records an unplanned verification's config digest,
	// whether it requires proof, and its suites (each queued), and returns it
	// with its suites; the same digest again returns the stored plan.
	// ECONFLICT when it is final or was planned with another digest.
	PlanVerification(ctx context.Context, id int64, digest string, requireProof bool, suites []*SuiteRun) (*Verification, error)
	// FindVerificationByID returns the verification with its suites (without
	// tests); ENOTFOUND when absent.
	FindVerificationByID(ctx context.Context, id int64) (*Verification, error)
	// FindVerifications returns matching verifications, newest first, with
	// suites, and the total count.
	FindVerifications(ctx context.Context, filter VerificationFilter) ([]*Verification, int, error)
	// FindTests returns a suite run's test results; ENOTFOUND for an unknown
	// suite run.
	FindTests(ctx context.Context, suiteRunID int64) ([]TestResult, error)
	// ClaimVerification marks a queued verification running by worker, for the
	// given attempt, and sets its heartbeat. ECONFLICT when it is final (a
	// cancelled run must not start), already running, or at another attempt.
	ClaimVerification(ctx context.Context, id int64, attempt int, worker string) error
	// Heartbeat records that worker is still running the verification.
	// ECONFLICT when the verification is no longer running by that worker.
	Heartbeat(ctx context.Context, id int64, worker string) error
	// RequeueOrphans finds running verifications whose heartbeat is older than
	// staleBefore (their worker died), puts them back to queued with the next
	// attempt, resets their suite runs and logs, and returns them so that they
	// can be enqueued again.
	RequeueOrphans(ctx context.Context, staleBefore time.Time) ([]*Verification, error)
	// UpdateSuiteRun saves a suite run's state and results, and its test
	// results when Tests is not nil (replacing earlier ones).
	UpdateSuiteRun(ctx context.Context, s *SuiteRun) error
	// FinishVerification records the final state and reason. ECONFLICT when it
	// is already final (a late finish never overwrites a cancellation).
	FinishVerification(ctx context.Context, id int64, state RunState, reason string) error
	// SupersedeVerifications marks every verification of the change whose SHA is
	// not head stale, cancels the live ones (reason given), and returns the ids
	// cancelled so their jobs can be stopped.
	SupersedeVerifications(ctx context.Context, changeID int64, head, reason string) (cancelled []int64, err error)
	// AppendLog appends a chunk of a suite run's (already masked) log.
	AppendLog(ctx context.Context, suiteRunID int64, chunk []byte) error
	// ReadLog returns the log from byte offset on, and whether the suite run is
	// final (so a follower knows to stop).
	ReadLog(ctx context.Context, suiteRunID int64, offset int64) (data []byte, final bool, err error)
}

// VerificationQueue schedules verifications on the durable job queue.
type VerificationQueue interface {
	// Enqueue schedules verification v; unique per (forge, repo, SHA, config
	// digest) among live jobs, so enqueueing twice runs once.
	Enqueue(ctx context.Context, v *Verification) error
	// Cancel stops the jobs of these verifications, queued or running.
	Cancel(ctx context.Context, verificationIDs ...int64) error
}

// VerifyRequest asks to verify a change's head by hand (API, `patchgate verify`).
type VerifyRequest struct {
	// Forge may be empty when only one configured repository has the name.
	Forge Forge  `json:"forge,omitempty"`
	Repo  string `json:"repo"`
	SHA   string `json:"sha"`
}
