package main

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate/config"
)

// TestConfigKeysCoverConfig: every key of Config that holds a value is in the
// key table once (so it has a PATCHGATE_* variable), and the table names no
// key Config does not have.
func TestConfigKeysCoverConfig(t *testing.T) {
	var paths []string
	for _, k := range configKeys {
		if slices.Contains(paths, k.Path) {
			t.Errorf("key %s is in the table twice", k.Path)
		}
		paths = append(paths, k.Path)
		if k.Doc == "" {
			t.Errorf("key %s has no doc", k.Path)
		}
		if k.Kind == config.KindJSON && k.Want == "" {
			t.Errorf("key %s is JSON without saying what it wants", k.Path)
		}
	}
	leaves := config.Leaves(reflect.TypeFor[Config]())
	for _, l := range leaves {
		if !slices.Contains(paths, l) {
			t.Errorf("Config key %s is not in the key table: got no PATCHGATE_* variable for it", l)
		}
	}
	for _, p := range paths {
		if !slices.Contains(leaves, p) {
			t.Errorf("key table names %s, which Config does not have", p)
		}
	}
}

// TestConfigKeysDefaults: the table's defaults are DefaultConfig's.
func TestConfigKeysDefaults(t *testing.T) {
	var got Config
	err := config.ApplyEnv(&got, configKeys, func(name string) (string, bool) {
		for _, k := range configKeys {
			if k.Env() == name && k.Default != "" {
				return k.Default, true
			}
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := DefaultConfig(); !reflect.DeepEqual(got, want) {
		t.Errorf("the table's defaults: got %+v, want DefaultConfig's %+v", got, want)
	}
}

// TestConfigEnvOfEveryKind: each key's variable is read as its kind says,
// into a field of that kind.
func TestConfigEnvOfEveryKind(t *testing.T) {
	sample := map[config.Kind]string{
		config.KindString: "x", config.KindBool: "true", config.KindInt: "3", config.KindFloat: "1.5",
		config.KindDuration: "90s", config.KindSize: "4g", config.KindList: "a,b", config.KindJSON: "null",
	}
	for _, k := range configKeys {
		t.Run(k.Path, func(t *testing.T) {
			var cfg Config
			if err := config.ApplyEnv(&cfg, []config.Key{k}, envOf(map[string]string{k.Env(): sample[k.Kind]})); err != nil {
				t.Errorf("%s=%s: got %v, want it read", k.Env(), sample[k.Kind], err)
			}
		})
	}
}

// TestConfigEnvNamesKept: every variable that configured patchgate before
// the key table still does.
func TestConfigEnvNamesKept(t *testing.T) {
	var names []string
	for _, k := range configKeys {
		names = append(names, k.Env())
	}
	for _, old := range []string{
		"PATCHGATE_LISTEN", "PATCHGATE_DATABASE", "PATCHGATE_PUBLIC_URL",
		"PATCHGATE_GITHUB_API_URL", "PATCHGATE_GITHUB_WEB_URL", "PATCHGATE_GITHUB_TOKEN", "PATCHGATE_GITHUB_WEBHOOK_SECRETS",
		"PATCHGATE_GITLAB_API_URL", "PATCHGATE_GITLAB_WEB_URL", "PATCHGATE_GITLAB_TOKEN", "PATCHGATE_GITLAB_WEBHOOK_SECRETS",
		"PATCHGATE_LOG_LEVEL", "PATCHGATE_LOG_FORMAT", "PATCHGATE_MIGRATE", "PATCHGATE_WORKERS_DELIVERIES",
		"PATCHGATE_RUNNERS_OWNER", "PATCHGATE_AUDIT_KEY_FILE", "PATCHGATE_INTAKE_MAX_UNVERIFIED",
		"PATCHGATE_RELEASE_WEBHOOK_URL", "PATCHGATE_RELEASE_WEBHOOK_SECRET", "PATCHGATE_RUNNERS_WORKERS",
		"PATCHGATE_RUNNERS_RETRIES", "PATCHGATE_REPOS", "PATCHGATE_RELEASE_MANAGERS",
	} {
		if !slices.Contains(names, old) {
			t.Errorf("%s: got no key with this variable, want it kept", old)
		}
	}
}

// TestConfigEnvInREADME: the README's paragraph "Environment variables:"
// names every key's variable and no other (but PATCHGATE_CONFIG, the file's).
func TestConfigEnvInREADME(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, para, ok := strings.Cut(string(raw), "\nEnvironment variables:")
	if !ok {
		t.Fatal(`README.md: got no paragraph "Environment variables:"`)
	}
	para, _, _ = strings.Cut(para, "\n\n")
	var got []string
	for _, m := range regexp.MustCompile("`(PATCHGATE_[A-Z0-9_]+)`").FindAllStringSubmatch(para, -1) {
		if !slices.Contains(got, m[1]) {
			got = append(got, m[1])
		}
	}
	want := []string{"PATCHGATE_CONFIG"}
	for _, k := range configKeys {
		want = append(want, k.Env())
	}
	slices.Sort(got)
	slices.Sort(want)
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("README.md does not list %s", w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			t.Errorf("README.md lists %s, which is no key's variable", g)
		}
	}
}

// TestLoadConfigEnvForms: keys that had no variable before the key table
// have one now, read and validated like the file's.
func TestLoadConfigEnvForms(t *testing.T) {
	cfg, err := LoadConfig("", envOf(map[string]string{
		"PATCHGATE_RUNNERS_MAX_MEMORY":         "4g",
		"PATCHGATE_RUNNERS_MAX_CPUS":           "2.5",
		"PATCHGATE_RUNNERS_JOB_TIMEOUT":        "2h",
		"PATCHGATE_WORKERS_DELIVERY_RETENTION": "720h",
		"PATCHGATE_SLA_WEBHOOK_URL":            "https://hooks.example.com/sla",
		"PATCHGATE_SLA_WEBHOOK_SECRET":         "sixteen-characters",
		"PATCHGATE_TRACKERS": `[{"kind":"jira","name":"acme","url":"https://acme.atlassian.net","email":"bot@acme.example",
			"token":"t","webhook_secrets":["jira-webhook-secret"],"projects":["PAY"],"read_timeout":"3s",
			"severity":{"map":{"Highest":"critical"}}}]`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.Runners.Ceilings(); c.MemoryBytes != 4<<30 || c.NanoCPUs != 25e8 {
		t.Errorf("got ceilings %+v, want 4g and 2.5 CPUs", c)
	}
	if cfg.Runners.JobTimeout != 2*time.Hour || cfg.Workers.DeliveryRetention != 720*time.Hour {
		t.Errorf("got job_timeout %s, delivery_retention %s", cfg.Runners.JobTimeout, cfg.Workers.DeliveryRetention)
	}
	if cfg.SLAWebhook.URL != "https://hooks.example.com/sla" {
		t.Errorf("got sla_webhook.url %q", cfg.SLAWebhook.URL)
	}
	if len(cfg.Trackers) != 1 || cfg.Trackers[0].ReadTimeout != 3*time.Second || cfg.Trackers[0].Severity.Map["Highest"] != "critical" ||
		cfg.Trackers[0].WebhookSecrets[0] != "jira-webhook-secret" {
		t.Errorf("got trackers %+v", cfg.Trackers)
	}

	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"not a duration", map[string]string{"PATCHGATE_RUNNERS_HEARTBEAT": "soon"}, `PATCHGATE_RUNNERS_HEARTBEAT: want a duration such as 30s, 10m or 2h, got "soon"`},
		{"out of range", map[string]string{"PATCHGATE_RUNNERS_MAX_ENVIRONMENTS": "99"}, "config key runners.max_environments: 99: want 1 to 25"},
		{"a bad size", map[string]string{"PATCHGATE_RUNNERS_MAX_MEMORY": "lots"}, "config key runners.max_memory"},
		{"a queue wait too short", map[string]string{"PATCHGATE_RUNNERS_MAX_QUEUE_WAIT": "500ms"}, "config key runners.max_queue_wait: 500ms: want 1s to 24h"},
		{"bad tracker JSON", map[string]string{"PATCHGATE_TRACKERS": "[{"}, "PATCHGATE_TRACKERS: want a JSON list of trackers"},
		{"a bad tracker", map[string]string{"PATCHGATE_TRACKERS": `[{"kind":"redmine"}]`}, `config key trackers[0].kind: "redmine": want jira`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig("", envOf(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestConfigKeyRangesAreValidated: a number or duration just past the top
// of a key's "LOW to HIGH" range is refused, with the range in the message,
// so the table documents what Validate holds.
func TestConfigKeyRangesAreValidated(t *testing.T) {
	for _, k := range configKeys {
		_, high, ok := strings.Cut(k.Range, " to ")
		if !ok {
			continue
		}
		var over string
		switch k.Kind {
		case config.KindInt, config.KindFloat:
			n, err := strconv.ParseFloat(high, 64)
			if err != nil {
				t.Fatalf("%s: range %q: got %v, want a number on top", k.Path, k.Range, err)
			}
			over = strconv.FormatFloat(n+1, 'f', -1, 64)
		case config.KindDuration:
			d, err := time.ParseDuration(high)
			if err != nil {
				t.Fatalf("%s: range %q: got %v, want a duration on top", k.Path, k.Range, err)
			}
			over = (d + time.Second).String()
		default:
			continue
		}
		t.Run(k.Path, func(t *testing.T) {
			_, err := LoadConfig("", envOf(map[string]string{k.Env(): over}))
			want := "config key " + k.Path + ": " + over
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "want "+k.Range) {
				t.Errorf("%s=%s: got %v, want %q and %q", k.Env(), over, err, want, "want "+k.Range)
			}
		})
	}
}
