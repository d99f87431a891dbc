// Package jira is patchgate's Jira Cloud adapter: it verifies and parses Jira
// admin webhooks, and reads issues, keeps patchgate's comment and applies
// transitions through Jira's REST API (version 2).
//
// No Go Jira client is used: go-jira is not served by the module proxy these
// builds use, and the few calls patchgate makes are plain JSON over net/http,
// written out here.
package jira

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
)

// Config is one Jira site patchgate talks to.
type Config struct {
	// Name names the tracker in logs and audit entries ("acme").
	Name string
	// URL is the site's base URL, https://acme.atlassian.net. API and browse
	// URLs are built from it only, never from payloads.
	URL string
	// Email and Token authenticate REST calls (basic auth with an API token).
	Email, Token string
	// Projects are the project keys this site's tickets have (PAY, OPS).
	Projects []string
	// SeverityField is the issue field the severity is read from: "priority"
	// (default) or a custom field id such as "customfield_10040".
	SeverityField string
	// SeverityMap maps the field's value (Highest, High, …) to a severity;
	// values not in it are read with patchgate.ParseSeverity. Without a map,
	// the priority field's standard values are read with
	// patchgate.StandardPrioritySeverity.
	SeverityMap map[string]patchgate.Severity
	// LevelField is the issue field a ticket's support level is read from (a
	// select custom field such as "customfield_10050"); "" reads none. The
	// issue's labels (support:L2) are read too; the field wins.
	LevelField string
	// LevelMap maps the field's values to a level; values not in it are read
	// with patchgate.ParseSupportLevel ("L2", "2nd level", "Experts").
	LevelMap map[string]patchgate.SupportLevel
}

// SupportLevel is the level the issue's level field (through c's map) or its
// labels name; "" when neither names one.
func (c *Config) SupportLevel(i *Issue) patchgate.SupportLevel {
	if c.LevelField != "" {
		if v := i.fieldValue(c.LevelField); v != "" {
			for k, l := range c.LevelMap {
				if strings.EqualFold(k, v) {
					return l
				}
			}
			if l, ok := patchgate.ParseSupportLevel(v); ok {
				return l
			}
		}
	}
	var labels []string
	if raw, ok := i.Fields["labels"]; ok {
		_ = json.Unmarshal(raw, &labels)
	}
	return patchgate.SupportLevelFromLabels(labels)
}

// HasProject reports whether key (PAY) is one of c's projects.
func (c *Config) HasProject(key string) bool {
	for _, p := range c.Projects {
		if strings.EqualFold(p, key) {
			return true
		}
	}
	return false
}

// BrowseURL is the issue's web page on c's site.
func (c *Config) BrowseURL(key string) string {
	return strings.TrimSuffix(c.URL, "/") + "/browse/" + key
}

// Issue is the part of a Jira issue patchgate reads, in the shape both the
// REST API and webhooks send.
type Issue struct {
	ID     string                     `json:"id"`
	Key    string                     `json:"key"`
	Fields map[string]json.RawMessage `json:"fields"`
}

// fieldValue reads a field that is a string, or an object with a name or a
// value (priority {"name": "High"}, a select custom field {"value": "Sev 1"}).
func (i *Issue) fieldValue(name string) string {
	raw, ok := i.Fields[name]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	if json.Unmarshal(raw, &o) == nil {
		if o.Name != "" {
			return o.Name
		}
		return o.Value
	}
	return ""
}

// statusCategory is the key of the issue's status category: new,
// indeterminate or done.
func (i *Issue) statusCategory() string {
	var st struct {
		StatusCategory struct {
			Key string `json:"key"`
		} `json:"statusCategory"`
	}
	if raw, ok := i.Fields["status"]; ok {
		_ = json.Unmarshal(raw, &st)
	}
	return st.StatusCategory.Key
}

// Project is the issue's project key: the prefix of its key (PAY-7 → PAY),
// the one thing patchgate keys tickets by.
func (i *Issue) Project() string {
	prefix, _, _ := strings.Cut(i.Key, "-")
	return prefix
}

// Mismatch is why i cannot be believed about its project, "" when it can:
// the project its fields name, if any, must be its key's prefix. A payload
// naming one project in its fields and another in its key would otherwise be
// judged by one tracker's projects and applied to the other's ticket.
func (i *Issue) Mismatch() string {
	var p struct {
		Key string `json:"key"`
	}
	if raw, ok := i.Fields["project"]; ok && json.Unmarshal(raw, &p) == nil && p.Key != "" && p.Key != i.Project() {
		return fmt.Sprintf("issue %s names project %s in its fields: its key and its project must agree", i.Key, p.Key)
	}
	return ""
}

// Severity maps the issue's severity field through c's map.
func (c *Config) Severity(i *Issue) patchgate.Severity {
	field := c.SeverityField
	if field == "" {
		field = "priority"
	}
	v := i.fieldValue(field)
	if v == "" {
		return patchgate.SeverityUnknown
	}
	for k, s := range c.SeverityMap {
		if strings.EqualFold(k, v) {
			return s
		}
	}
	if len(c.SeverityMap) == 0 && field == "priority" {
		return patchgate.StandardPrioritySeverity(v)
	}
	return patchgate.ParseSeverity(v)
}

// TrackerIssue is i in patchgate's terms: title, browse URL on c's site,
// severity, open or closed (status category done), created and updated.
func (c *Config) TrackerIssue(i *Issue) *patchgate.TrackerIssue {
	state := patchgate.TrackerOpen
	if i.statusCategory() == "done" {
		state = patchgate.TrackerClosed
	}
	return &patchgate.TrackerIssue{
		Key:          i.Key,
		Title:        i.fieldValue("summary"),
		URL:          c.BrowseURL(i.Key),
		Severity:     c.Severity(i),
		SupportLevel: c.SupportLevel(i),
		State:        state,
		CreatedAt:    parseTime(i.fieldValue("created")),
		UpdatedAt:    parseTime(i.fieldValue("updated")),
	}
}

// parseTime reads Jira's times (2026-11-30T09:00:00.000+0000) and RFC 3339;
// zero when it cannot.
func parseTime(s string) time.Time {
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
