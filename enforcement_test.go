package patchgate

import (
	"slices"
	"strings"
	"testing"
)

const testAppID = 4242

func githubWant(appID int64) EnforcementExpectation {
	return EnforcementExpectation{Forge: GitHub, Repo: "acme/payments", Branch: "main", CheckContext: "patchgate",
		AppID: appID, Environments: []string{"production"}}
}

// githubProtected is a repository that enforces the gate in App mode: the
// check bound to the App with admins held to it, a tag ruleset only the App
// bypasses, the environment gated by the App.
func githubProtected() ForgeSettings {
	return ForgeSettings{
		DefaultBranch:    "main",
		BranchProtection: &BranchProtection{RequiredChecks: []RequiredCheck{{Context: "patchgate", AppID: testAppID}}, EnforceAdmins: true},
		Rulesets: []Ruleset{{Name: "release tags", Target: "tag", Enforcement: "active", Include: []string{"refs/tags/v*"},
			RestrictsCreation: true, Bypass: []BypassActor{{Type: "Integration", ID: testAppID}}}},
		Environments: []EnvironmentSettings{{Name: "production", ProtectionAppIDs: []int64{testAppID}}},
	}
}

func settings(gaps []Gap) []string {
	out := make([]string, len(gaps))
	for i, g := range gaps {
		out[i] = g.Setting
	}
	return out
}

