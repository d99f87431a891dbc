package fakeforge

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DeploymentReview is an answer a forge accepted for a waiting deployment:
// GitHub's deployment protection rule review (State "" for a status report)
// or GitLab's deployment approval.
type DeploymentReview struct {
	API          string // "github" or "gitlab"
	RunID        int64  // GitHub
	DeploymentID int64  // GitLab
	Environment  string
	State        string // approved, rejected; "" for a GitHub status report
	Comment      string
	By           string // GitLab: the approving user
	At           time.Time
}

// enforcementState is what the enforcement routes record, per repository
// (lower-case name).
type enforcementState struct {
	reviews map[string][]DeploymentReview
	checks  map[string]map[statusCheckKey]*StatusCheckState
	// runs are the Actions runs and deployments a deployment request was
	// sent for, by id: what the forge's API reports of them.
	runs        map[string]map[int64]DeploymentRequest
	deployments map[string]map[int64]DeploymentRequest
}

// enforcement returns the enforcement state, creating it. f.mu is held.
func (f *Forge) enforcement() *enforcementState {
	if f.enforce == nil {
		f.enforce = &enforcementState{reviews: map[string][]DeploymentReview{}, checks: map[string]map[statusCheckKey]*StatusCheckState{},
			runs: map[string]map[int64]DeploymentRequest{}, deployments: map[string]map[int64]DeploymentRequest{}}
	}
	return f.enforce
}

// DeploymentReviews returns the deployment answers repoName's forge
// accepted, in order.
func (f *Forge) DeploymentReviews(repoName string) []DeploymentReview {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]DeploymentReview(nil), f.enforcement().reviews[strings.ToLower(repoName)]...)
}

// decided reports whether the deployment (run or deployment id, environment)
// was approved or rejected already. f.mu is held.
func (e *enforcementState) decided(repo string, match func(DeploymentReview) bool) bool {
	for _, r := range e.reviews[repo] {
		if r.State != "" && match(r) {
			return true
		}
	}
	return false
}

// ghReviewDeploymentRule is GitHub's "review custom deployment protection
// rule": environment_name required, state approved or rejected (or absent
// for a status report), comment at most 1,024 characters; one decision per
// run and environment.
func (f *Forge) ghReviewDeploymentRule(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	var in struct {
		EnvironmentName string `json:"environment_name"`
		State           string `json:"state"`
		Comment         string `json:"comment"`
	}
	if err := readJSON(r, &in); err != nil {
		writeJSON(w, http.StatusBadRequest, ghError("Problems parsing JSON"))
		return
	}
	runID, err := strconv.ParseInt(r.PathValue("run"), 10, 64)
	switch {
	case err != nil:
		writeJSON(w, http.StatusNotFound, ghError("Not Found"))
		return
	case in.EnvironmentName == "":
		writeJSON(w, http.StatusUnprocessableEntity, ghValidation("DeploymentProtectionRule", "environment_name", "missing_field"))
		return
	case in.State != "" && in.State != "approved" && in.State != "rejected":
		writeJSON(w, http.StatusUnprocessableEntity, ghValidation("DeploymentProtectionRule", "state", "invalid"))
		return
	case utf8.RuneCountInString(in.Comment) > 1024:
		writeJSON(w, http.StatusUnprocessableEntity, ghValidation("DeploymentProtectionRule", "comment", "too_long"))
		return
	}
	e := f.enforcement()
	key := strings.ToLower(rp.name)
	if in.State != "" && e.decided(key, func(d DeploymentReview) bool { return d.RunID == runID && d.Environment == in.EnvironmentName }) {
		writeJSON(w, http.StatusUnprocessableEntity, ghError("The deployment protection rule was already reviewed"))
		return
	}
	e.reviews[key] = append(e.reviews[key], DeploymentReview{API: "github", RunID: runID, Environment: in.EnvironmentName,
		State: in.State, Comment: in.Comment, At: now()})
	w.WriteHeader(http.StatusNoContent)
}

