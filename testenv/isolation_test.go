package testenv_test

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/testenv"
)

// TestEnvironmentIsIsolated proves the isolation of a run by inspecting it
// while it runs, never by sending traffic anywhere: the network is internal
// (Docker drops whatever would leave the host; engines before 26 still show a
// default route inside, so the route table proves nothing), the service is
// locked down like the runner, and the log says at once that there is no
// egress.
func TestEnvironmentIsIsolated(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	s := spec("isolated", `echo inspected; sleep 300`)
	s.Limits = patchgate.Limits{NanoCPUs: 5e8, MemoryBytes: 256 << 20, PIDs: 128}
	s.Services = []patchgate.ServiceSpec{postgres()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := newLogBuffer("inspected")
	errc := make(chan error, 1)
	go func() {
		_, err := r.Run(ctx, s, log)
		errc <- err
	}()
	runnerContainer(t, r.Owner, "isolated")

	nw := runNetwork(t, r.Owner, "isolated")
	if !nw.Internal {
		t.Errorf("network %s: got Internal false, want true", nw.Name)
	}
	svc := serviceContainer(t, r.Owner, "isolated", "db")
	hc := svc.HostConfig
	// The PostgreSQL test image runs as its own user: it was ready (Run got
	// this far) with every capability dropped, so it keeps none.
	if !slices.Contains(hc.CapDrop, "ALL") || len(hc.CapAdd) != 0 {
		t.Errorf("service: got CapDrop %v CapAdd %v, want ALL dropped and none added", hc.CapDrop, hc.CapAdd)
	}
	if !slices.ContainsFunc(hc.SecurityOpt, func(o string) bool { return strings.HasPrefix(o, "no-new-privileges") }) {
		t.Errorf("service: got SecurityOpt %v, want no-new-privileges", hc.SecurityOpt)
	}
	if hc.Privileged || len(hc.Binds) > 0 {
		t.Errorf("service: got privileged %v binds %v, want neither", hc.Privileged, hc.Binds)
	}
	if hc.Memory != 256<<20 || hc.MemorySwap != 256<<20 || hc.NanoCPUs != 5e8 || hc.PidsLimit == nil || *hc.PidsLimit != 128 {
		t.Errorf("service: got memory %d swap %d cpus %d pids %v, want the run's 256 MiB, 0.5, 128", hc.Memory, hc.MemorySwap, hc.NanoCPUs, hc.PidsLimit)
	}
	if nets := svc.NetworkSettings.Networks; len(nets) != 1 || nets[nw.Name] == nil {
		t.Errorf("service: got networks %v, want only %s", keys(nets), nw.Name)
	}

	select {
	case <-log.seen:
	case <-time.After(30 * time.Second):
		t.Fatalf("the runner never started: %s", log)
	}
	got := log.String()
	if !strings.HasPrefix(got, testenv.NoEgressNotice) {
		t.Errorf("log starts %q, want the no-egress notice", got[:min(len(got), 80)])
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("got error %v, want context.Canceled", err)
	}
}

// TestEnvironmentWithEgress checks that a repository allowed egress gets an
// ordinary bridge network and no notice.
func TestEnvironmentWithEgress(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	s := spec("egress", `echo started; sleep 300`)
	s.Egress = true
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := newLogBuffer("started")
	errc := make(chan error, 1)
	go func() {
		_, err := r.Run(ctx, s, log)
		errc <- err
	}()
	runnerContainer(t, r.Owner, "egress")
	if nw := runNetwork(t, r.Owner, "egress"); nw.Internal {
		t.Errorf("network %s: got Internal true, want false for a run allowed egress", nw.Name)
	}
	<-log.seen
	if strings.Contains(log.String(), "no network egress") {
		t.Errorf("log %q has the no-egress notice, want none", log)
	}
	cancel()
	<-errc
}

// runNetwork inspects the network of a run.
func runNetwork(t *testing.T, owner, run string) network.Inspect {
	t.Helper()
	f := make(client.Filters).Add("label", testenv.LabelOwner+"="+owner).Add("label", testenv.LabelRun+"="+run)
	ns, err := docker.NetworkList(context.Background(), client.NetworkListOptions{Filters: f})
	if err != nil || len(ns.Items) != 1 {
		t.Fatalf("networks of run %s: got %d (%v), want 1", run, len(ns.Items), err)
	}
	nw, err := docker.NetworkInspect(context.Background(), ns.Items[0].ID, client.NetworkInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return nw.Network
}

// serviceContainer inspects the service container name of a run.
func serviceContainer(t *testing.T, owner, run, name string) container.InspectResponse {
	t.Helper()
	f := make(client.Filters).Add("label", testenv.LabelOwner+"="+owner).Add("label", testenv.LabelRun+"="+run).
		Add("label", testenv.LabelService+"="+name)
	cs, err := docker.ContainerList(context.Background(), client.ContainerListOptions{Filters: f})
	if err != nil || len(cs.Items) != 1 {
		t.Fatalf("service %s of run %s: got %d containers (%v), want 1", name, run, len(cs.Items), err)
	}
	insp, err := docker.ContainerInspect(context.Background(), cs.Items[0].ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return insp.Container
}

// postgresRootImage starts as root like the official image; built by
// scripts/images/build.sh.
const postgresRootImage = "patchgate-test/postgres:15-root"

// TestServiceCapabilitiesAreMinimal measures the capabilities services need:
// the PostgreSQL test image, which runs as its own user, is ready with none
// (TestEnvironmentIsIsolated); its root-starting variant gets exactly
// testenv.RootServiceCaps and is ready, and is not ready without any one of
// them.
func TestServiceCapabilitiesAreMinimal(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	s := spec("rootsvc", `echo ready; sleep 300`)
	svc := postgres()
	svc.Image = postgresRootImage
	s.Services = []patchgate.ServiceSpec{svc}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := r.Run(ctx, s, nil)
		errc <- err
	}()
	select {
	case err := <-errc:
		t.Fatalf("run ended before its runner started: %v", err)
	default:
	}
	runnerContainer(t, r.Owner, "rootsvc") // the service was ready
	hc := serviceContainer(t, r.Owner, "rootsvc", "db").HostConfig
	var added []string
	for _, c := range hc.CapAdd {
		added = append(added, strings.TrimPrefix(c, "CAP_")) // the engine may spell them CAP_X
	}
	if !slices.Equal(added, testenv.RootServiceCaps) || !slices.Contains(hc.CapDrop, "ALL") {
		t.Errorf("root service: got CapDrop %v CapAdd %v, want ALL dropped and %v added", hc.CapDrop, hc.CapAdd, testenv.RootServiceCaps)
	}
	cancel()
	<-errc

	// Each capability is needed: without it the entrypoint fails.
	for _, drop := range testenv.RootServiceCaps {
		t.Run("without "+drop, func(t *testing.T) {
			args := []string{"run", "-d", "--label", testenv.LabelOwner + "=" + r.Owner, "--cap-drop", "ALL",
				"--security-opt", "no-new-privileges:true"}
			for _, c := range testenv.RootServiceCaps {
				if c != drop {
					args = append(args, "--cap-add", c)
				}
			}
			id := dockerCLI(t, append(args, postgresRootImage)...)
			defer dockerCLI(t, "rm", "-f", id)
			deadline := time.Now().Add(20 * time.Second)
			for time.Now().Before(deadline) {
				state := dockerCLI(t, "inspect", "-f", "{{.State.Running}}", id)
				if state == "false" {
					return // the entrypoint failed: the capability is needed
				}
				if exec.Command("docker", "exec", id, "pg_isready", "-h", "127.0.0.1", "-U", "postgres").Run() == nil {
					t.Fatalf("ready without %s: it is not needed", drop)
				}
				time.Sleep(100 * time.Millisecond)
			}
			t.Fatalf("neither ready nor stopped without %s", drop)
		})
	}
}

func dockerCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}
