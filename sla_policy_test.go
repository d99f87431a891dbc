package patchgate_test

import (
	"maps"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

func TestTicketSLAPolicy(t *testing.T) {
	own := patchgate.SLAPolicy{patchgate.SeverityCritical: {Verified: 1, Released: 2}}
	dir := patchgate.NewRepositoryDirectory([]*patchgate.Repository{{Forge: patchgate.GitHub, Name: "acme/payments",
		TicketKeys: []string{"PAY"}, SLA: own}})
	jira := func(key string) bool { return key == "OPS-1" || key == "PAY-1" }
	tests := []struct {
		name    string
		t       patchgate.Ticket
		tracked func(string) bool
		want    patchgate.SLAPolicy
	}{
		{"a forge issue of a configured repository", patchgate.Ticket{Tracker: patchgate.TrackerGitHub, Repo: "acme/payments", Number: 1}, jira, own},
		{"a forge issue of another repository", patchgate.Ticket{Tracker: patchgate.TrackerGitHub, Repo: "acme/other", Number: 1}, jira, nil},
		{"a key a repository lists", patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "PAY-1"}, jira, own},
		{"a synced tracker's key no repository lists", patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "OPS-1"}, jira, patchgate.DefaultSLAPolicy()},
		{"a key nothing holds", patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "HR-1"}, jira, nil},
		{"no synced tracker", patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "OPS-1"}, nil, nil},
		// Set through the ticket API with a severity and an opening time.
		{"a classified key nothing holds", patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "HR-1",
			Severity: patchgate.SeverityHigh, OpenedAt: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}, nil, patchgate.DefaultSLAPolicy()},
		{"an unclassified key nothing holds", patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "HR-1",
			Severity: patchgate.SeverityUnknown, OpenedAt: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}, nil, nil},
		{"a severity without an opening", patchgate.Ticket{Tracker: patchgate.TrackerExternal, Key: "HR-1", Severity: patchgate.SeverityHigh}, nil, nil},
		{"a classified forge issue of another repository", patchgate.Ticket{Tracker: patchgate.TrackerGitHub, Repo: "acme/other", Number: 1,
			Severity: patchgate.SeverityHigh, OpenedAt: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}, jira, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := patchgate.TicketSLAPolicy(dir, &tt.t, tt.tracked)
			if (got == nil) != (tt.want == nil) || !maps.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
