package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/config"
	"github.com/patchgate/patchgate/forges"
	"github.com/patchgate/patchgate/store"
)

// looseRelease is what a fix may write into .patchgate.yml to release itself.
const looseRelease = "suites:\n  regression:\n    image: patchgate-test/runner:go1.26\n    run: go test ./...\n" +
	"release:\n  branch: main\n  approvals: 1\n  allow_author_approval: true\n  auto_promote: true\n"

// newLoosenedWorld is the gate world whose fix #7, by Codertocat, also wrote
// looseRelease into .patchgate.yml, so the candidate's own file asks to let
// its author approve and to promote on that approval.
func newLoosenedWorld(t *testing.T, mod func(*Config)) *gateWorld {
	t.Helper()
	w := newGateWorld(t, 1, func(c *Config) {
		c.ReleaseManagers = map[string][]string{"github": {"alice", "bob", "Codertocat"}}
		if mod != nil {
			mod(c)
		}
	})
	files := map[string][]byte{".patchgate.yml": []byte(looseRelease), "fix.txt": []byte("fixed")}
	w.app.forge.AddCommit(testRepo, w.head, files, "fix", "Codertocat", w.base)
	w.app.forge.AddCommit(testRepo, w.merge, files, "Merge #7", "dev", w.base, w.head)
	// The suites passed under that file, the one the candidate holds.
	for _, sha := range []string{w.head, w.merge} {
		w.app.passUnderItsConfig(t, patchgate.RepoRef{Forge: patchgate.GitHub, Name: testRepo}, sha)
	}
	return w
}

// TestRepositoryFileCannotLoosenTheServersReleasePolicy: the policy comes
// from the operator, not from the code it gates (issue 17, section 2).
func TestRepositoryFileCannotLoosenTheServersReleasePolicy(t *testing.T) {
	t.Run("the default floor keeps the author out and promotion by hand", func(t *testing.T) {
		w := newLoosenedWorld(t, nil)
		c := w.candidate(t)
		author := w.token(t, "codertocat", patchgate.RoleReleaseManager, "github:Codertocat")
		code, msg := w.call(t, author, http.MethodPost, fmt.Sprintf("/api/v1/releases/%d/approve", c.ID), nil)
		if code == http.StatusOK {
			t.Fatalf("author's approval under a file that allows it: got %d, want refused", code)
		}
		if tags := w.app.forge.Tags(testRepo); len(tags) != 0 {
			t.Fatalf("got tags %v, want none: the file must not auto-promote", tags)
		}
		if !strings.Contains(msg, "`.patchgate.yml` asks allow_author_approval: true; the server does not let authors approve") {
			t.Errorf("refusal: got %q, want it to name the loosened key", msg)
		}
		var out struct {
			Evaluation patchgate.Evaluation
		}
		w.app.api(t, http.MethodGet, fmt.Sprintf("/api/v1/releases/%d", c.ID), nil, &out)
		ev := out.Evaluation
		if ev.Releasable || ev.Policy == nil {
			t.Fatalf("evaluation: got releasable %v, policy %+v; want blocked with its policy", ev.Releasable, ev.Policy)
		}
		if ev.Policy.AllowAuthorApproval || ev.Policy.AutoPromote || ev.Policy.Sources["auto_promote"] != patchgate.SourceServer {
			t.Errorf("effective policy: got %+v, want the server's: no author approval, no auto-promotion", ev.Policy)
		}
		want := "`.patchgate.yml` asks auto_promote: true; the server does not allow automatic promotion"
		if !strings.Contains(strings.Join(patchgate.BlockerMessages(ev.Blockers), "\n"), want) {
			t.Errorf("blockers: got %q, want %q", ev.Blockers, want)
		}
	})
	t.Run("a server floor of 2 approvals holds against a file's 1", func(t *testing.T) {
		two := 2
		w := newLoosenedWorld(t, func(c *Config) {
			c.Release = ReleaseConfig{Approvals: 1, AllowAuthorApproval: true, AutoPromote: true}
			c.Repos[0].Release = &RepoReleaseConfig{Approvals: &two}
		})
		c := w.candidate(t)
		var out struct {
			Evaluation patchgate.Evaluation
		}
		w.app.api(t, http.MethodGet, fmt.Sprintf("/api/v1/releases/%d", c.ID), nil, &out)
		want := []string{"`.patchgate.yml` asks approvals: 1; the server requires at least 2"}
		if got := out.Evaluation.Blockers; strings.Join(patchgate.BlockerMessages(got), "\n") != want[0] || got[0].Code != patchgate.ReasonPolicyLoosened || out.Evaluation.Needed != 2 {
			t.Fatalf("got blockers %q needing %d, want %q needing 2", got, out.Evaluation.Needed, want)
		}
	})
	t.Run("a server that allows it lets the file ask for it", func(t *testing.T) {
		w := newLoosenedWorld(t, func(c *Config) {
			yes := true
			c.Repos[0].Release = &RepoReleaseConfig{AllowAuthorApproval: &yes, AutoPromote: &yes}
		})
		c := w.candidate(t)
		author := w.token(t, "codertocat", patchgate.RoleReleaseManager, "github:Codertocat")
		if code, msg := w.call(t, author, http.MethodPost, fmt.Sprintf("/api/v1/releases/%d/approve", c.ID), nil); code != http.StatusOK {
			t.Fatalf("author's approval the server allows: got %d %s, want 200", code, msg)
		}
		if tags := w.app.forge.Tags(testRepo); tags[c.Name] != w.merge {
			t.Fatalf("got tags %v, want %s auto-promoted at the merge", tags, c.Name)
		}
	})
}

