package webhooks

import (
	"strings"

	"github.com/patchgate/patchgate"
)

// Summary is what webhook intake needs to answer a delivery: the repository
// it names and its action.
type Summary struct {
	Repo   string
	Action string
}

// Peek reads only what intake needs from a verified body, several times
// cheaper than Parse, which runs later, off the request path. It ignores the
// events and actions Parse never uses (a test holds the two together: Peek
// never ignores what Parse accepts); a body Parse would ignore for a deeper
// reason is accepted here and ignored when processed. Malformed JSON is
// EINVALID.
func Peek(forge patchgate.Forge, event string, body []byte) (Summary, error) {
	switch forge {
	case patchgate.GitHub:
		return peekGitHub(event, body)
	case patchgate.GitLab:
		return peekGitLab(event, body)
	}
	return Summary{}, patchgate.Errorf(patchgate.EINVALID, "unknown forge %q", string(forge))
}

// githubActions are the actions Parse uses, per GitHub event.
var githubActions = map[string][]string{
	"pull_request":  {"opened", "reopened", "edited", "synchronize", "closed", "ready_for_review"},
	"issues":        {"opened", "edited", "closed", "reopened", "labeled", "unlabeled", "deleted", "transferred"},
	"issue_comment": {"created", "edited"},
	"check_run":     {"requested_action"}, // a button of patchgate's check run
	// A deployment waiting for patchgate's protection rule.
	EventGitHubDeploymentProtectionRule: {"requested"},
}

func peekGitHub(event string, body []byte) (Summary, error) {
	switch event {
	case "pull_request", "issues", "issue_comment", "push", "check_run", EventGitHubDeploymentProtectionRule:
	case "ping":
		return Summary{}, ignoredf("ping")
	default:
		return Summary{}, ignoredf("event %q is not used", event)
	}
	var action, ref, repo string
	if err := peekDecode(body, []peekField{
		{name: "action", dst: &action},
		{name: "ref", dst: &ref},
		{name: "repository", sub: []peekField{{name: "full_name", dst: &repo}}},
	}); err != nil {
		return Summary{}, invalidJSON(event, err)
	}
	s := Summary{Repo: repo, Action: action}
	if event == "push" {
		if !strings.HasPrefix(ref, "refs/heads/") {
			return s, ignoredf("push to %q is not a branch", ref)
		}
		s.Action = "pushed"
	} else if !contains(githubActions[event], action) {
		return s, ignoredf("%s action %q is not used", event, action)
	}
	return s, nil
}

// gitlabActions are the object_attributes.action values Parse uses.
var gitlabActions = map[string][]string{
	"Merge Request Hook":      {"open", "reopen", "close", "merge", "update"},
	"Issue Hook":              {"open", "reopen", "close", "update"},
	"Confidential Issue Hook": {"open", "reopen", "close", "update"},
}

func peekGitLab(event string, body []byte) (Summary, error) {
	switch event {
	case EventGitLabDeployment:
		return peekGitLabDeployment(body)
	case "Merge Request Hook", "Issue Hook", "Confidential Issue Hook", "Note Hook", "Confidential Note Hook", "Push Hook":
	default:
		return Summary{}, ignoredf("event %q is not used", event)
	}
	var ref, action, noteable, repo string
	if err := peekDecode(body, []peekField{
		{name: "ref", dst: &ref},
		{name: "object_attributes", sub: []peekField{{name: "action", dst: &action}, {name: "noteable_type", dst: &noteable}}},
		{name: "project", sub: []peekField{{name: "path_with_namespace", dst: &repo}}},
	}); err != nil {
		return Summary{}, invalidJSON(event, err)
	}
	s := Summary{Repo: repo, Action: action}
	switch event {
	case "Push Hook":
		if !strings.HasPrefix(ref, "refs/heads/") {
			return s, ignoredf("push to %q is not a branch", ref)
		}
		s.Action = "pushed"
	case "Note Hook", "Confidential Note Hook":
		if !contains([]string{"Issue", "MergeRequest", "Commit"}, noteable) {
			return s, ignoredf("note on %q is not used", noteable)
		}
		s.Action = "created"
	default:
		if !contains(gitlabActions[event], action) {
			return s, ignoredf("%s action %q is not used", event, action)
		}
	}
	return s, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