// TestDecideEnforcementGitHub: a fully protected repository is enforced;
// each missing or loosened setting is exactly one gap naming that setting,
// with a problem and a fix in words.
func TestDecideEnforcementGitHub(t *testing.T) {
	viaRuleset := func(s *ForgeSettings) {
		s.BranchProtection = nil
		s.Rulesets = append(s.Rulesets, Ruleset{Name: "release branch", Target: "branch", Enforcement: "active",
			Include: []string{"~DEFAULT_BRANCH"}, RequiredChecks: []RequiredCheck{{Context: "patchgate", AppID: testAppID}}})
	}
	tests := []struct {
		name   string
		change func(*ForgeSettings)
		want   []string
	}{
		{"fully protected", func(*ForgeSettings) {}, nil},
		{"a branch ruleset instead of branch protection", viaRuleset, nil},
		{"a branch ruleset on refs/heads/*", func(s *ForgeSettings) {
			viaRuleset(s)
			s.Rulesets[1].Include = []string{"refs/heads/*"}
		}, nil},
		{"the patchgate App may bypass the branch ruleset", func(s *ForgeSettings) {
			viaRuleset(s)
			s.Rulesets[1].Bypass = []BypassActor{{Type: "Integration", ID: testAppID}}
		}, nil},
		{"no branch protection", func(s *ForgeSettings) { s.BranchProtection = nil }, []string{"required_status_checks"}},
		{"protection without the verdict check", func(s *ForgeSettings) {
			s.BranchProtection.RequiredChecks = []RequiredCheck{{Context: "patchgate/regression", AppID: testAppID}}
		}, []string{"required_status_checks"}},
		{"a branch ruleset that is only evaluated", func(s *ForgeSettings) {
			viaRuleset(s)
			s.Rulesets[1].Enforcement = "evaluate"
		}, []string{"required_status_checks"}},
		{"a branch ruleset on another branch", func(s *ForgeSettings) {
			viaRuleset(s)
			s.Rulesets[1].Include = []string{"refs/heads/release/*"}
		}, []string{"required_status_checks"}},
		{"a branch ruleset that excludes the branch", func(s *ForgeSettings) {
			viaRuleset(s)
			s.Rulesets[1].Include, s.Rulesets[1].Exclude = []string{"~ALL"}, []string{"refs/heads/main"}
		}, []string{"required_status_checks"}},
		{"the check from any source", func(s *ForgeSettings) { s.BranchProtection.RequiredChecks[0].AppID = -1 }, []string{"required_status_checks.app_id"}},
		{"the check bound to another App", func(s *ForgeSettings) { s.BranchProtection.RequiredChecks[0].AppID = 7 }, []string{"required_status_checks.app_id"}},
		{"admins not held to protection", func(s *ForgeSettings) { s.BranchProtection.EnforceAdmins = false }, []string{"enforce_admins, bypass_actors"}},
		{"a branch ruleset a team bypasses", func(s *ForgeSettings) {
			viaRuleset(s)
			s.Rulesets[1].Bypass = []BypassActor{{Type: "Team", ID: 9}}
		}, []string{"enforce_admins, bypass_actors"}},
		{"admins bypass protection but not a strict ruleset", func(s *ForgeSettings) {
			s.BranchProtection.EnforceAdmins = false
			viaRuleset(s)
			s.BranchProtection = &BranchProtection{RequiredChecks: []RequiredCheck{{Context: "patchgate", AppID: testAppID}}}
		}, nil},
		{"admins bypass both protection and the ruleset", func(s *ForgeSettings) {
			viaRuleset(s)
			s.BranchProtection = &BranchProtection{RequiredChecks: []RequiredCheck{{Context: "patchgate", AppID: testAppID}}}
			s.Rulesets[1].Bypass = []BypassActor{{Type: "RepositoryRole", ID: githubRepoAdmin}}
		}, []string{"enforce_admins, bypass_actors"}},
		{"no tag ruleset", func(s *ForgeSettings) { s.Rulesets = nil }, []string{"rulesets (tag)"}},
		{"a disabled tag ruleset", func(s *ForgeSettings) { s.Rulesets[0].Enforcement = "disabled" }, []string{"rulesets (tag)"}},
		{"a tag ruleset without the creation rule", func(s *ForgeSettings) { s.Rulesets[0].RestrictsCreation = false }, []string{"rulesets (tag)"}},
		{"a tag ruleset on v1* only", func(s *ForgeSettings) { s.Rulesets[0].Include = []string{"refs/tags/v1*"} }, []string{"rulesets (tag)"}},
		{"a tag ruleset on every tag", func(s *ForgeSettings) { s.Rulesets[0].Include = []string{"refs/tags/*"} }, nil},
		{"admins may also create tags", func(s *ForgeSettings) {
			s.Rulesets[0].Bypass = append(s.Rulesets[0].Bypass, BypassActor{Type: "RepositoryRole", ID: githubRepoAdmin})
		}, []string{"rulesets (tag).bypass_actors"}},
		{"a second tag ruleset admins do not bypass", func(s *ForgeSettings) {
			s.Rulesets[0].Bypass = append(s.Rulesets[0].Bypass, BypassActor{Type: "RepositoryRole", ID: githubRepoAdmin})
			s.Rulesets = append(s.Rulesets, Ruleset{Name: "all tags", Target: "tag", Enforcement: "active", Include: []string{"~ALL"},
				RestrictsCreation: true, Bypass: []BypassActor{{Type: "Integration", ID: testAppID}}})
		}, nil},
		{"the App cannot create tags", func(s *ForgeSettings) { s.Rulesets[0].Bypass = nil }, []string{"rulesets (tag).bypass_actors"}},
		{"the environment does not exist", func(s *ForgeSettings) { s.Environments = nil }, []string{"environments/production"}},
		{"the environment without the App's rule", func(s *ForgeSettings) { s.Environments[0].ProtectionAppIDs = []int64{7} },
			[]string{"environments/production/deployment_protection_rules"}},
		{"nothing protected", func(s *ForgeSettings) { *s = ForgeSettings{} },
			[]string{"required_status_checks", "rulesets (tag)", "environments/production"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := githubProtected()
			tt.change(&got)
			e := DecideEnforcement(githubWant(testAppID), got)
			if s := settings(e.Gaps); !slices.Equal(s, tt.want) {
				t.Fatalf("gaps: got %q, want %q (%+v)", s, tt.want, e.Gaps)
			}
			if e.Enforced != (len(tt.want) == 0) || e.Mode != "app" || e.Gaps == nil {
				t.Errorf("enforced %v, mode %q, gaps %v: want enforced only without gaps, app mode, a non-nil list", e.Enforced, e.Mode, e.Gaps)
			}
			for _, g := range e.Gaps {
				if g.Problem == "" || g.Fix == "" || g.AppOnly {
					t.Errorf("gap %+v: want a problem and a fix, not app-only in App mode", g)
				}
			}
		})
	}
}

// TestDecideEnforcementGitHubTokenMode: without an App, the check's source,
// the tags and the environments are gaps only App mode closes, and the
// decision says so; the check itself is still required.
func TestDecideEnforcementGitHubTokenMode(t *testing.T) {
	got := githubProtected()
	e := DecideEnforcement(githubWant(0), got)
	want := []string{"required_status_checks.app_id", "rulesets (tag)", "environments/production/deployment_protection_rules"}
	if s := settings(e.Gaps); !slices.Equal(s, want) || e.Enforced || e.Mode != "token" {
		t.Fatalf("token mode: got %q enforced %v mode %s, want %q, not enforced, token", s, e.Enforced, e.Mode, want)
	}
	for _, g := range e.Gaps {
		if !g.AppOnly || !strings.Contains(g.Fix, "github.app_id") {
			t.Errorf("gap %+v: want app-only with a fix naming github.app_id", g)
		}
	}
	got.BranchProtection = nil
	e = DecideEnforcement(githubWant(0), got)
	if s := settings(e.Gaps); s[0] != "required_status_checks" || e.Gaps[0].AppOnly {
		t.Errorf("token mode without protection: got %+v, want the missing check first, closable without an App", e.Gaps)
	}
	adminsBypass := githubProtected()
	adminsBypass.BranchProtection.EnforceAdmins = false
	e = DecideEnforcement(githubWant(0), adminsBypass)
	if !slices.Contains(settings(e.Gaps), "enforce_admins, bypass_actors") {
		t.Errorf("token mode, admins bypass: got %q, want the bypass gap too", settings(e.Gaps))
	}
}

