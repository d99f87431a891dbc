package jira_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/trackers/jira"
)

// acmeSource is the intake of the site acme (PAY, OPS) and of a second site,
// beta (BET), each with its own secret.
func acmeSource() *jira.Source {
	beta := &jira.Config{Name: "beta", URL: "https://beta.atlassian.net", Projects: []string{"BET"}}
	return jira.NewSource([]jira.Site{
		{Config: acme(), WebhookSecrets: []string{"old-secret", "new-secret"}},
		{Config: beta, WebhookSecrets: []string{"beta-secret"}},
	})
}

func jiraHeader(id, sig string) http.Header {
	h := http.Header{}
	if id != "" {
		h.Set(jira.HeaderIdentifier, id)
	}
	if sig != "" {
		h.Set(jira.HeaderSignature, sig)
	}
	return h
}

func TestSourceIdentify(t *testing.T) {
	tests := []struct {
		name   string
		source *jira.Source
		header http.Header
		wantID string
		want   string
	}{
		{name: "identifier", source: acmeSource(), header: jiraHeader("wh-1", ""), wantID: "wh-1"},
		{name: "no identifier", source: acmeSource(), header: jiraHeader("", "sha256=00"), want: patchgate.EINVALID},
		{name: "no site configured", source: jira.NewSource(nil), header: jiraHeader("wh-1", ""), want: patchgate.EUNAUTHORIZED},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, event, err := tc.source.Identify(tc.header)
			if got := patchgate.ErrorCode(err); got != tc.want || id != tc.wantID || event != "" {
				t.Fatalf("got %q %q %v, want %q \"\" code %q", id, event, err, tc.wantID, tc.want)
			}
		})
	}
}

func TestSourceVerifyAndPeek(t *testing.T) {
	created := readFixture(t, "issue_created.priority-highest.json") // PAY-7
	unknown := readFixture(t, "issue_created.unknown-project.json")  // ZZZ-3
	comment := readFixture(t, "comment_created.ignored.json")
	mismatch := bytes.ReplaceAll(created, []byte(`"PAY-7"`), []byte(`"BET-7"`)) // fields still say PAY
	tests := []struct {
		name     string
		secret   string
		body     []byte
		wantCode string
		wantPeek patchgate.WebhookPeek
	}{
		{name: "old secret of a rotation", secret: "old-secret", body: created,
			wantPeek: patchgate.WebhookPeek{Event: jira.EventIssueCreated, Repo: "PAY", Action: "created"}},
		{name: "new secret of a rotation", secret: "new-secret", body: created,
			wantPeek: patchgate.WebhookPeek{Event: jira.EventIssueCreated, Repo: "PAY", Action: "created"}},
		{name: "wrong secret", secret: "not-the-secret", body: created, wantCode: patchgate.EUNAUTHORIZED},
		{name: "unknown project is ignored", secret: "new-secret", body: unknown,
			wantPeek: patchgate.WebhookPeek{Event: jira.EventIssueCreated, Repo: "ZZZ", Action: "created", Ignored: "Jira project ZZZ is not configured"}},
		{name: "another site's project is ignored", secret: "beta-secret", body: created,
			wantPeek: patchgate.WebhookPeek{Event: jira.EventIssueCreated, Repo: "PAY", Action: "created", Ignored: "issue PAY-7 is of project PAY, which is not a project of the Jira tracker that signed the delivery (BET)"}},
		{name: "a key of another project than the fields name is ignored", secret: "new-secret", body: mismatch,
			wantPeek: patchgate.WebhookPeek{Event: jira.EventIssueCreated, Repo: "BET", Action: "created",
				Ignored: "issue BET-7 names project PAY in its fields: its key and its project must agree"}},
		{name: "comment event is ignored, named", secret: "new-secret", body: comment,
			wantPeek: patchgate.WebhookPeek{Event: "comment_created", Ignored: `event "comment_created" is not used`}},
		{name: "not JSON", secret: "new-secret", body: []byte(`{`), wantCode: patchgate.EINVALID},
	}
	s := acmeSource()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := jiraHeader("wh-1", jira.Sign(tc.secret, tc.body))
			scope, err := s.Verify(h, tc.body)
			var peek patchgate.WebhookPeek
			if err == nil {
				peek, err = s.Peek("", tc.body, scope)
			}
			if got := patchgate.ErrorCode(err); got != tc.wantCode {
				t.Fatalf("got code %q (%v), want %q", got, err, tc.wantCode)
			}
			if peek != tc.wantPeek {
				t.Fatalf("got %+v, want %+v", peek, tc.wantPeek)
			}
		})
	}
}

