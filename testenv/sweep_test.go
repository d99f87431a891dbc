package testenv_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/patchgate/patchgate/testenv"
)

// plant creates a stopped container and a network with the given labels, as a
// crashed patchgate would leave them, and removes them when the test ends.
func plant(t *testing.T, name string, labels map[string]string) (containerID, networkID string) {
	t.Helper()
	ctx := context.Background()
	n, err := docker.NetworkCreate(ctx, name, client.NetworkCreateOptions{Driver: "bridge", Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	c, err := docker.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config:     &container.Config{Image: runnerImage, Cmd: []string{"true"}, Labels: labels},
		HostConfig: &container.HostConfig{NetworkMode: container.NetworkMode(name)},
		Name:       name,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		docker.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true})
		docker.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{})
	})
	return c.ID, n.ID
}

func exists(t *testing.T, containerID, networkID string) (bool, bool) {
	t.Helper()
	ctx := context.Background()
	_, cerr := docker.ContainerInspect(ctx, containerID, client.ContainerInspectOptions{})
	_, nerr := docker.NetworkInspect(ctx, networkID, client.NetworkInspectOptions{})
	return cerr == nil, nerr == nil
}

func TestSweepRemovesOnlyDeadRunsOfItsOwner(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	stamp := time.Now().Format("150405.000000")
	lbl := func(owner, run string) map[string]string {
		return map[string]string{
			testenv.LabelOwner:   owner,
			testenv.LabelRun:     run,
			testenv.LabelRole:    testenv.RoleRunner,
			testenv.LabelCreated: strconv.FormatInt(time.Now().Unix(), 10),
		}
	}
	deadC, deadN := plant(t, "sweep-dead-"+stamp, lbl(r.Owner, "dead-run"))
	aliveC, aliveN := plant(t, "sweep-alive-"+stamp, lbl(r.Owner, "alive-run"))
	otherC, otherN := plant(t, "sweep-other-"+stamp, lbl("another-instance", "dead-run"))
	tcC, tcN := plant(t, "sweep-tc-"+stamp, map[string]string{"org.testcontainers": "true"})

	var asked []string
	removed, err := r.Sweep(context.Background(), func(run string) bool {
		asked = append(asked, run)
		return run == "alive-run"
	})
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if removed != 2 {
		t.Errorf("got %d removed, want 2 (the dead run's container and network)", removed)
	}
	if c, n := exists(t, deadC, deadN); c || n {
		t.Errorf("dead run: container exists %v, network exists %v; want both removed", c, n)
	}
	for name, ids := range map[string][2]string{
		"alive run":                 {aliveC, aliveN},
		"other owner":               {otherC, otherN},
		"testcontainers label only": {tcC, tcN},
	} {
		if c, n := exists(t, ids[0], ids[1]); !c || !n {
			t.Errorf("%s: container exists %v, network exists %v; want both kept", name, c, n)
		}
	}
	if len(asked) != 2 {
		t.Errorf("alive asked about %v, want once per run id", asked)
	}
}

func TestSweepKeepsYoungResources(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	r.SweepGrace = time.Hour
	stamp := time.Now().Format("150405.000000")
	c, n := plant(t, "sweep-young-"+stamp, map[string]string{
		testenv.LabelOwner:   r.Owner,
		testenv.LabelRun:     "dead-run",
		testenv.LabelCreated: "9999999999",
	})
	removed, err := r.Sweep(context.Background(), func(string) bool { return false })
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if removed != 0 {
		t.Errorf("got %d removed, want 0 within the grace period", removed)
	}
	if ce, ne := exists(t, c, n); !ce || !ne {
		t.Errorf("young leftovers: container exists %v, network exists %v; want both kept", ce, ne)
	}
}

func TestSweepLoopSweepsUntilCancelled(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	stamp := time.Now().Format("150405.000000")
	c, n := plant(t, "sweep-loop-"+stamp, map[string]string{testenv.LabelOwner: r.Owner, testenv.LabelRun: "dead-run"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.SweepLoop(ctx, 100*time.Millisecond, func(string) bool { return false })
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ce, ne := exists(t, c, n)
		if !ce && !ne {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("leftovers still there: container %v, network %v", ce, ne)
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("SweepLoop did not return after cancel")
	}
}

// TestSweepOnlyItsOwnInstance shares one owner between two instances, as two
// databases configured with the same runners.owner would: a Runner with an
// instance labels its resources with it and sweeps only those.
func TestSweepOnlyItsOwnInstance(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	r.Instance = "0123456789abcdef"
	stamp := time.Now().Format("150405.000000")
	lbl := func(instance string) map[string]string {
		l := map[string]string{testenv.LabelOwner: r.Owner, testenv.LabelRun: "1-1-regression", testenv.LabelRole: testenv.RoleRunner}
		if instance != "" {
			l[testenv.LabelInstance] = instance
		}
		return l
	}
	mineC, mineN := plant(t, "sweep-mine-"+stamp, lbl(r.Instance))
	otherC, otherN := plant(t, "sweep-other-instance-"+stamp, lbl("fedcba9876543210"))
	bareC, bareN := plant(t, "sweep-no-instance-"+stamp, lbl(""))

	removed, err := r.Sweep(context.Background(), func(string) bool { return false })
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if removed != 2 {
		t.Errorf("got %d removed, want 2 (this instance's container and network)", removed)
	}
	if c, n := exists(t, mineC, mineN); c || n {
		t.Errorf("own dead run: container exists %v, network exists %v; want both removed", c, n)
	}
	for name, ids := range map[string][2]string{"other instance": {otherC, otherN}, "no instance label": {bareC, bareN}} {
		if c, n := exists(t, ids[0], ids[1]); !c || !n {
			t.Errorf("%s: container exists %v, network exists %v; want both kept", name, c, n)
		}
	}

	// And what it runs carries the instance.
	s := spec("instance-labels", "sleep 5")
	done := make(chan error, 1)
	go func() { _, err := r.Run(context.Background(), s, nil); done <- err }()
	id := runnerContainer(t, r.Owner, s.RunID)
	insp, err := docker.ContainerInspect(context.Background(), id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := insp.Container.Config.Labels[testenv.LabelInstance]; got != r.Instance {
		t.Errorf("runner container labelled instance %q, want %q", got, r.Instance)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
