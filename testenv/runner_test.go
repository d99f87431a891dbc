package testenv_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/testenv"
)

func TestRunPassingSuiteStreamsMaskedLog(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	const secret = "s3cr3t-t0ken"
	s := spec("pass", `echo "first line"; echo "token=$API_TOKEN" >&2; sleep 2; echo "last line"`)
	s.Env = map[string]string{"API_TOKEN": secret}
	s.Secrets = []string{secret}
	log := newLogBuffer("first line")

	done := make(chan struct{})
	var res *patchgate.EnvironmentResult
	var err error
	go func() {
		defer close(done)
		res, err = r.Run(context.Background(), s, log)
	}()
	// Streamed as produced: the first line arrives while the command still sleeps.
	select {
	case <-log.seen:
		select {
		case <-done:
			t.Error("first line arrived only after the run ended, want it streamed while running")
		default:
		}
	case <-done:
		t.Error("run ended before its first line was seen in the log")
	}
	<-done
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.ExitCode != 0 || res.TimedOut || res.OOMKilled {
		t.Errorf("got exit %d timed out %v oom %v, want exit 0", res.ExitCode, res.TimedOut, res.OOMKilled)
	}
	got := log.String()
	for _, want := range []string{"first line\n", "token=***\n", "last line\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("log %q does not contain %q", got, want)
		}
	}
	if strings.Contains(got, secret) {
		t.Errorf("log %q shows the secret", got)
	}
	if id := res.ImageDigests[runnerImage]; !strings.HasPrefix(id, "sha256:") {
		t.Errorf("got image digest %q for %s, want sha256:…", id, runnerImage)
	}
	if res.Timings.Provision <= 0 || res.Timings.Run < 2*time.Second || res.Timings.Teardown <= 0 {
		t.Errorf("got timings %+v, want provision, run ≥ 2s and teardown set", res.Timings)
	}
}

func TestRunFailingSuiteIsAResult(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	log := newLogBuffer("")
	res, err := r.Run(context.Background(), spec("fail", "echo failing; exit 3"), log)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.ExitCode != 3 {
		t.Errorf("got exit code %d, want 3", res.ExitCode)
	}
	if res.TimedOut || res.OOMKilled {
		t.Errorf("got timed out %v oom %v, want neither", res.TimedOut, res.OOMKilled)
	}
	if got := strings.TrimPrefix(log.String(), testenv.NoEgressNotice); got != "failing\n" {
		t.Errorf("got log %q, want %q", got, "failing\n")
	}
}

func TestRunTimeoutKillsTheSuite(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	s := spec("timeout", "echo started; sleep 300")
	s.Timeout = 2 * time.Second
	log := newLogBuffer("")
	start := time.Now()
	res, err := r.Run(context.Background(), s, log)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !res.TimedOut {
		t.Error("got TimedOut false, want true")
	}
	if res.ExitCode == 0 {
		t.Error("got exit code 0 for a killed suite")
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("run took %s, want the 2s timeout to end it", took)
	}
	if !strings.Contains(log.String(), "started") {
		t.Errorf("got log %q, want the output before the timeout", log.String())
	}
}

func TestRunOutOfMemory(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	// The shell keeps the whole command substitution in memory: 256 MB against
	// a 32 MiB limit without swap.
	s := spec("oom", `x=$(head -c 268435456 /dev/zero | tr '\0' a); echo "survived ${#x}"`)
	s.Limits.MemoryBytes = 32 << 20
	res, err := r.Run(context.Background(), s, newLogBuffer(""))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !res.OOMKilled {
		t.Errorf("got OOMKilled false (exit %d), want true", res.ExitCode)
	}
	if res.ExitCode == 0 {
		t.Error("got exit code 0, want the killed shell's")
	}
}

func TestRunCopiesJUnitReport(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	const report = `<testsuite name="x" tests="2" failures="1"><testcase name="a"/><testcase name="b"><failure/></testcase></testsuite>`
	tests := []struct {
		name, command, path string
		want                []byte
	}{
		{name: "relative to workdir", command: "mkdir -p out && printf '%s' '" + report + "' > out/junit.xml", path: "out/junit.xml", want: []byte(report)},
		{name: "absolute", command: "printf '%s' '" + report + "' > /tmp/junit.xml; exit 1", path: "/tmp/junit.xml", want: []byte(report)},
		{name: "absent is nil", command: "true", path: "junit.xml", want: nil},
		{name: "empty file", command: ": > junit.xml", path: "junit.xml", want: []byte{}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := spec("junit-"+string(rune('a'+i)), tt.command)
			s.JUnitPath = tt.path
			res, err := r.Run(context.Background(), s, newLogBuffer(""))
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if (res.JUnit == nil) != (tt.want == nil) || string(res.JUnit) != string(tt.want) {
				t.Errorf("got JUnit %q (nil %v), want %q (nil %v)", res.JUnit, res.JUnit == nil, tt.want, tt.want == nil)
			}
		})
	}
}

