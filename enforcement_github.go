package patchgate

import (
	"fmt"
	"slices"
	"strings"
)

// appModeFix is how a token-mode user gets what only a GitHub App can do.
const appModeFix = "run patchgate as a GitHub App (github.app_id, github.private_key_file)"

// githubRepoAdmin is the RepositoryRole id of a repository's administrators,
// who bypass classic branch protection unless enforce_admins is on.
const githubRepoAdmin = 5

// githubGaps decides the GitHub part: the release branch, the release tags
// and the mapped environments.
func githubGaps(want EnforcementExpectation, got ForgeSettings) []Gap {
	gaps := githubBranchGaps(want, got)
	gaps = append(gaps, githubTagGaps(want, got)...)
	return append(gaps, githubEnvironmentGaps(want, got)...)
}

// branchRule is one thing that can require a check on the release branch:
// classic protection or an active branch ruleset.
type branchRule struct {
	source string
	checks []RequiredCheck
	bypass []BypassActor
}

// githubBranchRules are the rules on the release branch. Every one of them
// applies to a merge; a bypass actor skips only the rule it bypasses.
func githubBranchRules(want EnforcementExpectation, got ForgeSettings) []branchRule {
	var rules []branchRule
	if bp := got.BranchProtection; bp != nil {
		r := branchRule{source: "branch protection", checks: bp.RequiredChecks}
		if !bp.EnforceAdmins {
			r.bypass = []BypassActor{{Type: "RepositoryRole", ID: githubRepoAdmin}}
		}
		rules = append(rules, r)
	}
	for _, rs := range got.Rulesets {
		if rs.Target != "branch" || rs.Enforcement != "active" || !rulesetApplies(rs, "refs/heads/"+want.Branch, want.Branch == got.DefaultBranch) {
			continue
		}
		rules = append(rules, branchRule{source: fmt.Sprintf("ruleset %q", rs.Name), checks: rs.RequiredChecks, bypass: rs.Bypass})
	}
	return rules
}

// rulesetApplies reports whether a ruleset's ref_name conditions cover ref
// (a ref or a ref pattern such as refs/tags/v*).
func rulesetApplies(rs Ruleset, ref string, isDefault bool) bool {
	match := func(patterns []string) bool {
		for _, p := range patterns {
			if p == "~ALL" || (p == "~DEFAULT_BRANCH" && isDefault) || refCovers(p, ref) {
				return true
			}
		}
		return false
	}
	return match(rs.Include) && !match(rs.Exclude)
}

func githubBranchGaps(want EnforcementExpectation, got ForgeSettings) []Gap {
	var requiring, bound []branchRule
	for _, r := range githubBranchRules(want, got) {
		for _, c := range r.checks {
			if c.Context != want.CheckContext {
				continue
			}
			requiring = append(requiring, r)
			if want.AppID != 0 && c.AppID == want.AppID {
				bound = append(bound, r)
			}
			break
		}
	}
	bind := ""
	if want.AppID != 0 {
		bind = fmt.Sprintf(", bound to the patchgate App (app_id %d in branch protection, integration_id %d in a ruleset)", want.AppID, want.AppID)
	}
	if len(requiring) == 0 {
		return []Gap{{
			Setting: "required_status_checks",
			Problem: fmt.Sprintf("merges into %s do not need patchgate's verdict: no branch protection or active branch ruleset requires the %q check", want.Branch, want.CheckContext),
			Fix:     fmt.Sprintf("require the status check %q on %s in branch protection or a branch ruleset%s", want.CheckContext, want.Branch, bind),
		}}
	}
	var gaps []Gap
	considered := requiring
	switch {
	case want.AppID == 0:
		gaps = append(gaps, Gap{
			Setting: "required_status_checks.app_id",
			Problem: fmt.Sprintf("token mode: any token with write access can post a passing %q status, so %s cannot tell patchgate's verdict from a forged one", want.CheckContext, want.Branch),
			Fix:     appModeFix + ", then bind the required check to the App",
			AppOnly: true,
		})
	case len(bound) == 0:
		gaps = append(gaps, Gap{
			Setting: "required_status_checks.app_id",
			Problem: fmt.Sprintf("the %q check on %s is not bound to patchgate's App: any token with write access can post a passing status", want.CheckContext, want.Branch),
			Fix:     fmt.Sprintf("set the required check's source to the patchgate App: app_id %d in branch protection, integration_id %d in the ruleset", want.AppID, want.AppID),
		})
	default:
		considered = bound
	}
	if around := bypassEveryRule(considered, want.AppID); len(around) > 0 {
		var sources []string
		for _, r := range considered {
			sources = append(sources, r.source)
		}
		gaps = append(gaps, Gap{
			Setting: "enforce_admins, bypass_actors",
			Problem: fmt.Sprintf("%s can merge into %s without patchgate's verdict: they bypass %s", actorList(around), want.Branch, strings.Join(sources, " and ")),
			Fix:     "turn on enforce_admins (\"Do not allow bypassing the above settings\") in branch protection and remove the bypass actors of the branch ruleset",
		})
	}
	return gaps
}

