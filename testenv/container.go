package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// logDrainTimeout bounds the wait for the log stream's end once the command
// exited: logs are best-effort and must not hold the verdict hostage.
const logDrainTimeout = 10 * time.Second

// prepareRunner creates the runner container, locked down, and streams the
// source tree into its Workdir. It is started only once the services are ready.
func (e *environment) prepareRunner(ctx context.Context) error {
	spec := e.spec
	var src io.ReadCloser
	if spec.Source != nil {
		var err error
		if src, err = spec.Source(ctx); err != nil {
			return fmt.Errorf("runner: open source: %w", err)
		}
		defer src.Close()
	}
	pids := spec.Limits.PIDs
	req := testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:      spec.Image,
			Entrypoint: []string{"sh", "-c", spec.Command},
			Env:        maps.Clone(spec.Env),
			Labels:     e.labels(RoleRunner),
			Networks:   []string{e.network.Name},
			ConfigModifier: func(c *container.Config) {
				c.WorkingDir = spec.Workdir
				if e.user != "" {
					c.User = e.user
				}
				zero := 0
				c.StopTimeout = &zero
			},
			// The suite's code is untrusted: no Docker socket or any other host
			// mount, no privileges, no capabilities, no setuid escalation,
			// bounded resources, and the run's network only.
			HostConfigModifier: func(h *container.HostConfig) {
				h.NetworkMode = container.NetworkMode(e.network.Name)
				h.Privileged = false
				h.Binds = nil
				h.Mounts = nil
				h.CapAdd = nil
				h.CapDrop = []string{"ALL"}
				h.SecurityOpt = []string{"no-new-privileges:true"}
				h.Resources.Memory = spec.Limits.MemoryBytes
				h.Resources.MemorySwap = spec.Limits.MemoryBytes // no swap: over the limit is OOM
				h.Resources.NanoCPUs = spec.Limits.NanoCPUs
				h.Resources.PidsLimit = &pids
			},
		},
		Started: false,
		Logger:  e.tclog,
	}
	if err := e.withCache(ctx, &req); err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	c, err := testcontainers.GenericContainer(ctx, req)
	e.created(c)
	if err != nil {
		return fmt.Errorf("runner: create %s: %w", spec.Image, err)
	}
	e.runner = c.(*testcontainers.DockerContainer)
	if src == nil && spec.Cache == nil {
		return nil
	}
	// The files belong to the container's user, who must be able to write
	// reports next to them without capabilities: not even root may write to
	// another user's files once CAP_DAC_OVERRIDE is dropped.
	user := e.user
	if user == "" {
		user = e.imageUsers[spec.Image]
	}
	o, err := e.resolveUser(ctx, c.GetContainerID(), user)
	if err != nil {
		return fmt.Errorf("runner: user %q: %w", user, err)
	}
	if err := e.ownCaches(ctx, c.GetContainerID(), o); err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	if src == nil {
		return nil
	}
	dest, content := sourceArchive(src, spec.Workdir, o)
	defer content.Close()
	// Streamed, not buffered: a source tree can be large, and testcontainers'
	// CopyDirToContainer would also drop its symlinks.
	_, err = e.cli.CopyToContainer(ctx, c.GetContainerID(), client.CopyToContainerOptions{
		DestinationPath: dest,
		Content:         content,
	})
	if err != nil {
		return fmt.Errorf("runner: copy source to %s: %w", spec.Workdir, err)
	}
	return nil
}

