package webhooks

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
)

const deploySHA = "0123456789abcdef0123456789abcdef01234567"

// dprPayload is a deployment_protection_rule delivery in the shape GitHub's
// documentation gives, with edit applied to its decoded JSON.
func dprPayload(t *testing.T, edit func(p map[string]any)) []byte {
	t.Helper()
	p := map[string]any{
		"action":                  "requested",
		"environment":             "production",
		"event":                   "push",
		"deployment_callback_url": "https://api.github.com/repos/acme/app/actions/runs/1234/deployment_protection_rule",
		"deployment":              map[string]any{"id": 99, "sha": deploySHA, "ref": "main", "environment": "production"},
		"pull_requests":           []any{},
		"repository":              map[string]any{"id": 5, "full_name": "acme/app"},
		"installation":            map[string]any{"id": 7},
		"sender":                  map[string]any{"login": "deployer"},
	}
	if edit != nil {
		edit(p)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseDeploymentProtectionRule(t *testing.T) {
	ev, err := ParseGitHub(EventGitHubDeploymentProtectionRule, dprPayload(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	want := &patchgate.Event{Source: patchgate.SourceGitHub, Forge: patchgate.GitHub, Kind: patchgate.EventDeployment,
		Name: EventGitHubDeploymentProtectionRule, Action: "requested", Repo: "acme/app", RepoID: 5, Sender: "deployer",
		Deployment: &patchgate.DeploymentEvent{Environment: "production", SHA: deploySHA, DeploymentID: 99, RunID: 1234,
			CallbackURL: "https://api.github.com/repos/acme/app/actions/runs/1234/deployment_protection_rule"}}
	wantEvent(t, ev, want)
	checkPeek(t, patchgate.GitHub, EventGitHubDeploymentProtectionRule, dprPayload(t, nil), ev, nil)

	tests := []struct {
		name    string
		edit    func(p map[string]any)
		ignored bool
	}{
		{"a callback for another repository", func(p map[string]any) {
			p["deployment_callback_url"] = "https://api.github.com/repos/evil/app/actions/runs/1234/deployment_protection_rule"
		}, false},
		{"a callback that is not the review route", func(p map[string]any) {
			p["deployment_callback_url"] = "https://api.github.com/repos/acme/app/actions/runs/1234/approve"
		}, false},
		{"a callback with no run id", func(p map[string]any) {
			p["deployment_callback_url"] = "https://api.github.com/repos/acme/app/actions/runs/x/deployment_protection_rule"
		}, false},
		{"a short SHA", func(p map[string]any) { p["deployment"].(map[string]any)["sha"] = "0123456" }, false},
		{"no environment", func(p map[string]any) { delete(p, "environment") }, false},
		{"another action", func(p map[string]any) { p["action"] = "completed" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseGitHub(EventGitHubDeploymentProtectionRule, dprPayload(t, tt.edit))
			if tt.ignored != IsIgnored(err) || (!tt.ignored && patchgate.ErrorCode(err) != patchgate.EINVALID) {
				t.Fatalf("got %v, want ignored %v (else EINVALID)", err, tt.ignored)
			}
		})
	}
}

func TestParseGitLabDeployment(t *testing.T) {
	payload := func(status, commitURL string) []byte {
		b, _ := json.Marshal(map[string]any{
			"object_kind": "deployment", "status": status, "deployment_id": 15, "deployable_id": 796,
			"environment": "production", "project": map[string]any{"id": 30, "path_with_namespace": "acme/platform/api"},
			"short_sha": deploySHA[:8], "user": map[string]any{"username": "deployer"},
			"commit_url": commitURL, "commit_title": "deploy",
		})
		return b
	}
	url := "https://gitlab.example.com/acme/platform/api/-/commit/" + deploySHA
	ev, err := ParseGitLab(EventGitLabDeployment, payload("blocked", url))
	if err != nil {
		t.Fatal(err)
	}
	wantEvent(t, ev, &patchgate.Event{Source: patchgate.SourceGitLab, Forge: patchgate.GitLab, Kind: patchgate.EventDeployment,
		Name: EventGitLabDeployment, Action: "blocked", Repo: "acme/platform/api", RepoID: 30, Sender: "deployer",
		Deployment: &patchgate.DeploymentEvent{Environment: "production", SHA: deploySHA, Status: "blocked", DeploymentID: 15}})
	checkPeek(t, patchgate.GitLab, EventGitLabDeployment, payload("blocked", url), ev, nil)
	if _, err := ParseGitLab(EventGitLabDeployment, payload("success", url)); !IsIgnored(err) {
		t.Errorf("a successful deployment: got %v, want ignored", err)
	}
	if s, err := Peek(patchgate.GitLab, EventGitLabDeployment, payload("running", url)); !IsIgnored(err) || s.Repo != "acme/platform/api" {
		t.Errorf("peek of a running deployment: got %+v, %v; want ignored naming the project", s, err)
	}
	if _, err := ParseGitLab(EventGitLabDeployment, payload("blocked", "https://gitlab.example.com/x/-/commit/../../etc")); patchgate.ErrorCode(err) != patchgate.EINVALID {
		t.Errorf("a commit_url without a SHA: got %v, want EINVALID", err)
	}
}

func TestStatusCheckSource(t *testing.T) {
	repos := patchgate.NewRepositoryDirectory([]*patchgate.Repository{{Forge: patchgate.GitLab, Name: "acme/platform/api"}})
	src := &StatusCheckSource{Secrets: []string{"old-secret-1", "new-secret-2"}, Repos: repos}
	body := []byte(`{"object_kind":"merge_request","project":{"id":30,"path_with_namespace":"acme/platform/api"},
		"object_attributes":{"iid":4,"last_commit":{"id":"` + deploySHA + `"}},"external_approval_rule":{"id":7,"name":"patchgate"}}`)
	h := http.Header{}
	h.Set(HeaderGitLabSignature, SignStatusCheck("new-secret-2", body))
	id, event, err := src.Identify(h)
	if err != nil || event != EventStatusCheck || !strings.HasPrefix(id, "status-check-") {
		t.Fatalf("identify: got %q %q %v", id, event, err)
	}
	if _, err := src.Verify(h, body); err != nil {
		t.Fatalf("verify with the rotated-in secret: %v", err)
	}
	if _, err := src.Verify(h, append([]byte(" "), body...)); patchgate.ErrorCode(err) != patchgate.EUNAUTHORIZED {
		t.Fatalf("verify of a changed body: got %v, want EUNAUTHORIZED", err)
	}
	peek, err := src.Peek(event, body, nil)
	if err != nil || peek.Repo != "acme/platform/api" || peek.Ignored != "" {
		t.Fatalf("peek: got %+v, %v", peek, err)
	}
	ev, ignored, err := src.Parse(event, body)
	if err != nil || ignored != "" {
		t.Fatalf("parse: got %q, %v", ignored, err)
	}
	if sc := ev.StatusCheck; ev.Kind != patchgate.EventStatusCheck || ev.Forge != patchgate.GitLab || sc.MRIID != 4 || sc.HeadSHA != deploySHA || sc.CheckID != 7 || sc.ProjectID != 30 {
		t.Fatalf("parse: got %+v %+v", ev, ev.StatusCheck)
	}

	for name, hdr := range map[string]http.Header{
		"no signature":          {},
		"a signature twice":     {HeaderGitLabSignature: {SignStatusCheck("new-secret-2", body), SignStatusCheck("new-secret-2", body)}},
		"a signature not hex":   {HeaderGitLabSignature: {strings.Repeat("z", 64)}},
		"a sha1-length digest":  {HeaderGitLabSignature: {strings.Repeat("a", 40)}},
		"another secret's HMAC": {HeaderGitLabSignature: {SignStatusCheck("wrong-secret", body)}},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := src.Identify(hdr)
			if err == nil {
				_, err = src.Verify(hdr, body)
			}
			if patchgate.ErrorCode(err) != patchgate.EUNAUTHORIZED {
				t.Fatalf("got %v, want EUNAUTHORIZED", err)
			}
		})
	}
	if _, _, err := (&StatusCheckSource{Repos: repos}).Identify(h); patchgate.ErrorCode(err) != patchgate.EUNAUTHORIZED {
		t.Errorf("no secret configured: got %v, want EUNAUTHORIZED", err)
	}
	other := strings.ReplaceAll(string(body), "acme/platform/api", "acme/other")
	if p, err := src.Peek(event, []byte(other), nil); err != nil || p.Ignored == "" {
		t.Errorf("an unconfigured project: got %+v, %v; want ignored", p, err)
	}
}

// FuzzStatusCheckParse holds the status check parser to untrusted bodies:
// it never panics, and what it accepts names a full SHA and a check.
func FuzzStatusCheckParse(f *testing.F) {
	f.Add([]byte(`{"project":{"path_with_namespace":"a/b"},"object_attributes":{"iid":1,"last_commit":{"id":"` + deploySHA + `"}},"external_approval_rule":{"id":2}}`))
	f.Add([]byte(`{}`))
	src := &StatusCheckSource{Secrets: []string{"secret-12"}, Repos: patchgate.NewRepositoryDirectory(nil)}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, _, err := src.Parse(EventStatusCheck, body)
		if err == nil && ev != nil && (!patchgate.ValidSHA(ev.StatusCheck.HeadSHA) || ev.StatusCheck.CheckID <= 0) {
			t.Fatalf("accepted %+v", ev.StatusCheck)
		}
	})
}