const testStatusURL = "https://patchgate.example.com/webhooks/gitlab/status-check"

func gitlabWant() EnforcementExpectation {
	return EnforcementExpectation{Forge: GitLab, Repo: "acme/platform/api", Branch: "main", CheckContext: "patchgate",
		Environments: []string{"production"}, StatusCheckURL: testStatusURL}
}

// gitlabProtected enforces the gate on GitLab.
func gitlabProtected() ForgeSettings {
	return ForgeSettings{
		SelfUserID:              1000,
		StatusChecks:            []ExternalStatusCheck{{Name: "patchgate", URL: testStatusURL, Branches: []string{"main"}}},
		StatusChecksMustSucceed: true,
		ProtectedBranches: []ProtectedRef{{Name: "main", Push: []AccessGrant{{Level: GitLabNoAccess}},
			Merge: []AccessGrant{{Level: GitLabMaintainer}}}},
		ProtectedTags: []ProtectedRef{{Name: "v*", Push: []AccessGrant{{Level: GitLabMaintainer, UserID: 1000}}}},
		Environments:  []EnvironmentSettings{{Name: "production", Approvers: []ApprovalRule{{UserID: 1000, Required: 1}}}},
	}
}

// TestDecideEnforcementGitLab: as for GitHub, one gap per loosened setting.
func TestDecideEnforcementGitLab(t *testing.T) {
	tests := []struct {
		name   string
		change func(*ForgeSettings)
		want   []string
	}{
		{"fully protected", func(*ForgeSettings) {}, nil},
		{"a check for every branch", func(s *ForgeSettings) { s.StatusChecks[0].Branches = nil }, nil},
		{"the check URL with a trailing slash", func(s *ForgeSettings) { s.StatusChecks[0].URL += "/" }, nil},
		{"maintainers may push", func(s *ForgeSettings) { s.ProtectedBranches[0].Push = []AccessGrant{{Level: GitLabMaintainer}} }, nil},
		{"a wildcard protects the branch", func(s *ForgeSettings) { s.ProtectedBranches[0].Name = "*" }, nil},
		{"no status check", func(s *ForgeSettings) { s.StatusChecks = nil }, []string{"external_status_checks"}},
		{"a status check elsewhere", func(s *ForgeSettings) { s.StatusChecks[0].URL = "https://other.example.com/hook" }, []string{"external_status_checks"}},
		{"the check on another branch", func(s *ForgeSettings) { s.StatusChecks[0].Branches = []string{"develop"} },
			[]string{"external_status_checks.protected_branch_ids"}},
		{"status checks need not succeed", func(s *ForgeSettings) { s.StatusChecksMustSucceed = false },
			[]string{"only_allow_merge_if_all_status_checks_passed"}},
		{"the branch unprotected", func(s *ForgeSettings) { s.ProtectedBranches = nil }, []string{"protected_branches"}},
		{"another branch protected", func(s *ForgeSettings) { s.ProtectedBranches[0].Name = "release/*" }, []string{"protected_branches"}},
		{"developers may push", func(s *ForgeSettings) { s.ProtectedBranches[0].Push = []AccessGrant{{Level: GitLabDeveloper}} },
			[]string{"protected_branches.push_access_levels"}},
		{"a user may push", func(s *ForgeSettings) {
			s.ProtectedBranches[0].Push = append(s.ProtectedBranches[0].Push, AccessGrant{Level: GitLabMaintainer, UserID: 77})
		}, []string{"protected_branches.push_access_levels"}},
		{"a looser second protection", func(s *ForgeSettings) {
			s.ProtectedBranches = append(s.ProtectedBranches, ProtectedRef{Name: "ma*", Push: []AccessGrant{{Level: GitLabDeveloper}}})
		}, []string{"protected_branches.push_access_levels"}},
		{"force push allowed", func(s *ForgeSettings) { s.ProtectedBranches[0].AllowForcePush = true }, []string{"protected_branches.allow_force_push"}},
		{"no one may merge", func(s *ForgeSettings) { s.ProtectedBranches[0].Merge = []AccessGrant{{Level: GitLabNoAccess}} },
			[]string{"protected_branches.merge_access_levels"}},
		{"tags unprotected", func(s *ForgeSettings) { s.ProtectedTags = nil }, []string{"protected_tags"}},
		{"tags protected on v1* only", func(s *ForgeSettings) { s.ProtectedTags[0].Name = "v1*" }, []string{"protected_tags"}},
		{"every tag protected", func(s *ForgeSettings) { s.ProtectedTags[0].Name = "*" }, nil},
		{"maintainers may create tags", func(s *ForgeSettings) {
			s.ProtectedTags[0].Push = append(s.ProtectedTags[0].Push, AccessGrant{Level: GitLabMaintainer})
		}, []string{"protected_tags.create_access_levels"}},
		{"patchgate may not create tags", func(s *ForgeSettings) { s.ProtectedTags[0].Push = []AccessGrant{{Level: GitLabNoAccess}} },
			[]string{"protected_tags.create_access_levels"}},
		{"the environment unprotected", func(s *ForgeSettings) { s.Environments = nil }, []string{"protected_environments/production"}},
		{"the environment without patchgate's approval", func(s *ForgeSettings) {
			s.Environments[0].Approvers = []ApprovalRule{{AccessLevel: GitLabMaintainer, Required: 1}}
		}, []string{"protected_environments/production/approval_rules"}},
		{"patchgate's rule requires no approval", func(s *ForgeSettings) { s.Environments[0].Approvers[0].Required = 0 },
			[]string{"protected_environments/production/approval_rules"}},
		{"nothing protected", func(s *ForgeSettings) { *s = ForgeSettings{} }, []string{"external_status_checks",
			"only_allow_merge_if_all_status_checks_passed", "protected_branches", "protected_tags", "protected_environments/production"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := gitlabProtected()
			tt.change(&got)
			e := DecideEnforcement(gitlabWant(), got)
			if s := settings(e.Gaps); !slices.Equal(s, tt.want) {
				t.Fatalf("gaps: got %q, want %q (%+v)", s, tt.want, e.Gaps)
			}
			if e.Enforced != (len(tt.want) == 0) || e.Mode != "token" {
				t.Errorf("enforced %v mode %q: want enforced only without gaps, token mode", e.Enforced, e.Mode)
			}
			for _, g := range e.Gaps {
				if g.Problem == "" || g.Fix == "" || g.AppOnly {
					t.Errorf("gap %+v: want a problem and a fix, none app-only on GitLab", g)
				}
			}
		})
	}
}

