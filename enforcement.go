package patchgate

import (
	"context"
	"path"
	"strconv"
	"strings"
)

// The forges can refuse what patchgate refuses: a release branch that needs
// patchgate's verdict to merge, release tags only patchgate may create,
// deployments only patchgate may let through. Whether a repository's settings
// do that is decided here, from what the forge reported, so the CLI and the
// dashboard say the same thing and the rule has one table test.

// DefaultTagPattern is the release tags patchgate creates and the forge must
// keep for it alone.
const DefaultTagPattern = "v*"

// GitLab access levels, as the protected branch, tag and environment APIs
// report them.
const (
	GitLabNoAccess   = 0
	GitLabDeveloper  = 30
	GitLabMaintainer = 40
	GitLabAdmin      = 60
)

// EnforcementReader reads a repository's protection settings from its forge:
// the release branch's, the release tags' and the named environments'. It
// only reads; patchgate never changes a forge's settings. Errors carry the
// root codes: EFORBIDDEN when the token may not read a setting (GitHub's
// branch protection needs admin rights), ENOTFOUND for an unknown repository.
type EnforcementReader interface {
	ReadEnforcement(ctx context.Context, repo RepoRef, branch string, environments []string) (*ForgeSettings, error)
}

// EnforcementExpectation is what patchgate's configuration expects of a
// repository's forge settings.
type EnforcementExpectation struct {
	Forge Forge  `json:"forge"`
	Repo  string `json:"repo"`
	// Branch is the release branch the verdict must protect.
	Branch string `json:"branch"`
	// CheckContext is the name of patchgate's verdict status or check run.
	CheckContext string `json:"check_context"`
	// AppID is patchgate's GitHub App id; 0 means token mode, where any
	// token with write access can post the same status.
	AppID int64 `json:"app_id,omitempty"`
	// TagPattern is the release tags' pattern, DefaultTagPattern when empty.
	TagPattern string `json:"tag_pattern"`
	// Environments are the deployment environments mapped to the repository.
	Environments []string `json:"environments,omitempty"`
	// StatusCheckURL is where GitLab must send its external status check.
	StatusCheckURL string `json:"status_check_url,omitempty"`
}

// ForgeSettings is what the forge reported about a repository's protection.
// GitHub fills the GitHub part, GitLab the GitLab part.
type ForgeSettings struct {
	// DefaultBranch resolves the rulesets' ~DEFAULT_BRANCH.
	DefaultBranch string `json:"default_branch,omitempty"`
	// BranchProtection is the release branch's classic protection; nil when
	// it has none.
	BranchProtection *BranchProtection `json:"branch_protection,omitempty"`
	// Rulesets are the repository's rulesets, of every target and state.
	Rulesets []Ruleset `json:"rulesets,omitempty"`
	// Environments are the repository's environments (GitHub) or protected
	// environments (GitLab).
	Environments []EnvironmentSettings `json:"environments,omitempty"`
	// Unreadable maps a setting the forge would not list (a feature of a
	// higher plan or tier, or beyond the token's role) to the forge's answer.
	// Its key is the gaps' Setting prefix ("rulesets", "external_status_checks",
	// "protected_environments"); what could not be read counts as missing.
	Unreadable map[string]string `json:"unreadable,omitempty"`

	// SelfUserID is the GitLab user patchgate's token belongs to.
	SelfUserID int64 `json:"self_user_id,omitempty"`
	// StatusChecks are the GitLab project's external status checks.
	StatusChecks []ExternalStatusCheck `json:"status_checks,omitempty"`
	// StatusChecksMustSucceed is GitLab's project setting
	// only_allow_merge_if_all_status_checks_passed.
	StatusChecksMustSucceed bool `json:"status_checks_must_succeed,omitempty"`
	// ProtectedBranches are the GitLab project's protected branches.
	ProtectedBranches []ProtectedRef `json:"protected_branches,omitempty"`
	// ProtectedTags are the GitLab project's protected tags.
	ProtectedTags []ProtectedRef `json:"protected_tags,omitempty"`
}

// BranchProtection is a GitHub branch's classic protection.
type BranchProtection struct {
	// RequiredChecks are the required status checks; nil when none are.
	RequiredChecks []RequiredCheck `json:"required_checks,omitempty"`
	// EnforceAdmins applies the protection to administrators too.
	EnforceAdmins bool `json:"enforce_admins"`
}

// RequiredCheck is one required status check.
type RequiredCheck struct {
	Context string `json:"context"`
	// AppID is the GitHub App that must post it; 0 (or -1) lets any source.
	AppID int64 `json:"app_id,omitempty"`
}

// Ruleset is a GitHub ruleset.
type Ruleset struct {
	Name string `json:"name"`
	// Target is "branch" or "tag".
	Target string `json:"target"`
	// Enforcement is "active", "evaluate" or "disabled"; only active rules bind.
	Enforcement string `json:"enforcement"`
	// Include and Exclude are the ref_name conditions ("refs/tags/v*",
	// "~DEFAULT_BRANCH", "~ALL").
	Include []string `json:"include"`
	Exclude []string `json:"exclude,omitempty"`
	// RequiredChecks are the required_status_checks rule's checks.
	RequiredChecks []RequiredCheck `json:"required_checks,omitempty"`
	// RestrictsCreation is true when the ruleset has the creation rule.
	RestrictsCreation bool `json:"restricts_creation,omitempty"`
	// Bypass are the actors allowed around the ruleset.
	Bypass []BypassActor `json:"bypass,omitempty"`
}

// BypassActor is one actor a GitHub ruleset lets bypass it.
type BypassActor struct {
	// Type is Integration, RepositoryRole, Team, OrganizationAdmin or DeployKey.
	Type string `json:"type"`
	ID   int64  `json:"id,omitempty"`
}

