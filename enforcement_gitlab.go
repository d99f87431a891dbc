package patchgate

import (
	"fmt"
	"slices"
	"strings"
)

// gitlabGaps decides the GitLab part: the external status check and the
// setting that makes it block, the protected release branch, the protected
// release tags and the mapped environments' approval rules.
func gitlabGaps(want EnforcementExpectation, got ForgeSettings) []Gap {
	gaps := gitlabStatusCheckGaps(want, got)
	gaps = append(gaps, gitlabBranchGaps(want, got)...)
	gaps = append(gaps, gitlabTagGaps(want, got)...)
	return append(gaps, gitlabEnvironmentGaps(want, got)...)
}

func sameURL(a, b string) bool {
	return a != "" && strings.EqualFold(strings.TrimSuffix(a, "/"), strings.TrimSuffix(b, "/"))
}

func gitlabStatusCheckGaps(want EnforcementExpectation, got ForgeSettings) []Gap {
	var gaps []Gap
	var ours []ExternalStatusCheck
	for _, c := range got.StatusChecks {
		if sameURL(c.URL, want.StatusCheckURL) {
			ours = append(ours, c)
		}
	}
	covers := slices.ContainsFunc(ours, func(c ExternalStatusCheck) bool {
		return len(c.Branches) == 0 || slices.Contains(c.Branches, want.Branch)
	})
	switch {
	case len(ours) == 0:
		gaps = append(gaps, Gap{
			Setting: "external_status_checks",
			Problem: fmt.Sprintf("merge requests into %s are not sent to patchgate: no external status check points at %s", want.Branch, want.StatusCheckURL),
			Fix:     fmt.Sprintf("add an external status check: name patchgate, external_url %s, a shared_secret, protected branch %s", want.StatusCheckURL, want.Branch),
		})
	case !covers:
		gaps = append(gaps, Gap{
			Setting: "external_status_checks.protected_branch_ids",
			Problem: fmt.Sprintf("patchgate's external status check runs only for %s, not for %s", quoted(ours[0].Branches), want.Branch),
			Fix:     fmt.Sprintf("add the protected branch %s to the check's protected_branch_ids (or clear them to cover every branch)", want.Branch),
		})
	}
	if !got.StatusChecksMustSucceed {
		gaps = append(gaps, Gap{
			Setting: "only_allow_merge_if_all_status_checks_passed",
			Problem: "merge requests can merge while patchgate's status check has failed or is pending: \"Status checks must succeed\" is off",
			Fix:     "turn on Settings → Merge requests → Status checks must succeed (only_allow_merge_if_all_status_checks_passed)",
		})
	}
	return gaps
}

// matching returns the protected refs whose name or wildcard covers ref.
func matching(refs []ProtectedRef, ref string) []ProtectedRef {
	var out []ProtectedRef
	for _, r := range refs {
		if r.Name == ref || refCovers(r.Name, ref) {
			out = append(out, r)
		}
	}
	return out
}

// gitlabBranchGaps: nobody pushes to the release branch around the merge
// request and its status check, and merging is possible. When several
// protections match a branch, GitLab applies the most permissive: each
// one's grants count.
func gitlabBranchGaps(want EnforcementExpectation, got ForgeSettings) []Gap {
	pbs := matching(got.ProtectedBranches, want.Branch)
	if len(pbs) == 0 {
		return []Gap{{
			Setting: "protected_branches",
			Problem: fmt.Sprintf("%s is not protected: developers can push to it directly, around patchgate's status check", want.Branch),
			Fix:     fmt.Sprintf("protect %s: allowed to push No one (or Maintainers), allowed to merge Maintainers, force push off", want.Branch),
		}}
	}
	var gaps []Gap
	var pushers []string
	canMerge, force := false, false
	for _, pb := range pbs {
		for _, g := range pb.Push {
			if !(g.Level == GitLabNoAccess || g.Level >= GitLabMaintainer) || g.UserID != 0 || g.GroupID != 0 || g.DeployKeyID != 0 {
				if s := g.String(); !slices.Contains(pushers, s) {
					pushers = append(pushers, s)
				}
			}
		}
		for _, g := range pb.Merge {
			canMerge = canMerge || g.Level != GitLabNoAccess || g.UserID != 0 || g.GroupID != 0
		}
		force = force || pb.AllowForcePush
	}
	if len(pushers) > 0 {
		gaps = append(gaps, Gap{
			Setting: "protected_branches.push_access_levels",
			Problem: fmt.Sprintf("%s can push to %s directly, around patchgate's status check", strings.Join(pushers, ", "), want.Branch),
			Fix:     fmt.Sprintf("set allowed to push on %s to No one or Maintainers", want.Branch),
		})
	}
	if force {
		gaps = append(gaps, Gap{
			Setting: "protected_branches.allow_force_push",
			Problem: fmt.Sprintf("force pushes to %s can replace the commits patchgate verified", want.Branch),
			Fix:     fmt.Sprintf("turn off allowed to force push on %s", want.Branch),
		})
	}
	if !canMerge {
		gaps = append(gaps, Gap{
			Setting: "protected_branches.merge_access_levels",
			Problem: fmt.Sprintf("no one may merge into %s, so no fix patchgate verifies can land", want.Branch),
			Fix:     fmt.Sprintf("set allowed to merge on %s to Maintainers (or Developers + Maintainers)", want.Branch),
		})
	}
	return gaps
}

