package main

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
)

func TestConfigSecretsListsEverySecret(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Database = "postgres://patchgate:db-password-1@db:5432/patchgate"
	cfg.GitHub.Token, cfg.GitLab.Token = "ghp_token", "glpat-token"
	cfg.GitHub.WebhookSecrets, cfg.GitLab.WebhookSecrets = []string{"gh-hook-old", "gh-hook-new"}, []string{"gl-hook"}
	cfg.Repos = []RepoConfig{{Forge: "github", Name: "acme/payments", WebhookSecrets: []string{"repo-hook"}, Secrets: map[string]string{"DEPLOY_KEY": "deploy-key"}}}
	cfg.ReleaseWebhook = WebhookConfig{URL: "https://hooks.example/r", Secret: "release-secret"}
	cfg.SLAWebhook = WebhookConfig{URL: "https://hooks.example/s", Secret: "sla-secret"}
	cfg.Trackers = []TrackerConfig{{Token: "jira-token", WebhookSecrets: []string{"jira-hook"}}}
	want := []string{"db-password-1", "deploy-key", "gh-hook-new", "gh-hook-old", "ghp_token", "gl-hook", "glpat-token", "jira-hook", "jira-token", "release-secret", "repo-hook", "sla-secret"}
	if got := cfg.Secrets(); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestSecretsNeverReachTheStoredLog runs a suite that prints every secret the
// configuration holds (the suite secret through its environment variable, the
// others as text) and checks that the stored log has only *** in their place.
func TestSecretsNeverReachTheStoredLog(t *testing.T) {
	requireDocker(t)
	owner := "secrets-" + randomID()
	secrets := map[string]string{
		"forge token":            "forge-token",
		"global webhook secret":  "old-secret-1",
		"repo webhook secret":    "repo-hook-secret-7",
		"suite secret":           "dk-2f9a7c1e5b",
		"release webhook secret": "release-signing-secret-16",
	}
	app := startApp(t, func(c *Config) {
		c.Runners.Owner = owner
		c.Runners.Workers = 1
		c.Runners.Heartbeat = time.Second
		c.Repos[0].WebhookSecrets = []string{secrets["repo webhook secret"]}
		c.Repos[0].Secrets = map[string]string{"DEPLOY_KEY": secrets["suite secret"]}
		c.ReleaseWebhook = WebhookConfig{URL: "http://127.0.0.1:9/never-called", Secret: secrets["release webhook secret"]}
	})
	var run strings.Builder
	for name, v := range secrets {
		if name == "suite secret" {
			run.WriteString(`echo "suite secret: $DEPLOY_KEY"; `)
			continue
		}
		fmt.Fprintf(&run, "echo '%s: %s'; ", name, v)
	}
	run.WriteString("echo done")
	repo := newGitRepo(t, app.forge, testRepo)
	head := repo.commit("print secrets", map[string][]byte{".patchgate.yml": []byte(
		"suites:\n  leak:\n    image: patchgate-test/runner:go1.26\n    run: " + fmt.Sprintf("%q", run.String()) + "\n")})
	app.openPR(t, "opened", 2, "HW-1: fix", "Fixes HW-1", "fix/HW-1", head, "", time.Now())
	v := app.waitVerification(t, head, final, 3*time.Minute)
	if v.State != patchgate.RunSuccess {
		t.Fatalf("got %s (%s), want success", v.State, v.Reason)
	}
	log := runCLI(t, "logs", fmt.Sprint(v.ID), "leak", "--server", app.url, "--token", app.token)
	if !strings.Contains(log, "done") {
		t.Fatalf("got log %q, want the suite's output", log)
	}
	for name, value := range secrets {
		if strings.Contains(log, value) {
			t.Errorf("the stored log shows the %s %q:\n%s", name, value, log)
		}
		if !strings.Contains(log, name+": ***") {
			t.Errorf("the stored log lacks %q:\n%s", name+": ***", log)
		}
	}
	if left := leftovers(t, owner); left != "" {
		t.Errorf("left behind: %s", left)
	}
}

// TestEncodedSecretsNeverReachTheStoredLog runs a suite that prints its secret
// encoded in every common way (base64 and base64url with and without padding,
// base64 shifted by one and two bytes of other data, base64 in lines, hex in
// both cases, URL query and path escaping) and checks that the stored log has *** in its place.
func TestEncodedSecretsNeverReachTheStoredLog(t *testing.T) {
	requireDocker(t)
	owner := "encoded-" + randomID()
	// Chosen so that every encoding differs: base64 has / and padding, the
	// URL escapes differ in the space and the +.
	const secret = "dk/2f+9a 7c=1e&5b?>"
	app := startApp(t, func(c *Config) {
		c.Runners.Owner = owner
		c.Runners.Workers = 1
		c.Runners.Heartbeat = time.Second
		// LONG_KEY's base64 is longer than a line of base64's output.
		c.Repos[0].Secrets = map[string]string{"DEPLOY_KEY": secret, "LONG_KEY": strings.Repeat("long-secret/", 8)}
	})
	// Each line prints "name: <encoding>"; the shell does the encoding where
	// the runner image has a tool for it.
	lines := []struct{ name, shell string }{
		{"base64", `printf %s "$DEPLOY_KEY" | base64`},
		{"base64 unpadded", `printf %s "$DEPLOY_KEY" | base64 | tr -d =`},
		{"base64url", `printf %s "$DEPLOY_KEY" | base64 | tr +/ -_`},
		{"base64url unpadded", `printf %s "$DEPLOY_KEY" | base64 | tr +/ -_ | tr -d =`},
		{"base64 after one byte", `printf x%s "$DEPLOY_KEY" | base64`},
		{"base64 after two bytes", `printf xy%s "$DEPLOY_KEY" | base64`},
		{"base64url after two bytes", `printf xy%s. "$DEPLOY_KEY" | base64 | tr +/ -_`},
		{"base64 in lines of 76", `printf %s "$LONG_KEY" | base64`},
		{"hex", `printf %s "$DEPLOY_KEY" | xxd -p`},
		{"HEX", `printf %s "$DEPLOY_KEY" | xxd -p | tr a-f A-F`},
		{"query", `echo '` + url.QueryEscape(secret) + `'`},
		{"path", `echo '` + url.PathEscape(secret) + `'`},
	}
	var run strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&run, `echo "%s: $(%s)"; `, l.name, l.shell)
	}
	run.WriteString("echo done")
	repo := newGitRepo(t, app.forge, testRepo)
	head := repo.commit("print encoded secrets", map[string][]byte{".patchgate.yml": []byte(
		"suites:\n  leak:\n    image: patchgate-test/runner:go1.26\n    run: " + fmt.Sprintf("%q", run.String()) + "\n")})
	app.openPR(t, "opened", 2, "HW-1: fix", "Fixes HW-1", "fix/HW-1", head, "", time.Now())
	v := app.waitVerification(t, head, final, 3*time.Minute)
	if v.State != patchgate.RunSuccess {
		t.Fatalf("got %s (%s), want success", v.State, v.Reason)
	}
	log := runCLI(t, "logs", fmt.Sprint(v.ID), "leak", "--server", app.url, "--token", app.token)
	if !strings.Contains(log, "done") {
		t.Fatalf("got log %q, want the suite's output", log)
	}
	for _, l := range lines {
		_, printed, ok := strings.Cut(log, "\n"+l.name+": ")
		printed, _, _ = strings.Cut(printed, "\n")
		// Around a shifted encoding, the characters that mix the secret's
		// bits with its neighbours' stay, and the padding: a few at most.
		if rest := strings.Replace(printed, "***", "", 1); !ok || !strings.Contains(printed, "***") || len(rest) > 7 {
			t.Errorf("the stored log shows %s as %q, want *** (at most a few characters of other data around it)", l.name, printed)
		}
	}
	if left := leftovers(t, owner); left != "" {
		t.Errorf("left behind: %s", left)
	}
}
