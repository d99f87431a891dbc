package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// TestServerFloorRequiresProofOfEveryVerification: the operator's
// release.require_proof holds whatever .patchgate.yml says. A verification
// planned under a file that never mentions require_proof records that it
// needs proof when the server's floor (top level, or the repository's own)
// requires it, so its fixes count only with a fail-to-pass proof; without
// the floor it records none.
func TestServerFloorRequiresProofOfEveryVerification(t *testing.T) {
	yes := true
	for _, tt := range []struct {
		name string
		mod  func(*Config)
		want bool
	}{
		{"no floor", func(*Config) {}, false},
		{"top-level floor", func(c *Config) { c.Release = ReleaseConfig{Approvals: 1, RequireProof: true} }, true},
		{"the repository's floor", func(c *Config) { c.Repos[0].Release = &RepoReleaseConfig{RequireProof: &yes} }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			app := startApp(t, func(c *Config) {
				c.Runners.Workers = 0
				tt.mod(c)
			})
			repo := newGitRepo(t, app.forge, testRepo)
			base := repo.commit("config", map[string][]byte{".patchgate.yml": []byte(
				"suites:\n  unit:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\nrelease:\n  branch: main\n")})
			head := repo.commit("fix", map[string][]byte{"fix.txt": []byte("fixed")})
			app.openPR(t, "opened", 3, "HW-1: fix", "Fixes HW-1", "fix/HW-1", head, base, time.Now())
			app.waitProcessed(t)

			var list struct{ Verifications []patchgate.Verification }
			app.api(t, http.MethodGet, "/api/v1/verifications?sha="+head, nil, &list)
			if len(list.Verifications) != 1 {
				t.Fatalf("got %d verifications of the PR's head, want 1", len(list.Verifications))
			}
			// Planned as a worker plans it when it takes the job.
			if _, err := app.main.Planner.Plan(context.Background(), &list.Verifications[0]); err != nil {
				t.Fatal(err)
			}
			var detail struct{ Verification patchgate.Verification }
			app.api(t, http.MethodGet, fmt.Sprintf("/api/v1/verifications/%d", list.Verifications[0].ID), nil, &detail)
			if got := detail.Verification.RequireProof; got != tt.want || detail.Verification.ConfigDigest == "" {
				t.Fatalf("recorded require_proof: got %v (digest %q), want %v", got, detail.Verification.ConfigDigest, tt.want)
			}
		})
	}
}
