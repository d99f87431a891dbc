package forges

import (
	"context"
	"fmt"
	"net/http"

	"github.com/patchgate/patchgate"
	gitlab "gitlab.com/gitlab-org/api/client-go"
)

// deploymentProtectionRuleReview is the body of GitHub's "review custom
// deployment protection rule" call; without State it is a status report.
type deploymentProtectionRuleReview struct {
	EnvironmentName string `json:"environment_name"`
	State           string `json:"state,omitempty"`
	Comment         string `json:"comment"`
}

// ReviewDeployment answers GitHub's deployment protection rule for r's
// Actions run: approved or rejected, with comment. go-github v60 has no call
// for it, so the request goes through the client's own machinery
// (NewRequest and Do: its token, its user agent, the shared retries). The
// URL is built from the configured API root, the repository and the run id,
// never taken from the payload's deployment_callback_url, so the token goes
// nowhere a delivery names.
func (g *GitHub) ReviewDeployment(ctx context.Context, r *patchgate.DeploymentReview, state patchgate.DeployVerdict, comment string) error {
	if state != patchgate.DeployApprove && state != patchgate.DeployReject {
		return patchgate.Errorf(patchgate.EINVALID, "deployment review state %q: want approved or rejected", string(state))
	}
	return g.postDeploymentRule(ctx, r, deploymentProtectionRuleReview{EnvironmentName: r.Environment, State: string(state), Comment: comment})
}

// ReportDeployment posts a status report on r's waiting deployment (the same
// call without a state): why it waits, shown on the run's page.
func (g *GitHub) ReportDeployment(ctx context.Context, r *patchgate.DeploymentReview, comment string) error {
	return g.postDeploymentRule(ctx, r, deploymentProtectionRuleReview{EnvironmentName: r.Environment, Comment: comment})
}

func (g *GitHub) postDeploymentRule(ctx context.Context, r *patchgate.DeploymentReview, body deploymentProtectionRuleReview) error {
	repo := patchgate.RepoRef{Forge: r.Forge, Name: r.Repo}
	if err := checkRepo(patchgate.GitHub, repo); err != nil {
		return err
	}
	if r.RunID <= 0 {
		return patchgate.Errorf(patchgate.EINVALID, "deployment of %s to %s names no Actions run to answer", r.Repo, r.Environment)
	}
	owner, name := ownerName(repo)
	path := fmt.Sprintf("repos/%s/%s/actions/runs/%d/deployment_protection_rule", owner, name, r.RunID)
	what := "status report"
	if body.State != "" {
		what = body.State
	}
	return g.retry.do(ctx, fmt.Sprintf("answer the deployment protection rule of run %d of %s (%s)", r.RunID, r.Repo, what), func() (*http.Response, error) {
		req, err := g.client.NewRequest(http.MethodPost, path, body)
		if err != nil {
			return nil, err
		}
		resp, err := g.client.Do(ctx, req, nil)
		return ghResp(resp), err
	})
}

// ReviewDeployment approves or rejects r's blocked GitLab deployment as the
// token's user, with comment.
func (g *GitLab) ReviewDeployment(ctx context.Context, r *patchgate.DeploymentReview, state patchgate.DeployVerdict, comment string) error {
	repo := patchgate.RepoRef{Forge: r.Forge, Name: r.Repo}
	if err := checkRepo(patchgate.GitLab, repo); err != nil {
		return err
	}
	var status gitlab.DeploymentApprovalStatus
	switch state {
	case patchgate.DeployApprove:
		status = gitlab.DeploymentApprovalStatusApproved
	case patchgate.DeployReject:
		status = gitlab.DeploymentApprovalStatusRejected
	default:
		return patchgate.Errorf(patchgate.EINVALID, "deployment review state %q: want approved or rejected", string(state))
	}
	if r.DeploymentID <= 0 {
		return patchgate.Errorf(patchgate.EINVALID, "deployment of %s to %s names no deployment id to answer", r.Repo, r.Environment)
	}
	opt := &gitlab.ApproveOrRejectProjectDeploymentOptions{Status: &status, Comment: &comment}
	return g.retry.do(ctx, fmt.Sprintf("%s deployment %d of %s", status, r.DeploymentID, r.Repo), func() (*http.Response, error) {
		resp, err := g.client.Deployments.ApproveOrRejectProjectDeployment(r.Repo, r.DeploymentID, opt, gitlab.WithContext(ctx))
		return glResp(resp), err
	})
}

