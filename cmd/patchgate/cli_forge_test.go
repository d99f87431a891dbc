package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/patchgate/patchgate/forges/fakeforge"
	"github.com/patchgate/patchgate/runners"
)

const (
	forgeCheckAppID   = "4242"
	forgeCheckAppIDn  = 4242
	forgeCheckGitLab  = "acme/platform/api"
	forgeCheckGitHub  = "acme/payments"
	forgeCheckPublic  = "https://patchgate.example.com"
	forgeCheckStatus  = forgeCheckPublic + gitlabStatusCheckPath
	forgeCheckProdEnv = "production"
)

// forgeCheckSetup starts a fake forge and writes a server configuration for
// it: a GitHub and a GitLab repository, each mapped to production.
func forgeCheckSetup(t *testing.T) (*fakeforge.Forge, string) {
	t.Helper()
	ff := fakeforge.New()
	t.Cleanup(ff.Close)
	dir := t.TempDir()
	cfg := "database: sqlite://" + filepath.Join(dir, "unused.db") + "\n" +
		"public_url: " + forgeCheckPublic + "\n" +
		"github:\n  api_url: " + ff.GitHubAPIURL() + "\n  token: " + fakeforge.Token + "\n" +
		"gitlab:\n  api_url: " + ff.GitLabAPIURL() + "\n  token: " + fakeforge.Token + "\n" +
		"repos:\n" +
		"  - forge: github\n    name: " + forgeCheckGitHub + "\n    environments: [" + forgeCheckProdEnv + "]\n" +
		"  - forge: gitlab\n    name: " + forgeCheckGitLab + "\n    environments: [" + forgeCheckProdEnv + "]\n"
	path := filepath.Join(dir, "patchgate.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return ff, path
}

// forgeCheckJSON is the --json answer.
type forgeCheckJSON struct {
	Forge    string `json:"forge"`
	Repo     string `json:"repo"`
	Branch   string `json:"branch"`
	Mode     string `json:"mode"`
	Enforced bool   `json:"enforced"`
	Gaps     []struct {
		Setting string `json:"setting"`
		Problem string `json:"problem"`
		Fix     string `json:"fix"`
		AppOnly bool   `json:"app_only"`
	} `json:"gaps"`
}

// runForgeCheck runs `forge check --json` and returns the answer and the
// exit status main would give.
func runForgeCheck(t *testing.T, args ...string) (forgeCheckJSON, int) {
	t.Helper()
	out, err := execCLI(append([]string{"forge", "check", "--json"}, args...)...)
	code := 0
	var coded interface{ ExitCode() int }
	switch {
	case errors.As(err, &coded):
		code = coded.ExitCode()
	case err != nil:
		t.Fatalf("forge check %q: %v (output %q)", args, err, out)
	}
	var got forgeCheckJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("forge check --json: %v in %q", err, out)
	}
	return got, code
}

func gapSettings(got forgeCheckJSON) []string {
	var s []string
	for _, g := range got.Gaps {
		s = append(s, g.Setting)
	}
	return s
}

