package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/testenv"
)

// TestSuiteOutcomesAreHonest runs suites through the whole patchgate and ends
// some of them from outside, as another instance's sweeper or an operator
// would: only a suite's own non-zero exit is a failure of the change; what
// broke around it is an error, retried (and the retry recorded in the log)
// before it becomes the outcome.
func TestSuiteOutcomesAreHonest(t *testing.T) {
	requireDocker(t)
	tests := []struct {
		name    string
		image   string
		run     string
		retries int
		// kills is how many of the suite's runner containers the test removes
		// with the API (docker rm -f) while they run.
		kills     int
		wantState patchgate.RunState
		// wantDesc and wantLog are substrings of the suite's description and log.
		wantDesc []string
		wantLog  []string
		// wantRuns is how often the command's own output is in the log.
		wantRuns int
	}{
		{name: "removed from outside then passes", run: "echo command-ran; sleep 5; echo done", retries: 1, kills: 1,
			wantState: patchgate.RunSuccess,
			wantDesc:  []string{"passed", "attempt 2 of 2"},
			wantLog:   []string{"[patchgate: attempt 1 of 2 could not run:", "the runner container was removed while the suite ran", "[patchgate: retrying in"},
			wantRuns:  2},
		{name: "removed on every attempt", run: "echo command-ran; sleep 30", retries: 1, kills: 2,
			wantState: patchgate.RunError,
			wantDesc:  []string{"could not run in 2 attempts", "the runner container was removed while the suite ran", "outcome is unknown"},
			wantLog:   []string{"[patchgate: attempt 1 of 2 could not run:"},
			wantRuns:  2},
		{name: "image missing", image: "patchgate-test/absent:1", run: "echo command-ran", retries: 1,
			wantState: patchgate.RunError,
			wantDesc:  []string{`image "patchgate-test/absent:1" is not on this Docker host and cannot be pulled`, "load it into the daemon first"},
			wantLog:   []string{"[patchgate: attempt 1 of 2 could not run:"},
			wantRuns:  0},
		// A suite's own failure is not an infrastructure error: it is re-run
		// once (flaky_retries, default 1) to tell flaky from broken, never
		// retried as one that could not run.
		{name: "own failure is re-run once, not retried", run: "echo command-ran; exit 1", retries: 2,
			wantState: patchgate.RunFailure,
			wantDesc:  []string{"2 attempts; exit code 1"},
			wantLog:   []string{"[patchgate: attempt 1 of 2 failed: exit code 1]"},
			wantRuns:  2},
	}
	cli, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			owner := "outcome-" + randomID()
			app := startApp(t, func(c *Config) {
				c.Repos[0].TicketKeys = []string{"PAY"}
				c.Runners.Owner = owner
				c.Runners.Heartbeat = time.Second
				c.Runners.Retries = tt.retries
				c.Runners.RetryBackoff = 200 * time.Millisecond
			})
			image := tt.image
			if image == "" {
				image = testImages[0]
			}
			repo := newGitRepo(t, app.forge, testRepo)
			repo.commit("base", map[string][]byte{"README": []byte("base\n")})
			head := repo.commit("PAY-1: fix", map[string][]byte{".patchgate.yml": fmt.Appendf(nil,
				"suites:\n  regression:\n    image: %s\n    run: %s\n    timeout: 2m\n", image, tt.run)})

			ctx, stop := context.WithCancel(context.Background())
			var meddling sync.WaitGroup
			meddling.Go(func() { removeRunners(ctx, t, cli, owner, tt.kills) })
			app.openPR(t, "opened", 1, "PAY-1: fix", "Fixes PAY-1", "fix/PAY-1", head, "", time.Now())
			v := app.waitVerification(t, head, final, 3*time.Minute)
			stop()
			meddling.Wait()

			var detail struct{ Verification patchgate.Verification }
			app.api(t, http.MethodGet, fmt.Sprintf("/api/v1/verifications/%d", v.ID), nil, &detail)
			desc := suiteDescription(detail.Verification, "regression")
			logText := runCLI(t, "logs", fmt.Sprint(v.ID), "regression", "--server", app.url, "--token", app.token)
			t.Logf("verdict %s (%s); suite: %q; log:\n%s", v.State, v.Reason, desc, logText)
			if v.State != tt.wantState {
				t.Errorf("got verdict %s (%s), want %s", v.State, v.Reason, tt.wantState)
			}
			for _, want := range tt.wantDesc {
				if !strings.Contains(desc, want) {
					t.Errorf("suite description %q, want it to contain %q", desc, want)
				}
			}
			for _, want := range tt.wantLog {
				if !strings.Contains(logText, want) {
					t.Errorf("suite log does not contain %q", want)
				}
			}
			if tt.wantState == patchgate.RunFailure && strings.Contains(logText, "could not run") {
				t.Errorf("suite log says an attempt could not run; want one attempt")
			}
			if n := strings.Count(logText, "command-ran"); n != tt.wantRuns {
				t.Errorf("the command ran %d times, want %d", n, tt.wantRuns)
			}
			if got := lastStatus(app.forge.Statuses(testRepo, head), "patchgate/regression"); got != string(tt.wantState.StatusState()) {
				t.Errorf("status patchgate/regression: got %q, want %q", got, tt.wantState.StatusState())
			}
		})
	}
}

// removeRunners removes (docker rm -f, through the API) the first n runner
// containers of owner once their command runs, until ctx ends.
func removeRunners(ctx context.Context, t *testing.T, cli *client.Client, owner string, n int) {
	f := make(client.Filters).
		Add("label", testenv.LabelOwner+"="+owner).
		Add("label", testenv.LabelRole+"="+testenv.RoleRunner).
		Add("status", "running")
	removed := map[string]bool{}
	for len(removed) < n {
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
		cs, err := cli.ContainerList(ctx, client.ContainerListOptions{Filters: f})
		if err != nil {
			continue
		}
		for _, c := range cs.Items {
			if removed[c.ID] {
				continue
			}
			time.Sleep(500 * time.Millisecond) // let the command print
			if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
				t.Errorf("remove runner %s: %v", c.ID[:12], err)
			}
			removed[c.ID] = true
		}
	}
}
