package patchgate

import (
	"context"
	"io"
	"time"
)

// EnvironmentSpec describes one suite's throwaway environment: a private network,
// service containers reachable by name, and a runner container that runs Command
// on the source tree.
type EnvironmentSpec struct {
	// RunID identifies this suite run in container and network labels, so that a
	// sweeper can tell live runs from leftovers.
	RunID string
	// Owner identifies the patchgate instance (labels; sweeping).
	Owner string

	Image   string
	Command string // executed as sh -c
	Workdir string // inside the runner; the source tree is copied here
	Env     map[string]string
	// Secrets are values masked as *** wherever the log is stored or streamed.
	Secrets []string

	Services []ServiceSpec
	// Source returns a tar stream of the source tree at the verified commit.
	Source func(ctx context.Context) (io.ReadCloser, error)
	// JUnitPath is a path relative to Workdir the command writes a JUnit report to.
	JUnitPath string

	Timeout time.Duration
	// Limits bound each container of the environment: the runner and every
	// service.
	Limits Limits

	// Egress lets the environment's network reach beyond the host; without
	// it the network is internal: the runner and services reach each other
	// and nothing else.
	Egress bool
	// Cache, when set, keeps directories of the runner between runs.
	Cache *CacheSpec
}

// CacheSpec names directories of a runner kept in volumes between runs of
// one repository's suite, so builds start warm.
type CacheSpec struct {
	// Repo and Suite identify whose cache it is (volume names and labels).
	Repo  string
	Suite string
	// Scope separates caches that must not share volumes: "" for the runs
	// of every trusted head, CacheScope's "release:<branch>" for the release
	// branch's own runs.
	Scope string
	// Paths are absolute directories inside the runner.
	Paths []string
}

// ServiceSpec is a service container of a suite (a database, a broker).
type ServiceSpec struct {
	Name    string // network alias the runner reaches it by
	Image   string
	Env     map[string]string
	Command []string
	// Ready is an exec probe run inside the service until it exits 0.
	Ready        []string
	ReadyTimeout time.Duration
}

// Limits bound a runner container's resources.
type Limits struct {
	NanoCPUs    int64 // 1e9 = one CPU
	MemoryBytes int64
	PIDs        int64
}

// EnvironmentResult is what running a suite produced.
type EnvironmentResult struct {
	ExitCode  int
	OOMKilled bool
	TimedOut  bool
	// JUnit is the raw report copied out of the runner, nil when absent.
	JUnit []byte
	// ImageDigests maps every image used to its content digest (image id).
	ImageDigests map[string]string
	Timings      EnvironmentTimings
}

// EnvironmentTimings records how long each phase took.
type EnvironmentTimings struct {
	Provision time.Duration // network + services ready + runner created + source copied
	Run       time.Duration
	Collect   time.Duration
	Teardown  time.Duration
}

// EnvironmentRunner runs suites in throwaway environments.
type EnvironmentRunner interface {
	// Run provisions the environment, runs the command, streams its combined output
	// (secrets masked) to log as it is produced, collects the JUnit report, and
	// always tears everything down, even when ctx is cancelled. A non-zero exit of
	// the command on its own (its timeout and out-of-memory kills included) is a
	// result, not an error; an error means the infrastructure broke (image
	// missing, Docker down, the runner container removed or killed from outside:
	// exit 137 without OOM or timeout) and says what broke in words.
	Run(ctx context.Context, spec EnvironmentSpec, log io.Writer) (*EnvironmentResult, error)
}

// SuitePlan is one suite of a verification, ready to run: its name, whether the
// verdict needs it, and its environment (without RunID, Owner and Source, which
// the runner fills in).
type SuitePlan struct {
	Name     string
	Required bool
	// FlakyRetries is how many more times a required suite that failed is
	// run on the same commit, each in a fresh environment, before its failure
	// counts (.patchgate.yml flaky_retries).
	FlakyRetries int
	// Quarantines are the quarantines of the repository that may cover this
	// suite's tests (.patchgate.yml and the API's), expired ones included: an
	// expired one is named when its test fails.
	Quarantines []Quarantine
	Spec        EnvironmentSpec
}

// CacheScope decides which caches a trusted head's run may use: a push to the
// release branch gets the release branch's own ("release:<branch>"), which no
// other branch's or PR/MR's run can write, so the evidence a candidate stands
// on never builds from a cache a feature branch could have poisoned; every
// other run shares "". releaseBranch "" means "main", the candidates' default.
func CacheScope(kind ChangeKind, branch, releaseBranch string) string {
	if releaseBranch == "" {
		releaseBranch = "main"
	}
	if kind != ChangePush || branch != releaseBranch {
		return ""
	}
	return "release:" + branch
}
