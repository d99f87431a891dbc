package jira_test

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/trackers/jira"
)

func acme() *jira.Config {
	return &jira.Config{Name: "acme", URL: "https://acme.atlassian.net/", Projects: []string{"PAY", "OPS"},
		SeverityMap: map[string]patchgate.Severity{"Highest": patchgate.SeverityCritical, "High": patchgate.SeverityHigh,
			"Medium": patchgate.SeverityMedium, "Low": patchgate.SeverityLow, "Lowest": patchgate.SeverityLow}}
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseWebhookFixtures(t *testing.T) {
	custom := acme()
	custom.SeverityField, custom.SeverityMap = "customfield_10040", map[string]patchgate.Severity{"Sev 1": patchgate.SeverityCritical}
	tests := []struct {
		name, file  string
		cfg         *jira.Config
		event, key  string
		project     string
		severity    patchgate.Severity
		state       patchgate.TrackerState
		opened, upd string
	}{
		{name: "created", file: "issue_created.priority-highest.json", cfg: acme(), event: jira.EventIssueCreated, key: "PAY-7", project: "PAY",
			severity: patchgate.SeverityCritical, state: patchgate.TrackerOpen, opened: "2026-11-30T09:00:00Z", upd: "2026-11-30T09:00:00Z"},
		{name: "done is closed", file: "issue_updated.status-done.json", cfg: acme(), event: jira.EventIssueUpdated, key: "PAY-7", project: "PAY",
			severity: patchgate.SeverityCritical, state: patchgate.TrackerClosed, opened: "2026-11-30T09:00:00Z", upd: "2026-11-30T11:00:00Z"},
		{name: "reopened", file: "issue_updated.reopened.json", cfg: acme(), event: jira.EventIssueUpdated, key: "PAY-7", project: "PAY",
			severity: patchgate.SeverityCritical, state: patchgate.TrackerOpen, opened: "2026-11-30T09:00:00Z", upd: "2026-11-30T12:00:00Z"},
		{name: "custom severity field, +0100", file: "issue_updated.priority-custom-field.json", cfg: custom, event: jira.EventIssueUpdated, key: "OPS-12", project: "OPS",
			severity: patchgate.SeverityCritical, state: patchgate.TrackerOpen, opened: "2026-11-29T07:30:00Z", upd: "2026-11-30T09:00:00Z"},
		{name: "deleted", file: "issue_deleted.json", cfg: acme(), event: jira.EventIssueDeleted, key: "PAY-7", project: "PAY",
			state: patchgate.TrackerDeleted, upd: "2026-11-30T13:00:00Z"},
		{name: "unknown project parses", file: "issue_created.unknown-project.json", cfg: acme(), event: jira.EventIssueCreated, key: "ZZZ-3", project: "ZZZ",
			severity: patchgate.SeverityHigh, state: patchgate.TrackerOpen, opened: "2026-11-30T09:00:00Z", upd: "2026-11-30T09:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := jira.ParseWebhook(readFixture(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if w.Event != tc.event || w.Issue.Key != tc.key || w.Issue.Project() != tc.project {
				t.Fatalf("got %s %s project %s, want %s %s project %s", w.Event, w.Issue.Key, w.Issue.Project(), tc.event, tc.key, tc.project)
			}
			u := tc.cfg.Update(w)
			if u.Key != tc.key || u.State != tc.state || u.Source != "jira:acme" {
				t.Errorf("got key %s state %s source %s, want %s %s jira:acme", u.Key, u.State, u.Source, tc.key, tc.state)
			}
			if tc.severity != "" && (u.Severity == nil || *u.Severity != tc.severity) {
				t.Errorf("got severity %v, want %s", u.Severity, tc.severity)
			}
			if tc.opened != "" && u.OpenedAt.Format(time.RFC3339) != tc.opened {
				t.Errorf("got opened %s, want %s", u.OpenedAt.Format(time.RFC3339), tc.opened)
			}
			if got := u.UpdatedAt.Format(time.RFC3339); got != tc.upd {
				t.Errorf("got updated %s, want %s", got, tc.upd)
			}
			if tc.state != patchgate.TrackerDeleted && (u.URL == nil || *u.URL != "https://acme.atlassian.net/browse/"+tc.key) {
				t.Errorf("got url %v, want the browse URL on the configured site", u.URL)
			}
		})
	}
}