// TestForgeCheckGitHub: against the fake GitHub, a fully protected
// repository in App mode is enforced (exit 0); each missing protection is
// reported as its own gap (exit 2), with the setting that closes it.
func TestForgeCheckGitHub(t *testing.T) {
	ff, cfg := forgeCheckSetup(t)
	tests := []struct {
		name   string
		change func(*fakeforge.Protection)
		want   []string
	}{
		{"fully protected", func(*fakeforge.Protection) {}, nil},
		{"a branch ruleset instead of branch protection", func(p *fakeforge.Protection) {
			p.Branches = nil
			p.Rulesets = append(p.Rulesets, fakeforge.Ruleset{Name: "main", Target: "branch", Enforcement: "active",
				Include: []string{"~DEFAULT_BRANCH"}, RequiredChecks: []fakeforge.RequiredCheck{{Context: runners.VerdictContext, AppID: forgeCheckAppIDn}}})
		}, nil},
		{"release branch unprotected", func(p *fakeforge.Protection) { p.Branches = nil }, []string{"required_status_checks"}},
		{"verdict check not required", func(p *fakeforge.Protection) {
			p.Branches["main"].Checks = []fakeforge.RequiredCheck{{Context: "ci/build"}}
		}, []string{"required_status_checks"}},
		{"verdict check not bound to the App", func(p *fakeforge.Protection) { p.Branches["main"].Checks[0].AppID = 0 },
			[]string{"required_status_checks.app_id"}},
		{"admins may bypass", func(p *fakeforge.Protection) { p.Branches["main"].EnforceAdmins = false },
			[]string{"enforce_admins, bypass_actors"}},
		{"no tag ruleset", func(p *fakeforge.Protection) { p.Rulesets = nil }, []string{"rulesets (tag)"}},
		{"others may create tags", func(p *fakeforge.Protection) {
			p.Rulesets[0].Bypass = append(p.Rulesets[0].Bypass, fakeforge.BypassActor{Type: "OrganizationAdmin", ID: 1})
		}, []string{"rulesets (tag).bypass_actors"}},
		{"environment missing", func(p *fakeforge.Protection) { p.Environments = nil }, []string{"environments/production"}},
		{"environment without patchgate's rule", func(p *fakeforge.Protection) { p.Environments[0].ProtectionApps = nil },
			[]string{"environments/production/deployment_protection_rules"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fakeforge.GitHubEnforced("main", runners.VerdictContext, forgeCheckAppIDn, forgeCheckProdEnv)
			tt.change(&p)
			ff.SetProtection(forgeCheckGitHub, p)
			got, code := runForgeCheck(t, forgeCheckGitHub, "--config", cfg, "--app-id", forgeCheckAppID)
			if s := gapSettings(got); !slices.Equal(s, tt.want) {
				t.Fatalf("gaps: got %q, want %q (%+v)", s, tt.want, got.Gaps)
			}
			wantCode := 0
			if len(tt.want) > 0 {
				wantCode = exitGaps
			}
			if code != wantCode || got.Enforced != (wantCode == 0) || got.Mode != "app" || got.Forge != "github" || got.Branch != "main" {
				t.Errorf("got exit %d, %+v; want exit %d, enforced %v, app mode on github main", code, got, wantCode, wantCode == 0)
			}
		})
	}
	if u := ff.Unhandled(); len(u) > 0 {
		t.Errorf("routes the fake does not serve: %q", u)
	}
	for _, r := range ff.Requests() {
		if !strings.HasPrefix(r, "GET ") {
			t.Errorf("forge check changed the forge: %s", r)
		}
	}
}

// TestForgeCheckGitHubTokenMode: without an App id, a repository protected
// as App mode would want still has gaps, each marked as App mode's, and the
// table says what only App mode enforces.
func TestForgeCheckGitHubTokenMode(t *testing.T) {
	ff, cfg := forgeCheckSetup(t)
	ff.SetProtection(forgeCheckGitHub, fakeforge.GitHubEnforced("main", runners.VerdictContext, forgeCheckAppIDn, forgeCheckProdEnv))
	got, code := runForgeCheck(t, forgeCheckGitHub, "--config", cfg)
	want := []string{"required_status_checks.app_id", "rulesets (tag)", "environments/production/deployment_protection_rules"}
	if s := gapSettings(got); !slices.Equal(s, want) || code != exitGaps || got.Mode != "token" {
		t.Fatalf("token mode: got %q, exit %d, mode %s; want %q, exit 2, token mode", s, code, got.Mode, want)
	}
	for _, g := range got.Gaps {
		if !g.AppOnly {
			t.Errorf("gap %+v: want it marked app_only", g)
		}
	}
	out, err := execCLI("forge", "check", forgeCheckGitHub, "--config", cfg)
	if err == nil || !strings.Contains(out, "token mode: the forge does NOT enforce the gate: 3 gap(s)") ||
		strings.Count(out, "[App mode]") != 3 || !strings.Contains(out, "Token mode: 3 gap(s) only App mode closes") ||
		!strings.Contains(out, "github.app_id") {
		t.Errorf("table in token mode:\n%s\nerr %v; want 3 gaps marked [App mode] and what App mode adds", out, err)
	}
}

