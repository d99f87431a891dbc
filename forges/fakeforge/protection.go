package fakeforge

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Protection is a repository's enforcement settings, which the fake serves
// through the forges' read APIs in their documented shapes: GitHub's branch
// protection, rulesets and environments with their custom deployment
// protection rules; GitLab's external status checks, project merge setting,
// protected branches, tags and environments. The fake serves no write routes
// for them: patchgate only reads these settings.
type Protection struct {
	// Branches is GitHub's classic branch protection by branch name.
	Branches map[string]*BranchProtection
	// Rulesets are GitHub rulesets; ids are their position plus one.
	Rulesets []Ruleset
	// Environments are GitHub environments.
	Environments []Environment

	// StatusChecksMustSucceed is GitLab's only_allow_merge_if_all_status_checks_passed.
	StatusChecksMustSucceed bool
	// StatusChecks are GitLab external status checks.
	StatusChecks []ExternalStatusCheck
	// ProtectedBranches, ProtectedTags and ProtectedEnvironments are GitLab's.
	ProtectedBranches     []ProtectedBranch
	ProtectedTags         []ProtectedTag
	ProtectedEnvironments []ProtectedEnvironment
}

// protectionRoutes adds the read routes of both forges' protection
// settings to the route table.
func (f *Forge) protectionRoutes(gh, gl func(pattern string, h http.HandlerFunc)) {
	gh("GET /repos/{owner}/{repo}/branches/{branch}/protection", f.ghBranchProtection)
	gh("GET /repos/{owner}/{repo}/rulesets", f.ghRulesets)
	gh("GET /repos/{owner}/{repo}/rulesets/{id}", f.ghRuleset)
	gh("GET /repos/{owner}/{repo}/environments", f.ghEnvironments)
	gh("GET /repos/{owner}/{repo}/environments/{env}/deployment_protection_rules", f.ghDeploymentProtectionRules)
	gl("GET /projects/{id}/external_status_checks", f.glExternalStatusChecks)
	gl("GET /projects/{id}/protected_branches", f.glProtectedBranches)
	gl("GET /projects/{id}/protected_tags", f.glProtectedTags)
	gl("GET /projects/{id}/protected_environments", f.glProtectedEnvironments)
}

// BranchProtection is a GitHub branch's classic protection.
type BranchProtection struct {
	Checks        []RequiredCheck
	EnforceAdmins bool
}

// RequiredCheck is a required status check; AppID 0 is any source (null).
type RequiredCheck struct {
	Context string
	AppID   int64
}

// Ruleset is a GitHub ruleset.
type Ruleset struct {
	Name string
	// Target is branch or tag; Enforcement active, evaluate or disabled.
	Target, Enforcement string
	Include, Exclude    []string
	// Rules are rule types without parameters: creation, update, deletion.
	Rules []string
	// RequiredChecks, when set, add a required_status_checks rule.
	RequiredChecks []RequiredCheck
	Bypass         []BypassActor
}

// BypassActor is a ruleset's bypass actor (Integration, RepositoryRole, Team, OrganizationAdmin).
type BypassActor struct {
	Type string
	ID   int64
}

// Environment is a GitHub environment with the Apps of its enabled custom
// deployment protection rules.
type Environment struct {
	Name           string
	ProtectionApps []int64
}

// ExternalStatusCheck is a GitLab external status check for the named protected
// branches (none: all).
type ExternalStatusCheck struct {
	Name, URL string
	Branches  []string
}

// Access is a GitLab access grant: a role level (0 no one, 30 developer, 40
// maintainer) or a user or group.
type Access struct {
	Level   int
	UserID  int64
	GroupID int64
}

// ProtectedBranch is a GitLab protected branch (or wildcard).
type ProtectedBranch struct {
	Name           string
	Push, Merge    []Access
	AllowForcePush bool
}

// ProtectedTag is a GitLab protected tag (or wildcard).
type ProtectedTag struct {
	Name   string
	Create []Access
}

// ProtectedEnvironment is a GitLab protected environment with its approval
// rules (Access plus RequiredApprovals).
type ProtectedEnvironment struct {
	Name      string
	Approvals []ApprovalRule
}

// ApprovalRule is one GitLab deployment approval rule.
type ApprovalRule struct {
	Access
	RequiredApprovals int
}

// SetProtection replaces a repository's enforcement settings.
func (f *Forge) SetProtection(repoName string, p Protection) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.repo(repoName).protection = p
}

// UpdateProtection changes a repository's enforcement settings in place.
func (f *Forge) UpdateProtection(repoName string, change func(*Protection)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(&f.repo(repoName).protection)
}

func ghChecks(checks []RequiredCheck) (contexts []string, out []map[string]any) {
	contexts, out = []string{}, []map[string]any{}
	for _, c := range checks {
		contexts = append(contexts, c.Context)
		var app any
		if c.AppID != 0 {
			app = c.AppID
		}
		out = append(out, map[string]any{"context": c.Context, "app_id": app})
	}
	return contexts, out
}

// ghBranchProtection answers GET /repos/{o}/{r}/branches/{branch}/protection
// as GitHub does: 404 "Branch not protected" without one.
func (f *Forge) ghBranchProtection(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	branch := r.PathValue("branch")
	bp := rp.protection.Branches[branch]
	if bp == nil {
		writeJSON(w, http.StatusNotFound, ghError("Branch not protected"))
		return
	}
	base := "http://" + r.Host + r.URL.Path
	body := map[string]any{
		"url":                     base,
		"enforce_admins":          map[string]any{"url": base + "/enforce_admins", "enabled": bp.EnforceAdmins},
		"required_linear_history": map[string]any{"enabled": false},
		"allow_force_pushes":      map[string]any{"enabled": false},
		"allow_deletions":         map[string]any{"enabled": false},
	}
	if bp.Checks != nil {
		contexts, checks := ghChecks(bp.Checks)
		body["required_status_checks"] = map[string]any{"url": base + "/required_status_checks", "strict": true,
			"contexts": contexts, "checks": checks, "contexts_url": base + "/required_status_checks/contexts"}
	}
	writeJSON(w, http.StatusOK, body)
}

