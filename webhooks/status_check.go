package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/patchgate/patchgate"
)

// HeaderGitLabSignature carries the HMAC-SHA256 (hex) of an external status
// check's body, keyed with the check's shared secret.
const HeaderGitLabSignature = "X-Gitlab-Signature"

// EventStatusCheck is the event name deliveries of StatusCheckSource are
// stored with: GitLab names none.
const EventStatusCheck = "status_check"

// StatusCheckSource is the intake of GitLab's external status checks: the
// merge request payload GitLab posts to a check's external_url, signed with
// the check's shared secret. Secrets are the shared secrets of the checks
// that point at patchgate, several at once for rotation; Repos the
// configured repositories (another's request is ignored).
type StatusCheckSource struct {
	Secrets []string
	Repos   *patchgate.RepositoryDirectory
}

var _ patchgate.WebhookSource = (*StatusCheckSource)(nil)

// Source is patchgate.SourceGitLabStatusCheck.
func (s *StatusCheckSource) Source() patchgate.DeliverySource {
	return patchgate.SourceGitLabStatusCheck
}

// Identify requires one X-Gitlab-Signature. GitLab sends no delivery id with
// a status check, so the id is the signature: the same body is the same
// question, answered once; a changed merge request is a new one.
func (s *StatusCheckSource) Identify(h http.Header) (id, event string, err error) {
	if len(s.Secrets) == 0 {
		return "", "", patchgate.Errorf(patchgate.EUNAUTHORIZED, "no status check secret is configured: set gitlab.status_check_secrets to the checks' shared secrets")
	}
	sig, err := statusCheckSignature(h)
	if err != nil {
		return "", "", err
	}
	return "status-check-" + strings.ToLower(sig), EventStatusCheck, nil
}

// statusCheckSignature returns the header's hex signature; EUNAUTHORIZED
// when it is missing, repeated or not 64 hex digits.
func statusCheckSignature(h http.Header) (string, error) {
	sig, n := header(h, HeaderGitLabSignature)
	switch {
	case n == 0:
		return "", patchgate.Errorf(patchgate.EUNAUTHORIZED, "header %s is missing: give the status check a shared secret", HeaderGitLabSignature)
	case n > 1:
		return "", patchgate.Errorf(patchgate.EUNAUTHORIZED, "header %s is sent %d times", HeaderGitLabSignature, n)
	case len(sig) != 2*sha256.Size || !isHex(sig):
		return "", patchgate.Errorf(patchgate.EUNAUTHORIZED, "header %s: want 64 hex digits", HeaderGitLabSignature)
	}
	return sig, nil
}

// SignsBody is true: the signature covers the body.
func (s *StatusCheckSource) SignsBody() bool { return true }

// Verify checks X-Gitlab-Signature against every secret in constant time.
func (s *StatusCheckSource) Verify(h http.Header, body []byte) ([]string, error) {
	sig, err := statusCheckSignature(h)
	if err != nil {
		return nil, err
	}
	got, _ := hex.DecodeString(sig)
	matched := false
	for _, secret := range s.Secrets {
		// No early return: every configured secret costs the same whichever matches.
		if secret != "" && hmac.Equal(got, hmacSHA256([]byte(secret), body)) {
			matched = true
		}
	}
	if !matched {
		return nil, patchgate.Errorf(patchgate.EUNAUTHORIZED, "header %s does not match the body", HeaderGitLabSignature)
	}
	return nil, nil
}

// SignStatusCheck returns the X-Gitlab-Signature GitLab sends with body, for
// tests and tools that play the forge.
func SignStatusCheck(secret string, body []byte) string {
	return hex.EncodeToString(hmacSHA256([]byte(secret), body))
}

// Peek reads the project; one that is not configured is ignored.
func (s *StatusCheckSource) Peek(event string, body []byte, _ []string) (patchgate.WebhookPeek, error) {
	var repo string
	if err := peekDecode(body, []peekField{
		{name: "project", sub: []peekField{{name: "path_with_namespace", dst: &repo}}},
	}); err != nil {
		return patchgate.WebhookPeek{}, invalidJSON("status check", err)
	}
	p := patchgate.WebhookPeek{Event: event, Repo: repo, Action: "requested"}
	if repo == "" {
		p.Ignored = "status check payload names no project"
	} else if _, err := s.Repos.Find(patchgate.GitLab, repo); err != nil {
		p.Ignored = "repository " + repo + " is not configured"
	}
	return p, nil
}

// statusCheckPayload is the part of the status check's body patchgate reads:
// the merge request hook's payload plus the check it is for.
type statusCheckPayload struct {
	ObjectKind string `json:"object_kind"`
	Project    struct {
		ID                int64  `json:"id"`
		PathWithNamespace string `json:"path_with_namespace"`
	} `json:"project"`
	ObjectAttributes struct {
		IID        int `json:"iid"`
		LastCommit struct {
			ID string `json:"id"`
		} `json:"last_commit"`
	} `json:"object_attributes"`
	ExternalApprovalRule struct {
		ID int64 `json:"id"`
	} `json:"external_approval_rule"`
}

// Parse reads the merge request, its head and the check.
func (s *StatusCheckSource) Parse(event string, body []byte) (*patchgate.Event, string, error) {
	var p statusCheckPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, "", invalidJSON("status check", err)
	}
	repo, err := repoName("status check", p.Project.PathWithNamespace)
	if IsIgnored(err) {
		return nil, err.Error(), nil
	} else if err != nil {
		return nil, "", err
	}
	if p.ObjectKind != "" && p.ObjectKind != "merge_request" {
		return nil, "status check payload is a " + p.ObjectKind + ", not a merge request", nil
	}
	sha := p.ObjectAttributes.LastCommit.ID
	if err := checkSHA("object_attributes.last_commit.id", sha, true); err != nil {
		return nil, "", err
	}
	if p.ObjectAttributes.IID <= 0 || p.ExternalApprovalRule.ID <= 0 {
		return nil, "", patchgate.Errorf(patchgate.EINVALID, "status check payload names no merge request iid or external_approval_rule id")
	}
	return &patchgate.Event{
		Source: patchgate.SourceGitLabStatusCheck, Forge: patchgate.GitLab, Kind: patchgate.EventStatusCheck,
		Name: event, Action: "requested", Repo: repo, RepoID: p.Project.ID,
		StatusCheck: &patchgate.StatusCheckEvent{MRIID: p.ObjectAttributes.IID, HeadSHA: sha,
			CheckID: p.ExternalApprovalRule.ID, ProjectID: p.Project.ID},
	}, "", nil
}