// TestForgeCheckGitLab: the same against the fake GitLab: the external status
// check and its merge setting, the protected branch, tags and environment.
func TestForgeCheckGitLab(t *testing.T) {
	ff, cfg := forgeCheckSetup(t)
	self := int64(fakeforge.BotID)
	tests := []struct {
		name   string
		change func(*fakeforge.Protection)
		want   []string
	}{
		{"fully protected", func(*fakeforge.Protection) {}, nil},
		{"no external status check", func(p *fakeforge.Protection) { p.StatusChecks = nil }, []string{"external_status_checks"}},
		{"the status check on another branch", func(p *fakeforge.Protection) { p.StatusChecks[0].Branches = []string{"develop"} },
			[]string{"external_status_checks.protected_branch_ids"}},
		{"status checks need not succeed", func(p *fakeforge.Protection) { p.StatusChecksMustSucceed = false },
			[]string{"only_allow_merge_if_all_status_checks_passed"}},
		{"release branch unprotected", func(p *fakeforge.Protection) { p.ProtectedBranches = nil }, []string{"protected_branches"}},
		{"developers may push", func(p *fakeforge.Protection) { p.ProtectedBranches[0].Push = []fakeforge.Access{{Level: 30}} },
			[]string{"protected_branches.push_access_levels"}},
		{"force push allowed", func(p *fakeforge.Protection) { p.ProtectedBranches[0].AllowForcePush = true },
			[]string{"protected_branches.allow_force_push"}},
		{"no one may merge", func(p *fakeforge.Protection) { p.ProtectedBranches[0].Merge = []fakeforge.Access{{Level: 0}} },
			[]string{"protected_branches.merge_access_levels"}},
		{"tags unprotected", func(p *fakeforge.Protection) { p.ProtectedTags = nil }, []string{"protected_tags"}},
		{"maintainers may create tags", func(p *fakeforge.Protection) {
			p.ProtectedTags[0].Create = append(p.ProtectedTags[0].Create, fakeforge.Access{Level: 40})
		}, []string{"protected_tags.create_access_levels"}},
		{"environment unprotected", func(p *fakeforge.Protection) { p.ProtectedEnvironments = nil },
			[]string{"protected_environments/production"}},
		{"environment approved by maintainers only", func(p *fakeforge.Protection) {
			p.ProtectedEnvironments[0].Approvals = []fakeforge.ApprovalRule{{Access: fakeforge.Access{Level: 40}, RequiredApprovals: 1}}
		}, []string{"protected_environments/production/approval_rules"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fakeforge.GitLabEnforced("main", forgeCheckStatus, self, forgeCheckProdEnv)
			tt.change(&p)
			ff.SetProtection(forgeCheckGitLab, p)
			got, code := runForgeCheck(t, forgeCheckGitLab, "--config", cfg, "--forge", "gitlab")
			if s := gapSettings(got); !slices.Equal(s, tt.want) {
				t.Fatalf("gaps: got %q, want %q (%+v)", s, tt.want, got.Gaps)
			}
			wantCode := 0
			if len(tt.want) > 0 {
				wantCode = exitGaps
			}
			if code != wantCode || got.Enforced != (wantCode == 0) || got.Forge != "gitlab" || got.Repo != forgeCheckGitLab {
				t.Errorf("got exit %d, %+v; want exit %d on gitlab %s", code, got, wantCode, forgeCheckGitLab)
			}
		})
	}
	if u := ff.Unhandled(); len(u) > 0 {
		t.Errorf("routes the fake does not serve: %q", u)
	}
}

