package webhooks

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

// gitlabFixtureEvents maps each file of testdata/gitlab (copied from the GitLab
// client module) to the X-Gitlab-Event header GitLab sends with such a payload.
// A new fixture without an entry fails TestParseGitLabFixtures.
var gitlabFixtureEvents = map[string]string{
	"build.json":                         "Job Hook",
	"deployment.json":                    "Deployment Hook",
	"emoji_issue.json":                   "Emoji Hook",
	"emoji_merge_request.json":           "Emoji Hook",
	"emoji_note_commit.json":             "Emoji Hook",
	"emoji_note_issue.json":              "Emoji Hook",
	"emoji_note_merge_request.json":      "Emoji Hook",
	"emoji_note_snippet.json":            "Emoji Hook",
	"emoji_snippet.json":                 "Emoji Hook",
	"feature_flag.json":                  "Feature Flag Hook",
	"group_merge_request.json":           "Merge Request Hook",
	"issue.json":                         "Issue Hook",
	"job.json":                           "Job Hook",
	"member.json":                        "Member Hook",
	"merge_request.json":                 "Merge Request Hook",
	"milestone_group.json":               "Milestone Hook",
	"milestone_project.json":             "Milestone Hook",
	"note_commit.json":                   "Note Hook",
	"note_issue.json":                    "Note Hook",
	"note_merge_request.json":            "Note Hook",
	"note_snippet.json":                  "Note Hook",
	"pipeline.json":                      "Pipeline Hook",
	"project.json":                       "Project Hook",
	"push.json":                          "Push Hook",
	"release.json":                       "Release Hook",
	"resource_access_token_group.json":   "Resource Access Token Hook",
	"resource_access_token_project.json": "Resource Access Token Hook",
	"service_merge_request.json":         "Service Hook",
	"subgroup.json":                      "Subgroup Hook",
	"tag_push.json":                      "Tag Push Hook",
	"vulnerability.json":                 "Vulnerability Hook",
	"wiki_page.json":                     "Wiki Page Hook",
}

// MustReadFixture reads a file under testdata.
func MustReadFixture(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(path)))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// MustMutate decodes a fixture, lets f change it (see setPath) and re-encodes
// it, so that variants the recorded payloads lack (synchronize, merged, forks)
// are still built from real payloads.
func MustMutate(tb testing.TB, body []byte, f func(m map[string]any)) []byte {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		tb.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// setPath sets a dotted path ("pull_request.head.repo") in decoded JSON.
func setPath(m map[string]any, path string, v any) {
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = v
}

func mustTime(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		tb.Fatal(err)
	}
	return t.UTC()
}

// checkResult enforces the contract every parse result keeps, whatever the
// input: an Event or an error, never both; errors are *IgnoredError or
// EINVALID; an Event names a valid repository and carries exactly the one
// payload its Kind says, with the identity that payload needs.
func checkResult(tb testing.TB, ev *patchgate.Event, err error) {
	tb.Helper()
	if err != nil {
		if ev != nil {
			tb.Fatalf("got event %+v with error %v", ev, err)
		}
		var ig *IgnoredError
		if errors.As(err, &ig) {
			if ig.Reason == "" {
				tb.Fatalf("ignored without a reason")
			}
			return
		}
		if code := patchgate.ErrorCode(err); code != patchgate.EINVALID {
			tb.Fatalf("got error code %q (%v), want %q or an *IgnoredError", code, err, patchgate.EINVALID)
		}
		return
	}
	if ev == nil {
		tb.Fatal("got nil event and nil error")
	}
	if err := patchgate.ValidateRepoName(ev.Repo); err != nil {
		tb.Fatalf("event repo %q: %v", ev.Repo, err)
	}
	if err := ev.Forge.Validate(); err != nil {
		tb.Fatal(err)
	}
	if ev.Action == "" || ev.Name == "" {
		tb.Fatalf("event without name or action: %+v", ev)
	}
	set := 0
	for _, p := range []bool{ev.Change != nil, ev.Push != nil, ev.Issue != nil, ev.Comment != nil, ev.CheckAction != nil} {
		if p {
			set++
		}
	}
	if set != 1 {
		tb.Fatalf("event has %d payloads set, want 1", set)
	}
	switch ev.Kind {
	case patchgate.EventChange:
		c := ev.Change
		if c == nil || c.Number <= 0 || !patchgate.ValidSHA(c.HeadSHA) {
			tb.Fatalf("change event: %+v", c)
		}
		switch c.State {
		case patchgate.ChangeOpen, patchgate.ChangeClosed, patchgate.ChangeMerged:
		default:
			tb.Fatalf("change state %q", c.State)
		}
	case patchgate.EventPush:
		p := ev.Push
		if p == nil || p.Branch == "" || !patchgate.ValidSHA(p.After) || !patchgate.ValidSHA(p.Before) {
			tb.Fatalf("push event: %+v", p)
		}
	case patchgate.EventIssue:
		if ev.Issue == nil || ev.Issue.Number <= 0 || (ev.Issue.State != "open" && ev.Issue.State != "closed") {
			tb.Fatalf("issue event: %+v", ev.Issue)
		}
	case patchgate.EventComment:
		c := ev.Comment
		if c == nil || (c.Number <= 0) == (c.CommitSHA == "") {
			tb.Fatalf("comment event needs a number or a commit, not both: %+v", c)
		}
	case patchgate.EventCheckAction:
		if a := ev.CheckAction; a == nil || a.CheckRunID <= 0 || !patchgate.ValidSHA(a.HeadSHA) || a.Identifier == "" {
			tb.Fatalf("check action event: %+v", a)
		}
	default:
		tb.Fatalf("unknown kind %q", ev.Kind)
	}
}