// gitlabTagGaps: only patchgate's user creates release tags.
func gitlabTagGaps(want EnforcementExpectation, got ForgeSettings) []Gap {
	pts := matching(got.ProtectedTags, want.TagPattern)
	self := fmt.Sprintf("patchgate's user (user_id %d)", got.SelfUserID)
	if len(pts) == 0 {
		return []Gap{{
			Setting: "protected_tags",
			Problem: fmt.Sprintf("anyone who can push can create %s tags and release around the gate", want.TagPattern),
			Fix:     fmt.Sprintf("protect tags %s: allowed to create only %s", want.TagPattern, self),
		}}
	}
	var gaps []Gap
	var others []string
	selfCan := false
	for _, pt := range pts {
		for _, g := range pt.Push {
			switch {
			case g.UserID != 0 && g.UserID == got.SelfUserID:
				selfCan = true
			case g.Level == GitLabNoAccess && g.UserID == 0 && g.GroupID == 0 && g.DeployKeyID == 0:
			default:
				if s := g.String(); !slices.Contains(others, s) {
					others = append(others, s)
				}
			}
		}
	}
	if len(others) > 0 {
		gaps = append(gaps, Gap{
			Setting: "protected_tags.create_access_levels",
			Problem: fmt.Sprintf("%s can create %s tags around the gate", strings.Join(others, ", "), want.TagPattern),
			Fix:     fmt.Sprintf("allow only %s to create %s tags", self, want.TagPattern),
		})
	}
	if !selfCan {
		gaps = append(gaps, Gap{
			Setting: "protected_tags.create_access_levels",
			Problem: fmt.Sprintf("patchgate itself cannot create the release tags: %s may not create %s tags", self, want.TagPattern),
			Fix:     fmt.Sprintf("add %s to allowed to create on the protected tags %s", self, want.TagPattern),
		})
	}
	return gaps
}

// gitlabEnvironmentGaps: each mapped environment is protected and needs
// patchgate's approval. GitLab requires every approval rule to be met, so
// one rule requiring patchgate's user is enough.
func gitlabEnvironmentGaps(want EnforcementExpectation, got ForgeSettings) []Gap {
	var gaps []Gap
	self := fmt.Sprintf("patchgate's user (user_id %d)", got.SelfUserID)
	for _, name := range want.Environments {
		i := slices.IndexFunc(got.Environments, func(e EnvironmentSettings) bool { return e.Name == name })
		if i < 0 {
			gaps = append(gaps, Gap{
				Setting: "protected_environments/" + name,
				Problem: fmt.Sprintf("%s is not a protected environment: deployments to it need no approval", name),
				Fix:     fmt.Sprintf("protect the environment %s with an approval rule requiring %s, required_approvals 1", name, self),
			})
			continue
		}
		ok := slices.ContainsFunc(got.Environments[i].Approvers, func(r ApprovalRule) bool {
			return got.SelfUserID != 0 && r.UserID == got.SelfUserID && r.Required >= 1
		})
		if !ok {
			gaps = append(gaps, Gap{
				Setting: "protected_environments/" + name + "/approval_rules",
				Problem: fmt.Sprintf("deployments to %s do not wait for patchgate's approval", name),
				Fix:     fmt.Sprintf("add an approval rule to %s requiring %s, required_approvals 1", name, self),
			})
		}
	}
	return gaps
}
