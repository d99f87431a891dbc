package testenv_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/patchgate/patchgate/testenv"
)

// childOwnerEnv makes the test binary run one suite as a Runner with that
// owner and exit, so that a test controls the environment testcontainers reads
// its configuration from (once per process).
const childOwnerEnv = "PATCHGATE_TESTENV_CHILD_OWNER"

// runChild runs one short suite in a process of its own: 0 when it passed.
func runChild(owner string) int {
	r := &testenv.Runner{Owner: owner, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	defer r.Close()
	res, err := r.Run(context.Background(), spec("ryuk-child", "sleep 1; echo child-ran"), os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		return 1
	}
	if res.ExitCode != 0 {
		fmt.Fprintln(os.Stderr, "exit code", res.ExitCode)
		return 1
	}
	return 0
}

// TestRunnerNeverStartsRyuk runs a suite in a process started without
// TESTCONTAINERS_RYUK_DISABLED (and in one whose environment and properties
// file ask for Ryuk), then asks the daemon what was created meanwhile: no
// reaper container, and the suite's containers not marked for one.
func TestRunnerNeverStartsRyuk(t *testing.T) {
	requireDocker(t)
	tests := []struct {
		name  string
		env   []string
		props string
	}{
		{name: "variable unset"},
		{name: "variable and properties ask for it", env: []string{"TESTCONTAINERS_RYUK_DISABLED=false"}, props: "ryuk.disabled=false\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			if tt.props != "" {
				if err := os.WriteFile(filepath.Join(home, ".testcontainers.properties"), []byte(tt.props), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			owner := fmt.Sprintf("test-ryuk-%d", time.Now().UnixNano())
			var env []string
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "TESTCONTAINERS_") && !strings.HasPrefix(kv, "HOME=") {
					env = append(env, kv)
				}
			}
			env = append(env, childOwnerEnv+"="+owner, "HOME="+home)
			env = append(env, tt.env...)

			start := time.Now()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("suite in a process without the variable: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), "child-ran") {
				t.Errorf("child output %q, want the suite's output", out)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			ev := docker.Events(ctx, client.EventsListOptions{
				Since:   strconv.FormatInt(start.Unix()-1, 10),
				Until:   strconv.FormatInt(time.Now().Unix()+1, 10),
				Filters: make(client.Filters).Add("type", "container").Add("event", "create"),
			})
			runners := 0
		read:
			for {
				select {
				case m, ok := <-ev.Messages:
					if !ok {
						break read
					}
					a := m.Actor.Attributes
					if a["org.testcontainers.ryuk"] == "true" || a["org.testcontainers.reaper"] == "true" || strings.Contains(a["image"], "ryuk") {
						t.Errorf("a reaper container was created: %s %v", m.Actor.ID, a)
					}
					if a[testenv.LabelOwner] == owner {
						runners++
						if v, ok := a["org.testcontainers.reap"]; ok {
							t.Errorf("container %s is labelled org.testcontainers.reap=%s, want no reaper label", m.Actor.ID, v)
						}
					}
				case err := <-ev.Err:
					if err != nil && !errors.Is(err, io.EOF) {
						t.Fatalf("read daemon events: %v", err)
					}
					break read
				}
			}
			if runners != 1 {
				t.Errorf("daemon saw %d containers of the child's run created, want 1", runners)
			}
			if c, n := leftovers(t, owner, ""); c+n != 0 {
				t.Errorf("child left %d containers and %d networks", c, n)
			}
		})
	}
}