// glApproveDeployment is GitLab's "approve or reject a blocked deployment":
// status approved or rejected, by the token's user, once per user.
func (f *Forge) glApproveDeployment(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	var in struct {
		Status  string `json:"status"`
		Comment string `json:"comment"`
	}
	if err := readJSON(r, &in); err != nil {
		writeJSON(w, http.StatusBadRequest, glMessage("400 Bad request"))
		return
	}
	id, err := strconv.ParseInt(r.PathValue("deployment"), 10, 64)
	if err != nil {
		writeJSON(w, http.StatusNotFound, glMessage("404 Deployment Not Found"))
		return
	}
	if in.Status != "approved" && in.Status != "rejected" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "status does not have a valid value"})
		return
	}
	e := f.enforcement()
	key := strings.ToLower(rp.name)
	if e.decided(key, func(d DeploymentReview) bool { return d.DeploymentID == id }) {
		writeJSON(w, http.StatusBadRequest, glMessage("You have already approved or rejected this deployment"))
		return
	}
	e.reviews[key] = append(e.reviews[key], DeploymentReview{API: "gitlab", DeploymentID: id, State: in.Status,
		Comment: in.Comment, By: BotLogin, At: now()})
	writeJSON(w, http.StatusCreated, map[string]any{"status": in.Status, "comment": in.Comment,
		"user": map[string]any{"id": BotID, "username": BotLogin}, "created_at": ts(now())})
}

// DeploymentRequest is a deployment waiting for patchgate, as the fake sends
// it: GitHub's deployment_protection_rule or GitLab's Deployment Hook.
type DeploymentRequest struct {
	Repo        string
	Environment string
	SHA         string
	// RunID is the GitHub Actions run; DeploymentID the deployment.
	RunID        int64
	DeploymentID int64
	// Status is GitLab's deployment status; default blocked.
	Status string
	// Delivery is the delivery id; default one derived from the run or deployment.
	Delivery string
}

// AddDeployment records a deployment on the forge without sending anything:
// its Actions run (GitHub) and deployment (GitLab) as the API reports them.
// Sending a request records its deployment too; a test that forges a
// delivery records the true one first.
func (f *Forge) AddDeployment(d DeploymentRequest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, repo := f.enforcement(), strings.ToLower(d.Repo)
	if d.Status == "" {
		d.Status = "blocked"
	}
	if d.RunID != 0 {
		if e.runs[repo] == nil {
			e.runs[repo] = map[int64]DeploymentRequest{}
		}
		e.runs[repo][d.RunID] = d
	}
	if d.DeploymentID != 0 {
		if e.deployments[repo] == nil {
			e.deployments[repo] = map[int64]DeploymentRequest{}
		}
		e.deployments[repo][d.DeploymentID] = d
	}
}

// recordDeployment records d unless the forge has its run or deployment
// already (a test recorded the true one before forging a delivery).
func (f *Forge) recordDeployment(d DeploymentRequest) {
	f.mu.Lock()
	e, repo := f.enforcement(), strings.ToLower(d.Repo)
	_, hasRun := e.runs[repo][d.RunID]
	_, hasDep := e.deployments[repo][d.DeploymentID]
	f.mu.Unlock()
	if (d.RunID == 0 || !hasRun) && (d.DeploymentID == 0 || !hasDep) {
		f.AddDeployment(d)
	}
}

// ghGetRun is GitHub's "get a workflow run": the run's head_sha and status.
func (f *Forge) ghGetRun(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.ghRepoOf(w, r)
	if rp == nil {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("run"), 10, 64)
	d, ok := f.enforcement().runs[strings.ToLower(rp.name)][id]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "head_sha": d.SHA, "status": "waiting", "event": "push", "head_branch": "main"})
}