// bypassEveryRule returns the actors that bypass every rule: they alone get
// around all of them. The patchgate App does not count.
func bypassEveryRule(rules []branchRule, appID int64) []BypassActor {
	if len(rules) == 0 {
		return nil
	}
	var out []BypassActor
	for _, a := range rules[0].bypass {
		if isApp(a, appID) {
			continue
		}
		all := true
		for _, r := range rules[1:] {
			all = all && slices.Contains(r.bypass, a)
		}
		if all && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

func isApp(a BypassActor, appID int64) bool {
	return appID != 0 && a.Type == "Integration" && a.ID == appID
}

func actorList(actors []BypassActor) string {
	names := make([]string, len(actors))
	for i, a := range actors {
		names[i] = a.String()
	}
	return strings.Join(names, ", ")
}

// githubTagGaps: release tags can be created only by patchgate. A tag ruleset
// that restricts creation binds everyone it does not list as a bypass actor,
// and several such rulesets all bind: an actor creates tags only by
// bypassing every one of them.
func githubTagGaps(want EnforcementExpectation, got ForgeSettings) []Gap {
	tagRef := "refs/tags/" + want.TagPattern
	if want.AppID == 0 {
		return []Gap{{
			Setting: "rulesets (tag)",
			Problem: fmt.Sprintf("token mode: a tag ruleset cannot make patchgate's token the only one allowed to create %s tags, so whoever may create them can release around the gate", want.TagPattern),
			Fix:     appModeFix + fmt.Sprintf(", then add a tag ruleset on %s restricting creation with the App as its only bypass actor", tagRef),
			AppOnly: true,
		}}
	}
	var covering []branchRule
	for _, rs := range got.Rulesets {
		if rs.Target == "tag" && rs.Enforcement == "active" && rs.RestrictsCreation && rulesetApplies(rs, tagRef, false) {
			covering = append(covering, branchRule{source: fmt.Sprintf("ruleset %q", rs.Name), bypass: rs.Bypass})
		}
	}
	if len(covering) == 0 {
		return []Gap{{
			Setting: "rulesets (tag)",
			Problem: fmt.Sprintf("anyone with write access can create %s tags: no active tag ruleset restricts their creation", want.TagPattern),
			Fix: fmt.Sprintf("add an active tag ruleset: ref_name include %s, rules creation, update and deletion, bypass_actors only the patchgate App (Integration %d)",
				tagRef, want.AppID),
		}}
	}
	var gaps []Gap
	if around := bypassEveryRule(covering, want.AppID); len(around) > 0 {
		gaps = append(gaps, Gap{
			Setting: "rulesets (tag).bypass_actors",
			Problem: fmt.Sprintf("%s can create %s tags around the gate", actorList(around), want.TagPattern),
			Fix:     fmt.Sprintf("make the patchgate App (Integration %d) the only bypass actor of the tag rulesets on %s", want.AppID, tagRef),
		})
	}
	for _, r := range covering {
		if !slices.ContainsFunc(r.bypass, func(a BypassActor) bool { return isApp(a, want.AppID) }) {
			gaps = append(gaps, Gap{
				Setting: "rulesets (tag).bypass_actors",
				Problem: fmt.Sprintf("patchgate itself cannot create the release tags: its App is not a bypass actor of %s", r.source),
				Fix:     fmt.Sprintf("add the patchgate App (Integration %d, bypass mode always) to the bypass actors of %s", want.AppID, r.source),
			})
		}
	}
	return gaps
}

// githubEnvironmentGaps: each mapped environment waits for patchgate's
// custom deployment protection rule.
func githubEnvironmentGaps(want EnforcementExpectation, got ForgeSettings) []Gap {
	var gaps []Gap
	for _, name := range want.Environments {
		setting := "environments/" + name + "/deployment_protection_rules"
		i := slices.IndexFunc(got.Environments, func(e EnvironmentSettings) bool { return strings.EqualFold(e.Name, name) })
		switch {
		case want.AppID == 0:
			gaps = append(gaps, Gap{
				Setting: setting,
				Problem: fmt.Sprintf("token mode: only a GitHub App can be a custom deployment protection rule, so deployments to %s do not wait for patchgate", name),
				Fix:     appModeFix + ", then enable it as a deployment protection rule of " + name,
				AppOnly: true,
			})
		case i < 0:
			gaps = append(gaps, Gap{
				Setting: "environments/" + name,
				Problem: fmt.Sprintf("environment %s does not exist, so a deployment to it (which creates it) waits for no one", name),
				Fix:     fmt.Sprintf("create the environment %s and enable the patchgate App (integration_id %d) as its custom deployment protection rule", name, want.AppID),
			})
		case !slices.Contains(got.Environments[i].ProtectionAppIDs, want.AppID):
			gaps = append(gaps, Gap{
				Setting: setting,
				Problem: fmt.Sprintf("deployments to %s do not wait for patchgate: its custom protection rules are %s", name, appIDs(got.Environments[i].ProtectionAppIDs)),
				Fix:     fmt.Sprintf("enable the patchgate App (integration_id %d) as a custom deployment protection rule of %s", want.AppID, name),
			})
		}
	}
	return gaps
}

func appIDs(ids []int64) string {
	if len(ids) == 0 {
		return "none"
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = "App " + itoa(id)
	}
	return strings.Join(s, ", ")
}
