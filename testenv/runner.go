// Package testenv runs suites in throwaway Docker environments with
// testcontainers-go: a per-run network, service containers reachable by name,
// and a locked-down runner container that runs the suite's command on the
// source tree. Every environment goes through provision → run → collect →
// destroy, and destroy always runs.
//
// Ryuk, testcontainers' reaper, needs an image that cannot be pulled on
// patchgate's hosts: a Runner disables it itself before its first
// testcontainers call, whatever the environment says, and leftovers of
// crashed processes are removed by Runner.Sweep instead.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/patchgate/patchgate"
)

// Defaults for what an EnvironmentSpec leaves zero.
const (
	DefaultTimeout      = 10 * time.Minute
	DefaultReadyTimeout = 60 * time.Second
	DefaultWorkdir      = "/workspace"
	DefaultMaxParallel  = 16 // Docker's default address pools allow ~30 bridge networks
	teardownTimeout     = 2 * time.Minute
)

// Default limits of a runner container when neither the spec nor the Runner
// sets them.
const (
	DefaultNanoCPUs    = 2e9
	DefaultMemoryBytes = 2 << 30
	DefaultPIDs        = 1024
)

// Runner implements patchgate.EnvironmentRunner on a Docker engine. Its fields
// are set before the first Run; a Runner is then safe for concurrent use.
type Runner struct {
	// Owner identifies this patchgate instance in labels. Runs are labelled with
	// the spec's Owner, or this one when the spec has none; Sweep removes only
	// resources labelled with this one.
	Owner string
	// Instance, when set, is the id of the database this Runner's runs are
	// known to (its patchgate instance). Every resource is labelled with it,
	// and Sweep then removes only resources labelled with it too, so that
	// instances sharing a daemon never sweep each other's runs, even under
	// one owner.
	Instance string
	Logger   *slog.Logger // nil: discard

	// Limits replaces the default limits field by field where non-zero; a
	// spec's own non-zero limits win over both.
	Limits patchgate.Limits
	// User runs the runner container as this user ("1000:1000") instead of the
	// image's default user.
	User string
	// MaxParallel bounds concurrent environments (each takes a bridge network);
	// DefaultMaxParallel when zero.
	MaxParallel int
	// SweepGrace keeps resources younger than this from Sweep, for runs whose
	// owner has not recorded them as alive yet.
	SweepGrace time.Duration

	initOnce sync.Once
	slots    chan struct{}
	mu       sync.Mutex
	cli      *testcontainers.DockerClient
	active   map[string]int // run id → environments of this Runner being built or torn down
}

var _ patchgate.EnvironmentRunner = (*Runner)(nil)

func (r *Runner) init() {
	r.initOnce.Do(func() {
		n := r.MaxParallel
		if n <= 0 {
			n = DefaultMaxParallel
		}
		r.slots = make(chan struct{}, n)
		r.active = make(map[string]int)
	})
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

// client returns the Docker client shared by every run of r, connecting on first
// use so that a Runner can be built while Docker is still down. It is every
// path's first testcontainers call, so it turns Ryuk off first.
func (r *Runner) client(ctx context.Context) (*client.Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cli == nil {
		if err := disableRyuk(); err != nil {
			return nil, err
		}
		// testcontainers prints a banner ("Connected to docker: … Testcontainers
		// for Go Version") and its progress to stderr through its package-level
		// logger, outside patchgate's log format; its own per-call Logger options
		// do not reach the banner. That logger is a process global of the
		// library, so it is set here, before testcontainers' first call, to
		// patchgate's logger at debug level.
		tclog.SetDefault(tcLogger{r.logger()})
		cli, err := testcontainers.NewDockerClientWithOpts(ctx)
		if err != nil {
			return nil, fmt.Errorf("connect to docker: %w", err)
		}
		r.cli = cli
	}
	return r.cli.Client, nil
}

// Close releases the Docker client's connections.
func (r *Runner) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cli == nil {
		return nil
	}
	err := r.cli.Close()
	r.cli = nil
	return err
}

