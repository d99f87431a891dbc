package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "patchgate.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := LoadConfig("", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:8080" || cfg.Database != "sqlite://patchgate.db" {
		t.Fatalf("got listen %s database %s, want the embedded defaults", cfg.Listen, cfg.Database)
	}
}

func TestLoadConfigFileAndEnv(t *testing.T) {
	path := writeConfig(t, `
listen: 127.0.0.1:9090
database: sqlite://x.db
github:
  api_url: https://ghe.example.com/api/v3
  token: ${GH_TOKEN}
  webhook_secrets: [${SECRET_OLD}, ${SECRET_NEW}]
repos:
  - forge: github
    name: acme/payments
    ticket_keys: [pay]
  - forge: gitlab
    name: acme/platform/api
    ticket_keys: [OPS]
release_managers:
  github: [alice]
`)
	cfg, err := LoadConfig(path, envOf(map[string]string{
		"GH_TOKEN": "t0k", "SECRET_OLD": "old-secret-1", "SECRET_NEW": "new: secret #2",
		"PATCHGATE_LISTEN": "127.0.0.1:7070",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:7070" {
		t.Errorf("got listen %s, want the environment's", cfg.Listen)
	}
	if cfg.GitHub.Token != "t0k" || len(cfg.GitHub.WebhookSecrets) != 2 || cfg.GitHub.WebhookSecrets[1] != "new: secret #2" {
		t.Errorf("got token %q secrets %q, want expanded values", cfg.GitHub.Token, cfg.GitHub.WebhookSecrets)
	}
	if cfg.GitHub.APIURL != "https://ghe.example.com/api/v3/" || cfg.GitHub.WebHost() != "ghe.example.com" {
		t.Errorf("got api %s host %s", cfg.GitHub.APIURL, cfg.GitHub.WebHost())
	}
	if r := cfg.Repos[0].Repository(); r.TicketKeys[0] != "PAY" {
		t.Errorf("got keys %v, want upper-cased", r.TicketKeys)
	}
	if cfg.GitLab.WebHost() != "gitlab.com" {
		t.Errorf("got gitlab host %s", cfg.GitLab.WebHost())
	}
}

func TestLoadConfigErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name string
		body string
		env  map[string]string
		want string
	}{
		{"bad listen", "listen: nowhere", nil, "listen"},
		{"bad database", "database: mysql://x", nil, "database"},
		{"unknown key", "lisen: 1", nil, "lisen"},
		{"bad forge", "repos: [{forge: bitbucket, name: a/b}]", nil, "repos[0]"},
		{"bad repo name", "repos: [{forge: github, name: nope}]", nil, "repos[0]"},
		{"bad key", "repos: [{forge: github, name: a/b, ticket_keys: ['9X']}]", nil, "repos[0]"},
		{"duplicate repo", "repos: [{forge: github, name: a/b}, {forge: github, name: A/B}]", nil, "repos[1]"},
		{"short secret", "github: {webhook_secrets: [abc]}", nil, "github.webhook_secrets[0]"},
		{"missing variable", "github: {token: ${NOPE}}", nil, "NOPE"},
		{"bad api url", "gitlab: {api_url: 'gitlab.com'}", nil, "gitlab.api_url"},
		{"bad log level", "log: {level: loud}", nil, "log.level"},
		{"bad env repos", "", map[string]string{"PATCHGATE_REPOS": "[{"}, "PATCHGATE_REPOS"},
		{"short retention", "workers: {delivery_retention: 1h}", nil, "delivery_retention"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(writeConfig(t, tt.body), envOf(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	if got := redactURL("postgres://u:hunter2@db:5432/p"); strings.Contains(got, "hunter2") {
		t.Fatalf("got %s, want the password hidden", got)
	}
}
