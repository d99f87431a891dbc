package jira_test

import (
	"encoding/json"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/trackers/jira"
)

// TestSupportLevel: a ticket's level comes from the configured field through
// the map (or read as a level's name), else from support:Lx labels; an issue
// naming none leaves the level to patchgate (nil in its update).
func TestSupportLevel(t *testing.T) {
	cfg := &jira.Config{Name: "acme", URL: "https://acme.atlassian.net", Projects: []string{"PAY"}, LevelField: "customfield_10050",
		LevelMap: map[string]patchgate.SupportLevel{"Vendor": patchgate.SupportL4}}
	issue := func(fields map[string]any) *jira.Issue {
		i := &jira.Issue{Key: "PAY-7", Fields: map[string]json.RawMessage{}}
		for k, v := range fields {
			raw, _ := json.Marshal(v)
			i.Fields[k] = raw
		}
		return i
	}
	for _, tc := range []struct {
		name   string
		fields map[string]any
		want   patchgate.SupportLevel
	}{
		{"mapped", map[string]any{"customfield_10050": map[string]string{"value": "vendor"}}, patchgate.SupportL4},
		{"a level's name", map[string]any{"customfield_10050": map[string]string{"value": "2nd level"}}, patchgate.SupportL2},
		{"a label", map[string]any{"labels": []string{"backend", "support:L3"}}, patchgate.SupportL3},
		{"the field wins", map[string]any{"customfield_10050": map[string]string{"value": "L1"}, "labels": []string{"support:L3"}}, patchgate.SupportL1},
		{"none", map[string]any{"labels": []string{"backend"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i := issue(tc.fields)
			if got := cfg.SupportLevel(i); got != tc.want {
				t.Fatalf("SupportLevel = %q, want %q", got, tc.want)
			}
			u := cfg.TrackerIssue(i).Update("jira:acme")
			if tc.want == "" && u.SupportLevel != nil || tc.want != "" && (u.SupportLevel == nil || *u.SupportLevel != tc.want) {
				t.Fatalf("update's level: %v, want %q", u.SupportLevel, tc.want)
			}
		})
	}
}
