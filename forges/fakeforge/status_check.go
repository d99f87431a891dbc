package fakeforge

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

type statusCheckKey struct {
	mr    int
	check int64
}

// StatusCheckState is an external status check of a merge request as GitLab
// keeps it: the head it was answered for, its status, and the answers and
// retries it got.
type StatusCheckState struct {
	SHA    string
	Status string // pending, passed, failed
	// Answers are the statuses set, in order; Retries counts retries.
	Answers []string
	Retries int
	At      time.Time
}

// StatusCheck returns check's state on merge request mr of repoName; ok is
// false when patchgate never answered it.
func (f *Forge) StatusCheck(repoName string, mr int, check int64) (StatusCheckState, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.enforcement().checks[strings.ToLower(repoName)][statusCheckKey{mr, check}]
	if st == nil {
		return StatusCheckState{}, false
	}
	out := *st
	out.Answers = append([]string(nil), st.Answers...)
	return out, true
}

// glStatusCheckResponse is GitLab's "set status of an external status
// check": sha, external_status_check_id, status passed, failed or pending.
// A failed check takes no new answer until it is retried, as patchgate must
// retry a check GitLab (or it) failed before passing it.
func (f *Forge) glStatusCheckResponse(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	mr, err := strconv.Atoi(r.PathValue("iid"))
	if err != nil {
		writeJSON(w, http.StatusNotFound, glMessage("404 Merge Request Not Found"))
		return
	}
	var in struct {
		SHA     string `json:"sha"`
		CheckID int64  `json:"external_status_check_id"`
		Status  string `json:"status"`
	}
	if err := readJSON(r, &in); err != nil {
		writeJSON(w, http.StatusBadRequest, glMessage("400 Bad request"))
		return
	}
	switch {
	case in.SHA == "" || in.CheckID <= 0:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "sha, external_status_check_id are missing"})
		return
	case in.Status != "passed" && in.Status != "failed" && in.Status != "pending":
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "status does not have a valid value"})
		return
	}
	if pr := rp.pulls[mr]; pr != nil && pr.HeadSHA != "" && pr.HeadSHA != in.SHA {
		writeJSON(w, http.StatusConflict, glMessage("SHA does not match HEAD of source branch"))
		return
	}
	checks := f.enforcement().checks
	key := strings.ToLower(rp.name)
	if checks[key] == nil {
		checks[key] = map[statusCheckKey]*StatusCheckState{}
	}
	st := checks[key][statusCheckKey{mr, in.CheckID}]
	if st == nil || st.SHA != in.SHA {
		st = &StatusCheckState{SHA: in.SHA}
		checks[key][statusCheckKey{mr, in.CheckID}] = st
	}
	if st.Status == "failed" {
		writeJSON(w, http.StatusUnprocessableEntity, glMessage("The status check has failed: retry it first"))
		return
	}
	st.Status, st.At = in.Status, now()
	st.Answers = append(st.Answers, in.Status)
	writeJSON(w, http.StatusCreated, map[string]any{"id": f.id(), "merge_request": map[string]any{"iid": mr}, "external_status_check": map[string]any{"id": in.CheckID}})
}

// glRetryStatusCheck is GitLab's "retry failed status check": only a failed
// check can be retried; it is pending again.
func (f *Forge) glRetryStatusCheck(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp := f.glRepoOf(w, r)
	if rp == nil {
		return
	}
	mr, err1 := strconv.Atoi(r.PathValue("iid"))
	check, err2 := strconv.ParseInt(r.PathValue("check"), 10, 64)
	if err1 != nil || err2 != nil {
		writeJSON(w, http.StatusNotFound, glMessage("404 Not Found"))
		return
	}
	st := f.enforcement().checks[strings.ToLower(rp.name)][statusCheckKey{mr, check}]
	if st == nil || st.Status != "failed" {
		writeJSON(w, http.StatusUnprocessableEntity, glMessage("External status check must be failed"))
		return
	}
	st.Status, st.Retries, st.At = "pending", st.Retries+1, now()
	w.WriteHeader(http.StatusAccepted)
}

// FailStatusCheck fails a pending check the way GitLab does after two
// minutes without an answer.
func (f *Forge) FailStatusCheck(repoName string, mr int, check int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st := f.enforcement().checks[strings.ToLower(repoName)][statusCheckKey{mr, check}]; st != nil && st.Status == "pending" {
		st.Status = "failed"
	}
}

// StatusCheckRequest is a merge request GitLab sends to an external status
// check: the MR's iid and head, and the check.
type StatusCheckRequest struct {
	Repo    string
	MR      int
	SHA     string
	CheckID int64
}

// StatusCheckPayload is the body GitLab posts to a status check's
// external_url: the merge request hook's payload plus external_approval_rule.
func (f *Forge) StatusCheckPayload(s StatusCheckRequest) []byte {
	body, _ := json.Marshal(map[string]any{
		"object_kind": "merge_request", "event_type": "merge_request",
		"user":    map[string]any{"username": "dev", "name": "Dev"},
		"project": map[string]any{"id": f.ProjectID(s.Repo), "path_with_namespace": s.Repo},
		"object_attributes": map[string]any{
			"iid": s.MR, "id": 10000 + s.MR, "title": "fix", "state": "opened", "action": "update",
			"source_branch": "fix", "target_branch": "main",
			"last_commit": map[string]any{"id": s.SHA, "message": "fix"},
		},
		"external_approval_rule": map[string]any{"id": s.CheckID, "name": "patchgate", "external_url": "http://patchgate/webhooks/gitlab/status-check"},
	})
	return body
}

// SendStatusCheck posts s to target (patchgate's
// /webhooks/gitlab/status-check) with X-Gitlab-Signature, the hex
// HMAC-SHA256 of the body keyed with the check's shared secret, as GitLab
// signs a status check with a shared secret.
func (f *Forge) SendStatusCheck(target, secret string, s StatusCheckRequest) (int, error) {
	body := f.StatusCheckPayload(s)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return post(target, body, map[string]string{"X-Gitlab-Signature": hex.EncodeToString(mac.Sum(nil))})
}
