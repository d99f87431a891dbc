package forges

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/google/go-github/v60/github"
	"github.com/patchgate/patchgate"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

var (
	_ patchgate.EnforcementReader = (*GitHub)(nil)
	_ patchgate.EnforcementReader = (*GitLab)(nil)
)

// ReadEnforcement implements patchgate.EnforcementReader: the default branch,
// the branch's classic protection (GET .../branches/{b}/protection, which
// needs admin rights), every ruleset in full (GET .../rulesets, then each
// .../rulesets/{id}, since the list leaves conditions and rules out), and
// the environments with the Apps of their custom protection rules. Only the
// named environments' rules are read: they are all the decision needs.
func (g *GitHub) ReadEnforcement(ctx context.Context, repo patchgate.RepoRef, branch string, environments []string) (*patchgate.ForgeSettings, error) {
	if err := checkRepo(patchgate.GitHub, repo); err != nil {
		return nil, err
	}
	owner, name := ownerName(repo)
	out := &patchgate.ForgeSettings{}
	err := g.retry.do(ctx, "read repository "+repo.String(), func() (*http.Response, error) {
		r, resp, err := g.client.Repositories.Get(ctx, owner, name)
		out.DefaultBranch = r.GetDefaultBranch()
		return ghResp(resp), err
	})
	if err != nil {
		return nil, err
	}
	err = g.retry.do(ctx, "read the branch protection of "+repo.String()+"@"+branch, func() (*http.Response, error) {
		p, resp, err := g.client.Repositories.GetBranchProtection(ctx, owner, name, branch)
		if errors.Is(err, github.ErrBranchNotProtected) {
			return nil, nil
		}
		if err == nil {
			out.BranchProtection = ghProtection(p)
		}
		return ghResp(resp), err
	})
	if err != nil {
		return nil, err
	}
	out.Rulesets, err = g.rulesets(ctx, repo)
	if err = unreadable(out, "rulesets", err, "rulesets on private repositories need GitHub Pro, Team or Enterprise"); err != nil {
		return nil, err
	}
	out.Environments, err = g.environments(ctx, repo, environments)
	if err = unreadable(out, "environments", err, "environments and their protection rules on private repositories need a paid plan"); err != nil {
		return nil, err
	}
	return out, nil
}

// unreadable records, instead of failing the whole read, a setting the forge
// refuses to list (403, 404): a feature of a higher plan or tier, or beyond
// the token's role. The decision then counts it as missing and says why.
// Other errors are returned.
func unreadable(out *patchgate.ForgeSettings, setting string, err error, hint string) error {
	if code := patchgate.ErrorCode(err); code != patchgate.EFORBIDDEN && code != patchgate.ENOTFOUND {
		return err
	}
	if out.Unreadable == nil {
		out.Unreadable = map[string]string{}
	}
	out.Unreadable[setting] = patchgate.ErrorMessage(err) + "; " + hint
	return nil
}

func ghProtection(p *github.Protection) *patchgate.BranchProtection {
	out := &patchgate.BranchProtection{EnforceAdmins: p.EnforceAdmins != nil && p.EnforceAdmins.Enabled}
	rsc := p.RequiredStatusChecks
	if rsc == nil {
		return out
	}
	// GitHub answers both lists; checks carries the App binding.
	if rsc.Checks != nil {
		for _, c := range *rsc.Checks {
			out.RequiredChecks = append(out.RequiredChecks, patchgate.RequiredCheck{Context: c.Context, AppID: c.GetAppID()})
		}
		return out
	}
	if rsc.Contexts != nil {
		for _, c := range *rsc.Contexts {
			out.RequiredChecks = append(out.RequiredChecks, patchgate.RequiredCheck{Context: c})
		}
	}
	return out
}

// rulesets reads every ruleset that applies to the repository, its
// organisation's included.
func (g *GitHub) rulesets(ctx context.Context, repo patchgate.RepoRef) ([]patchgate.Ruleset, error) {
	owner, name := ownerName(repo)
	var list []*github.Ruleset
	err := g.retry.do(ctx, "list the rulesets of "+repo.String(), func() (*http.Response, error) {
		var resp *github.Response
		var err error
		list, resp, err = g.client.Repositories.GetAllRulesets(ctx, owner, name, true)
		return ghResp(resp), err
	})
	if err != nil {
		return nil, err
	}
	var out []patchgate.Ruleset
	for _, item := range list {
		var rs *github.Ruleset
		err := g.retry.do(ctx, "read ruleset "+item.Name+" of "+repo.String(), func() (*http.Response, error) {
			var resp *github.Response
			var err error
			rs, resp, err = g.client.Repositories.GetRuleset(ctx, owner, name, item.GetID(), true)
			return ghResp(resp), err
		})
		if err != nil {
			return nil, err
		}
		out = append(out, ghRuleset(rs))
	}
	return out, nil
}

