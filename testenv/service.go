package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"

	"github.com/patchgate/patchgate"
)

// probeInterval is the pause between readiness probes; an exec itself takes
// tens to hundreds of milliseconds.
const probeInterval = 50 * time.Millisecond

// startService starts one service on the run's network under its name and
// waits until its readiness probe exits 0.
func (e *environment) startService(ctx context.Context, s patchgate.ServiceSpec) error {
	lbl := e.labels(RoleService)
	lbl[LabelService] = s.Name
	req := testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:          s.Image,
			Env:            maps.Clone(s.Env),
			Cmd:            s.Command,
			Labels:         lbl,
			Networks:       []string{e.network.Name},
			NetworkAliases: map[string][]string{e.network.Name: {s.Name}},
			ConfigModifier: func(c *container.Config) {
				zero := 0
				c.StopTimeout = &zero // a throwaway service needs no graceful stop
			},
			HostConfigModifier: func(h *container.HostConfig) {
				lockDownService(h, e.network.Name, e.spec.Limits, serviceCaps(e.imageUsers[s.Image]))
			},
		},
		Started: true,
		Logger:  e.tclog,
	}
	c, err := testcontainers.GenericContainer(ctx, req)
	e.created(c)
	if err != nil {
		return fmt.Errorf("service %q: start %s: %w", s.Name, s.Image, err)
	}
	if len(s.Ready) == 0 {
		return nil
	}
	start := time.Now()
	if err := e.waitReady(ctx, c, s); err != nil {
		return fmt.Errorf("service %q: %w", s.Name, err)
	}
	e.log.Debug("service ready", "service", s.Name, "after", time.Since(start))
	return nil
}

// waitReady runs s.Ready inside c until it exits 0, c stops, or s.ReadyTimeout
// passes. The error names the probe's last outcome.
func (e *environment) waitReady(ctx context.Context, c testcontainers.Container, s patchgate.ServiceSpec) error {
	pctx, cancel := context.WithTimeout(ctx, s.ReadyTimeout)
	defer cancel()
	probe := s.Ready[0]
	last := "never ran"
	for {
		code, out, err := c.Exec(pctx, s.Ready, tcexec.Multiplexed())
		switch {
		case err == nil && code == 0:
			return nil
		case err == nil:
			last = fmt.Sprintf("%s exited %d", probe, code)
			if msg := readTail(out, 200); msg != "" {
				last += ": " + msg
			}
		case pctx.Err() == nil:
			last = fmt.Sprintf("%s: %v", probe, err)
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if pctx.Err() != nil {
			return fmt.Errorf("not ready after %s: %s", s.ReadyTimeout, last)
		}
		if err != nil {
			if stopped := e.exited(ctx, c.GetContainerID()); stopped != nil {
				return stopped
			}
		}
		select {
		case <-pctx.Done():
		case <-time.After(probeInterval):
		}
	}
}

// exited returns an error describing a service container that stopped, with the
// end of its log, or nil while it runs.
func (e *environment) exited(ctx context.Context, id string) error {
	insp, err := e.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil || insp.Container.State == nil || insp.Container.State.Running {
		return nil
	}
	msg := fmt.Sprintf("exited with code %d before it was ready", insp.Container.State.ExitCode)
	if logs, err := e.cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: "20"}); err == nil {
		defer logs.Close()
		var b strings.Builder
		_, _ = demux(&b, logs)
		if tail := strings.TrimSpace(b.String()); tail != "" {
			msg += ": " + tail
		}
	}
	return errors.New(msg)
}

// readTail returns the last n bytes of r, trimmed, for error messages.
func readTail(r io.Reader, n int) string {
	if r == nil {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(r, 64<<10))
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}
