package testenv

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/patchgate/patchgate"
)

// environment is one run's resources, from provision to destroy.
type environment struct {
	spec  patchgate.EnvironmentSpec
	cli   *client.Client
	log   *slog.Logger
	tclog tcLogger
	user  string
	// instance labels every resource with the Runner's Instance.
	instance string

	network    *testcontainers.DockerNetwork
	runner     *testcontainers.DockerContainer
	imageUsers map[string]string // image → its configured user

	mu         sync.Mutex
	containers []string // every container created, removed by destroy

	result *patchgate.EnvironmentResult
}

// labels returns the labels of one of this run's resources.
func (e *environment) labels(role string) map[string]string {
	return labels(e.spec.Owner, e.instance, e.spec.RunID, role, time.Now())
}

// created records a container for destroy; c may be nil.
func (e *environment) created(c testcontainers.Container) {
	if c == nil || c.GetContainerID() == "" {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.containers = append(e.containers, c.GetContainerID())
}

// provision checks the images, creates the network, then starts the services
// and prepares the runner (created, source copied, not started) side by side.
func (e *environment) provision(ctx context.Context) error {
	if err := e.ensureImages(ctx); err != nil {
		return err
	}
	if err := e.createNetwork(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// The first failure is the one to report, not the cancellations it causes
	// in the others, which are pointless once one part failed.
	var once sync.Once
	var first error
	fail := func(err error) {
		if err != nil {
			once.Do(func() { first = err; cancel(err) })
		}
	}
	// A panic (in the caller's Source, say) is carried over to Run's goroutine,
	// where the deferred teardown still runs.
	var mu sync.Mutex
	var panicked any
	var wg sync.WaitGroup
	spawn := func(f func() error) {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					mu.Lock()
					if panicked == nil {
						panicked = p
					}
					mu.Unlock()
					fail(fmt.Errorf("panic: %v", p))
				}
			}()
			fail(f())
		})
	}
	for _, s := range e.spec.Services {
		spawn(func() error { return e.startService(ctx, s) })
	}
	spawn(func() error { return e.prepareRunner(ctx) })
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
	return first
}

// ensureImages makes sure every image is present locally, pulling a missing one
// once, and records the image ids. Checking first turns a missing image into
// one clear error before anything is created, instead of testcontainers' long
// pull retries.
func (e *environment) ensureImages(ctx context.Context) error {
	e.imageUsers = map[string]string{}
	images := []string{e.spec.Image}
	for _, s := range e.spec.Services {
		images = append(images, s.Image)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	errs := make([]error, len(images))
	for i, img := range images {
		wg.Go(func() {
			insp, err := e.ensureImage(ctx, img)
			if err != nil {
				errs[i] = err
				return
			}
			mu.Lock()
			e.result.ImageDigests[img] = insp.ID
			if insp.Config != nil {
				e.imageUsers[img] = insp.Config.User
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (e *environment) ensureImage(ctx context.Context, img string) (client.ImageInspectResult, error) {
	insp, err := e.cli.ImageInspect(ctx, img)
	if err == nil {
		return insp, nil
	}
	if !cerrdefs.IsNotFound(err) {
		return insp, fmt.Errorf("image %q: %w", img, err)
	}
	e.log.Info("pulling image", "image", img)
	pull, err := e.cli.ImagePull(ctx, img, client.ImagePullOptions{})
	if err == nil {
		err = pull.Wait(ctx)
	}
	if err != nil {
		return insp, fmt.Errorf("image %q is not on this Docker host and cannot be pulled; on a host without registry access, load it into the daemon first (docker load or docker import): %w", img, err)
	}
	if insp, err = e.cli.ImageInspect(ctx, img); err != nil {
		return insp, fmt.Errorf("image %q: inspect after pull: %w", img, err)
	}
	return insp, nil
}
