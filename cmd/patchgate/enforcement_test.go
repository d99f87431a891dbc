package main

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/webhooks"
)

// deployWorld is the gate world with production guarded by patchgate,
// sweeping waiting deployments every sweep.
func deployWorld(t *testing.T, requires string, sweep time.Duration) *gateWorld {
	t.Helper()
	return newGateWorld(t, 1, func(c *Config) {
		c.Repos[0].Environments = []string{"production"}
		c.Repos[0].DeployRequires = requires
		c.Enforcement.SweepInterval = sweep
		c.PublicURL = "https://patchgate.example"
	})
}

// deploy has the fake forge ask patchgate about a deployment of sha to env
// by run, as GitHub's deployment protection rule does, and waits until it
// is processed.
func (w *gateWorld) deploy(t *testing.T, run int64, sha, env, delivery string) {
	t.Helper()
	code, err := w.app.forge.SendDeploymentProtectionRule(w.app.url+"/webhooks/github", testSecret,
		fakeforge.DeploymentRequest{Repo: testRepo, Environment: env, SHA: sha, RunID: run, Delivery: delivery})
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("send deployment_protection_rule for run %d: got %d, %v; want 202", run, code, err)
	}
	w.app.waitProcessed(t)
}

// runReviews are the answers the forge took for run.
func runReviews(f *fakeforge.Forge, run int64) []fakeforge.DeploymentReview {
	var out []fakeforge.DeploymentReview
	for _, r := range f.DeploymentReviews(testRepo) {
		if r.RunID == run {
			out = append(out, r)
		}
	}
	return out
}

// waitDecision waits until run's deployment was approved or rejected, and
// returns that answer.
func waitDecision(t *testing.T, f *fakeforge.Forge, run int64) fakeforge.DeploymentReview {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, r := range runReviews(f, run) {
			if r.State != "" {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %d: no decision within 10s; the forge took %+v", run, runReviews(f, run))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func wantComment(t *testing.T, what, comment string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(comment, p) {
			t.Errorf("%s: comment %q lacks %q", what, comment, p)
		}
	}
}

func TestDeploymentProtectionRule(t *testing.T) {
	// No sweep within the test: what is answered is answered on the spot,
	// a waiting deployment by the promotion itself.
	w := deployWorld(t, "", time.Minute)
	forge := w.app.forge

	t.Run("a deployment of an unreleased SHA is rejected with its reason and a link", func(t *testing.T) {
		w.deploy(t, 101, w.head, "production", "")
		r := waitDecision(t, forge, 101)
		if r.State != "rejected" || r.Environment != "production" {
			t.Fatalf("got %s for %s, want rejected for production", r.State, r.Environment)
		}
		wantComment(t, "rejection", r.Comment, "[deploy_sha_not_promoted]", patchgate.ShortSHA(w.head), "Next: ", "https://patchgate.example/ui/")
	})

	c := w.candidate(t)
	t.Run("a deployment before promotion waits, told why, and is approved when the candidate is promoted", func(t *testing.T) {
		w.deploy(t, 102, w.merge, "production", "")
		got := runReviews(forge, 102)
		if len(got) != 1 || got[0].State != "" {
			t.Fatalf("before promotion: got %+v, want one status report and no decision", got)
		}
		wantComment(t, "status report", got[0].Comment, "[deploy_awaiting_promotion]", c.Name, fmt.Sprintf("https://patchgate.example/ui/releases/%d", c.ID))

		alice := w.token(t, "alice", patchgate.RoleReleaseManager, "github:alice")
		if code, msg := w.call(t, alice, http.MethodPost, fmt.Sprintf("/api/v1/releases/%d/approve", c.ID), nil); code != http.StatusOK {
			t.Fatalf("approve: got %d %s", code, msg)
		}
		// Approved is not promoted: the deployment still waits.
		time.Sleep(300 * time.Millisecond)
		if got := runReviews(forge, 102); len(got) != 1 {
			t.Fatalf("approved, not promoted: got %+v, want still only the status report", got)
		}
		if code, msg := w.call(t, alice, http.MethodPost, fmt.Sprintf("/api/v1/releases/%d/promote", c.ID), nil); code != http.StatusOK {
			t.Fatalf("promote: got %d %s", code, msg)
		}
		r := waitDecision(t, forge, 102)
		if r.State != "approved" {
			t.Fatalf("after promotion: got %s, want approved", r.State)
		}
		wantComment(t, "approval", r.Comment, "[deploy_promoted]", c.Name)
	})

	t.Run("a deployment of the promoted SHA is approved at once", func(t *testing.T) {
		w.deploy(t, 103, w.merge, "production", "")
		if got := runReviews(forge, 103); len(got) != 1 || got[0].State != "approved" {
			t.Fatalf("got %+v, want one approval", got)
		}
	})

	t.Run("the same question asked again is not answered twice", func(t *testing.T) {
		w.deploy(t, 103, w.merge, "production", "dpr-103-redelivered")
		if got := runReviews(forge, 103); len(got) != 1 {
			t.Fatalf("got %+v, want the one approval", got)
		}
	})

	t.Run("an environment patchgate does not guard is left to others", func(t *testing.T) {
		w.deploy(t, 104, w.head, "staging", "")
		time.Sleep(300 * time.Millisecond)
		if got := runReviews(forge, 104); len(got) != 0 {
			t.Fatalf("got %+v, want no answer", got)
		}
		if outcome, reason := w.app.delivery(t, "dpr-104-staging"); outcome != patchgate.OutcomeIgnored || !strings.Contains(reason, "staging") {
			t.Fatalf("delivery: got %s %q, want ignored naming staging", outcome, reason)
		}
	})

	t.Run("every answer is audited", func(t *testing.T) {
		var out struct{ Entries []patchgate.AuditEntry }
		w.app.api(t, http.MethodGet, "/api/v1/audit?limit=500", nil, &out)
		var states []string
		for _, e := range out.Entries {
			if e.Action == patchgate.AuditDeploymentReviewed {
				states = append(states, e.Detail["run_id"]+":"+e.Detail["state"])
			}
		}
		slices.Sort(states)
		if want := []string{"101:rejected", "102:approved", "103:approved"}; !slices.Equal(states, want) {
			t.Fatalf("audited answers: got %v, want %v", states, want)
		}
	})
}