// AnswerStatusCheck sets external status check c of a merge request to
// status for the head c names.
func (g *GitLab) AnswerStatusCheck(ctx context.Context, c *patchgate.StatusCheck, status patchgate.StatusCheckStatus) error {
	if err := checkRepo(patchgate.GitLab, patchgate.RepoRef{Forge: patchgate.GitLab, Name: c.Repo}); err != nil {
		return err
	}
	if err := checkSHA(c.SHA); err != nil {
		return err
	}
	st := string(status)
	opt := &gitlab.SetProjectMergeRequestExternalStatusCheckStatusOptions{SHA: &c.SHA, ExternalStatusCheckID: &c.CheckID, Status: &st}
	return g.retry.do(ctx, fmt.Sprintf("answer status check %d of %s!%d with %s", c.CheckID, c.Repo, c.MRIID, status), func() (*http.Response, error) {
		resp, err := g.client.ExternalStatusChecks.SetProjectMergeRequestExternalStatusCheckStatus(c.Repo, int64(c.MRIID), opt, gitlab.WithContext(ctx))
		return glResp(resp), err
	})
}

// RetryStatusCheck puts failed external status check c back to pending, so a
// later answer can pass it.
func (g *GitLab) RetryStatusCheck(ctx context.Context, c *patchgate.StatusCheck) error {
	if err := checkRepo(patchgate.GitLab, patchgate.RepoRef{Forge: patchgate.GitLab, Name: c.Repo}); err != nil {
		return err
	}
	return g.retry.do(ctx, fmt.Sprintf("retry status check %d of %s!%d", c.CheckID, c.Repo, c.MRIID), func() (*http.Response, error) {
		resp, err := g.client.ExternalStatusChecks.RetryFailedExternalStatusCheckForProjectMergeRequest(c.Repo, int64(c.MRIID), c.CheckID, nil, gitlab.WithContext(ctx))
		return glResp(resp), err
	})
}

// ReadDeployment reads back from GitHub what a deployment_protection_rule
// delivery claims: the commit its Actions run deploys (GET
// /repos/{o}/{r}/actions/runs/{run_id}, head_sha). The answer goes to that
// run, so the run's commit, not the payload's, is the one decided on. The
// environment is left as claimed: GitHub accepts an answer only for an
// environment the run waits on.
func (g *GitHub) ReadDeployment(ctx context.Context, r *patchgate.DeploymentReview) (patchgate.DeploymentFacts, error) {
	repo := patchgate.RepoRef{Forge: r.Forge, Name: r.Repo}
	if err := checkRepo(patchgate.GitHub, repo); err != nil {
		return patchgate.DeploymentFacts{}, err
	}
	owner, name := ownerName(repo)
	var facts patchgate.DeploymentFacts
	err := g.retry.do(ctx, fmt.Sprintf("read Actions run %d of %s", r.RunID, r.Repo), func() (*http.Response, error) {
		run, resp, err := g.client.Actions.GetWorkflowRunByID(ctx, owner, name, r.RunID)
		if err == nil {
			facts = patchgate.DeploymentFacts{SHA: run.GetHeadSHA(), Environment: r.Environment, Status: run.GetStatus()}
		}
		return ghResp(resp), err
	})
	return facts, err
}

// ReadDeployment reads back GitLab's deployment a Deployment Hook names (GET
// /projects/:id/deployments/:id): its commit, environment and status.
func (g *GitLab) ReadDeployment(ctx context.Context, r *patchgate.DeploymentReview) (patchgate.DeploymentFacts, error) {
	if err := checkRepo(patchgate.GitLab, patchgate.RepoRef{Forge: r.Forge, Name: r.Repo}); err != nil {
		return patchgate.DeploymentFacts{}, err
	}
	var facts patchgate.DeploymentFacts
	err := g.retry.do(ctx, fmt.Sprintf("read deployment %d of %s", r.DeploymentID, r.Repo), func() (*http.Response, error) {
		d, resp, err := g.client.Deployments.GetProjectDeployment(r.Repo, r.DeploymentID, gitlab.WithContext(ctx))
		if err == nil {
			facts = patchgate.DeploymentFacts{SHA: d.SHA, Status: d.Status}
			if d.Environment != nil {
				facts.Environment = d.Environment.Name
			}
		}
		return glResp(resp), err
	})
	return facts, err
}
