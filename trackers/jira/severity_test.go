package jira_test

import (
	"encoding/json"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/trackers/jira"
)

// TestSeverityWithoutAMap: a site configured without a severity map reads
// Jira's standard priorities (Highest … Lowest) instead of leaving its tickets
// unknown and without an SLA; a map, when configured, decides alone for the
// values it names, and a custom field is never read as a standard priority.
func TestSeverityWithoutAMap(t *testing.T) {
	issue := func(field, value string) *jira.Issue {
		raw, _ := json.Marshal(map[string]string{"name": value})
		return &jira.Issue{Key: "PAY-7", Fields: map[string]json.RawMessage{field: raw}}
	}
	plain := &jira.Config{Name: "acme", Projects: []string{"PAY"}}
	mapped := &jira.Config{Name: "acme", Projects: []string{"PAY"}, SeverityMap: map[string]patchgate.Severity{"Lowest": patchgate.SeverityMedium}}
	custom := &jira.Config{Name: "acme", Projects: []string{"PAY"}, SeverityField: "customfield_1"}
	tests := []struct {
		name  string
		cfg   *jira.Config
		issue *jira.Issue
		want  patchgate.Severity
	}{
		{"Highest", plain, issue("priority", "Highest"), patchgate.SeverityCritical},
		{"High", plain, issue("priority", "High"), patchgate.SeverityHigh},
		{"Medium", plain, issue("priority", "Medium"), patchgate.SeverityMedium},
		{"Low", plain, issue("priority", "Low"), patchgate.SeverityLow},
		{"Lowest", plain, issue("priority", "Lowest"), patchgate.SeverityLow},
		{"a map decides", mapped, issue("priority", "Lowest"), patchgate.SeverityMedium},
		{"a custom field's Highest", custom, issue("customfield_1", "Highest"), patchgate.SeverityUnknown},
		{"no priority", plain, &jira.Issue{Key: "PAY-7"}, patchgate.SeverityUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cfg.Severity(tc.issue); got != tc.want {
				t.Errorf("Severity = %s, want %s", got, tc.want)
			}
		})
	}
}
