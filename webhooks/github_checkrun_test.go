package webhooks

import (
	"testing"

	"github.com/patchgate/patchgate"
)

// TestParseGitHubCheckRun: a pressed button on a check run is an
// EventCheckAction carrying the payload's claims; the recorded created,
// completed and rerequested deliveries are ignored. GitHub's examples have
// no requested_action delivery: it is derived from the rerequested one, which
// has the same shape plus requested_action.
func TestParseGitHubCheckRun(t *testing.T) {
	const fixture = "github/check_run/rerequested.api.github.com.7.json"
	requested := func(m map[string]any) {
		m["action"] = "requested_action"
		m["requested_action"] = map[string]any{"identifier": "rerun"}
	}
	runParseCases(t, ParseGitHub, []parseCase{
		{name: "requested_action", event: "check_run", file: fixture, mutate: requested,
			want: &patchgate.Event{Source: patchgate.SourceGitHub, Forge: patchgate.GitHub, Kind: patchgate.EventCheckAction,
				Name: "check_run", Action: "requested_action", Repo: "github/hello-world", RepoID: 526, Sender: "octocat",
				CheckAction: &patchgate.CheckActionEvent{CheckRunID: 4, Name: "randscape",
					HeadSHA: "d6fde92930d4715a2b49857d24b940956b26d2d3", Identifier: "rerun", SenderID: 5346, AppID: 2}}},
		{name: "rerequested", event: "check_run", file: fixture, ignored: `check_run action "rerequested" is not used`},
		{name: "created", event: "check_run", file: "github/check_run/created.api.github.com.5.json", ignored: "is not used"},
		{name: "no action identifier", event: "check_run", file: fixture, ignored: "names no action",
			mutate: func(m map[string]any) { m["action"] = "requested_action" }},
		{name: "bad head sha", event: "check_run", file: fixture, code: patchgate.EINVALID, mutate: func(m map[string]any) {
			requested(m)
			m["check_run"].(map[string]any)["head_sha"] = "../x"
		}},
		{name: "no check run id", event: "check_run", file: fixture, ignored: "no check run id", mutate: func(m map[string]any) {
			requested(m)
			delete(m["check_run"].(map[string]any), "id")
		}},
	})
}