// run starts the runner, streams its output through the masking writer into log
// while it runs, and waits for its exit or the timeout.
func (e *environment) run(ctx context.Context, log io.Writer) error {
	id := e.runner.GetContainerID()
	e.announceNetwork(log)
	if err := e.runner.Start(ctx); err != nil {
		return fmt.Errorf("start runner: %w", err)
	}
	started := time.Now()

	masked := NewMaskingWriter(log, e.spec.Secrets)
	logsDone := make(chan struct{})
	// The stream follows until the container stops; its context is cancelled
	// only if that never comes.
	lctx, stopLogs := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		defer close(logsDone)
		e.streamLogs(lctx, id, masked)
	}()
	// waitLogs waits for the stream's end, which a log writer that blocks for
	// good never lets come: that writer is then abandoned, not waited for.
	waitLogs := func() bool {
		select {
		case <-logsDone:
			return true
		case <-time.After(logDrainTimeout):
			return false
		}
	}
	defer func() {
		stopLogs()
		if !waitLogs() {
			e.log.Error("log writer blocked; abandoned it")
		}
	}()

	wctx, cancel := context.WithTimeout(ctx, e.spec.Timeout)
	defer cancel()
	wait := e.cli.ContainerWait(wctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	var waitErr error
	select {
	case <-wait.Result:
	case waitErr = <-wait.Error:
	}
	if waitErr != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx) // destroy kills it
		}
		if wctx.Err() == nil {
			if cerrdefs.IsNotFound(waitErr) {
				return fmt.Errorf("%w: %w", errRunnerRemoved, waitErr)
			}
			return fmt.Errorf("lost the runner container while the suite ran (Docker daemon error; the suite's own outcome is unknown): %w", waitErr)
		}
		e.result.TimedOut = true
		e.log.Info("suite timed out", "timeout", e.spec.Timeout)
		kctx, kcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer kcancel()
		if _, err := e.cli.ContainerKill(kctx, id, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
			return fmt.Errorf("kill runner after %s timeout: %w", e.spec.Timeout, err)
		}
		stopped := e.cli.ContainerWait(kctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
		select {
		case <-stopped.Result:
		case err := <-stopped.Error:
			return fmt.Errorf("wait for killed runner: %w", err)
		}
	}
	e.log.Debug("runner exited", "after", time.Since(started))

	drained := waitLogs()
	if !drained {
		e.log.Warn("log stream did not end after the runner exited")
		stopLogs()
		drained = waitLogs()
	}
	if drained { // else the writer is still in use
		if err := masked.Close(); err != nil {
			e.log.Warn("write suite log", "err", err)
		}
	}

	insp, err := e.cli.ContainerInspect(context.WithoutCancel(ctx), id, client.ContainerInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return errRunnerRemoved
	}
	if err != nil {
		return fmt.Errorf("inspect runner: %w", err)
	}
	if st := insp.Container.State; st != nil {
		e.result.ExitCode = st.ExitCode
		e.result.OOMKilled = st.OOMKilled
		if err := killedFromOutside(st, e.result.TimedOut); err != nil {
			return err
		}
	}
	return nil
}

// errRunnerRemoved is a runner container removed by someone else while its
// suite ran.
var errRunnerRemoved = errors.New("the runner container was removed while the suite ran (from outside: docker rm, another instance's sweeper, a daemon restart); the suite's own outcome is unknown")

// killedFromOutside tells a suite that ended on its own, whatever its exit
// code, from one something else ended: a SIGKILL (exit 137) that was neither
// an out-of-memory kill nor patchgate's timeout, or a container being removed.
// Only the first is the suite's verdict; the others are infrastructure errors.
func killedFromOutside(st *container.State, timedOut bool) error {
	switch {
	case timedOut || st.OOMKilled:
		return nil
	case st.Status == container.StateRemoving || st.Status == container.StateDead:
		return errRunnerRemoved
	case st.ExitCode == 137:
		return errors.New("the runner container was killed (SIGKILL, exit code 137) by something other than the suite: not out of memory, not patchgate's timeout (docker kill or rm, another instance's sweeper, a daemon restart); the suite's own outcome is unknown")
	}
	return nil
}

// streamLogs copies the container's output into w as it is produced, from
// the start of its log until it stops. A failing w (a client gone away) ends
// the copy, not the run.
func (e *environment) streamLogs(ctx context.Context, id string, w io.Writer) {
	defer func() {
		// The log writer is the caller's; its panic must not take down the
		// process from a goroutine nobody can recover in.
		if p := recover(); p != nil {
			e.log.Error("log writer panicked", "panic", p)
		}
	}()
	rc, err := e.cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: true})
	if err != nil {
		e.log.Warn("follow runner log", "err", err)
		return
	}
	defer rc.Close()
	if _, err := demux(w, rc); err != nil && ctx.Err() == nil {
		e.log.Warn("copy runner log", "err", err)
	}
}

// demux copies a non-TTY container stream, stdout and stderr interleaved as
// produced, into w.
func demux(w io.Writer, r io.Reader) (int64, error) {
	return stdcopy.StdCopy(w, w, r)
}