// passUnderItsConfig records a passed verification of sha in repo under the .patchgate.yml
// that sha holds, read from the fake forge as patchgate reads it ("manual"
// when it holds none): the run a candidate at a commit with that file counts.
func (a *testApp) passUnderItsConfig(t *testing.T, repo patchgate.RepoRef, sha string) {
	t.Helper()
	recordRun(t, store.NewVerificationService(a.main.DB), repo, sha, a.configDigest(t, repo, sha), patchgate.RunSuccess)
}

// configDigest is the digest of the .patchgate.yml at ref of repo on the fake
// forge, or "manual" when there is none.
func (a *testApp) configDigest(t *testing.T, repo patchgate.RepoRef, ref string) string {
	t.Helper()
	var src patchgate.SourceFetcher
	var err error
	if repo.Forge == patchgate.GitLab {
		src, err = forges.NewGitLab(forges.Config{BaseURL: a.forge.GitLabAPIURL(), Token: "forge-token"})
	} else {
		src, err = forges.NewGitHub(forges.Config{BaseURL: a.forge.GitHubAPIURL(), Token: "forge-token"})
	}
	if err != nil {
		t.Fatal(err)
	}
	data, err := src.FileAt(context.Background(), repo, config.RepoFileName, ref)
	if err != nil {
		return "manual"
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// recordRun records a verification of sha in repo whose one suite ended in
// state, as a worker would have, under the .patchgate.yml with digest: only a
// run under the file a candidate's commit holds is its release evidence.
func recordRun(t *testing.T, vs *store.VerificationService, repo patchgate.RepoRef, sha, digest string, state patchgate.RunState) {
	t.Helper()
	ctx := context.Background()
	suites := []*patchgate.SuiteRun{{Name: "regression", Required: true, Image: "patchgate-test/runner:go1.26"}}
	v, _, err := vs.CreateVerification(ctx, &patchgate.Verification{
		Forge: repo.Forge, Repo: repo.Name, SHA: sha, ConfigRef: sha, ConfigDigest: digest, Trigger: "test",
		Suites: suites,
	})
	if err != nil {
		t.Fatal(err)
	}
	if v.ConfigDigest == "" {
		// A delivery queued it and no worker took it: plan it as one would.
		if v, err = vs.PlanVerification(ctx, v.ID, digest, false, suites); err != nil {
			t.Fatal(err)
		}
	}
	if err := vs.ClaimVerification(ctx, v.ID, v.Attempt, "test"); err != nil {
		t.Fatal(err)
	}
	v.Suites[0].State = state
	if err := vs.UpdateSuiteRun(ctx, v.Suites[0]); err != nil {
		t.Fatal(err)
	}
	if err := vs.FinishVerification(ctx, v.ID, state, string(state)); err != nil {
		t.Fatal(err)
	}
}

// TestEvidenceCountsOnlyUnderTheCandidatesConfiguration: a pass of the
// candidate's own commit under another branch's .patchgate.yml (a fork PR
// whose head is on main, aimed at a branch that says run: "true") does not
// make a failed candidate releasable (issue 17, section 3).
func TestEvidenceCountsOnlyUnderTheCandidatesConfiguration(t *testing.T) {
	w := newGateWorld(t, 1, nil)
	repo := patchgate.RepoRef{Forge: patchgate.GitHub, Name: testRepo}
	vs := store.NewVerificationService(w.app.main.DB)
	own := w.app.configDigest(t, repo, w.merge)
	// The release branch's suites fail on the merge…
	recordRun(t, vs, repo, w.merge, own, patchgate.RunFailure)
	// …and a newer run of the same commit passes under another file.
	other := sha256.Sum256([]byte("suites:\n  regression:\n    image: patchgate-test/runner:go1.26\n    run: \"true\"\n"))
	recordRun(t, vs, repo, w.merge, hex.EncodeToString(other[:]), patchgate.RunSuccess)

	c := w.candidate(t)
	var out struct {
		Evaluation patchgate.Evaluation
	}
	w.app.api(t, http.MethodGet, fmt.Sprintf("/api/v1/releases/%d", c.ID), nil, &out)
	if out.Evaluation.Releasable {
		t.Fatalf("got releasable on a pass under another configuration, want blocked: %+v", out.Evaluation)
	}
	if v := out.Evaluation.Verification; v == nil || v.ConfigDigest != own || v.State != patchgate.RunFailure {
		t.Errorf("own evidence: got %+v, want the failed run under %s", v, own)
	}
	if out.Evaluation.ConfigDigest != own {
		t.Errorf("evaluation's configuration: got %q, want %q", out.Evaluation.ConfigDigest, own)
	}
	alice := w.token(t, "alice", patchgate.RoleReleaseManager, "github:alice")
	if code, _ := w.call(t, alice, http.MethodPost, fmt.Sprintf("/api/v1/releases/%d/approve", c.ID), nil); code == http.StatusOK {
		t.Fatalf("approval of a candidate whose suites failed under its own configuration: got %d, want refused", code)
	}
}