// TestForgeCheckJSONShape: --json is exactly {forge, repo, branch, mode,
// enforced, gaps: [{setting, problem, fix, app_only?}]}, gaps an empty list
// (not null) when enforced; --branch is the branch checked.
func TestForgeCheckJSONShape(t *testing.T) {
	ff, cfg := forgeCheckSetup(t)
	ff.SetProtection(forgeCheckGitHub, fakeforge.GitHubEnforced("release", runners.VerdictContext, forgeCheckAppIDn, forgeCheckProdEnv))
	for _, tc := range []struct {
		branch string
		gaps   string
	}{{"release", "[]"}, {"main", "["}} {
		out, _ := execCLI("forge", "check", forgeCheckGitHub, "--config", cfg, "--app-id", forgeCheckAppID, "--branch", tc.branch, "--json")
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &raw); err != nil {
			t.Fatalf("--json: %v in %q", err, out)
		}
		var keys []string
		for k := range raw {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if want := []string{"branch", "enforced", "forge", "gaps", "mode", "repo"}; !slices.Equal(keys, want) {
			t.Errorf("keys: got %q, want %q", keys, want)
		}
		if string(raw["branch"]) != `"`+tc.branch+`"` || !strings.HasPrefix(string(raw["gaps"]), tc.gaps) {
			t.Errorf("branch %s: got branch %s, gaps %s", tc.branch, raw["branch"], raw["gaps"])
		}
		if tc.branch == "main" {
			var gaps []map[string]any
			_ = json.Unmarshal(raw["gaps"], &gaps)
			for _, g := range gaps {
				for _, k := range []string{"setting", "problem", "fix"} {
					if s, _ := g[k].(string); s == "" {
						t.Errorf("gap %v: want a non-empty %s", g, k)
					}
				}
			}
		}
	}
}

// TestForgeCheckErrors: what cannot be checked exits 1 with a cause and a
// next step, never 2 as if gaps were found.
func TestForgeCheckErrors(t *testing.T) {
	ff, cfg := forgeCheckSetup(t)
	ff.AddRepo(forgeCheckGitHub)
	for _, tc := range []struct {
		name string
		args []string
		fail func()
		want string
	}{
		{"not configured", []string{"acme/unknown"}, nil, "not configured"},
		{"token may not read branch protection", []string{forgeCheckGitHub}, func() {
			ff.FailNextOn("/branches/main/protection", 1, 403, nil)
		}, "branch protection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fail != nil {
				tc.fail()
			}
			_, err := execCLI(append([]string{"forge", "check", "--config", cfg}, tc.args...)...)
			var coded interface{ ExitCode() int }
			if err == nil || errors.As(err, &coded) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v; want an error naming %q, not the gaps exit", err, tc.want)
			}
		})
	}
	t.Setenv("PATCHGATE_CONFIG", "")
	t.Chdir(t.TempDir()) // no patchgate.db is created or read here
	if _, err := execCLI("forge", "check", forgeCheckGitHub); err == nil || !strings.Contains(err.Error(), "pass --config") {
		t.Errorf("without a configuration: got %v, want the next step, --config", err)
	}
}

// TestForgeCheckUnreadableSetting: a GitLab below Ultimate will not list
// external status checks; forge check still checks the rest and reports the
// status check as a gap saying why, exit 2, rather than failing.
func TestForgeCheckUnreadableSetting(t *testing.T) {
	ff, cfg := forgeCheckSetup(t)
	ff.SetProtection(forgeCheckGitLab, fakeforge.GitLabEnforced("main", forgeCheckStatus, fakeforge.BotID, forgeCheckProdEnv))
	ff.FailNextOn("/external_status_checks", 1, http.StatusForbidden, nil)
	got, code := runForgeCheck(t, forgeCheckGitLab, "--config", cfg)
	if s := gapSettings(got); !slices.Equal(s, []string{"external_status_checks"}) || code != exitGaps ||
		!strings.Contains(got.Gaps[0].Problem, "GitLab Ultimate") {
		t.Errorf("got %+v, exit %d; want the one gap, saying the check needs GitLab Ultimate, exit 2", got, code)
	}
}