func rulesetSummary(rp *repo, id int, rs Ruleset) map[string]any {
	return map[string]any{"id": id, "name": rs.Name, "target": rs.Target, "source_type": "Repository", "source": rp.name,
		"enforcement": rs.Enforcement, "node_id": "RRS_" + itoa(int64(id))}
}

// ghRulesets answers GET /repos/{o}/{r}/rulesets: summaries without
// conditions, rules or bypass actors, as GitHub lists them.
func (f *Forge) ghRulesets(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	all := rp.protection.Rulesets
	lo, hi := paginate(w, r, len(all), 30, 100)
	out := []map[string]any{}
	for i := lo; i < hi; i++ {
		out = append(out, rulesetSummary(rp, i+1, all[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

// ghRuleset answers GET /repos/{o}/{r}/rulesets/{id} in full.
func (f *Forge) ghRuleset(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	id := atoi(r.PathValue("id"))
	if id < 1 || id > len(rp.protection.Rulesets) {
		writeJSON(w, http.StatusNotFound, ghError("Not Found"))
		return
	}
	rs := rp.protection.Rulesets[id-1]
	out := rulesetSummary(rp, id, rs)
	bypass := []map[string]any{}
	for _, a := range rs.Bypass {
		bypass = append(bypass, map[string]any{"actor_id": a.ID, "actor_type": a.Type, "bypass_mode": "always"})
	}
	rules := []map[string]any{}
	for _, t := range rs.Rules {
		rules = append(rules, map[string]any{"type": t})
	}
	if rs.RequiredChecks != nil {
		checks := []map[string]any{}
		for _, c := range rs.RequiredChecks {
			m := map[string]any{"context": c.Context}
			if c.AppID != 0 {
				m["integration_id"] = c.AppID
			}
			checks = append(checks, m)
		}
		rules = append(rules, map[string]any{"type": "required_status_checks", "parameters": map[string]any{
			"strict_required_status_checks_policy": false, "required_status_checks": checks}})
	}
	include, exclude := rs.Include, rs.Exclude
	if include == nil {
		include = []string{}
	}
	if exclude == nil {
		exclude = []string{}
	}
	out["bypass_actors"] = bypass
	out["conditions"] = map[string]any{"ref_name": map[string]any{"include": include, "exclude": exclude}}
	out["rules"] = rules
	out["current_user_can_bypass"] = "never"
	writeJSON(w, http.StatusOK, out)
}

// ghEnvironments answers GET /repos/{o}/{r}/environments.
func (f *Forge) ghEnvironments(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	all := rp.protection.Environments
	lo, hi := paginate(w, r, len(all), 30, 100)
	envs := []map[string]any{}
	for i := lo; i < hi; i++ {
		e := all[i]
		envs = append(envs, map[string]any{"id": 100 + i, "node_id": "EN_" + itoa(int64(i)), "name": e.Name,
			"url":        "http://" + r.Host + r.URL.Path + "/" + url.PathEscape(e.Name),
			"created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z",
			"protection_rules": []any{}, "deployment_branch_policy": nil})
	}
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(all), "environments": envs})
}

// ghDeploymentProtectionRules answers GET
// /repos/{o}/{r}/environments/{env}/deployment_protection_rules.
func (f *Forge) ghDeploymentProtectionRules(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	for _, e := range rp.protection.Environments {
		if !strings.EqualFold(e.Name, r.PathValue("env")) {
			continue
		}
		rules := []map[string]any{}
		for i, app := range e.ProtectionApps {
			rules = append(rules, map[string]any{"id": 500 + i, "node_id": "CDPR_" + itoa(int64(i)), "enabled": true,
				"app": map[string]any{"id": app, "slug": "app-" + itoa(app), "integration_url": "http://" + r.Host + "/api/v3/apps/app-" + itoa(app), "node_id": "A_" + itoa(app)}})
		}
		writeJSON(w, http.StatusOK, map[string]any{"total_count": len(rules), "custom_deployment_protection_rules": rules})
		return
	}
	writeJSON(w, http.StatusNotFound, ghError("Not Found"))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// atoi reads a route's numeric id; 0 for anything else.
func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n
}

// GitHubEnforced is a GitHub repository's settings that enforce patchgate's
// gate in App mode: branch protects branch with check bound to appID and
// admins held to it, a tag ruleset on refs/tags/v* only the App bypasses,
// and each environment gated by the App's protection rule.
func GitHubEnforced(branch, check string, appID int64, environments ...string) Protection {
	p := Protection{
		Branches: map[string]*BranchProtection{branch: {Checks: []RequiredCheck{{Context: check, AppID: appID}}, EnforceAdmins: true}},
		Rulesets: []Ruleset{{Name: "release tags", Target: "tag", Enforcement: "active", Include: []string{"refs/tags/v*"},
			Rules: []string{"creation", "update", "deletion"}, Bypass: []BypassActor{{Type: "Integration", ID: appID}}}},
	}
	for _, e := range environments {
		p.Environments = append(p.Environments, Environment{Name: e, ProtectionApps: []int64{appID}})
	}
	return p
}