// wantEvent compares whole events and shows both as JSON when they differ.
func wantEvent(tb testing.TB, got, want *patchgate.Event) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		tb.Fatalf("got %s\nwant %s", g, w)
	}
}

// checkPeek holds Peek to Parse: Peek never ignores or rejects what Parse
// accepts, and names the same repository; what Parse rejects as malformed,
// Peek rejects too or leaves to Parse.
func checkPeek(t *testing.T, forge patchgate.Forge, event string, body []byte, ev *patchgate.Event, parseErr error) {
	t.Helper()
	sum, err := Peek(forge, event, body)
	if parseErr == nil {
		if err != nil || sum.Repo != ev.Repo {
			t.Fatalf("Peek = %+v, %v; Parse accepted it for %q", sum, err, ev.Repo)
		}
		return
	}
	if err != nil && !IsIgnored(err) && !IsIgnored(parseErr) && patchgate.ErrorCode(parseErr) != patchgate.ErrorCode(err) {
		t.Fatalf("Peek error %v, Parse error %v", err, parseErr)
	}
}

func TestParseGitHubFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/github/*/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no GitHub fixtures: %v", err)
	}
	accepted := map[string]int{}
	ignored := 0
	for _, f := range files {
		event := filepath.Base(filepath.Dir(f))
		t.Run(event+"/"+filepath.Base(f), func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := ParseGitHub(event, body)
			checkResult(t, ev, err)
			checkPeek(t, patchgate.GitHub, event, body, ev, err)
			if err != nil {
				if !IsIgnored(err) {
					t.Fatalf("recorded payload rejected: %v", err)
				}
				ignored++
				return
			}
			accepted[event]++
			repo, err := RepoOf(patchgate.GitHub, body)
			if err != nil || repo != ev.Repo {
				t.Fatalf("RepoOf = %q, %v; want %q", repo, err, ev.Repo)
			}
		})
	}
	// The recorded set has no synchronize or merged PRs; TestParseGitHub builds those.
	want := map[string]int{"pull_request": 8, "push": 1, "issues": 11, "issue_comment": 6}
	if !reflect.DeepEqual(accepted, want) {
		t.Errorf("accepted per event: got %v, want %v", accepted, want)
	}
	if wantIgnored := len(files) - 26; ignored != wantIgnored {
		t.Errorf("ignored: got %d, want %d", ignored, wantIgnored)
	}
	t.Logf("GitHub fixtures: %d files, %v accepted, %d ignored", len(files), accepted, ignored)
}

func TestParseGitLabFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/gitlab/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no GitLab fixtures: %v", err)
	}
	var accepted []string
	ignored := 0
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			event, ok := gitlabFixtureEvents[name]
			if !ok {
				t.Fatalf("no X-Gitlab-Event known for fixture %s: add it to gitlabFixtureEvents", name)
			}
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := ParseGitLab(event, body)
			checkResult(t, ev, err)
			checkPeek(t, patchgate.GitLab, event, body, ev, err)
			if err != nil {
				if !IsIgnored(err) {
					t.Fatalf("recorded payload rejected: %v", err)
				}
				ignored++
				return
			}
			accepted = append(accepted, name)
			repo, err := RepoOf(patchgate.GitLab, body)
			if err != nil || repo != ev.Repo {
				t.Fatalf("RepoOf = %q, %v; want %q", repo, err, ev.Repo)
			}
		})
	}
	sort.Strings(accepted)
	want := []string{"issue.json", "merge_request.json", "note_commit.json", "note_issue.json", "note_merge_request.json", "push.json"}
	if !reflect.DeepEqual(accepted, want) {
		t.Errorf("accepted: got %v, want %v", accepted, want)
	}
	t.Logf("GitLab fixtures: %d files, %d accepted, %d ignored", len(files), len(accepted), ignored)
}

func TestRepoOf(t *testing.T) {
	tests := []struct {
		name  string
		forge patchgate.Forge
		body  string
		want  string
		code  string
	}{
		{"github", patchgate.GitHub, `{"repository":{"full_name":"acme/payments","id":1}}`, "acme/payments", ""},
		{"gitlab nested groups", patchgate.GitLab, `{"project":{"path_with_namespace":"acme/platform/api"}}`, "acme/platform/api", ""},
		{"github org event without repository", patchgate.GitHub, `{"organization":{"login":"acme"}}`, "", patchgate.EINVALID},
		{"gitlab null project", patchgate.GitLab, `{"project":null}`, "", patchgate.EINVALID},
		{"malformed json", patchgate.GitHub, `{"repository":`, "", patchgate.EINVALID},
		{"bad repository name", patchgate.GitHub, `{"repository":{"full_name":"acme/../x"}}`, "", patchgate.EINVALID},
		{"single segment", patchgate.GitLab, `{"project":{"path_with_namespace":"acme"}}`, "", patchgate.EINVALID},
		{"unknown forge", patchgate.Forge("gitea"), `{}`, "", patchgate.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RepoOf(tt.forge, []byte(tt.body))
			if code := patchgate.ErrorCode(err); code != tt.code {
				t.Fatalf("error %v: got code %q, want %q", err, code, tt.code)
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIgnoredError(t *testing.T) {
	err := error(ignoredf("event %q is not used", "star"))
	if got, want := err.Error(), `ignored: event "star" is not used`; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if !IsIgnored(err) || !IsIgnored(errors.Join(errors.New("x"), err)) {
		t.Fatal("IsIgnored: got false, want true")
	}
	if IsIgnored(patchgate.Errorf(patchgate.EINVALID, "bad")) || IsIgnored(nil) {
		t.Fatal("IsIgnored: got true, want false")
	}
}
