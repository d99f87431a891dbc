package webhooks_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/webhooks"
)

// sources are GitHub's and GitLab's intake for the configured acme/pay and
// acme/private: forge-wide secrets being rotated (old and new), and
// acme/private's and acme/shared's own.
func sources() (github, gitlab *webhooks.Source) {
	dir := patchgate.NewRepositoryDirectory([]*patchgate.Repository{
		{Forge: patchgate.GitHub, Name: "acme/pay"}, {Forge: patchgate.GitHub, Name: "acme/private"},
		{Forge: patchgate.GitLab, Name: "acme/pay"},
	})
	secrets := webhooks.Secrets{Forge: []string{"old", "new"},
		Repos: map[string][]string{"acme/private": {"private"}, "acme/shared": {"private", "shared"}}}
	return &webhooks.Source{Forge: patchgate.GitHub, Secrets: secrets, Repos: dir},
		&webhooks.Source{Forge: patchgate.GitLab, Secrets: secrets, Repos: dir}
}

func TestSourceVerify(t *testing.T) {
	github, gitlab := sources()
	body := []byte(`{"zen": "hello"}`)
	signed := func(secret string) http.Header {
		return http.Header{webhooks.HeaderGitHubSignature: {webhooks.SignGitHub(secret, body)}}
	}
	token := func(secret string) http.Header { return http.Header{webhooks.HeaderGitLabToken: {secret}} }
	tests := []struct {
		name      string
		source    *webhooks.Source
		header    http.Header
		wantScope []string
		wantCode  string
	}{
		{name: "github old forge secret", source: github, header: signed("old")},
		{name: "github new forge secret", source: github, header: signed("new")},
		{name: "github repository secret", source: github, header: signed("shared"), wantScope: []string{"acme/shared"}},
		{name: "github secret two repositories share", source: github, header: signed("private"), wantScope: []string{"acme/private", "acme/shared"}},
		{name: "github wrong secret", source: github, header: signed("wrong"), wantCode: patchgate.EUNAUTHORIZED},
		{name: "gitlab forge token", source: gitlab, header: token("new")},
		{name: "gitlab repository token", source: gitlab, header: token("shared"), wantScope: []string{"acme/shared"}},
		{name: "gitlab wrong token", source: gitlab, header: token("wrong"), wantCode: patchgate.EUNAUTHORIZED},
		{name: "nothing configured", source: &webhooks.Source{Forge: patchgate.GitHub}, header: signed("new"), wantCode: patchgate.EUNAUTHORIZED},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b []byte
			if tc.source.SignsBody() {
				b = body
			}
			scope, err := tc.source.Verify(tc.header, b)
			slices.Sort(scope)
			if got := patchgate.ErrorCode(err); got != tc.wantCode || !slices.Equal(scope, tc.wantScope) {
				t.Fatalf("got %v, %v; want %v, code %q", scope, err, tc.wantScope, tc.wantCode)
			}
		})
	}
}

func TestSourcePeek(t *testing.T) {
	github, gitlab := sources()
	pr := func(repo string) []byte {
		return []byte(`{"action": "opened", "repository": {"full_name": "` + repo + `"}}`)
	}
	tests := []struct {
		name     string
		source   *webhooks.Source
		event    string
		body     []byte
		scope    []string
		want     patchgate.WebhookPeek
		wantCode string
	}{
		{name: "forge secret, configured repository", source: github, event: "pull_request", body: pr("acme/pay"),
			want: patchgate.WebhookPeek{Event: "pull_request", Repo: "acme/pay", Action: "opened"}},
		{name: "repository secret, its repository", source: github, event: "pull_request", body: pr("acme/private"), scope: []string{"acme/private"},
			want: patchgate.WebhookPeek{Event: "pull_request", Repo: "acme/private", Action: "opened"}},
		{name: "repository secret, another repository", source: github, event: "pull_request", body: pr("acme/pay"), scope: []string{"acme/private"},
			wantCode: patchgate.EFORBIDDEN},
		{name: "repository not configured", source: github, event: "pull_request", body: pr("acme/other"),
			want: patchgate.WebhookPeek{Event: "pull_request", Repo: "acme/other", Action: "opened", Ignored: "repository acme/other is not configured"}},
		{name: "event not used keeps its repository", source: github, event: "star", body: pr("acme/pay"),
			want: patchgate.WebhookPeek{Event: "star", Repo: "acme/pay", Ignored: `event "star" is not used`}},
		{name: "event not used, another repository's secret", source: github, event: "star", body: pr("acme/pay"), scope: []string{"acme/private"},
			wantCode: patchgate.EFORBIDDEN},
		{name: "not JSON", source: github, event: "pull_request", body: []byte(`{`), wantCode: patchgate.EINVALID},
		{name: "gitlab merge request", source: gitlab, event: "Merge Request Hook",
			body: []byte(`{"object_attributes": {"action": "open"}, "project": {"path_with_namespace": "acme/pay"}}`),
			want: patchgate.WebhookPeek{Event: "Merge Request Hook", Repo: "acme/pay", Action: "open"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.source.Peek(tc.event, tc.body, tc.scope)
			if code := patchgate.ErrorCode(err); code != tc.wantCode || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v, code %q", got, err, tc.want, tc.wantCode)
			}
		})
	}
}

func TestSourceParseIgnored(t *testing.T) {
	github, _ := sources()
	ev, ignored, err := github.Parse("ping", []byte(`{"zen": "hello"}`))
	if ev != nil || ignored != "ping" || err != nil {
		t.Fatalf("got %+v, %q, %v; want no event, ignored ping", ev, ignored, err)
	}
}