func TestParseWebhookIgnoresOtherEvents(t *testing.T) {
	_, err := jira.ParseWebhook(readFixture(t, "comment_created.ignored.json"))
	var ig *jira.IgnoredError
	if !errors.As(err, &ig) || ig.Reason != `event "comment_created" is not used` {
		t.Fatalf("got %v, want ignored comment_created", err)
	}
	for _, body := range []string{`{`, `{}`, `{"webhookEvent":"jira:issue_created"}`, `{"webhookEvent":"jira:issue_created","issue":{"key":"pay-1"}}`} {
		if _, err := jira.ParseWebhook([]byte(body)); patchgate.ErrorCode(err) != patchgate.EINVALID {
			t.Errorf("%s: got %v, want invalid", body, err)
		}
	}
}

func TestVerifySignature(t *testing.T) {
	body := readFixture(t, "issue_created.priority-highest.json")
	h := func(sig ...string) http.Header {
		out := http.Header{}
		for _, s := range sig {
			out.Add(jira.HeaderSignature, s)
		}
		return out
	}
	good := jira.Sign("new-secret", body)
	tests := []struct {
		name    string
		h       http.Header
		secrets []string
		ok      bool
	}{
		{name: "current secret", h: h(good), secrets: []string{"old-secret", "new-secret"}, ok: true},
		{name: "wrong secret", h: h(good), secrets: []string{"old-secret"}},
		{name: "missing", h: h(), secrets: []string{"new-secret"}},
		{name: "twice", h: h(good, good), secrets: []string{"new-secret"}},
		{name: "sha1 prefix", h: h("sha1=" + good[7:]), secrets: []string{"new-secret"}},
		{name: "not hex", h: h("sha256=zz"), secrets: []string{"new-secret"}},
		{name: "empty secret never matches", h: h(jira.Sign("", body)), secrets: []string{""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := jira.VerifySignature(tc.h, body, tc.secrets)
			if tc.ok != (err == nil) {
				t.Fatalf("got %v, want ok %v", err, tc.ok)
			}
			if err != nil && patchgate.ErrorCode(err) != patchgate.EUNAUTHORIZED {
				t.Fatalf("got code %s, want unauthorized", patchgate.ErrorCode(err))
			}
		})
	}
	// A body changed after signing does not verify.
	if err := jira.VerifySignature(h(good), append(body, ' '), []string{"new-secret"}); err == nil {
		t.Fatal("a changed body verified")
	}
}

// FuzzParseWebhook: any body parses to an event, an ignored result or
// EINVALID, never a panic, and a parsed one has a valid key and maps to a
// valid update.
func FuzzParseWebhook(f *testing.F) {
	entries, _ := os.ReadDir("testdata")
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".json" {
			f.Add(readFixture(f, e.Name()))
		}
	}
	f.Add([]byte(`{"webhookEvent":"jira:issue_updated","issue":{"key":"A-1","fields":{"priority":7,"status":"x","created":{}}}}`))
	cfg := acme()
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := jira.ParseWebhook(body)
		var ig *jira.IgnoredError
		switch {
		case errors.As(err, &ig):
			return
		case err != nil:
			if patchgate.ErrorCode(err) != patchgate.EINVALID {
				t.Fatalf("got %v, want invalid", err)
			}
			return
		}
		if !patchgate.ValidExternalKey(w.Issue.Key) {
			t.Fatalf("parsed key %q is not valid", w.Issue.Key)
		}
		u := cfg.Update(w)
		if err := u.Validate(); err != nil {
			t.Fatalf("update from a parsed webhook does not validate: %v", err)
		}
	})
}