func ghRuleset(rs *github.Ruleset) patchgate.Ruleset {
	out := patchgate.Ruleset{Name: rs.Name, Target: rs.GetTarget(), Enforcement: rs.Enforcement}
	if c := rs.Conditions; c != nil && c.RefName != nil {
		out.Include, out.Exclude = c.RefName.Include, c.RefName.Exclude
	}
	for _, a := range rs.BypassActors {
		out.Bypass = append(out.Bypass, patchgate.BypassActor{Type: a.GetActorType(), ID: a.GetActorID()})
	}
	for _, r := range rs.Rules {
		switch r.Type {
		case "creation":
			out.RestrictsCreation = true
		case "required_status_checks":
			var p github.RequiredStatusChecksRuleParameters
			if r.Parameters != nil && json.Unmarshal(*r.Parameters, &p) == nil {
				for _, c := range p.RequiredStatusChecks {
					out.RequiredChecks = append(out.RequiredChecks, patchgate.RequiredCheck{Context: c.Context, AppID: c.GetIntegrationID()})
				}
			}
		}
	}
	return out
}

// environments lists the repository's environments and reads the custom
// protection rules of the wanted ones.
func (g *GitHub) environments(ctx context.Context, repo patchgate.RepoRef, wanted []string) ([]patchgate.EnvironmentSettings, error) {
	owner, name := ownerName(repo)
	var out []patchgate.EnvironmentSettings
	err := g.retry.do(ctx, "list the environments of "+repo.String(), func() (*http.Response, error) {
		out = nil
		opts := &github.EnvironmentListOptions{ListOptions: github.ListOptions{PerPage: 100}}
		for {
			page, resp, err := g.client.Repositories.ListEnvironments(ctx, owner, name, opts)
			if err != nil {
				return ghResp(resp), err
			}
			for _, e := range page.Environments {
				out = append(out, patchgate.EnvironmentSettings{Name: e.GetName()})
			}
			if resp.NextPage == 0 {
				return nil, nil
			}
			opts.Page = resp.NextPage
		}
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		if !containsFold(wanted, out[i].Name) {
			continue
		}
		env := out[i].Name
		err := g.retry.do(ctx, "read the protection rules of environment "+env+" of "+repo.String(), func() (*http.Response, error) {
			rules, resp, err := g.client.Repositories.GetAllDeploymentProtectionRules(ctx, owner, name, url.PathEscape(env))
			if err != nil {
				return ghResp(resp), err
			}
			out[i].ProtectionAppIDs = nil
			for _, r := range rules.ProtectionRules {
				if r.GetEnabled() && r.App != nil {
					out[i].ProtectionAppIDs = append(out[i].ProtectionAppIDs, r.App.GetID())
				}
			}
			return nil, nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func containsFold(list []string, s string) bool {
	for _, l := range list {
		if patchgate.SameLogin(l, s) {
			return true
		}
	}
	return false
}

// glProjectSettings are the project fields the GitLab client's Project type
// lacks: the merge check setting is read from the raw answer.
type glProjectSettings struct {
	DefaultBranch                         string `json:"default_branch"`
	OnlyAllowMergeIfAllStatusChecksPassed bool   `json:"only_allow_merge_if_all_status_checks_passed"`
}

// ReadEnforcement implements patchgate.EnforcementReader: the project's
// "Status checks must succeed" setting, its external status checks, protected
// branches, protected tags and protected environments, and the id of the
// user patchgate's token belongs to (who must create tags and approve).
func (g *GitLab) ReadEnforcement(ctx context.Context, repo patchgate.RepoRef, branch string, environments []string) (*patchgate.ForgeSettings, error) {
	if err := checkRepo(patchgate.GitLab, repo); err != nil {
		return nil, err
	}
	out := &patchgate.ForgeSettings{}
	id, login, err := g.user(ctx)
	if err != nil {
		return nil, err
	}
	if id == 0 {
		if id, err = g.UserID(ctx, login); err != nil {
			return nil, err
		}
	}
	out.SelfUserID = id
	opt := gitlab.WithContext(ctx)
	err = g.retry.do(ctx, "read project "+repo.Name, func() (*http.Response, error) {
		req, err := g.client.NewRequest(http.MethodGet, "projects/"+url.PathEscape(repo.Name), nil, []gitlab.RequestOptionFunc{opt})
		if err != nil {
			return nil, err
		}
		var p glProjectSettings
		resp, err := g.client.Do(req, &p)
		out.DefaultBranch, out.StatusChecksMustSucceed = p.DefaultBranch, p.OnlyAllowMergeIfAllStatusChecksPassed
		return glResp(resp), err
	})
	if err != nil {
		return nil, err
	}
	err = glPages(ctx, g, "list the external status checks of "+repo.Name, func(lo gitlab.ListOptions) (*gitlab.Response, error) {
		checks, resp, err := g.client.ExternalStatusChecks.ListProjectExternalStatusChecks(repo.Name, &gitlab.ListProjectExternalStatusChecksOptions{ListOptions: lo}, opt)
		for _, c := range checks {
			sc := patchgate.ExternalStatusCheck{Name: c.Name, URL: c.ExternalURL}
			for _, b := range c.ProtectedBranches {
				sc.Branches = append(sc.Branches, b.Name)
			}
			out.StatusChecks = append(out.StatusChecks, sc)
		}
		return resp, err
	})
	if err = unreadable(out, "external_status_checks", err, "external status checks need GitLab Ultimate and a Maintainer's token"); err != nil {
		return nil, err
	}
	err = glPages(ctx, g, "list the protected branches of "+repo.Name, func(lo gitlab.ListOptions) (*gitlab.Response, error) {
		pbs, resp, err := g.client.ProtectedBranches.ListProtectedBranches(repo.Name, &gitlab.ListProtectedBranchesOptions{ListOptions: lo}, opt)
		for _, pb := range pbs {
			out.ProtectedBranches = append(out.ProtectedBranches, patchgate.ProtectedRef{Name: pb.Name,
				Push: glBranchGrants(pb.PushAccessLevels), Merge: glBranchGrants(pb.MergeAccessLevels), AllowForcePush: pb.AllowForcePush})
		}
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	err = glPages(ctx, g, "list the protected tags of "+repo.Name, func(lo gitlab.ListOptions) (*gitlab.Response, error) {
		pts, resp, err := g.client.ProtectedTags.ListProtectedTags(repo.Name, &gitlab.ListProtectedTagsOptions{ListOptions: lo}, opt)
		for _, pt := range pts {
			ref := patchgate.ProtectedRef{Name: pt.Name}
			for _, a := range pt.CreateAccessLevels {
				ref.Push = append(ref.Push, patchgate.AccessGrant{Level: int(a.AccessLevel), UserID: a.UserID, GroupID: a.GroupID, DeployKeyID: a.DeployKeyID})
			}
			out.ProtectedTags = append(out.ProtectedTags, ref)
		}
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	err = glPages(ctx, g, "list the protected environments of "+repo.Name, func(lo gitlab.ListOptions) (*gitlab.Response, error) {
		pes, resp, err := g.client.ProtectedEnvironments.ListProtectedEnvironments(repo.Name, &gitlab.ListProtectedEnvironmentsOptions{ListOptions: lo}, opt)
		for _, pe := range pes {
			env := patchgate.EnvironmentSettings{Name: pe.Name}
			for _, r := range pe.ApprovalRules {
				env.Approvers = append(env.Approvers, patchgate.ApprovalRule{UserID: r.UserID, GroupID: r.GroupID,
					AccessLevel: int(r.AccessLevel), Required: int(r.RequiredApprovalCount)})
			}
			out.Environments = append(out.Environments, env)
		}
		return resp, err
	})
	if err = unreadable(out, "protected_environments", err, "protected environments and deployment approvals need GitLab Premium or Ultimate"); err != nil {
		return nil, err
	}
	return out, nil
}

func glBranchGrants(levels []*gitlab.BranchAccessDescription) []patchgate.AccessGrant {
	var out []patchgate.AccessGrant
	for _, a := range levels {
		out = append(out, patchgate.AccessGrant{Level: int(a.AccessLevel), UserID: a.UserID, GroupID: a.GroupID, DeployKeyID: a.DeployKeyID})
	}
	return out
}

// glPages calls list for each page, 100 a page, under one retry each. A
// page that fails is asked again alone: list appends only what it received.
func glPages(ctx context.Context, g *GitLab, action string, list func(gitlab.ListOptions) (*gitlab.Response, error)) error {
	lo := gitlab.ListOptions{PerPage: 100}
	for {
		var next int64
		err := g.retry.do(ctx, action, func() (*http.Response, error) {
			resp, err := list(lo)
			if err == nil && resp != nil {
				next = int64(resp.NextPage)
			}
			return glResp(resp), err
		})
		if err != nil || next == 0 {
			return err
		}
		lo.Page = next
	}
}
