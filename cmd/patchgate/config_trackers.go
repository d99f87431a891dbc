package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/trackers/jira"
	"go.yaml.in/yaml/v3"
)

// TrackerConfig is one external ticket tracker: for now a Jira Cloud site.
type TrackerConfig struct {
	Kind  string `yaml:"kind"` // jira
	Name  string `yaml:"name"`
	URL   string `yaml:"url"`
	Email string `yaml:"email"`
	// Token is a Jira API token of Email's account, for basic auth.
	Token          string   `yaml:"token"`
	WebhookSecrets []string `yaml:"webhook_secrets"`
	// Projects are the project keys whose tickets live here (PAY, OPS).
	Projects []string `yaml:"projects"`
	Severity struct {
		// Field is the issue field the severity is read from (default priority).
		Field string `yaml:"field"`
		// Map maps the field's values to critical, high, medium or low.
		Map map[string]string `yaml:"map"`
	} `yaml:"severity"`
	// SupportLevel reads a ticket's support level (L1–L4) from an issue
	// field; the labels (support:L2) are read without it.
	SupportLevel struct {
		// Field is the issue field, such as customfield_10050.
		Field string `yaml:"field"`
		// Map maps the field's values to L1, L2, L3 or L4.
		Map map[string]string `yaml:"map"`
	} `yaml:"support_level"`
	// Transitions names, per patchgate ticket state (fix_verified, released,
	// …), the Jira transition to apply when a ticket reaches it.
	Transitions map[string]string `yaml:"transitions"`
	// ReadTimeout bounds the read of an issue on its first reference
	// (default 5s): a slow Jira never holds up a delivery longer.
	ReadTimeout time.Duration `yaml:"read_timeout"`
}

// UnmarshalJSON reads a tracker of PATCHGATE_TRACKERS: JSON with the YAML
// file's keys and durations ("read_timeout": "5s"), read as the YAML it is.
func (t *TrackerConfig) UnmarshalJSON(b []byte) error {
	type plain TrackerConfig // without this method
	return yaml.Unmarshal(b, (*plain)(t))
}

// Jira returns the adapter's configuration of a jira tracker.
func (t TrackerConfig) Jira() *jira.Config {
	sev := map[string]patchgate.Severity{}
	for k, v := range t.Severity.Map {
		sev[k] = patchgate.Severity(v)
	}
	projects := make([]string, len(t.Projects))
	for i, p := range t.Projects {
		projects[i] = strings.ToUpper(strings.TrimSpace(p))
	}
	levels := map[string]patchgate.SupportLevel{}
	for k, v := range t.SupportLevel.Map {
		levels[k] = patchgate.SupportLevel(strings.ToUpper(strings.TrimSpace(v)))
	}
	return &jira.Config{Name: t.Name, URL: strings.TrimSuffix(t.URL, "/"), Email: t.Email, Token: t.Token,
		Projects: projects, SeverityField: t.Severity.Field, SeverityMap: sev,
		LevelField: t.SupportLevel.Field, LevelMap: levels}
}

// validateTrackers checks the trackers block and names the first bad key.
func validateTrackers(trackers []TrackerConfig) error {
	names, projects := map[string]bool{}, map[string]string{}
	for i, t := range trackers {
		key := fmt.Sprintf("trackers[%d]", i)
		if t.Kind != "jira" {
			return configKeyErrorf("%s.kind: %q: want jira", key, t.Kind)
		}
		if t.Name == "" || names[t.Name] {
			return configKeyErrorf("%s.name: want a name of its own, got %q", key, t.Name)
		}
		names[t.Name] = true
		if err := validateHTTPURL(t.URL); err != nil {
			return configKeyErrorf("%s.url: %w", key, err)
		}
		if t.Email == "" || !strings.Contains(t.Email, "@") {
			return configKeyErrorf("%s.email: want the email of the API token's account, got %q", key, t.Email)
		}
		if t.Token == "" {
			return configKeyErrorf("%s.token: an API token is required", key)
		}
		if len(t.WebhookSecrets) == 0 {
			return configKeyErrorf("%s.webhook_secrets: at least one secret is required (deliveries are verified before they are read)", key)
		}
		for j, s := range t.WebhookSecrets {
			if len(s) < 8 {
				return configKeyErrorf("%s.webhook_secrets[%d]: a secret needs at least 8 characters", key, j)
			}
		}
		if len(t.Projects) == 0 {
			return configKeyErrorf("%s.projects: list the project keys, like [PAY, OPS]", key)
		}
		for j, p := range t.Projects {
			p = strings.ToUpper(strings.TrimSpace(p))
			if !patchgate.ValidExternalKey(p + "-1") {
				return configKeyErrorf("%s.projects[%d]: %q is not a Jira project key", key, j, p)
			}
			if other, ok := projects[p]; ok {
				return configKeyErrorf("%s.projects[%d]: %s is already a project of tracker %s", key, j, p, other)
			}
			projects[p] = t.Name
		}
		values := make([]string, 0, len(t.Severity.Map))
		for v := range t.Severity.Map {
			values = append(values, v)
		}
		slices.Sort(values)
		for _, v := range values {
			if !slices.Contains(slaSeverities, patchgate.Severity(t.Severity.Map[v])) {
				return configKeyErrorf("%s.severity.map.%s: %q: want critical, high, medium or low", key, v, t.Severity.Map[v])
			}
		}
		for _, v := range slices.Sorted(maps.Keys(t.SupportLevel.Map)) {
			if err := patchgate.SupportLevel(strings.ToUpper(strings.TrimSpace(t.SupportLevel.Map[v]))).Validate(); err != nil {
				return configKeyErrorf("%s.support_level.map.%s: %q: want L1, L2, L3 or L4", key, v, t.SupportLevel.Map[v])
			}
		}
		if len(t.SupportLevel.Map) > 0 && t.SupportLevel.Field == "" {
			return configKeyErrorf("%s.support_level.field: name the issue field the map reads (customfield_10050)", key)
		}
		states := make([]string, 0, len(t.Transitions))
		for s := range t.Transitions {
			states = append(states, s)
		}
		slices.Sort(states)
		for _, s := range states {
			if err := patchgate.TicketState(s).Validate(); err != nil {
				return configKeyErrorf("%s.transitions.%s: not a ticket state (want fix_proposed, fix_verified, fix_merged, released or reopened)", key, s)
			}
			if strings.TrimSpace(t.Transitions[s]) == "" {
				return configKeyErrorf("%s.transitions.%s: name the Jira transition", key, s)
			}
		}
		if t.ReadTimeout < 0 || t.ReadTimeout > time.Minute {
			return configKeyErrorf("%s.read_timeout: %s: want 0 (5s) to 1m", key, t.ReadTimeout)
		}
	}
	return nil
}
