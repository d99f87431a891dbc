package forges_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges/fakeforge"
)

const (
	protectionAppID = 4242
	testStatusURL   = "https://patchgate.example.com/webhooks/gitlab/status-check"
)

// TestReadEnforcementGitHub: the real go-github client reads branch
// protection, every ruleset in full and the environments' protection rules
// from the fake's documented payloads, into the settings the decision takes.
func TestReadEnforcementGitHub(t *testing.T) {
	ff := MustForge(t)
	tc := forgeCases[0]
	p := fakeforge.GitHubEnforced("main", "patchgate", protectionAppID, "production")
	p.Rulesets = append(p.Rulesets, fakeforge.Ruleset{Name: "main", Target: "branch", Enforcement: "evaluate", Include: []string{"~DEFAULT_BRANCH"},
		Exclude: []string{"refs/heads/tmp*"}, RequiredChecks: []fakeforge.RequiredCheck{{Context: "patchgate"}, {Context: "ci", AppID: 15368}},
		Bypass: []fakeforge.BypassActor{{Type: "Team", ID: 7}}})
	p.Environments = append(p.Environments, fakeforge.Environment{Name: "staging env"}, fakeforge.Environment{Name: "qa", ProtectionApps: []int64{99}})
	ff.SetProtection(tc.repo, p)
	reader := tc.MustClient(t, ff).(patchgate.EnforcementReader)

	got, err := reader.ReadEnforcement(context.Background(), tc.ref(), "main", []string{"production", "staging env"})
	if err != nil {
		t.Fatal(err)
	}
	want := &patchgate.ForgeSettings{
		DefaultBranch:    "main",
		BranchProtection: &patchgate.BranchProtection{RequiredChecks: []patchgate.RequiredCheck{{Context: "patchgate", AppID: protectionAppID}}, EnforceAdmins: true},
		Rulesets: []patchgate.Ruleset{
			{Name: "release tags", Target: "tag", Enforcement: "active", Include: []string{"refs/tags/v*"}, Exclude: []string{},
				RestrictsCreation: true, Bypass: []patchgate.BypassActor{{Type: "Integration", ID: protectionAppID}}},
			{Name: "main", Target: "branch", Enforcement: "evaluate", Include: []string{"~DEFAULT_BRANCH"}, Exclude: []string{"refs/heads/tmp*"},
				RequiredChecks: []patchgate.RequiredCheck{{Context: "patchgate"}, {Context: "ci", AppID: 15368}},
				Bypass:         []patchgate.BypassActor{{Type: "Team", ID: 7}}},
		},
		// qa is not asked for: its rules are not read.
		Environments: []patchgate.EnvironmentSettings{{Name: "production", ProtectionAppIDs: []int64{protectionAppID}}, {Name: "staging env"}, {Name: "qa"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("settings:\n got %+v\nwant %+v", got, want)
	}
	if n := count(ff, "GET /api/v3/repos/acme/payments/environments/qa/"); n != 0 {
		t.Errorf("read the protection rules of an environment nobody asked about: %d requests", n)
	}
	if writes(ff) != 0 {
		t.Errorf("reading the settings wrote to the forge: %q", ff.Requests())
	}
	e := patchgate.DecideEnforcement(patchgate.EnforcementExpectation{Forge: patchgate.GitHub, Repo: tc.repo, Branch: "main",
		CheckContext: "patchgate", AppID: protectionAppID, Environments: []string{"production"}}, *got)
	if !e.Enforced {
		t.Errorf("fully protected repository: got gaps %+v, want enforced", e.Gaps)
	}

	// An unprotected branch is an answer, not an error.
	ff.UpdateProtection(tc.repo, func(p *fakeforge.Protection) { p.Branches = nil })
	got, err = reader.ReadEnforcement(context.Background(), tc.ref(), "main", nil)
	if err != nil || got.BranchProtection != nil {
		t.Fatalf("unprotected branch: got %+v, %v; want no protection, no error", got.BranchProtection, err)
	}
}

// TestReadEnforcementGitHubErrors: a token that may not read branch
// protection (GitHub wants admin rights) is told so; an unknown repository
// is not found.
func TestReadEnforcementGitHubErrors(t *testing.T) {
	ff := MustForge(t)
	tc := forgeCases[0]
	ff.AddRepo(tc.repo)
	reader := tc.MustClient(t, ff).(patchgate.EnforcementReader)
	ff.FailNextOn("/branches/main/protection", 1, 403, nil)
	_, err := reader.ReadEnforcement(context.Background(), tc.ref(), "main", nil)
	wantCode(t, err, patchgate.EFORBIDDEN)
	if !strings.Contains(err.Error(), "branch protection") {
		t.Errorf("error %q: want it to name the branch protection", err)
	}
	_, err = reader.ReadEnforcement(context.Background(), patchgate.RepoRef{Forge: patchgate.GitHub, Name: "acme/none"}, "main", nil)
	wantCode(t, err, patchgate.ENOTFOUND)
}

// TestReadEnforcementGitLab: the real GitLab client reads the project's merge
// setting, external status checks, protected branches (over several pages),
// tags and environments, and the token's user.
func TestReadEnforcementGitLab(t *testing.T) {
	ff := MustForge(t)
	tc := forgeCases[1]
	p := fakeforge.GitLabEnforced("main", testStatusURL, fakeforge.BotID, "production")
	for i := range 105 {
		p.ProtectedBranches = append(p.ProtectedBranches, fakeforge.ProtectedBranch{Name: fmt.Sprintf("stable-%d", i),
			Push: []fakeforge.Access{{Level: 30}}, Merge: []fakeforge.Access{{Level: 30, GroupID: 8}}, AllowForcePush: true})
	}
	ff.SetProtection(tc.repo, p)
	reader := tc.MustClient(t, ff).(patchgate.EnforcementReader)

	got, err := reader.ReadEnforcement(context.Background(), tc.ref(), "main", []string{"production"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.ProtectedBranches) != 106 {
		t.Fatalf("protected branches: got %d, want all 106 over two pages", len(got.ProtectedBranches))
	}
	last := got.ProtectedBranches[105]
	wantLast := patchgate.ProtectedRef{Name: "stable-104", Push: []patchgate.AccessGrant{{Level: 30}},
		Merge: []patchgate.AccessGrant{{Level: 30, GroupID: 8}}, AllowForcePush: true}
	if !reflect.DeepEqual(last, wantLast) {
		t.Errorf("last protected branch: got %+v, want %+v", last, wantLast)
	}
	got.ProtectedBranches = got.ProtectedBranches[:1]
	want := &patchgate.ForgeSettings{
		DefaultBranch:           "main",
		SelfUserID:              fakeforge.BotID,
		StatusChecks:            []patchgate.ExternalStatusCheck{{Name: "patchgate", URL: testStatusURL, Branches: []string{"main"}}},
		StatusChecksMustSucceed: true,
		ProtectedBranches: []patchgate.ProtectedRef{{Name: "main", Push: []patchgate.AccessGrant{{Level: 0}},
			Merge: []patchgate.AccessGrant{{Level: 40}}}},
		ProtectedTags: []patchgate.ProtectedRef{{Name: "v*", Push: []patchgate.AccessGrant{{Level: 40, UserID: fakeforge.BotID}}}},
		Environments: []patchgate.EnvironmentSettings{{Name: "production",
			Approvers: []patchgate.ApprovalRule{{UserID: fakeforge.BotID, AccessLevel: 40, Required: 1}}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("settings:\n got %+v\nwant %+v", got, want)
	}
	if writes(ff) != 0 {
		t.Errorf("reading the settings wrote to the forge: %q", ff.Requests())
	}
	e := patchgate.DecideEnforcement(patchgate.EnforcementExpectation{Forge: patchgate.GitLab, Repo: tc.repo, Branch: "main",
		CheckContext: "patchgate", Environments: []string{"production"}, StatusCheckURL: testStatusURL}, *got)
	if !e.Enforced {
		t.Errorf("fully protected project: got gaps %+v, want enforced", e.Gaps)
	}

	ff.FailNextOn("/protected_tags", 1, 403, nil)
	_, err = reader.ReadEnforcement(context.Background(), tc.ref(), "main", nil)
	wantCode(t, err, patchgate.EFORBIDDEN)

	// A configured username (a token that cannot read /user) is looked up
	// by name: its id is who must create tags and approve.
	cfg := fastConfig()
	cfg.Username = fakeforge.BotLogin
	named := tc.new(t, ff, cfg).(patchgate.EnforcementReader)
	if got, err := named.ReadEnforcement(context.Background(), tc.ref(), "main", nil); err != nil || got.SelfUserID != fakeforge.BotID {
		t.Errorf("with a configured username: got user %v, %v; want %d", got, err, fakeforge.BotID)
	}
}

// TestReadEnforcementUnreadableFeatures: a feature the forge refuses to list
// (GitLab's external status checks below Ultimate, GitHub's rulesets on a
// free private repository) is recorded as unreadable, not a failed read, so
// the check still reports everything else.
func TestReadEnforcementUnreadableFeatures(t *testing.T) {
	ff := MustForge(t)
	gl := forgeCases[1]
	ff.SetProtection(gl.repo, fakeforge.GitLabEnforced("main", testStatusURL, fakeforge.BotID, "production"))
	ff.FailNextOn("/external_status_checks", 1, 403, nil)
	got, err := gl.MustClient(t, ff).(patchgate.EnforcementReader).ReadEnforcement(context.Background(), gl.ref(), "main", nil)
	if err != nil || got.StatusChecks != nil || !strings.Contains(got.Unreadable["external_status_checks"], "GitLab Ultimate") ||
		len(got.ProtectedTags) != 1 {
		t.Fatalf("gitlab without external status checks: got %+v, %v; want them unreadable, the rest read", got, err)
	}

	gh := forgeCases[0]
	ff.SetProtection(gh.repo, fakeforge.GitHubEnforced("main", "patchgate", protectionAppID))
	ff.FailNextOn("/rulesets", 1, 403, nil)
	got, err = gh.MustClient(t, ff).(patchgate.EnforcementReader).ReadEnforcement(context.Background(), gh.ref(), "main", nil)
	if err != nil || got.Rulesets != nil || !strings.Contains(got.Unreadable["rulesets"], "GitHub Pro") || got.BranchProtection == nil {
		t.Fatalf("github without rulesets: got %+v, %v; want them unreadable, the rest read", got, err)
	}
}
