package webhooks

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/go-github/v60/github"
	"github.com/patchgate/patchgate"
)

// GitHub's and GitLab's names of the deployment events.
const (
	EventGitHubDeploymentProtectionRule = "deployment_protection_rule"
	EventGitLabDeployment               = "Deployment Hook"
)

// callbackPath is the path of a deployment_callback_url:
// /repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule,
// under any API root (GitHub Enterprise's /api/v3 included).
var callbackPath = regexp.MustCompile(`/repos/([^/]+)/([^/]+)/actions/runs/([0-9]+)/deployment_protection_rule$`)

// callbackRunID reads the Actions run id from a deployment_callback_url and
// checks that it names repo: the answer is posted for that run of that
// repository, so a payload whose callback names another is not trusted.
func callbackRunID(callback, repo string) (int64, error) {
	u, err := url.Parse(callback)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return 0, patchgate.Errorf(patchgate.EINVALID, "deployment_callback_url %q is not an http(s) URL", callback)
	}
	m := callbackPath.FindStringSubmatch(u.Path)
	if m == nil {
		return 0, patchgate.Errorf(patchgate.EINVALID, "deployment_callback_url %q: want …/repos/OWNER/REPO/actions/runs/ID/deployment_protection_rule", callback)
	}
	if !strings.EqualFold(m[1]+"/"+m[2], repo) {
		return 0, patchgate.Errorf(patchgate.EINVALID, "deployment_callback_url names %s/%s, but the payload's repository is %s", m[1], m[2], repo)
	}
	id, err := strconv.ParseInt(m[3], 10, 64)
	if err != nil || id <= 0 {
		return 0, patchgate.Errorf(patchgate.EINVALID, "deployment_callback_url %q: run id %q is not a number", callback, m[3])
	}
	return id, nil
}

// githubDeploymentProtectionRule reads a deployment_protection_rule
// delivery: a deployment of an Actions run waits for patchgate's answer.
func githubDeploymentProtectionRule(body []byte) (*patchgate.Event, error) {
	var p github.DeploymentProtectionRuleEvent
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, invalidJSON(EventGitHubDeploymentProtectionRule, err)
	}
	if a := p.GetAction(); a != "requested" {
		return nil, ignoredf("%s action %q is not used", EventGitHubDeploymentProtectionRule, a)
	}
	repo, err := repoName(EventGitHubDeploymentProtectionRule, p.GetRepo().GetFullName())
	if err != nil {
		return nil, err
	}
	sha := p.GetDeployment().GetSHA()
	if err := checkSHA("deployment.sha", sha, true); err != nil {
		return nil, err
	}
	env := p.GetEnvironment()
	if env == "" {
		return nil, patchgate.Errorf(patchgate.EINVALID, "%s payload names no environment", EventGitHubDeploymentProtectionRule)
	}
	runID, err := callbackRunID(p.GetDeploymentCallbackURL(), repo)
	if err != nil {
		return nil, err
	}
	return &patchgate.Event{
		Source: patchgate.SourceGitHub, Forge: patchgate.GitHub, Kind: patchgate.EventDeployment,
		Name: EventGitHubDeploymentProtectionRule, Action: "requested", Repo: repo, RepoID: p.GetRepo().GetID(),
		Sender: p.GetSender().GetLogin(),
		Deployment: &patchgate.DeploymentEvent{Environment: env, SHA: sha, DeploymentID: p.GetDeployment().GetID(),
			RunID: runID, CallbackURL: p.GetDeploymentCallbackURL()},
	}, nil
}

// gitlabDeploymentPayload is the part of GitLab's Deployment Hook patchgate
// reads. It carries the commit only in commit_url (and a short_sha), so the
// full SHA is the URL's last segment.
type gitlabDeploymentPayload struct {
	Status       string `json:"status"`
	DeploymentID int64  `json:"deployment_id"`
	Environment  string `json:"environment"`
	CommitURL    string `json:"commit_url"`
	Project      struct {
		ID                int64  `json:"id"`
		PathWithNamespace string `json:"path_with_namespace"`
	} `json:"project"`
	User struct {
		Username string `json:"username"`
	} `json:"user"`
}

// gitlabDeployment reads a Deployment Hook: a deployment changed status;
// patchgate answers those that are blocked, waiting for approval.
func gitlabDeployment(body []byte) (*patchgate.Event, error) {
	var p gitlabDeploymentPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, invalidJSON(EventGitLabDeployment, err)
	}
	repo, err := repoName(EventGitLabDeployment, p.Project.PathWithNamespace)
	if err != nil {
		return nil, err
	}
	if p.Status != "blocked" {
		return nil, ignoredf("deployment status %q is not used", p.Status)
	}
	sha := p.CommitURL[strings.LastIndex(p.CommitURL, "/")+1:]
	if err := checkSHA("commit_url's commit", sha, true); err != nil {
		return nil, err
	}
	if p.DeploymentID <= 0 || p.Environment == "" {
		return nil, patchgate.Errorf(patchgate.EINVALID, "%s payload names no deployment_id or environment", EventGitLabDeployment)
	}
	return &patchgate.Event{
		Source: patchgate.SourceGitLab, Forge: patchgate.GitLab, Kind: patchgate.EventDeployment,
		Name: EventGitLabDeployment, Action: p.Status, Repo: repo, RepoID: p.Project.ID, Sender: p.User.Username,
		Deployment: &patchgate.DeploymentEvent{Environment: p.Environment, SHA: sha, Status: p.Status, DeploymentID: p.DeploymentID},
	}, nil
}

// peekGitLabDeployment is Peek for a Deployment Hook: the project and the
// status, the action; only blocked deployments are accepted.
func peekGitLabDeployment(body []byte) (Summary, error) {
	var status, repo string
	if err := peekDecode(body, []peekField{
		{name: "status", dst: &status},
		{name: "project", sub: []peekField{{name: "path_with_namespace", dst: &repo}}},
	}); err != nil {
		return Summary{}, invalidJSON(EventGitLabDeployment, err)
	}
	s := Summary{Repo: repo, Action: status}
	if status != "blocked" {
		return s, ignoredf("deployment status %q is not used", status)
	}
	return s, nil
}