func TestDeploymentPromotesAnApprovedCandidate(t *testing.T) {
	w := deployWorld(t, "approved", 100*time.Millisecond)
	c := w.candidate(t)
	w.deploy(t, 201, w.merge, "production", "")
	if got := runReviews(w.app.forge, 201); len(got) != 1 || got[0].State != "" {
		t.Fatalf("not yet approved: got %+v, want a status report only", got)
	}
	alice := w.token(t, "alice", patchgate.RoleReleaseManager, "github:alice")
	if code, msg := w.call(t, alice, http.MethodPost, fmt.Sprintf("/api/v1/releases/%d/approve", c.ID), nil); code != http.StatusOK {
		t.Fatalf("approve: got %d %s", code, msg)
	}
	// The sweep finds the candidate approved and releasable: the deployment promotes it.
	r := waitDecision(t, w.app.forge, 201)
	if r.State != "approved" {
		t.Fatalf("got %s, want approved", r.State)
	}
	if tags := w.app.forge.Tags(testRepo); tags[c.Name] != w.merge {
		t.Fatalf("got tags %v, want %s promoted at the merge by the deployment", tags, c.Name)
	}
}

const glRepo = "acme/platform/api"

func TestGitLabDeploymentApprovals(t *testing.T) {
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Repos = append(c.Repos, RepoConfig{Forge: "gitlab", Name: glRepo, Environments: []string{"production"}})
		c.Enforcement.SweepInterval = 100 * time.Millisecond
	})
	sha := strings.Repeat("ab12", 10)
	send := func(id int64, status string) {
		t.Helper()
		code, err := app.forge.SendGitLabDeployment(app.url+"/webhooks/gitlab", testSecret,
			fakeforge.DeploymentRequest{Repo: glRepo, Environment: "production", SHA: sha, DeploymentID: id, Status: status})
		if err != nil || code != http.StatusAccepted {
			t.Fatalf("send Deployment Hook %d %s: got %d, %v", id, status, code, err)
		}
		app.waitProcessed(t)
	}
	send(31, "running")
	if got := app.forge.DeploymentReviews(glRepo); len(got) != 0 {
		t.Fatalf("a running deployment: got %+v, want no answer", got)
	}
	send(32, "blocked")
	got := app.forge.DeploymentReviews(glRepo)
	if len(got) != 1 || got[0].DeploymentID != 32 || got[0].State != "rejected" || got[0].By != fakeforge.BotLogin {
		t.Fatalf("a blocked deployment of no release: got %+v, want deployment 32 rejected by patchgate's user", got)
	}
	wantComment(t, "rejection", got[0].Comment, "[deploy_sha_not_promoted]", patchgate.ShortSHA(sha))
}

// sendStatusCheck posts body to the status check intake with signature sig
// ("" for none).
func (a *testApp) sendStatusCheck(t *testing.T, body []byte, sig string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.url+"/webhooks/gitlab/status-check", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(webhooks.HeaderGitLabSignature, sig)
	}
	code, _ := do(t, req)
	return code
}