// TestDecideEnforcementNamesWho: the problem names who gets around the gate.
func TestDecideEnforcementNamesWho(t *testing.T) {
	gh := githubProtected()
	gh.Rulesets[0].Bypass = append(gh.Rulesets[0].Bypass, BypassActor{Type: "Team", ID: 31})
	e := DecideEnforcement(githubWant(testAppID), gh)
	if len(e.Gaps) != 1 || !strings.Contains(e.Gaps[0].Problem, "team 31") || !strings.Contains(e.Gaps[0].Fix, "Integration 4242") {
		t.Errorf("tag bypass: got %+v, want team 31 named and the App's id in the fix", e.Gaps)
	}
	gl := gitlabProtected()
	gl.ProtectedBranches[0].Push = []AccessGrant{{Level: GitLabDeveloper}}
	e = DecideEnforcement(gitlabWant(), gl)
	if len(e.Gaps) != 1 || !strings.Contains(e.Gaps[0].Problem, "developers and maintainers can push to main") {
		t.Errorf("developer push: got %+v, want developers named", e.Gaps)
	}
	if e := DecideEnforcement(EnforcementExpectation{Forge: "gitea"}, ForgeSettings{}); e.Enforced || len(e.Gaps) != 1 {
		t.Errorf("unknown forge: got %+v, want one gap, not enforced", e)
	}
}

// TestDecideEnforcementUnreadable: a setting the forge would not list counts
// as missing, and its gaps say what the forge answered.
func TestDecideEnforcementUnreadable(t *testing.T) {
	got := gitlabProtected()
	got.StatusChecks = nil
	got.Unreadable = map[string]string{"external_status_checks": "forbidden; they need GitLab Ultimate"}
	e := DecideEnforcement(gitlabWant(), got)
	if s := settings(e.Gaps); !slices.Equal(s, []string{"external_status_checks"}) || e.Enforced ||
		!strings.HasSuffix(e.Gaps[0].Problem, "(the forge would not list external_status_checks: forbidden; they need GitLab Ultimate)") {
		t.Errorf("unreadable status checks: got %+v, want one gap saying the forge would not list them", e.Gaps)
	}
	gh := githubProtected()
	gh.Unreadable = map[string]string{"rulesets": "not found"}
	gh.Rulesets = nil
	e = DecideEnforcement(githubWant(testAppID), gh)
	if len(e.Gaps) != 1 || e.Gaps[0].Setting != "rulesets (tag)" || !strings.Contains(e.Gaps[0].Problem, "would not list rulesets: not found") {
		t.Errorf("unreadable rulesets: got %+v, want the tag gap saying why", e.Gaps)
	}
}
