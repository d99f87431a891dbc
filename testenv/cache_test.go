package testenv_test

import (
	"context"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/testenv"
)

// jsonTest is a suite whose build is most of its time: a cold build cache
// has to compile the testing package and encoding/json with their
// dependencies first. (With net/http as well, cold took 2m35s and warm 8.8s
// on a loaded 2-core machine; this keeps the test shorter.)
const jsonTest = `package api

import (
	"encoding/json"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	b, err := json.Marshal(map[string]int{"answer": 42})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]int
	if err := json.Unmarshal(b, &got); err != nil || got["answer"] != 42 {
		t.Fatalf("got %v, %v", got, err)
	}
}
`

// TestCacheWarmsGoTest runs the same go test suite twice with a cache volume
// on the build cache and logs the time to verdict of both runs (the design's
// target: warm ≤ 0.5× cold). It asserts no timing, only that the cache is a
// labelled volume that the runner's non-root user can write, that outlives its
// runs, and that the sweeper leaves alone.
func TestCacheWarmsGoTest(t *testing.T) {
	// Not parallel: the cold build would compete for the CPUs with the other
	// suites (and they with it), and the figures would say little.
	r := newRunner(t)
	ctx := context.Background()
	ownerFilter := make(client.Filters).Add("label", testenv.LabelOwner+"="+r.Owner)
	t.Cleanup(func() {
		vs, err := docker.VolumeList(ctx, client.VolumeListOptions{Filters: ownerFilter})
		if err != nil {
			t.Error(err)
			return
		}
		for _, v := range vs.Items {
			if _, err := docker.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true}); err != nil {
				t.Errorf("remove cache volume %s: %v", v.Name, err)
			}
		}
	})
	s := spec("cache-1", "go test -count=1 ./...")
	s.Limits = patchgate.Limits{NanoCPUs: 2e9, MemoryBytes: 1 << 30, PIDs: 512}
	s.Timeout = 10 * time.Minute
	s.Source = sourceTar(t,
		file{name: "go.mod", body: "module example.com/api\n\ngo 1.26\n"},
		file{name: "api_test.go", body: jsonTest})
	// The runner image keeps Go's build cache in GOCACHE=/tmp/gocache.
	s.Cache = &patchgate.CacheSpec{Repo: "github:acme/api", Suite: "regression", Paths: []string{"/tmp/gocache"}}

	verdict := func(run string) time.Duration {
		s.RunID = run
		log := newLogBuffer("")
		start := time.Now()
		res, err := r.Run(ctx, s, log)
		took := time.Since(start)
		if err != nil {
			t.Fatalf("%s: %v", run, err)
		}
		if res.ExitCode != 0 {
			t.Fatalf("%s: got exit %d, want 0:\n%s", run, res.ExitCode, log)
		}
		t.Logf("%s: verdict after %s (provision %s, run %s, teardown %s)", run, took.Round(time.Millisecond),
			res.Timings.Provision.Round(time.Millisecond), res.Timings.Run.Round(time.Millisecond), res.Timings.Teardown.Round(time.Millisecond))
		return took
	}
	cold := verdict("cache-cold")
	warm := verdict("cache-warm")
	t.Logf("time to verdict of the same go test suite: cold %s, warm %s, warm/cold = %.2f (target ≤ 0.5)",
		cold.Round(time.Millisecond), warm.Round(time.Millisecond), warm.Seconds()/cold.Seconds())

	name := testenv.CacheVolume(r.Owner, "github:acme/api", "regression", "", "/tmp/gocache")
	check := func(when string) {
		t.Helper()
		v, err := docker.VolumeInspect(ctx, name, client.VolumeInspectOptions{})
		if err != nil {
			t.Fatalf("%s: cache volume %s: %v", when, name, err)
		}
		l := v.Volume.Labels
		if l[testenv.LabelOwner] != r.Owner || l[testenv.LabelRole] != testenv.RoleCache ||
			l[testenv.LabelRepo] != "github:acme/api" || l[testenv.LabelSuite] != "regression" || l[testenv.LabelPath] != "/tmp/gocache" {
			t.Errorf("%s: got labels %v, want owner, role cache, repo, suite and path", when, l)
		}
	}
	check("after the runs")
	if _, err := r.Sweep(ctx, func(string) bool { return false }); err != nil {
		t.Fatal(err)
	}
	check("after a sweep")
}
