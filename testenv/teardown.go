package testenv

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// teardownAttempts is how often one removal is tried before it is left to the
// sweeper.
const teardownAttempts = 4

// destroy removes the run's containers, in parallel and forcefully (they are
// killed, not stopped), then its network. Besides the containers it knows of it
// removes any other container labelled with the run: one whose create request
// was cut off by a cancellation may exist without its id ever reaching us.
// Failures are logged, for the sweeper to finish; they never change a result.
func (e *environment) destroy(ctx context.Context) {
	e.mu.Lock()
	ids := append([]string(nil), e.containers...)
	e.mu.Unlock()
	filter := make(client.Filters).
		Add("label", LabelOwner+"="+e.spec.Owner).
		Add("label", LabelRun+"="+e.spec.RunID)
	if list, err := e.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter}); err == nil {
		for _, c := range list.Items {
			if !slices.Contains(ids, c.ID) {
				ids = append(ids, c.ID)
			}
		}
	} else {
		e.log.Warn("teardown: list containers", "err", err)
	}

	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			err := retry(ctx, func() error {
				_, err := e.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
				return err
			})
			if err != nil {
				e.log.Warn("teardown: remove container", "container", shortID(id), "err", err)
			}
		})
	}
	wg.Wait()

	nets := []string{}
	if e.network != nil {
		nets = append(nets, e.network.ID)
	}
	if list, err := e.cli.NetworkList(ctx, client.NetworkListOptions{Filters: filter}); err == nil {
		for _, n := range list.Items {
			if !slices.Contains(nets, n.ID) {
				nets = append(nets, n.ID)
			}
		}
	} else {
		e.log.Warn("teardown: list networks", "err", err)
	}
	for _, id := range nets {
		err := retry(ctx, func() error {
			_, err := e.cli.NetworkRemove(ctx, id, client.NetworkRemoveOptions{})
			return err
		})
		if err != nil {
			e.log.Warn("teardown: remove network", "network", shortID(id), "err", err)
		}
	}
}

// retry calls f until it succeeds, reports the resource gone, or the attempts
// or ctx run out.
func retry(ctx context.Context, f func() error) error {
	var err error
	delay := 100 * time.Millisecond
	for range teardownAttempts {
		if err = f(); err == nil || cerrdefs.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(delay):
		}
		delay *= 2
	}
	return fmt.Errorf("%d attempts: %w", teardownAttempts, err)
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