// glGetDeployment is GitLab's "get a specific deployment".
func (f *Forge) glGetDeployment(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("deployment"), 10, 64)
	d, ok := f.enforcement().deployments[strings.ToLower(rp.name)][id]
	if !ok {
		writeJSON(w, http.StatusNotFound, glMessage("404 Not found"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "iid": id, "ref": "main", "sha": d.SHA, "status": d.Status,
		"environment": map[string]any{"id": 1, "name": d.Environment}})
}

// SendDeploymentProtectionRule posts a deployment_protection_rule delivery,
// "requested", to target (patchgate's /webhooks/github), signed with secret
// as GitHub signs: X-Hub-Signature-256 over the body. Its
// deployment_callback_url points at this fake's review route. It returns the
// response's status code.
func (f *Forge) SendDeploymentProtectionRule(target, secret string, d DeploymentRequest) (int, error) {
	if d.Delivery == "" {
		d.Delivery = fmt.Sprintf("dpr-%d-%s", d.RunID, d.Environment)
	}
	f.recordDeployment(d)
	owner, name, _ := strings.Cut(d.Repo, "/")
	body, err := json.Marshal(map[string]any{
		"action":                  "requested",
		"environment":             d.Environment,
		"event":                   "push",
		"deployment_callback_url": fmt.Sprintf("%srepos/%s/%s/actions/runs/%d/deployment_protection_rule", f.GitHubAPIURL(), owner, name, d.RunID),
		"deployment": map[string]any{
			"id": d.DeploymentID, "sha": d.SHA, "ref": "main", "task": "deploy", "environment": d.Environment,
			"creator": map[string]any{"login": "deployer", "id": 42, "type": "User"},
		},
		"pull_requests": []any{},
		"repository":    map[string]any{"id": f.ProjectID(d.Repo), "name": name, "full_name": d.Repo, "owner": map[string]any{"login": owner}},
		"installation":  map[string]any{"id": 7},
		"sender":        map[string]any{"login": "deployer", "id": 42, "type": "User"},
	})
	if err != nil {
		return 0, err
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return post(target, body, map[string]string{
		"X-GitHub-Event":      "deployment_protection_rule",
		"X-GitHub-Delivery":   d.Delivery,
		"X-Hub-Signature-256": "sha256=" + hex.EncodeToString(mac.Sum(nil)),
	})
}

// SendGitLabDeployment posts a Deployment Hook for d to target (patchgate's
// /webhooks/gitlab) with X-Gitlab-Token token, the way GitLab reports a
// deployment's status (blocked: waiting for approval).
func (f *Forge) SendGitLabDeployment(target, token string, d DeploymentRequest) (int, error) {
	if d.Status == "" {
		d.Status = "blocked"
	}
	if d.Delivery == "" {
		d.Delivery = fmt.Sprintf("deploy-%d-%s", d.DeploymentID, d.Status)
	}
	f.recordDeployment(d)
	body, err := json.Marshal(map[string]any{
		"object_kind": "deployment", "status": d.Status, "status_changed_at": now().Format("2006-01-02 15:04:05 UTC"),
		"deployment_id": d.DeploymentID, "deployable_id": d.DeploymentID + 1000, "environment": d.Environment,
		"environment_slug": strings.ToLower(d.Environment),
		"project":          map[string]any{"id": f.ProjectID(d.Repo), "path_with_namespace": d.Repo, "name": d.Repo[strings.LastIndex(d.Repo, "/")+1:]},
		"ref":              "main", "short_sha": d.SHA[:8], "user": map[string]any{"username": "deployer", "name": "Deployer"},
		"commit_url":   fmt.Sprintf("%s/%s/-/commit/%s", f.URL(), d.Repo, d.SHA),
		"commit_title": "deploy",
	})
	if err != nil {
		return 0, err
	}
	return post(target, body, map[string]string{
		"X-Gitlab-Event": "Deployment Hook", "X-Gitlab-Token": token, "X-Gitlab-Event-UUID": d.Delivery,
	})
}

// post sends a delivery and returns the status code.
func post(target string, body []byte, headers map[string]string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}
