package testenv_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/testenv"
)

func TestRunnerContainerIsLockedDown(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	s := spec("locked", `grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; id -u; ls /var/run/docker.sock 2>&1; echo inspected; sleep 300`)
	s.Limits = patchgate.Limits{NanoCPUs: 5e8, MemoryBytes: 256 << 20, PIDs: 128}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := newLogBuffer("inspected")
	errc := make(chan error, 1)
	go func() {
		_, err := r.Run(ctx, s, log)
		errc <- err
	}()
	id := runnerContainer(t, r.Owner, "locked")
	insp, err := docker.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hc := insp.Container.HostConfig
	if !slices.Contains(hc.CapDrop, "ALL") {
		t.Errorf("got CapDrop %v, want ALL", hc.CapDrop)
	}
	if len(hc.CapAdd) != 0 {
		t.Errorf("got CapAdd %v, want none", hc.CapAdd)
	}
	if !slices.ContainsFunc(hc.SecurityOpt, func(o string) bool { return strings.HasPrefix(o, "no-new-privileges") }) {
		t.Errorf("got SecurityOpt %v, want no-new-privileges", hc.SecurityOpt)
	}
	if hc.Privileged {
		t.Error("runner is privileged")
	}
	for _, b := range hc.Binds {
		t.Errorf("runner has bind mount %s", b)
	}
	for _, m := range insp.Container.Mounts {
		if strings.Contains(m.Source, "docker.sock") || m.Type == "bind" {
			t.Errorf("runner has mount %+v", m)
		}
	}
	if hc.Memory != 256<<20 || hc.NanoCPUs != 5e8 || hc.PidsLimit == nil || *hc.PidsLimit != 128 {
		t.Errorf("got memory %d cpus %d pids %v, want 256 MiB, 0.5, 128", hc.Memory, hc.NanoCPUs, hc.PidsLimit)
	}
	if insp.Container.Config.User != "1000:1000" {
		t.Errorf("got user %q, want the image's non-root 1000:1000", insp.Container.Config.User)
	}
	nets := insp.Container.NetworkSettings.Networks
	if len(nets) != 1 || nets["bridge"] != nil {
		t.Errorf("got networks %v, want the run's network only", keys(nets))
	}
	select {
	case <-log.seen:
	case <-time.After(30 * time.Second):
		t.Fatalf("no self-inspection in log: %s", log)
	}
	for _, want := range []string{"CapEff:\t0000000000000000", "NoNewPrivs:\t1", "\n1000\n", "No such file"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log does not contain %q:\n%s", want, log)
		}
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got error %v, want context.Canceled", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func keys[M ~map[string]V, V any](m M) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestRunnerLimitsDefaults(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	r.Limits = patchgate.Limits{PIDs: 200}
	s := spec("defaults", "sleep 300")
	s.Limits = patchgate.Limits{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := r.Run(ctx, s, nil)
		errc <- err
	}()
	id := runnerContainer(t, r.Owner, "defaults")
	insp, err := docker.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hc := insp.Container.HostConfig
	if hc.Memory != testenv.DefaultMemoryBytes || hc.MemorySwap != testenv.DefaultMemoryBytes ||
		hc.NanoCPUs != testenv.DefaultNanoCPUs || hc.PidsLimit == nil || *hc.PidsLimit != 200 {
		t.Errorf("got memory %d swap %d cpus %d pids %v, want the defaults with the Runner's 200 pids",
			hc.Memory, hc.MemorySwap, hc.NanoCPUs, hc.PidsLimit)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("got error %v, want context.Canceled", err)
	}
}
