package testenv

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// Sweep removes the containers and networks labelled with r.Owner (and
// r.Instance, when set) whose run is not alive: leftovers of a process that
// died before its teardown. alive is asked once per run id found, and must
// say true for a run its database does not know; runs this Runner is working
// on, and resources younger than SweepGrace, are kept without asking.
// Resources of other owners or instances, or labelled by testcontainers alone,
// are never touched. It returns how many resources it removed and the errors
// of those it could not.
func (r *Runner) Sweep(ctx context.Context, alive func(runID string) bool) (removed int, err error) {
	r.init()
	if r.Owner == "" {
		return 0, errors.New("sweep: runner has no owner")
	}
	cli, err := r.client(ctx)
	if err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	filter := make(client.Filters).Add("label", LabelOwner+"="+r.Owner)
	if r.Instance != "" {
		filter.Add("label", LabelInstance+"="+r.Instance)
	}
	verdict := map[string]bool{}
	dead := func(lbl map[string]string, created time.Time) bool {
		// The daemon filtered; be sure anyway.
		if lbl[LabelOwner] != r.Owner || (r.Instance != "" && lbl[LabelInstance] != r.Instance) {
			return false
		}
		if s, err := strconv.ParseInt(lbl[LabelCreated], 10, 64); err == nil {
			created = time.Unix(s, 0)
		}
		if r.SweepGrace > 0 && time.Since(created) < r.SweepGrace {
			return false
		}
		run := lbl[LabelRun]
		if r.isActive(run) {
			return false
		}
		ok, seen := verdict[run]
		if !seen {
			ok = alive(run)
			verdict[run] = ok
		}
		return !ok
	}

	var errs []error
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	if err != nil {
		return 0, fmt.Errorf("sweep: list containers: %w", err)
	}
	for _, c := range cs.Items {
		if !dead(c.Labels, time.Unix(c.Created, 0)) {
			continue
		}
		_, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		switch {
		case err == nil:
			removed++
			r.logger().Info("swept container", "container", shortID(c.ID), "run_id", c.Labels[LabelRun])
		case !cerrdefs.IsNotFound(err):
			errs = append(errs, fmt.Errorf("remove container %s: %w", shortID(c.ID), err))
		}
	}
	ns, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: filter})
	if err != nil {
		return removed, errors.Join(append(errs, fmt.Errorf("list networks: %w", err))...)
	}
	for _, n := range ns.Items {
		if !dead(n.Labels, n.Created) {
			continue
		}
		_, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{})
		switch {
		case err == nil:
			removed++
			r.logger().Info("swept network", "network", n.Name, "run_id", n.Labels[LabelRun])
		case !cerrdefs.IsNotFound(err):
			errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
		}
	}
	if len(errs) > 0 {
		return removed, fmt.Errorf("sweep: %w", errors.Join(errs...))
	}
	return removed, nil
}

// SweepLoop sweeps at once and then every interval until ctx is done; the
// caller owns the goroutine it runs in. Failures are logged and retried on the
// next tick.
func (r *Runner) SweepLoop(ctx context.Context, every time.Duration, alive func(runID string) bool) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := r.Sweep(ctx, alive); err != nil && ctx.Err() == nil {
			r.logger().Warn("sweep", "removed", n, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
