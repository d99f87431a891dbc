// Package webhooks checks and reads GitHub and GitLab webhook deliveries: it
// validates headers, verifies signatures and tokens, and turns verified payloads
// into root patchgate.Events. It is pure: no I/O, no clock, no logging.
//
// The order of use is the order of trust (DESIGN.md, Security rules):
//
//	d, err := GitHubDelivery(req.Header)              // headers only
//	err = VerifyGitHub(req.Header, req.Body, secrets) // the body is now authentic
//	ev, err := ParseGitHub(d.Event, req.Body)         // so it may be read
//
// Intake answers with Peek, which reads only repository and action; Parse runs
// after the 202. Source is the two forges' patchgate.WebhookSource, the way
// the server's one intake and the delivery processor use all of the above. Errors are *patchgate.Error with EINVALID (400) or
// EUNAUTHORIZED (401); an authentic delivery patchgate does not act on is an
// *IgnoredError (202 "ignored"), which patchgate.ErrorCode would call internal,
// so callers test IsIgnored first.
package webhooks

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/patchgate/patchgate"
)

// Delivery is what the headers say before the body is trusted.
type Delivery struct {
	Forge patchgate.Forge
	// ID is the forge's delivery id, the key for deduplication.
	ID string
	// Event is the forge's event name ("pull_request", "Merge Request Hook").
	Event string
}

// Parse parses a verified body of the given forge's event into an Event; see
// ParseGitHub and ParseGitLab.
func Parse(forge patchgate.Forge, event string, body []byte) (*patchgate.Event, error) {
	switch forge {
	case patchgate.GitHub:
		return ParseGitHub(event, body)
	case patchgate.GitLab:
		return ParseGitLab(event, body)
	}
	return nil, patchgate.Errorf(patchgate.EINVALID, "unknown forge %q", string(forge))
}

// RepoOf extracts only the repository's full path from a payload. With per-repo
// secrets the caller uses it before verification solely to choose which
// repository's secrets to try, and again after verification to check that the
// payload names the repository the matching secret belongs to; nothing else in
// an unverified body may be trusted. Payloads that name no repository
// (organisation-level events) give EINVALID.
func RepoOf(forge patchgate.Forge, body []byte) (string, error) {
	var name string
	switch forge {
	case patchgate.GitHub:
		var p struct {
			Repository *struct {
				FullName string `json:"full_name"`
			} `json:"repository"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			return "", invalidJSON("github", err)
		}
		if p.Repository != nil {
			name = p.Repository.FullName
		}
	case patchgate.GitLab:
		var p struct {
			Project *struct {
				PathWithNamespace string `json:"path_with_namespace"`
			} `json:"project"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			return "", invalidJSON("gitlab", err)
		}
		if p.Project != nil {
			name = p.Project.PathWithNamespace
		}
	default:
		return "", patchgate.Errorf(patchgate.EINVALID, "unknown forge %q", string(forge))
	}
	if name == "" {
		return "", patchgate.Errorf(patchgate.EINVALID, "%s payload names no repository", forge)
	}
	if err := patchgate.ValidateRepoName(name); err != nil {
		return "", err
	}
	return name, nil
}

// header returns the single value of a header. A header sent twice is
// ambiguous (which one did the proxy check?) and counts as absent-or-bad.
func header(h http.Header, name string) (value string, n int) {
	vs := h.Values(name)
	if len(vs) != 1 {
		return "", len(vs)
	}
	return vs[0], 1
}

// requireHeader returns a header's single value when it is present and every
// byte passes ok; the values end up in logs, database keys and URLs, so only
// short, plain tokens pass.
func requireHeader(h http.Header, name string, maxLen int, ok func(byte) bool) (string, error) {
	v, n := header(h, name)
	switch {
	case n == 0:
		return "", patchgate.Errorf(patchgate.EINVALID, "header %s is missing", name)
	case n > 1:
		return "", patchgate.Errorf(patchgate.EINVALID, "header %s is sent %d times", name, n)
	case v == "" || len(v) > maxLen:
		return "", patchgate.Errorf(patchgate.EINVALID, "header %s must have 1 to %d characters", name, maxLen)
	}
	for i := 0; i < len(v); i++ {
		if !ok(v[i]) {
			return "", patchgate.Errorf(patchgate.EINVALID, "header %s has an unexpected character at %d", name, i)
		}
	}
	return v, nil
}

// idByte admits the characters of UUIDs and similar opaque delivery ids.
func idByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':'
}

const maxIDLen = 128

func invalidJSON(what string, err error) error {
	return &patchgate.Error{Code: patchgate.EINVALID, Message: fmt.Sprintf("%s payload is not valid: %v", what, err)}
}

// repoName checks the repository a payload names: missing means the payload is
// not about a repository (ignored); malformed means it cannot be trusted as one.
func repoName(event, name string) (string, error) {
	if name == "" {
		return "", ignoredf("%s payload names no repository", event)
	}
	if err := patchgate.ValidateRepoName(name); err != nil {
		return "", err
	}
	return name, nil
}

// checkSHA rejects commit ids that are not full hex SHAs; they end up in API
// paths and status URLs, so "../x" must never get that far. Empty passes when
// the field is optional.
func checkSHA(field, sha string, required bool) error {
	if sha == "" && !required {
		return nil
	}
	if !patchgate.ValidSHA(sha) {
		return patchgate.Errorf(patchgate.EINVALID, "%s %q is not a full commit SHA", field, sha)
	}
	return nil
}

// zeroSHA reports whether sha is the all-zero id forges use for "no commit"
// (branch created or deleted).
func zeroSHA(sha string) bool {
	return sha != "" && strings.Trim(sha, "0") == ""
}
