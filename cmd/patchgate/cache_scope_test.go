package main

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/testenv"
)

// TestReleaseBranchRunsHaveTheirOwnCache checks, by the volume names the
// planned runs would mount (nothing runs), that a run of the release branch
// never shares a cache volume with a run any other branch or PR could write.
func TestReleaseBranchRunsHaveTheirOwnCache(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Runners.Owner = "scope-test"
	})
	repo := newGitRepo(t, app.forge, testRepo)
	yml := []byte("suites:\n  unit:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\n    cache: [/root/go/pkg/mod]\n")
	base := repo.commit("config", map[string][]byte{".patchgate.yml": yml})
	release := repo.commit("on main", map[string][]byte{"a": []byte("1")})
	feature := repo.commit("on a feature branch", map[string][]byte{"b": []byte("2")})
	pr := repo.commit("a PR", map[string][]byte{"c": []byte("3")})
	app.pushBy(t, "push-main", "main", release, "Codertocat")
	app.pushBy(t, "push-feature", "feature", feature, "Codertocat")
	app.openPR(t, "opened", 2, "HW-1: fix", "Fixes HW-1", "fix/HW-1", pr, base, time.Now())
	app.waitProcessed(t)

	volumes := func(sha string) []string {
		t.Helper()
		var list struct{ Verifications []patchgate.Verification }
		app.api(t, http.MethodGet, "/api/v1/verifications?sha="+sha, nil, &list)
		if len(list.Verifications) != 1 {
			t.Fatalf("%s: got %d verifications, want 1", sha[:8], len(list.Verifications))
		}
		plans, err := app.main.Planner.Plan(context.Background(), &list.Verifications[0])
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range plans {
			if c := p.Spec.Cache; c != nil {
				for _, path := range c.Paths {
					names = append(names, cacheVolume("scope-test", c, path))
				}
			}
		}
		if len(names) == 0 {
			t.Fatalf("%s: got no cache volume, want one (a trusted head)", sha[:8])
		}
		return names
	}
	onRelease := volumes(release)
	for name, sha := range map[string]string{"feature branch": feature, "PR": pr} {
		for _, v := range volumes(sha) {
			if slices.Contains(onRelease, v) {
				t.Errorf("the release branch's run and a %s's run share cache volume %s", name, v)
			}
		}
	}
}

// cacheVolume names the volume that would keep path of c for owner.
func cacheVolume(owner string, c *patchgate.CacheSpec, path string) string {
	return testenv.CacheVolume(owner, c.Repo, c.Suite, c.Scope, path)
}