// Run implements patchgate.EnvironmentRunner. spec.Timeout bounds the command
// only, not provisioning; a run over it is killed and reported TimedOut. Run
// returns after teardown, which is bounded by its own timeout and never
// changes the result. A cancelled ctx ends the run with ctx's error.
func (r *Runner) Run(ctx context.Context, spec patchgate.EnvironmentSpec, log io.Writer) (*patchgate.EnvironmentResult, error) {
	r.init()
	spec, err := r.withDefaults(spec)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = io.Discard
	}
	select {
	case r.slots <- struct{}{}:
		defer func() { <-r.slots }()
	case <-ctx.Done():
		return nil, fmt.Errorf("run %s: wait for a free environment slot: %w", spec.RunID, context.Cause(ctx))
	}
	cli, err := r.client(ctx)
	if err != nil {
		return nil, err
	}
	r.track(spec.RunID, 1)
	defer r.track(spec.RunID, -1)

	env := &environment{
		spec:     spec,
		cli:      cli,
		log:      r.logger().With("run_id", spec.RunID),
		tclog:    tcLogger{r.logger().With("run_id", spec.RunID)},
		user:     r.User,
		instance: r.Instance,
		result:   &patchgate.EnvironmentResult{ImageDigests: map[string]string{}},
	}
	// Teardown runs on every way out, panics and cancellation included, on a
	// context of its own: the run's may be what ended it.
	defer func() {
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), teardownTimeout)
		defer cancel()
		start := time.Now()
		env.destroy(tctx)
		env.result.Timings.Teardown = time.Since(start)
	}()

	start := time.Now()
	if err := env.provision(ctx); err != nil {
		return nil, env.failed(ctx, fmt.Errorf("provision: %w", err))
	}
	env.result.Timings.Provision = time.Since(start)

	start = time.Now()
	if err := env.run(ctx, log); err != nil {
		return nil, env.failed(ctx, fmt.Errorf("run: %w", err))
	}
	env.result.Timings.Run = time.Since(start)

	start = time.Now()
	if err := env.collect(ctx); err != nil {
		return nil, env.failed(ctx, fmt.Errorf("collect: %w", err))
	}
	env.result.Timings.Collect = time.Since(start)
	return env.result, nil
}

// failed reports a cancelled run as the context's error, whatever broke first
// because of it, and anything else as it is.
func (e *environment) failed(ctx context.Context, err error) error {
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("run %s: %w (%v)", e.spec.RunID, context.Cause(ctx), err)
	}
	return fmt.Errorf("run %s: %w", e.spec.RunID, err)
}

// withDefaults checks spec and fills what it leaves zero.
func (r *Runner) withDefaults(spec patchgate.EnvironmentSpec) (patchgate.EnvironmentSpec, error) {
	if spec.Owner == "" {
		spec.Owner = r.Owner
	}
	switch {
	case spec.RunID == "":
		return spec, errors.New("environment spec: no run id")
	case spec.Owner == "":
		return spec, errors.New("environment spec: no owner")
	case spec.Image == "":
		return spec, errors.New("environment spec: no runner image")
	case spec.Timeout < 0:
		return spec, errors.New("environment spec: negative timeout")
	}
	if spec.Timeout == 0 {
		spec.Timeout = DefaultTimeout
	}
	if spec.Workdir == "" {
		spec.Workdir = DefaultWorkdir
	}
	spec.Limits = mergeLimits(spec.Limits, r.Limits,
		patchgate.Limits{NanoCPUs: DefaultNanoCPUs, MemoryBytes: DefaultMemoryBytes, PIDs: DefaultPIDs})
	seen := map[string]bool{}
	services := make([]patchgate.ServiceSpec, len(spec.Services))
	for i, s := range spec.Services {
		if s.Name == "" || s.Image == "" {
			return spec, fmt.Errorf("environment spec: service %d: no name or image", i)
		}
		if seen[s.Name] {
			return spec, fmt.Errorf("environment spec: service %q twice", s.Name)
		}
		seen[s.Name] = true
		if s.ReadyTimeout <= 0 {
			s.ReadyTimeout = DefaultReadyTimeout
		}
		services[i] = s
	}
	spec.Services = services
	return spec, nil
}

// mergeLimits takes each limit from the first of ls that sets it.
func mergeLimits(ls ...patchgate.Limits) patchgate.Limits {
	var out patchgate.Limits
	for _, l := range ls {
		if out.NanoCPUs == 0 {
			out.NanoCPUs = l.NanoCPUs
		}
		if out.MemoryBytes == 0 {
			out.MemoryBytes = l.MemoryBytes
		}
		if out.PIDs == 0 {
			out.PIDs = l.PIDs
		}
	}
	return out
}

// track counts this Runner's environments per run, so that Sweep never takes
// one of them for a leftover.
func (r *Runner) track(runID string, delta int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.active[runID] += delta
	if r.active[runID] <= 0 {
		delete(r.active, runID)
	}
}

func (r *Runner) isActive(runID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.active[runID] > 0
}

// tcLogger sends testcontainers' chatter to slog at debug level.
type tcLogger struct{ l *slog.Logger }

func (t tcLogger) Printf(format string, args ...any) {
	t.l.Debug(strings.TrimSpace(fmt.Sprintf(format, args...)), "component", "testcontainers")
}