func TestRunPreservesSourceSymlinks(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	s := spec("source", `set -e
test -L link && echo "link -> $(readlink link)"
cat link
test -L dir/up && echo "up -> $(readlink dir/up)"
test -x run.sh && ./run.sh`)
	s.Source = sourceTar(t,
		file{name: "main.txt", body: "main content\n"},
		file{name: "link", link: "main.txt"},
		file{name: "dir", dir: true},
		file{name: "dir/up", link: "../main.txt"},
		file{name: "run.sh", body: "#!/bin/sh\necho executable\n", mode: 0o755},
	)
	log := newLogBuffer("")
	res, err := r.Run(context.Background(), s, log)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.ExitCode != 0 {
		t.Fatalf("got exit %d, want 0; log:\n%s", res.ExitCode, log)
	}
	for _, want := range []string{"link -> main.txt\n", "main content\n", "up -> ../main.txt\n", "executable\n"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log does not contain %q:\n%s", want, log)
		}
	}
}

// TestRunSourceBelongsToTheRunnerUser checks that the suite's user, whoever it
// is, owns its source tree and the workdir and can write there, capabilities
// dropped; the tar's own owners (here 4242) do not matter.
func TestRunSourceBelongsToTheRunnerUser(t *testing.T) {
	t.Parallel()
	r := newRunner(t)
	tests := []struct {
		name, user, want string
	}{
		{name: "image default", user: "", want: "1000:1000"},
		{name: "user name", user: "runner", want: "1000:1000"},
		{name: "uid with passwd entry", user: "65534", want: "65534:65534"},
		{name: "name and group", user: "runner:nogroup", want: "1000:65534"},
		{name: "root", user: "0:0", want: "0:0"},
		{name: "uid unknown to the image", user: "4321", want: "4321:0"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rr := &testenv.Runner{Owner: r.Owner, User: tt.user}
			defer rr.Close()
			s := spec(fmt.Sprintf("owner-%d", i), `set -e
echo "me $(id -u):$(id -g)"
echo "file $(stat -c %u:%g src/main.txt)"
echo "workdir $(stat -c %u:%g .)"
echo appended >> src/main.txt
echo report > report.xml`)
			s.Source = sourceTarOwned(t, 4242,
				file{name: "src", dir: true},
				file{name: "src/main.txt", body: "main\n"},
			)
			log := newLogBuffer("")
			res, err := rr.Run(context.Background(), s, log)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res.ExitCode != 0 {
				t.Fatalf("got exit %d, want 0; log:\n%s", res.ExitCode, log)
			}
			for _, want := range []string{"me " + tt.want, "file " + tt.want, "workdir " + tt.want} {
				if !strings.Contains(log.String(), want+"\n") {
					t.Errorf("log does not contain %q:\n%s", want, log)
				}
			}
		})
	}
}

// TestRunKilledFromOutsideIsAnError ends a running suite from outside, as
// `docker rm -f`, `docker kill` or another instance's sweeper would: the suite
// did not fail on its own, so the run is an error saying so, not a result.
func TestRunKilledFromOutsideIsAnError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		end  func(ctx context.Context, id string) error
		want string
	}{
		{name: "container removed", want: "the runner container was removed while the suite ran",
			end: func(ctx context.Context, id string) error {
				_, err := docker.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true})
				return err
			}},
		{name: "container killed", want: "was killed (SIGKILL, exit code 137) by something other than the suite",
			end: func(ctx context.Context, id string) error {
				_, err := docker.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: "KILL"})
				return err
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRunner(t)
			s := spec("killed-"+strings.ReplaceAll(tt.name, " ", "-"), "echo started; sleep 60")
			type outcome struct {
				res *patchgate.EnvironmentResult
				err error
			}
			done := make(chan outcome, 1)
			go func() {
				res, err := r.Run(context.Background(), s, newLogBuffer(""))
				done <- outcome{res, err}
			}()
			id := runnerContainer(t, r.Owner, s.RunID)
			if err := tt.end(context.Background(), id); err != nil {
				t.Fatal(err)
			}
			var got outcome
			select {
			case got = <-done:
			case <-time.After(time.Minute):
				t.Fatal("Run did not return after its runner was ended")
			}
			if got.err == nil {
				t.Fatalf("got result %+v (exit code %d), want an error", got.res, got.res.ExitCode)
			}
			t.Logf("error: %v", got.err)
			if !strings.Contains(got.err.Error(), tt.want) || !strings.Contains(got.err.Error(), "outcome is unknown") {
				t.Errorf("got error %q, want it to contain %q and say the outcome is unknown", got.err, tt.want)
			}
		})
	}
}
