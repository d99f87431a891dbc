package main

import (
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

const jiraTrackerYAML = `
trackers:
  - kind: jira
    name: acme
    url: https://acme.atlassian.net
    email: bot@acme.example
    token: ${JIRA_TOKEN}
    webhook_secrets: [${JIRA_SECRET}]
    projects: [PAY, ops]
    severity: {field: priority, map: {Highest: critical, High: high, Medium: medium, Low: low, Lowest: low}}
    transitions: {fix_verified: "In Review", released: "Done"}
`

func TestLoadConfigTrackers(t *testing.T) {
	env := envOf(map[string]string{"JIRA_TOKEN": "jira-api-token", "JIRA_SECRET": "jira-webhook-secret"})
	cfg, err := LoadConfig(writeConfig(t, jiraTrackerYAML), env)
	if err != nil {
		t.Fatal(err)
	}
	j := cfg.Trackers[0].Jira()
	if j.Token != "jira-api-token" || !j.HasProject("OPS") || j.SeverityMap["Highest"] != patchgate.SeverityCritical ||
		cfg.Trackers[0].Transitions["released"] != "Done" {
		t.Fatalf("got %+v", j)
	}
	if d := cfg.Digest(); strings.Contains(d, "jira-api-token") {
		t.Fatal("digest shows the token")
	}

	tests := []struct{ name, edit, want string }{
		{"kind", "kind: jira", "trackers[0].kind"},
		{"url", "url: https://acme.atlassian.net", "trackers[0].url"},
		{"email", "email: bot@acme.example", "trackers[0].email"},
		{"short secret", "webhook_secrets: [${JIRA_SECRET}]", "trackers[0].webhook_secrets[0]"},
		{"project", "projects: [PAY, ops]", "trackers[0].projects[1]"},
		{"severity", "Lowest: low}}", "trackers[0].severity.map.Lowest"},
		{"transition state", `transitions: {fix_verified: "In Review"`, "trackers[0].transitions.verified"},
	}
	bad := map[string]string{
		"kind":             "kind: bugzilla",
		"url":              "url: acme.atlassian.net",
		"email":            "email: bot",
		"short secret":     "webhook_secrets: [short]",
		"project":          "projects: [PAY, 9X]",
		"severity":         "Lowest: trivial}}",
		"transition state": `transitions: {verified: "In Review"`,
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := strings.Replace(jiraTrackerYAML, tc.edit, bad[tc.name], 1)
			_, err := LoadConfig(writeConfig(t, body), env)
			if err == nil || !strings.Contains(err.Error(), "config key "+tc.want) {
				t.Fatalf("got %v, want an error naming %s", err, tc.want)
			}
		})
	}
	// A project in two trackers is ambiguous.
	two := jiraTrackerYAML + strings.Replace(strings.Replace(jiraTrackerYAML, "trackers:\n", "", 1), "name: acme", "name: other", 1)
	if _, err := LoadConfig(writeConfig(t, two), env); err == nil || !strings.Contains(err.Error(), "trackers[1].projects[0]") {
		t.Fatalf("got %v, want trackers[1].projects[0] named", err)
	}
}