func TestSourceParse(t *testing.T) {
	tests := []struct {
		name        string
		file        string
		body        []byte // instead of file
		want        *patchgate.Event
		wantIgnored string
	}{
		{name: "created", file: "issue_created.priority-highest.json", want: &patchgate.Event{
			Source: patchgate.SourceJira, Kind: patchgate.EventIssue, Name: jira.EventIssueCreated, Action: "created",
			Repo: "PAY", Sender: "jira:acme", Issue: &patchgate.IssueEvent{Number: 7, State: "open",
				Title: "Refunds of half a cent round down", URL: "https://acme.atlassian.net/browse/PAY-7", Severity: patchgate.SeverityCritical,
				CreatedAt: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}}},
		{name: "deleted keeps no title", file: "issue_deleted.json", want: &patchgate.Event{
			Source: patchgate.SourceJira, Kind: patchgate.EventIssue, Name: jira.EventIssueDeleted, Action: "deleted",
			Repo: "PAY", Sender: "jira:acme", Issue: &patchgate.IssueEvent{Number: 7, State: "deleted",
				UpdatedAt: time.Date(2026, 11, 30, 13, 0, 0, 0, time.UTC)}}},
		{name: "unknown project", file: "issue_created.unknown-project.json", wantIgnored: "Jira project ZZZ is not configured"},
		{name: "comment event", file: "comment_created.ignored.json", wantIgnored: `event "comment_created" is not used`},
		{name: "a key of another project than the fields name",
			body:        bytes.ReplaceAll(readFixture(t, "issue_created.priority-highest.json"), []byte(`"PAY-7"`), []byte(`"BET-7"`)),
			wantIgnored: "issue BET-7 names project PAY in its fields: its key and its project must agree"},
	}
	s := acmeSource()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if body == nil {
				body = readFixture(t, tc.file)
			}
			ev, ignored, err := s.Parse("", body)
			if err != nil || ignored != tc.wantIgnored {
				t.Fatalf("got ignored %q, %v; want %q", ignored, err, tc.wantIgnored)
			}
			if tc.want == nil {
				if ev != nil {
					t.Fatalf("got %+v, want no event", ev)
				}
				return
			}
			if !reflect.DeepEqual(ev, tc.want) {
				g, _ := json.Marshal(ev)
				w, _ := json.Marshal(tc.want)
				t.Fatalf("got %s, want %s", g, w)
			}
		})
	}
}

// FuzzSourceParse: any verified body peeks and parses without a panic; Peek
// refuses exactly what Parse refuses (EINVALID), and a parsed event is a
// Jira issue event with the event name Peek stored.
func FuzzSourceParse(f *testing.F) {
	entries, _ := os.ReadDir("testdata")
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".json" {
			f.Add(readFixture(f, e.Name()))
		}
	}
	f.Add([]byte(`{"webhookEvent":"jira:issue_updated","issue":{"key":"PAY-1","fields":{"project":{"key":"OPS"}}}}`))
	s := acmeSource()
	projects := []string{"PAY", "OPS"}
	f.Fuzz(func(t *testing.T, body []byte) {
		peek, perr := s.Peek("", body, projects)
		ev, ignored, err := s.Parse("", body)
		if (perr == nil) != (err == nil) {
			t.Fatalf("Peek %v but Parse %v", perr, err)
		}
		if err != nil {
			if patchgate.ErrorCode(err) != patchgate.EINVALID {
				t.Fatalf("got %v, want invalid", err)
			}
			return
		}
		if ignored != "" {
			if ev != nil {
				t.Fatalf("ignored %q with an event", ignored)
			}
			return
		}
		if peek.Ignored == "" && peek.Event != ev.Name {
			t.Fatalf("Peek says event %q, Parse %q", peek.Event, ev.Name)
		}
		if ev == nil || ev.Source != patchgate.SourceJira || ev.Kind != patchgate.EventIssue || ev.Issue == nil || ev.Repo == "" {
			t.Fatalf("parsed event %+v", ev)
		}
	})
}
