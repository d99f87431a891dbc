package main

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
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
	if cfg.Runners.Retries != 2 || cfg.Runners.RetryBackoff <= 0 {
		t.Errorf("got runners.retries %d, retry_backoff %s; want 2 retries with a backoff", cfg.Runners.Retries, cfg.Runners.RetryBackoff)
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
	if r := cfg.Repos[0].Repository(cfg.Release); r.TicketKeys[0] != "PAY" {
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
		{"missing variable", "database: ${NOPE}", nil, "NOPE (in database)"},
		{"missing variable of a forge in use", "github: {token: ${NOPE}}\nrepos: [{forge: github, name: acme/api}]", nil, "NOPE (in github)"},
		{"bad api url", "gitlab: {api_url: 'gitlab.com'}", nil, "gitlab.api_url"},
		{"bad log level", "log: {level: loud}", nil, "log.level"},
		{"bad env repos", "", map[string]string{"PATCHGATE_REPOS": "[{"}, "PATCHGATE_REPOS"},
		{"short retention", "workers: {delivery_retention: 1h}", nil, "delivery_retention"},
		{"negative retries", "runners: {retries: -1}", nil, "runners.retries"},
		{"bad env retries", "", map[string]string{"PATCHGATE_RUNNERS_RETRIES": "many"}, "PATCHGATE_RUNNERS_RETRIES"},
		{"long retry backoff", "runners: {retry_backoff: 1h}", nil, "runners.retry_backoff"},
		{"bad memory ceiling", "runners: {max_memory: lots}", nil, "runners.max_memory"},
		{"bad cpu ceiling", "runners: {max_cpus: -1}", nil, "runners.max_cpus"},
		{"bad pids ceiling", "runners: {max_pids: 3}", nil, "runners.max_pids"},
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

func TestConfigDigestHidesSecretsButSeesTheirRotation(t *testing.T) {
	a := DefaultConfig()
	a.GitHub.WebhookSecrets = []string{"first-secret-value"}
	b := a
	b.GitHub.WebhookSecrets = []string{"second-secret-value"}
	if a.Digest() == b.Digest() {
		t.Fatal("a rotated secret did not change the digest")
	}
	if a.Digest() != a.Digest() {
		t.Fatal("the digest is not stable")
	}
	if strings.Contains(a.Digest(), "first-secret") {
		t.Fatal("the digest shows the secret")
	}
	if a.GitHub.WebhookSecrets[0] != "first-secret-value" {
		t.Fatal("Digest changed the configuration it was given")
	}
}

func TestLoadConfigSLA(t *testing.T) {
	path := writeConfig(t, `
repos:
  - forge: github
    name: acme/payments
    sla:
      critical: {verified: 4h, released: 12h}
      low: {verified: 24h, released: 24h}
  - forge: gitlab
    name: acme/platform/api
`)
	cfg, err := LoadConfig(path, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	h := time.Hour
	want := patchgate.DefaultSLAPolicy()
	want[patchgate.SeverityCritical] = patchgate.SLATarget{Verified: 4 * h, Released: 12 * h}
	want[patchgate.SeverityLow] = patchgate.SLATarget{Verified: 24 * h, Released: 24 * h}
	if got := cfg.Repos[0].Repository(cfg.Release).SLA; !maps.Equal(got, want) {
		t.Errorf("configured sla: got %v, want %v", got, want)
	}
	if got := cfg.Repos[1].Repository(cfg.Release).SLA; !maps.Equal(got, patchgate.DefaultSLAPolicy()) {
		t.Errorf("no sla block: got %v, want the defaults", got)
	}

	_, err = LoadConfig("", envOf(map[string]string{
		"PATCHGATE_REPOS": `[{"forge":"github","name":"acme/payments","sla":{"high":{"verified":"2h","released":"1h30m"}}}]`,
	}))
	if err == nil || !strings.Contains(err.Error(), "repos[0].sla.high.released") {
		t.Fatalf("PATCHGATE_REPOS with released < verified: got %v, want an error naming repos[0].sla.high.released", err)
	}
	env, err := LoadConfig("", envOf(map[string]string{
		"PATCHGATE_REPOS": `[{"forge":"github","name":"acme/payments","sla":{"high":{"verified":"2h","released":"6h"}}}]`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := env.Repos[0].Repository(env.Release).SLA[patchgate.SeverityHigh]; got != (patchgate.SLATarget{Verified: 2 * h, Released: 6 * h}) {
		t.Errorf("PATCHGATE_REPOS sla: got %+v, want 2h/6h", got)
	}

	tests := []struct {
		name string
		body string
		env  map[string]string
		want string
	}{
		{"unknown severity", "repos: [{forge: github, name: a/b, sla: {urgent: {verified: 1h, released: 2h}}}]", nil, `repos[0].sla.urgent: unknown severity "urgent"`},
		{"unknown is not a severity with targets", "repos: [{forge: github, name: a/b, sla: {unknown: {verified: 1h, released: 2h}}}]", nil, "repos[0].sla.unknown"},
		{"zero verified", "repos: [{forge: github, name: a/b, sla: {high: {released: 2h}}}]", nil, "repos[0].sla.high.verified"},
		{"negative verified", "repos: [{forge: github, name: a/b, sla: {high: {verified: -1h, released: 2h}}}]", nil, "repos[0].sla.high.verified"},
		{"released before verified", "repos: [{forge: github, name: a/b}, {forge: gitlab, name: c/d, sla: {low: {verified: 3h, released: 2h}}}]", nil, "repos[1].sla.low.released"},
		{"not a duration", "repos: [{forge: github, name: a/b, sla: {high: {verified: soon, released: 2h}}}]", nil, "soon"},
		{"unknown target key", "repos: [{forge: github, name: a/b, sla: {high: {verify: 1h}}}]", nil, "verify"},
		{"bad env duration", "", map[string]string{"PATCHGATE_REPOS": `[{"forge":"github","name":"a/b","sla":{"high":{"verified":"soon"}}}]`}, "PATCHGATE_REPOS"},
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

// TestLoadConfigVariablesAsANewcomerWritesThem: the README's example, copied
// with its comments, loads; a ${VAR} in a comment is not expanded; an unused
// forge's unset secrets are no error; a block scalar's # is text.
func TestLoadConfigVariablesAsANewcomerWritesThem(t *testing.T) {
	path := writeConfig(t, `# patchgate.yaml — every key can also come from PATCHGATE_* (see below); ${VAR} is expanded.
listen: 127.0.0.1:8080   # or ${LISTEN_ADDR}
github:
  token: ${GITHUB_TOKEN}
  webhook_secrets: [${GITHUB_WEBHOOK_SECRET}]   # several while rotating: ${NEXT_SECRET}
gitlab:
  token: ${GITLAB_TOKEN}        # no GitLab repository below: not needed
  webhook_secrets: [${GITLAB_WEBHOOK_SECRET}]
repos:
  - forge: github
    name: acme/payments
    ticket_keys: [PAY]
    trusted_users: ["alice#1"]
`)
	env := envOf(map[string]string{"GITHUB_TOKEN": "ghp_x", "GITHUB_WEBHOOK_SECRET": "s3cret # not a comment"})
	cfg, err := LoadConfig(path, env)
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	if cfg.GitHub.Token != "ghp_x" || len(cfg.GitHub.WebhookSecrets) != 1 || cfg.GitHub.WebhookSecrets[0] != "s3cret # not a comment" {
		t.Errorf("github: token %q secrets %q", cfg.GitHub.Token, cfg.GitHub.WebhookSecrets)
	}
	if cfg.GitLab.Token != "" || cfg.Repos[0].TrustedUsers[0] != "alice#1" {
		t.Errorf("gitlab token %q, trusted %q", cfg.GitLab.Token, cfg.Repos[0].TrustedUsers)
	}
	// The same file without GITHUB_TOKEN names what is missing and where.
	_, err = LoadConfig(path, envOf(map[string]string{"GITHUB_WEBHOOK_SECRET": "x"}))
	if err == nil || !strings.Contains(err.Error(), "GITHUB_TOKEN (in github)") || strings.Contains(err.Error(), "GITLAB") {
		t.Fatalf("without GITHUB_TOKEN: got %v, want it named, and nothing about GitLab", err)
	}
}

// TestAdminCommandsRefuseToCreateADatabase: token, audit and migrate run
// without --config in a directory with no database say so, and create none.
func TestAdminCommandsRefuseToCreateADatabase(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("PATCHGATE_CONFIG", "")
	for _, args := range [][]string{
		{"token", "create", "--name", "alice", "--role", "admin"},
		{"audit", "verify"},
		{"migrate"},
	} {
		_, err := execCLI(args...)
		if err == nil || !strings.Contains(err.Error(), "no patchgate database at patchgate.db: pass --config or --database") {
			t.Errorf("%v: got %v, want the missing database named with the next step", args, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the commands left %d files in the working directory, want none", len(entries))
	}
	// With --database naming the database a server made, they work.
	path := filepath.Join(t.TempDir(), "served.db")
	if _, err := execCLI("--database", "sqlite://"+path, "migrate"); err == nil {
		t.Fatal("migrate of a database that does not exist yet: want the refusal")
	}
	db, err := store.Open(context.Background(), "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if out, err := execCLI("--database", "sqlite://"+path, "token", "create", "--name", "alice", "--role", "viewer"); err != nil || !strings.Contains(out, "pgt_") {
		t.Fatalf("token create with --database: %q, %v", out, err)
	}
}

// TestLoadConfigErrorsPointIntoTheFile: each problem of a server configuration
// names its file, line and dotted key, lists the valid keys where a key is
// unknown, and all of a file's problems come at once.
func TestLoadConfigErrorsPointIntoTheFile(t *testing.T) {
	const repos = `repos:
  - forge: github
    name: acme/payments
    ticket_keys: [PAY]
  - forge: github
    name: acme/api
    ticket_keys: OPS
`
	tests := []struct {
		name string
		body string
		want []string // substrings after "FILE:"
	}{
		{"unknown top-level key", "listen: 127.0.0.1:8080\nrunner:\n  workers: 2\n",
			[]string{":2: unknown config key runner (valid keys at the top level: audit, database, enforcement, escalation, evidence, github, gitlab, intake, listen, log, migrate, public_url, reconcile, release, release_managers, release_webhook, reports, repos, runners, sla_webhook, trackers, workers)"}},
		{"unknown nested key", "runners:\n  workers: 1\n  ownr: build-1\n",
			[]string{":3: unknown config key runners.ownr (valid keys under runners: heartbeat, job_timeout, max_cpus, max_environments, max_memory, max_pids, max_queue_wait, max_timeout, owner, retries, retry_backoff, workers)"}},
		{"unknown key in a list item", repos[:len(repos)-len("    ticket_keys: OPS\n")] + "    tickets: [OPS]\n",
			[]string{":7: unknown config key repos[1].tickets (valid keys under repos[1]: contract, deploy_requires, egress, environments, forge, name, release, secrets, sla, supplier, support_level, ticket_keys, title_prefix_fixes, trusted_users, webhook_secrets)"}},
		{"wrong type in a list item", repos,
			[]string{`:7: config key repos[1].ticket_keys: want a list, like [a, b], got "OPS"`}},
		{"not a number", "runners:\n  workers: two\n",
			[]string{`:2: config key runners.workers: want a whole number, got "two"`}},
		{"not a duration", "runners:\n  job_timeout: an hour\n",
			[]string{`:2: config key runners.job_timeout: want a duration such as 30s, 10m or 2h, got "an hour"`}},
		{"a value where a mapping belongs", "runners: 4\n",
			[]string{`:1: config key runners: want a mapping of keys, got "4"`}},
		{"bad value from Validate", "listen: 127.0.0.1:8080\nrunners:\n  workers: 40\n",
			[]string{":3: config key runners.workers: 40: want 0 to 16"}},
		{"bad value in a list item from Validate", "repos:\n  - forge: github\n    name: acme/payments\n  - forge: bitbucket\n    name: acme/api\n",
			[]string{":4: config key repos[1].forge: "}},
		{"bad ticket key from Validate", "repos:\n  - forge: github\n    name: acme/payments\n    ticket_keys:\n      - PAY\n      - 9X\n",
			[]string{`:6: config key repos[0].ticket_keys[1]: "9X": want upper-case letters`}},
		{"every problem at once", "runners:\n  workers: 40\n  retries: -1\nlog:\n  format: pretty\n",
			[]string{":2: config key runners.workers", ":3: config key runners.retries", `:5: config key log.format: "pretty": want auto`}},
		{"every unknown key at once", "lisen: x\nrunners:\n  ownr: y\n",
			[]string{":1: unknown config key lisen", ":3: unknown config key runners.ownr"}},
		{"not YAML", "listen: [\n", []string{":1: not valid YAML"}},
		{"unknown key in a merged mapping", "x-defaults: &d\n  forge: github\n  tickets: [A]\nrepos:\n  - <<: *d\n    name: acme/payments\n",
			[]string{":1: unknown config key x-defaults", ":3: unknown config key repos[0].tickets"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.body)
			_, err := LoadConfig(path, envOf(nil))
			if err == nil {
				t.Fatal("got no error")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), path+want) {
					t.Errorf("got %q, want it to contain %q", err, path+want)
				}
			}
		})
	}
	// A value from a variable has no line in the file: the key alone.
	_, err := LoadConfig(writeConfig(t, "listen: 127.0.0.1:8080\n"), envOf(map[string]string{"PATCHGATE_RUNNERS_WORKERS": "40"}))
	if err == nil || !strings.HasPrefix(err.Error(), "config key runners.workers: 40") {
		t.Errorf("PATCHGATE_RUNNERS_WORKERS=40: got %v, want it named without a line", err)
	}
}

// TestConfigCheckServer: `patchgate config check --server FILE` says what a
// good file serves, and lists every problem of a bad one at once: unset
// variables, unknown keys and bad values, each at its line, without the
// consequences of an unset variable (an empty secret is not also "too short").
func TestConfigCheckServer(t *testing.T) {
	dir := t.TempDir()
	good := writeConfig(t, "database: sqlite://"+filepath.Join(dir, "pg.db")+"\ngithub:\n  token: ${CHECK_TEST_TOKEN}\nrepos:\n  - forge: github\n    name: acme/payments\n")
	t.Setenv("CHECK_TEST_TOKEN", "ghp_x")
	out, err := execCLI("config", "check", "--server", good)
	if want := good + ": ok: 1 repositories, database " + filepath.Join(dir, "pg.db") + ", listening on 127.0.0.1:8080"; err != nil || !strings.Contains(out, want) {
		t.Errorf("good file: got %q, %v; want %q", out, err, want)
	}

	bad := writeConfig(t, `github:
  webhook_secrets: [${CHECK_TEST_UNSET}]
repos:
  - forge: github
    name: acme/payments
runners:
  workers: 40
  retries: -1
`)
	_, err = execCLI("config", "check", "--server", bad)
	if err == nil {
		t.Fatal("bad file: got no error")
	}
	for _, want := range []string{
		"3 problem(s)",
		"environment variable CHECK_TEST_UNSET (in github) is not set",
		bad + ":7: config key runners.workers: 40: want 0 to 16",
		bad + ":8: config key runners.retries: -1: want 0 to 10",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("bad file: got %q, want it to contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "webhook_secrets[0]") {
		t.Errorf("bad file: got %q, want no finding on the unset variable's line", err)
	}

	// serve stops on the same problems, one a line, and points at the check.
	twice := writeConfig(t, "runners:\n  workers: 40\n  retries: -1\n")
	_, err = execCLI("serve", "--config", twice)
	if err == nil || !strings.Contains(err.Error(), "2 configuration problems (patchgate config check --server "+twice+" lists them all):\n  "+twice+":2: config key runners.workers") {
		t.Errorf("serve: got %v, want both problems counted", err)
	}

	unknown := writeConfig(t, "listen: 127.0.0.1:8080\nrunner: {workers: 2}\nlog: {fromat: text}\n")
	_, err = execCLI("config", "check", "--server", unknown)
	if err == nil || !strings.Contains(err.Error(), unknown+":2: unknown config key runner") || !strings.Contains(err.Error(), unknown+":3: unknown config key log.fromat (valid keys under log: format, level)") {
		t.Errorf("unknown keys: got %v, want both named with their lines", err)
	}
}