// String names the actor for people.
func (a BypassActor) String() string {
	switch a.Type {
	case "Integration":
		return "GitHub App " + itoa(a.ID)
	case "RepositoryRole":
		switch a.ID {
		case 2:
			return "the maintain role"
		case 4:
			return "the write role"
		case githubRepoAdmin:
			return "repository administrators"
		}
		return "repository role " + itoa(a.ID)
	case "Team":
		return "team " + itoa(a.ID)
	case "OrganizationAdmin":
		return "organization admins"
	}
	return a.Type + " " + itoa(a.ID)
}

// EnvironmentSettings is one deployment environment's protection.
type EnvironmentSettings struct {
	Name string `json:"name"`
	// ProtectionAppIDs are the GitHub Apps of its enabled custom deployment
	// protection rules.
	ProtectionAppIDs []int64 `json:"protection_app_ids,omitempty"`
	// Approvers are GitLab's approval rules of the protected environment.
	Approvers []ApprovalRule `json:"approvers,omitempty"`
}

// ApprovalRule is one GitLab deployment approval rule.
type ApprovalRule struct {
	UserID      int64 `json:"user_id,omitempty"`
	GroupID     int64 `json:"group_id,omitempty"`
	AccessLevel int   `json:"access_level,omitempty"`
	Required    int   `json:"required_approvals"`
}

// ExternalStatusCheck is one GitLab external status check.
type ExternalStatusCheck struct {
	Name string `json:"name"`
	URL  string `json:"external_url"`
	// Branches are the protected branches it runs for; none means all.
	Branches []string `json:"branches,omitempty"`
}

// ProtectedRef is a GitLab protected branch or tag (a name or wildcard).
type ProtectedRef struct {
	Name string `json:"name"`
	// Push (branches) or Create (tags) access.
	Push []AccessGrant `json:"push_access,omitempty"`
	// Merge access (branches only).
	Merge          []AccessGrant `json:"merge_access,omitempty"`
	AllowForcePush bool          `json:"allow_force_push,omitempty"`
}

// AccessGrant is one access entry: a role level, a user, a group or a deploy key.
type AccessGrant struct {
	Level       int   `json:"access_level"`
	UserID      int64 `json:"user_id,omitempty"`
	GroupID     int64 `json:"group_id,omitempty"`
	DeployKeyID int64 `json:"deploy_key_id,omitempty"`
}

// String names the grant for people.
func (g AccessGrant) String() string {
	switch {
	case g.UserID != 0:
		return "user " + itoa(g.UserID)
	case g.GroupID != 0:
		return "group " + itoa(g.GroupID)
	case g.DeployKeyID != 0:
		return "deploy key " + itoa(g.DeployKeyID)
	}
	switch g.Level {
	case GitLabNoAccess:
		return "no one"
	case GitLabDeveloper:
		return "developers and maintainers"
	case GitLabMaintainer:
		return "maintainers"
	case GitLabAdmin:
		return "administrators"
	}
	return "access level " + itoa(int64(g.Level))
}

// Gap is one way around the gate the forge leaves open.
type Gap struct {
	// Setting is the forge setting that closes the gap, as the API names it.
	Setting string `json:"setting"`
	// Problem says what someone can do that patchgate would refuse.
	Problem string `json:"problem"`
	// Fix is the change that closes it.
	Fix string `json:"fix"`
	// AppOnly marks a gap only GitHub App mode can close.
	AppOnly bool `json:"app_only,omitempty"`
}

// Enforcement is the answer: whether the forge enforces the gate, and the gaps.
type Enforcement struct {
	Forge  Forge  `json:"forge"`
	Repo   string `json:"repo"`
	Branch string `json:"branch"`
	// Mode is "app" or "token" on GitHub, "token" on GitLab.
	Mode     string `json:"mode"`
	Enforced bool   `json:"enforced"`
	Gaps     []Gap  `json:"gaps"`
}

// DecideEnforcement says whether got, the forge's settings, enforce what want
// expects, and lists every gap with the setting that closes it. The forge
// enforces the gate only when there is no gap.
func DecideEnforcement(want EnforcementExpectation, got ForgeSettings) Enforcement {
	if want.TagPattern == "" {
		want.TagPattern = DefaultTagPattern
	}
	out := Enforcement{Forge: want.Forge, Repo: want.Repo, Branch: want.Branch, Mode: "token"}
	switch want.Forge {
	case GitHub:
		if want.AppID != 0 {
			out.Mode = "app"
		}
		out.Gaps = githubGaps(want, got)
	case GitLab:
		out.Gaps = gitlabGaps(want, got)
	default:
		out.Gaps = []Gap{{Setting: "repos[].forge", Problem: "forge " + string(want.Forge) + " is neither github nor gitlab",
			Fix: "configure the repository with forge github or gitlab"}}
	}
	if out.Gaps == nil {
		out.Gaps = []Gap{}
	}
	for i, g := range out.Gaps {
		for prefix, answer := range got.Unreadable {
			if strings.HasPrefix(g.Setting, prefix) {
				out.Gaps[i].Problem += " (the forge would not list " + prefix + ": " + answer + ")"
			}
		}
	}
	out.Enforced = len(out.Gaps) == 0
	return out
}

// refCovers reports whether a ref pattern (fnmatch-style, as both forges
// take them) covers every ref of want, itself a pattern: "refs/tags/*"
// covers "refs/tags/v*", "refs/tags/v1*" does not.
func refCovers(pattern, want string) bool {
	ok, err := path.Match(pattern, want)
	return err == nil && ok
}

// quoted joins names for a sentence.
func quoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = `"` + n + `"`
	}
	return strings.Join(q, ", ")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