// waitCheck waits until check 7 of !mr has answers want.
func waitCheck(t *testing.T, f *fakeforge.Forge, mr int, want ...string) fakeforge.StatusCheckState {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, _ := f.StatusCheck(glRepo, mr, 7)
		if slices.Equal(st.Answers, want) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("!%d: got answers %v, want %v", mr, st.Answers, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestGitLabStatusChecks(t *testing.T) {
	const secret = "status-check-secret"
	app := startApp(t, func(c *Config) {
		c.Runners.Workers = 0
		c.Repos = append(c.Repos, RepoConfig{Forge: "gitlab", Name: glRepo})
		c.Enforcement.StatusCheckSecrets = []string{"old-status-secret", secret}
		c.Enforcement.SweepInterval = 100 * time.Millisecond
	})
	repo := patchgate.RepoRef{Forge: patchgate.GitLab, Name: glRepo}
	vs := store.NewVerificationService(app.main.DB)
	send := func(mr int, sha string) {
		t.Helper()
		code, err := app.forge.SendStatusCheck(app.url+"/webhooks/gitlab/status-check", secret, fakeforge.StatusCheckRequest{Repo: glRepo, MR: mr, SHA: sha, CheckID: 7})
		if err != nil || code != http.StatusAccepted {
			t.Fatalf("send status check for !%d: got %d, %v", mr, code, err)
		}
	}

	t.Run("a request with a bad secret is refused before its body is parsed", func(t *testing.T) {
		garbage := []byte("{this is not JSON")
		if code := app.sendStatusCheck(t, garbage, webhooks.SignStatusCheck("wrong-secret", garbage)); code != http.StatusUnauthorized {
			t.Fatalf("wrong secret: got %d, want 401 (not 400: the body must not be read as JSON before it is verified)", code)
		}
		if code := app.sendStatusCheck(t, garbage, ""); code != http.StatusUnauthorized {
			t.Fatalf("no signature: got %d, want 401", code)
		}
		if code := app.sendStatusCheck(t, garbage, webhooks.SignStatusCheck(secret, garbage)); code != http.StatusBadRequest {
			t.Fatalf("right secret, bad JSON: got %d, want 400", code)
		}
	})

	t.Run("a head without a verdict is answered pending, then passed when its verdict arrives", func(t *testing.T) {
		sha := strings.Repeat("1a", 20)
		send(1, sha)
		waitCheck(t, app.forge, 1, "pending")
		recordRun(t, vs, repo, sha, "manual", patchgate.RunSuccess)
		st := waitCheck(t, app.forge, 1, "pending", "passed")
		if st.SHA != sha || st.Status != "passed" {
			t.Fatalf("got %+v, want passed at %s", st, sha)
		}
	})

	t.Run("a failing head is answered failed", func(t *testing.T) {
		sha := strings.Repeat("2b", 20)
		recordRun(t, vs, repo, sha, "manual", patchgate.RunFailure)
		send(2, sha)
		if st := waitCheck(t, app.forge, 2, "failed"); st.Status != "failed" {
			t.Fatalf("got %+v, want failed", st)
		}
	})

	t.Run("a new head is a new question, answered for that head", func(t *testing.T) {
		old, head := strings.Repeat("2b", 20), strings.Repeat("3c", 20)
		recordRun(t, vs, repo, head, "manual", patchgate.RunSuccess)
		send(2, head)
		st := waitCheck(t, app.forge, 2, "passed")
		if st.SHA != head || st.SHA == old {
			t.Fatalf("got %+v, want passed at the new head %s", st, head)
		}
	})

	t.Run("the same request twice is answered once", func(t *testing.T) {
		sha := strings.Repeat("4d", 20)
		recordRun(t, vs, repo, sha, "manual", patchgate.RunSuccess)
		send(4, sha)
		waitCheck(t, app.forge, 4, "passed")
		send(4, sha)
		time.Sleep(300 * time.Millisecond)
		waitCheck(t, app.forge, 4, "passed")
	})
}

func TestEnforcementConfig(t *testing.T) {
	tests := []struct {
		name string
		mod  func(c *Config)
		want string
	}{
		{"an unknown requirement", func(c *Config) {
			c.Repos[0].Environments, c.Repos[0].DeployRequires = []string{"production"}, "merged"
		}, `repos[0].deploy_requires: "merged": want promoted (the default) or approved`},
		{"a requirement without environments", func(c *Config) { c.Repos[0].DeployRequires = "approved" }, "repos[0].deploy_requires: set with no environments"},
		{"a short status check secret", func(c *Config) { c.Enforcement.StatusCheckSecrets = []string{"short"} }, "enforcement.status_check_secrets[0]: a secret needs at least 8 characters"},
		{"a sweep slower than GitLab's timeout", func(c *Config) { c.Enforcement.SweepInterval = 3 * time.Minute }, "enforcement.sweep_interval: 3m0s: want 100ms to 1m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Repos = []RepoConfig{{Forge: "github", Name: testRepo}}
			tt.mod(&cfg)
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
	cfg := DefaultConfig()
	cfg.Repos = []RepoConfig{{Forge: "github", Name: testRepo, Environments: []string{"production"}, DeployRequires: "approved"}}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("a valid enforcement: %v", err)
	}
	if r := cfg.Repos[0].Repository(cfg.Release); !r.GuardsEnvironment("Production") || r.DeployRequires != patchgate.DeployRequiresApproved {
		t.Fatalf("got %+v, want production guarded, deployments promoting approved candidates", r)
	}
}
