package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/config"
	"github.com/patchgate/patchgate/runners"
	"github.com/patchgate/patchgate/testenv"
)

// Config is patchgate's configuration: the YAML file given by --config, its
// ${VAR}s expanded, then PATCHGATE_* environment variables on top (one for
// every key of configKeys).
type Config struct {
	Listen    string       `yaml:"listen"`
	Database  string       `yaml:"database"`
	PublicURL string       `yaml:"public_url"`
	GitHub    ForgeConfig  `yaml:"github"`
	GitLab    ForgeConfig  `yaml:"gitlab"`
	Repos     []RepoConfig `yaml:"repos"`
	// ReleaseManagers maps a forge to the users of that forge who may approve.
	ReleaseManagers map[string][]string `yaml:"release_managers"`
	Log             LogConfig           `yaml:"log"`
	Workers         WorkerConfig        `yaml:"workers"`
	Runners         RunnerConfig        `yaml:"runners"`
	// ReleaseWebhook, when its URL is set, is told every promotion, signed
	// with HMAC-SHA256 (X-Patchgate-Signature-256) like GitHub's deliveries.
	ReleaseWebhook WebhookConfig `yaml:"release_webhook"`
	// Migrate applies pending migrations at start-up instead of refusing to start.
	Migrate bool         `yaml:"migrate"`
	Audit   AuditConfig  `yaml:"audit"`
	Intake  IntakeConfig `yaml:"intake"`
	// Trackers are external ticket trackers (Jira) patchgate reads and updates.
	Trackers []TrackerConfig `yaml:"trackers"`
	// SLAWebhook, when its URL is set, is told SLA transitions (at risk,
	// breached), signed like ReleaseWebhook; unset, they go to ReleaseWebhook.
	SLAWebhook WebhookConfig `yaml:"sla_webhook"`
	// Release is the release policy's floor for every repository whose
	// repos[].release does not set a key: .patchgate.yml may only tighten it.
	Release ReleaseConfig `yaml:"release"`
	// Reports configures the SLA and delivery reports.
	Reports ReportsConfig `yaml:"reports"`
	// Enforcement configures the forges' enforcement of the gate.
	Enforcement EnforcementConfig `yaml:"enforcement"`
	// Evidence locates the key release evidence packs are signed with.
	Evidence EvidenceConfig `yaml:"evidence"`
	// Reconcile is head reconciliation with the forges (cmd/patchgate/reconcile.go).
	Reconcile ReconcileConfig `yaml:"reconcile"`
	// Escalation is the escalation policy: each support level's contacts
	// (cmd/patchgate/config_escalation.go).
	Escalation EscalationConfig `yaml:"escalation"`
}

// ReportsConfig configures the reports.
type ReportsConfig struct {
	// RegressionLabel is the label prefix by which a ticket names the
	// release that caused it ("regression:v1.6.0"); "" is "regression:".
	RegressionLabel string `yaml:"regression_label"`
}

// ReleaseConfig is the operator's release policy: the floor a repository's
// .patchgate.yml may tighten and never loosen, since that file comes from the
// code the gate judges.
type ReleaseConfig struct {
	// Approvals is how many distinct release managers must approve.
	Approvals int `yaml:"approvals" json:"approvals"`
	// AllowAuthorApproval lets an author of an included change approve.
	AllowAuthorApproval bool `yaml:"allow_author_approval" json:"allow_author_approval"`
	// AutoPromote lets a repository promote a candidate on its last approval.
	AutoPromote bool `yaml:"auto_promote" json:"auto_promote"`
	// RequireProof makes a fix count only with a fail-to-pass proof.
	RequireProof bool `yaml:"require_proof" json:"require_proof"`
	// Required are suites that must pass, whatever the file says.
	Required []string `yaml:"required" json:"required"`
}

// RepoReleaseConfig is one repository's release floor: each key it sets
// replaces the top-level release's; the others are inherited.
type RepoReleaseConfig struct {
	Approvals           *int     `yaml:"approvals" json:"approvals,omitempty"`
	AllowAuthorApproval *bool    `yaml:"allow_author_approval" json:"allow_author_approval,omitempty"`
	AutoPromote         *bool    `yaml:"auto_promote" json:"auto_promote,omitempty"`
	RequireProof        *bool    `yaml:"require_proof" json:"require_proof,omitempty"`
	Required            []string `yaml:"required" json:"required,omitempty"`
}

// Over returns def with the keys r sets replaced.
func (r *RepoReleaseConfig) Over(def ReleaseConfig) ReleaseConfig {
	if r == nil {
		return def
	}
	if r.Approvals != nil {
		def.Approvals = *r.Approvals
	}
	if r.AllowAuthorApproval != nil {
		def.AllowAuthorApproval = *r.AllowAuthorApproval
	}
	if r.AutoPromote != nil {
		def.AutoPromote = *r.AutoPromote
	}
	if r.RequireProof != nil {
		def.RequireProof = *r.RequireProof
	}
	if r.Required != nil {
		def.Required = r.Required
	}
	return def
}

// Policy is the floor as the gate takes it.
func (c ReleaseConfig) Policy() patchgate.ReleasePolicy {
	return patchgate.ReleasePolicy{Approvals: c.Approvals, AllowAuthorApproval: c.AllowAuthorApproval,
		AutoPromote: c.AutoPromote, RequireProof: c.RequireProof, Required: c.Required}
}

// validate checks a release floor below key ("release", "repos[0].release").
func (c ReleaseConfig) validate(key string) error {
	if c.Approvals < 1 || c.Approvals > 10 {
		return configKeyErrorf("%s.approvals: %d: want 1 to 10", key, c.Approvals)
	}
	for i, name := range c.Required {
		if strings.TrimSpace(name) == "" {
			return configKeyErrorf("%s.required[%d]: want a suite name", key, i)
		}
	}
	return nil
}

// AuditConfig locates the audit chain's key.
type AuditConfig struct {
	// KeyFile holds the HMAC key of the audit chain, outside the database.
	// Default: beside an SQLite file (patchgate.db.audit-key); for PostgreSQL,
	// patchgate.audit-key beside the configuration file, or in the working
	// directory without one. Created (0600) on first start.
	KeyFile string `yaml:"key_file"`
}

// IntakeConfig bounds what webhook intake spends on deliveries it has not
// verified yet.
type IntakeConfig struct {
	// MaxUnverified is how many webhook bodies may be read and checked at once
	// before their signature is verified; more get 503 with Retry-After.
	MaxUnverified int `yaml:"max_unverified"`
}

// ForgeConfig is one forge's API endpoint, token and webhook secrets.
type ForgeConfig struct {
	APIURL string `yaml:"api_url"`
	// WebURL is the forge's web host, used to recognise issue URLs in text;
	// derived from APIURL when empty.
	WebURL         string   `yaml:"web_url"`
	Token          string   `yaml:"token"`
	WebhookSecrets []string `yaml:"webhook_secrets"`
	// AppID and PrivateKeyFile make patchgate a GitHub App (GitHub only):
	// installation tokens per repository instead of Token, and check runs
	// bound to the App instead of commit statuses.
	AppID          int64  `yaml:"app_id"`
	PrivateKeyFile string `yaml:"private_key_file"`
}

// RepoConfig is one repository patchgate serves.
type RepoConfig struct {
	Forge          string   `yaml:"forge" json:"forge"`
	Name           string   `yaml:"name" json:"name"`
	TicketKeys     []string `yaml:"ticket_keys" json:"ticket_keys"`
	TrustedUsers   []string `yaml:"trusted_users" json:"trusted_users"`
	WebhookSecrets []string `yaml:"webhook_secrets" json:"webhook_secrets"`
	// SLA sets the targets of some severities (critical, high, medium, low);
	// the others keep patchgate.DefaultSLAPolicy's.
	SLA map[string]SLATargetConfig `yaml:"sla" json:"sla,omitempty"`
	// Egress lets this repository's suites reach beyond the host; by default
	// their network is internal.
	Egress bool `yaml:"egress" json:"egress,omitempty"`
	// TitlePrefixFixes: a title that starts with a ticket key ("PAY-7: fix
	// rounding", the Jira and Prow convention) claims to fix it. Default true.
	TitlePrefixFixes *bool `yaml:"title_prefix_fixes" json:"title_prefix_fixes,omitempty"`
	// Secrets are environment variables (name: value, usually ${VAR}) given
	// to the suites of trusted heads only and masked in every log.
	Secrets map[string]string `yaml:"secrets" json:"secrets,omitempty"`
	// Release overrides keys of the top-level release floor for this repository.
	Release *RepoReleaseConfig `yaml:"release" json:"release,omitempty"`
	// Environments are the deployment environments patchgate guards;
	// DeployRequires what their commits must be (promoted or approved).
	Environments   []string `yaml:"environments" json:"environments,omitempty"`
	DeployRequires string   `yaml:"deploy_requires" json:"deploy_requires,omitempty"`
	// SupportLevel is the level (L1–L4) its new tickets start at (default
	// L1); Supplier and Contract name the outside supplier maintaining it,
	// which an escalation to L4 names.
	SupportLevel string `yaml:"support_level" json:"support_level,omitempty"`
	Supplier     string `yaml:"supplier" json:"supplier,omitempty"`
	Contract     string `yaml:"contract" json:"contract,omitempty"`
}

// SLATargetConfig is one severity's SLA targets: how long after a ticket is
// opened its fix must be verified and released, as durations ("8h").
type SLATargetConfig struct {
	Verified time.Duration `yaml:"verified"`
	Released time.Duration `yaml:"released"`
}

// slaTargetJSON is SLATargetConfig in JSON (PATCHGATE_REPOS), with durations as
// strings like in YAML.
type slaTargetJSON struct {
	Verified string `json:"verified"`
	Released string `json:"released"`
}

// UnmarshalJSON reads {"verified": "8h", "released": "24h"}.
func (t *SLATargetConfig) UnmarshalJSON(b []byte) error {
	var raw slaTargetJSON
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, f := range []struct {
		s   string
		dst *time.Duration
	}{{raw.Verified, &t.Verified}, {raw.Released, &t.Released}} {
		if f.s == "" {
			continue
		}
		d, err := time.ParseDuration(f.s)
		if err != nil {
			return err
		}
		*f.dst = d
	}
	return nil
}

// MarshalJSON writes what UnmarshalJSON reads.
func (t SLATargetConfig) MarshalJSON() ([]byte, error) {
	return json.Marshal(slaTargetJSON{Verified: t.Verified.String(), Released: t.Released.String()})
}

// slaSeverities are the severities an sla block may name.
var slaSeverities = []patchgate.Severity{patchgate.SeverityCritical, patchgate.SeverityHigh, patchgate.SeverityMedium, patchgate.SeverityLow}

// validateSLA checks a repository's sla block and names the first bad key,
// below prefix ("repos[0].sla").
func validateSLA(prefix string, sla map[string]SLATargetConfig) error {
	keys := make([]string, 0, len(sla))
	for k := range sla {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		t := sla[k]
		if !slices.Contains(slaSeverities, patchgate.Severity(k)) {
			return configKeyErrorf("%s.%s: unknown severity %q: want critical, high, medium or low", prefix, k, k)
		}
		if t.Verified <= 0 {
			return configKeyErrorf("%s.%s.verified: want a positive duration such as 8h, got %s", prefix, k, t.Verified)
		}
		if t.Released < t.Verified {
			return configKeyErrorf("%s.%s.released: %s is less than verified (%s)", prefix, k, t.Released, t.Verified)
		}
	}
	return nil
}

// LogConfig selects the log level and format.
type LogConfig struct {
	Level string `yaml:"level"` // debug, info, warn, error
	// Format is auto (the default: text when stderr is a terminal, JSON
	// otherwise, for a collector), json or text.
	Format string `yaml:"format"`
}

// WorkerConfig sizes background work.
type WorkerConfig struct {
	// Deliveries is how many deliveries are processed at once.
	Deliveries int `yaml:"deliveries"`
	// DeliveryRetention is how long processed deliveries are kept for dedup and
	// inspection; at least 7 days.
	DeliveryRetention time.Duration `yaml:"delivery_retention"`
}

// WebhookConfig is an outbound webhook.
type WebhookConfig struct {
	URL    string `yaml:"url"`
	Secret string `yaml:"secret"`
}

// RunnerConfig sizes and names this process's verification workers.
type RunnerConfig struct {
	// Workers is how many verifications run at once here; 0 runs none (a
	// server whose workers run elsewhere on the same PostgreSQL queue).
	Workers int `yaml:"workers"`
	// Owner labels this instance's containers on this host; leftovers of a
	// dead process with the same owner are swept. Default: the host name and
	// the database's instance id ("build-1-3f9c0a1b2c3d4e5f"), so that two
	// instances with their own databases on one Docker host never share one.
	Owner string `yaml:"owner"`
	// JobTimeout bounds one verification, all suites included.
	JobTimeout time.Duration `yaml:"job_timeout"`
	// Heartbeat is how often a running verification reports it is alive; a
	// run silent for three heartbeats is re-run elsewhere.
	Heartbeat time.Duration `yaml:"heartbeat"`
	// MaxEnvironments bounds concurrent environments (each takes a bridge
	// network; Docker's default pools allow about 30).
	MaxEnvironments int `yaml:"max_environments"`
	// Retries is how many more times a suite that could not run (container
	// killed or removed from outside, image missing, Docker or forge errors)
	// is tried before "error" is its outcome. A suite's own failure is never
	// retried.
	Retries int `yaml:"retries"`
	// RetryBackoff is the pause before the first retry, doubled before each
	// next one.
	RetryBackoff time.Duration `yaml:"retry_backoff"`
	// MaxQueueWait bounds how long a verification waits for a worker to
	// start it: one no worker claimed by then ends as an error coded
	// runner_unavailable instead of pending for ever.
	MaxQueueWait time.Duration `yaml:"max_queue_wait"`
	// MaxCPUs, MaxMemory ("4g"), MaxPIDs and MaxTimeout are the operator's
	// ceilings on what a repository's .patchgate.yml may ask for; zero (the
	// default) takes config.DefaultCeilings of the host: its cores, half its
	// memory, 4096 processes, 6h.
	MaxCPUs    float64       `yaml:"max_cpus"`
	MaxMemory  string        `yaml:"max_memory"`
	MaxPIDs    int64         `yaml:"max_pids"`
	MaxTimeout time.Duration `yaml:"max_timeout"`
}

// Ceilings returns the runners.max_* keys as .patchgate.yml is held to them; Validate
// has checked them.
func (c RunnerConfig) Ceilings() config.Ceilings {
	mem, _ := config.ParseSize(c.MaxMemory)
	if c.MaxMemory == "" {
		mem = 0
	}
	return config.Ceilings{NanoCPUs: int64(c.MaxCPUs * 1e9), MemoryBytes: mem, PIDs: c.MaxPIDs, Timeout: c.MaxTimeout}
}

// EffectiveCeilings are the ceilings suites run under on host: the runners.max_*
// keys the operator set, and config.DefaultCeilings(host) for the others.
func (c RunnerConfig) EffectiveCeilings(host config.HostResources) config.Ceilings {
	return c.Ceilings().Or(config.DefaultCeilings(host))
}

// validateCeilings checks the runners.max_* keys.
func (c RunnerConfig) validateCeilings() error {
	if c.MaxCPUs < 0 || c.MaxCPUs > 64 {
		return configKeyErrorf("runners.max_cpus: %g: want 0 (the default: the host's cores) to 64", c.MaxCPUs)
	}
	if c.MaxMemory != "" {
		if b, err := config.ParseSize(c.MaxMemory); err != nil || b < 16<<20 {
			return configKeyErrorf("runners.max_memory: %q: want a size of at least 16m, like 4g", c.MaxMemory)
		}
	}
	if c.MaxPIDs != 0 && c.MaxPIDs < 16 {
		return configKeyErrorf("runners.max_pids: %d: want 0 (the default: 4096) or at least 16", c.MaxPIDs)
	}
	if c.MaxTimeout < 0 || (c.MaxTimeout > 0 && c.MaxTimeout < time.Second) {
		return configKeyErrorf("runners.max_timeout: %s: want 0 (the default: 6h) or at least 1s", c.MaxTimeout)
	}
	return nil
}

// DefaultConfig is what `patchgate serve` runs with when nothing is configured.
func DefaultConfig() Config {
	return Config{
		Listen:    "127.0.0.1:8080",
		Database:  "sqlite://patchgate.db",
		PublicURL: "http://127.0.0.1:8080",
		GitHub:    ForgeConfig{APIURL: "https://api.github.com/"},
		GitLab:    ForgeConfig{APIURL: "https://gitlab.com/api/v4/"},
		Log:       LogConfig{Level: "info", Format: "auto"},
		Workers:   WorkerConfig{Deliveries: 4, DeliveryRetention: 14 * 24 * time.Hour},
		// Two cores: one verification at a time leaves the other core to the
		// server; each verification runs its suites one after another.
		Runners: RunnerConfig{Workers: 1, JobTimeout: time.Hour, Heartbeat: 10 * time.Second, MaxEnvironments: 8,
			Retries: 2, RetryBackoff: 10 * time.Second, MaxQueueWait: runners.DefaultMaxQueueWait},
		Intake: IntakeConfig{MaxUnverified: 8},
		// Today's behaviour, and the safe one: one approval, authors may not
		// approve, promotion by hand.
		Release: ReleaseConfig{Approvals: 1},

		// Waiting deployments and status checks are answered well within
		// GitLab's two minutes.
		Enforcement: EnforcementConfig{SweepInterval: 15 * time.Second},
		// A missed push is corrected within ten minutes, at one API call per
		// open change per run.
		Reconcile: ReconcileConfig{Interval: 10 * time.Minute, Retry: 30 * time.Second},
		// Escalations are found within a minute of the SLA state changing.
		Escalation: EscalationConfig{Interval: time.Minute},
	}
}

// LoadConfig reads path (if not empty) over the defaults, its ${VAR}s
// expanded from env, then applies PATCHGATE_* variables from env, and
// validates.
func LoadConfig(path string, env func(string) (string, bool)) (Config, error) {
	return loadConfig(path, env, false)
}

// CheckConfig is LoadConfig for `patchgate config check --server`: it goes on
// past unset variables and unknown keys to report every problem at once.
// Findings on a line whose variable is unset are left out: they are that
// variable's consequence, not a problem of their own.
func CheckConfig(path string, env func(string) (string, bool)) (Config, error) {
	return loadConfig(path, env, true)
}

func loadConfig(path string, env func(string) (string, bool), all bool) (Config, error) {
	cfg := DefaultConfig()
	var errs []error
	var lines map[string]int // key → line in the file, to locate Validate's findings
	unset := map[int]bool{}  // lines with an unset ${VAR}
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("read config: %w", err)
		}
		doc, err := config.ParseTemplate(path, raw)
		if err != nil {
			return cfg, err
		}
		doc.Noun, doc.Max = configKeyNoun, maxConfigErrors
		if missing := unsetVars(doc, env); len(missing) > 0 {
			err := fmt.Errorf("config %s: %w", path, config.UnsetError(missing))
			if !all {
				return cfg, err
			}
			errs = append(errs, err)
			for _, m := range missing {
				unset[m.Line] = true
			}
		}
		if lines = doc.Check(reflect.TypeFor[Config]()); doc.Failed() {
			return cfg, errors.Join(append(errs, doc.Err())...)
		}
		if err := doc.Decode(&cfg); err != nil {
			return cfg, errors.Join(append(errs, fmt.Errorf("config %s: %w", path, err))...)
		}
	}
	if err := config.ApplyEnv(&cfg, configKeys, env); err != nil {
		return cfg, errors.Join(append(errs, err)...)
	}
	if cfg.Audit.KeyFile == "" {
		dir := "."
		if path != "" {
			dir = filepath.Dir(path)
		}
		cfg.Audit.KeyFile = defaultAuditKeyFile(cfg.Database, dir)
	}
	if cfg.Evidence.KeyFile == "" {
		cfg.Evidence.KeyFile = defaultEvidenceKeyFile(cfg.Database, configDir(path))
	}
	if err := cfg.Validate(); err != nil {
		for _, e := range splitErrors(locate(err, path, lines)) {
			var ce *config.Error
			if errors.As(e, &ce) && unset[ce.Line] {
				continue
			}
			errs = append(errs, e)
		}
	}
	return cfg, errors.Join(errs...)
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// unsetVars expands the file's ${VAR}s and returns the unset ones that
// matter: all but those in the github or gitlab section when no repository
// uses that forge, since a copied example's unused forge needs no secrets.
func unsetVars(doc *config.Document, env func(string) (string, bool)) []config.Unset {
	missing := doc.Expand(env)
	if len(missing) == 0 {
		return nil
	}
	used := forgesInUse(doc, env)
	var out []config.Unset
	for _, m := range missing {
		if (m.Section == "github" || m.Section == "gitlab") && !used[m.Section] {
			continue
		}
		out = append(out, m)
	}
	return out
}

// forgesInUse reports which forges the configuration's repositories (in the
// file, or PATCHGATE_REPOS) name.
func forgesInUse(doc *config.Document, env func(string) (string, bool)) map[string]bool {
	var repos struct {
		Repos []RepoConfig `yaml:"repos"`
	}
	_ = doc.Decode(&repos) // a broken file is reported by the real decode
	if v, ok := env("PATCHGATE_REPOS"); ok {
		_ = json.Unmarshal([]byte(v), &repos.Repos)
	}
	used := map[string]bool{}
	for _, r := range repos.Repos {
		used[strings.ToLower(r.Forge)] = true
	}
	return used
}

// Validate checks every key and names each bad one: every finding is a
// *config.Error, several are joined.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, configKeyErrorf("listen: %q is not host:port", c.Listen))
	}
	if !strings.HasPrefix(c.Database, "sqlite:") && !strings.HasPrefix(c.Database, "postgres://") && !strings.HasPrefix(c.Database, "postgresql://") {
		errs = append(errs, configKeyErrorf("database: %q: want sqlite://FILE or postgres://…", redactURL(c.Database)))
	}
	if err := validateHTTPURL(c.PublicURL); err != nil {
		errs = append(errs, configKeyErrorf("public_url: %w", err))
	}
	for _, forge := range []struct {
		key string
		f   *ForgeConfig
	}{{"github", &c.GitHub}, {"gitlab", &c.GitLab}} {
		key, f := forge.key, forge.f
		if err := validateHTTPURL(f.APIURL); err != nil {
			errs = append(errs, configKeyErrorf("%s.api_url: %w", key, err))
		}
		if !strings.HasSuffix(f.APIURL, "/") {
			f.APIURL += "/"
		}
		if f.WebURL != "" {
			if err := validateHTTPURL(f.WebURL); err != nil {
				errs = append(errs, configKeyErrorf("%s.web_url: %w", key, err))
			}
		}
		for i, s := range f.WebhookSecrets {
			if len(s) < 8 {
				errs = append(errs, configKeyErrorf("%s.webhook_secrets[%d]: a secret needs at least 8 characters", key, i))
			}
		}
		errs = append(errs, validateApp(key, f)...)
	}
	seen := map[string]bool{}
	for i, r := range c.Repos {
		repo := r.Repository(c.Release)
		// Each field on its own key, so that the finding points at its line.
		bad := len(errs)
		if err := repo.Forge.Validate(); err != nil {
			errs = append(errs, configKeyErrorf("repos[%d].forge: %s", i, patchgate.ErrorMessage(err)))
		} else if err := repo.Ref().Validate(); err != nil {
			errs = append(errs, configKeyErrorf("repos[%d].name: %s", i, patchgate.ErrorMessage(err)))
		}
		for j, k := range repo.TicketKeys {
			if !patchgate.ValidExternalKey(k + "-1") {
				errs = append(errs, configKeyErrorf("repos[%d].ticket_keys[%d]: %q: want upper-case letters and digits, starting with a letter", i, j, k))
			}
		}
		if err := repo.Validate(); err != nil && len(errs) == bad {
			errs = append(errs, configKeyErrorf("repos[%d]: %s", i, patchgate.ErrorMessage(err)))
		}
		id := strings.ToLower(repo.Ref().String())
		if seen[id] {
			errs = append(errs, configKeyErrorf("repos[%d]: %s is listed twice", i, repo.Ref()))
		}
		seen[id] = true
		if err := validateSLA(fmt.Sprintf("repos[%d].sla", i), r.SLA); err != nil {
			errs = append(errs, err)
		}
		if r.Release != nil {
			if err := r.Release.Over(c.Release).validate(fmt.Sprintf("repos[%d].release", i)); err != nil {
				errs = append(errs, err)
			}
		}
		for j, s := range r.WebhookSecrets {
			if len(s) < 8 {
				errs = append(errs, configKeyErrorf("repos[%d].webhook_secrets[%d]: a secret needs at least 8 characters", i, j))
			}
		}
		for name, v := range r.Secrets {
			if !envName.MatchString(name) {
				errs = append(errs, configKeyErrorf("repos[%d].secrets.%s: not an environment variable name", i, name))
			}
			if len(v) < 4 {
				// Masking a shorter value would blank out ordinary words.
				errs = append(errs, configKeyErrorf("repos[%d].secrets.%s: a secret needs at least 4 characters", i, name))
			}
		}
	}
	errs = append(errs, c.Enforcement.validate(c.Repos)...)
	errs = append(errs, c.Escalation.validate(c.Repos)...)
	for _, forge := range slices.Sorted(maps.Keys(c.ReleaseManagers)) {
		if err := patchgate.Forge(forge).Validate(); err != nil {
			errs = append(errs, configKeyErrorf("release_managers.%s: %s", forge, patchgate.ErrorMessage(err)))
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, configKeyErrorf("log.level: %q: want debug, info, warn or error", c.Log.Level))
	}
	switch c.Log.Format {
	case "auto", "json", "text":
	default:
		errs = append(errs, configKeyErrorf("log.format: %q: want auto (text on a terminal, JSON otherwise), json or text", c.Log.Format))
	}
	if c.Workers.Deliveries < 1 || c.Workers.Deliveries > 64 {
		errs = append(errs, configKeyErrorf("workers.deliveries: %d: want 1 to 64", c.Workers.Deliveries))
	}
	if c.Reconcile.Interval != 0 && c.Reconcile.Interval < time.Minute {
		errs = append(errs, configKeyErrorf("reconcile.interval: %s: reconcile at most every minute (1m), or 0 to run it only at start and by `patchgate reconcile`", c.Reconcile.Interval))
	}
	if c.Reconcile.Retry < 0 {
		errs = append(errs, configKeyErrorf("reconcile.retry: %s: want a positive duration such as 30s", c.Reconcile.Retry))
	}
	if c.Workers.DeliveryRetention < 7*24*time.Hour {
		errs = append(errs, configKeyErrorf("workers.delivery_retention: %s: deliveries are kept at least 7 days (168h) for dedup", c.Workers.DeliveryRetention))
	}
	if c.ReleaseWebhook.URL != "" {
		if err := validateHTTPURL(c.ReleaseWebhook.URL); err != nil {
			errs = append(errs, configKeyErrorf("release_webhook.url: %w", err))
		}
		if len(c.ReleaseWebhook.Secret) < 16 {
			errs = append(errs, configKeyErrorf("release_webhook.secret: a secret of at least 16 characters is required"))
		}
	}
	if c.SLAWebhook.URL != "" {
		if err := validateHTTPURL(c.SLAWebhook.URL); err != nil {
			errs = append(errs, configKeyErrorf("sla_webhook.url: %w", err))
		}
		if len(c.SLAWebhook.Secret) < 16 {
			errs = append(errs, configKeyErrorf("sla_webhook.secret: a secret of at least 16 characters is required"))
		}
	}
	if err := validateTrackers(c.Trackers); err != nil {
		errs = append(errs, err)
	}
	if c.Runners.Workers < 0 || c.Runners.Workers > 16 {
		errs = append(errs, configKeyErrorf("runners.workers: %d: want 0 to 16", c.Runners.Workers))
	}
	if c.Runners.MaxEnvironments < 1 || c.Runners.MaxEnvironments > 25 {
		errs = append(errs, configKeyErrorf("runners.max_environments: %d: want 1 to 25 (Docker's default address pools allow about 30 networks)", c.Runners.MaxEnvironments))
	}
	if c.Runners.JobTimeout < time.Minute {
		errs = append(errs, configKeyErrorf("runners.job_timeout: %s: want at least 1m", c.Runners.JobTimeout))
	}
	if c.Runners.Heartbeat < 100*time.Millisecond || c.Runners.Heartbeat > time.Minute {
		errs = append(errs, configKeyErrorf("runners.heartbeat: %s: want 100ms to 1m", c.Runners.Heartbeat))
	}
	if c.Intake.MaxUnverified < 1 || c.Intake.MaxUnverified > 1024 {
		errs = append(errs, configKeyErrorf("intake.max_unverified: %d: want 1 to 1024", c.Intake.MaxUnverified))
	}
	if c.Runners.MaxQueueWait < time.Second || c.Runners.MaxQueueWait > 24*time.Hour {
		errs = append(errs, configKeyErrorf("runners.max_queue_wait: %s: want 1s to 24h", c.Runners.MaxQueueWait))
	}
	if c.Runners.Retries < 0 || c.Runners.Retries > 10 {
		errs = append(errs, configKeyErrorf("runners.retries: %d: want 0 to 10", c.Runners.Retries))
	}
	if c.Runners.RetryBackoff < 0 || c.Runners.RetryBackoff > 10*time.Minute {
		errs = append(errs, configKeyErrorf("runners.retry_backoff: %s: want 0 to 10m", c.Runners.RetryBackoff))
	}
	if err := c.Runners.validateCeilings(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Release.validate("release"); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// defaultOwner is the host name, for whoever reads the labels, and the
// database's instance id, which tells instances on one host apart; both are
// stable across restarts.
func defaultOwner(instance string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "patchgate"
	}
	return host + "-" + instance
}

// Repository converts the configured entry to the domain type, its sla block
// laid over the default SLA targets and its release block over release, the
// top-level floor.
func (r RepoConfig) Repository(release ReleaseConfig) *patchgate.Repository {
	keys := make([]string, len(r.TicketKeys))
	for i, k := range r.TicketKeys {
		keys[i] = strings.ToUpper(strings.TrimSpace(k))
	}
	sla := patchgate.DefaultSLAPolicy()
	for k, t := range r.SLA {
		sla[patchgate.Severity(k)] = patchgate.SLATarget{Verified: t.Verified, Released: t.Released}
	}
	return &patchgate.Repository{
		Forge:        patchgate.Forge(r.Forge),
		Name:         strings.Trim(r.Name, "/"),
		TicketKeys:   keys,
		TrustedUsers: r.TrustedUsers,
		SLA:          sla,
		Egress:       r.Egress,
		SuiteSecrets: r.Secrets,
		Release:      r.Release.Over(release).Policy(),
		// The convention holds unless the operator turns it off.
		TitlePrefixFixes: r.TitlePrefixFixes == nil || *r.TitlePrefixFixes,
		Environments:     r.Environments,
		DeployRequires:   patchgate.DeployRequirement(r.DeployRequires),
		SupportLevel:     patchgate.SupportLevel(strings.ToUpper(strings.TrimSpace(r.SupportLevel))),
		Supplier:         r.Supplier,
		Contract:         r.Contract,
	}
}

// WebHost returns the host[:port] of the forge's web UI: WebURL's host, or the
// API host with GitHub's "api." prefix dropped.
func (f ForgeConfig) WebHost() string {
	if f.WebURL != "" {
		if u, err := url.Parse(f.WebURL); err == nil {
			return u.Host
		}
	}
	u, err := url.Parse(f.APIURL)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Host, "api.")
}

func validateHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}

// redactURL hides a password in a database URL before it is shown.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// Digest identifies the configuration for the audit log. Secrets enter only as
// their own SHA-256, so rotating one shows as a change without revealing it.
func (c Config) Digest() string {
	hide := func(s string) string {
		if s == "" {
			return ""
		}
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:8])
	}
	hideAll := func(ss []string) []string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = hide(s)
		}
		return out
	}
	c.GitHub.Token, c.GitLab.Token = hide(c.GitHub.Token), hide(c.GitLab.Token)
	c.GitHub.WebhookSecrets, c.GitLab.WebhookSecrets = hideAll(c.GitHub.WebhookSecrets), hideAll(c.GitLab.WebhookSecrets)
	c.ReleaseWebhook.Secret, c.SLAWebhook.Secret = hide(c.ReleaseWebhook.Secret), hide(c.SLAWebhook.Secret)
	trackers := make([]TrackerConfig, len(c.Trackers))
	for i, t := range c.Trackers {
		t.Token, t.WebhookSecrets = hide(t.Token), hideAll(t.WebhookSecrets)
		trackers[i] = t
	}
	c.Trackers = trackers
	repos := make([]RepoConfig, len(c.Repos))
	for i, r := range c.Repos {
		r.WebhookSecrets = hideAll(r.WebhookSecrets)
		if r.Secrets != nil {
			hidden := make(map[string]string, len(r.Secrets))
			for k, v := range r.Secrets {
				hidden[k] = hide(v)
			}
			r.Secrets = hidden
		}
		repos[i] = r
	}
	c.Repos = repos
	c.Database = redactURL(c.Database)
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// defaultLimits are the limits of a suite that asks for none: testenv's
// defaults, lowered to the operator's ceilings.
func defaultLimits(c config.Ceilings) patchgate.Limits {
	lower := func(def, ceiling int64) int64 {
		if ceiling > 0 && ceiling < def {
			return ceiling
		}
		return def
	}
	return patchgate.Limits{
		NanoCPUs:    lower(testenv.DefaultNanoCPUs, c.NanoCPUs),
		MemoryBytes: lower(testenv.DefaultMemoryBytes, c.MemoryBytes),
		PIDs:        lower(testenv.DefaultPIDs, c.PIDs),
	}
}

// Secrets lists every secret value the configuration holds: forge tokens,
// webhook secrets (global and per repository), suite secrets, the release
// webhook's secret and the database password. Every suite log masks them all,
// whichever repository it belongs to.
func (c Config) Secrets() []string {
	var out []string
	add := func(ss ...string) {
		for _, s := range ss {
			if s != "" {
				out = append(out, s)
			}
		}
	}
	for _, f := range []ForgeConfig{c.GitHub, c.GitLab} {
		add(f.Token)
		add(f.WebhookSecrets...)
	}
	for _, r := range c.Repos {
		add(r.WebhookSecrets...)
		for _, v := range r.Secrets {
			add(v)
		}
	}
	for _, t := range c.Trackers {
		add(t.Token)
		add(t.WebhookSecrets...)
	}
	add(c.ReleaseWebhook.Secret, c.SLAWebhook.Secret)
	add(c.Enforcement.StatusCheckSecrets...)
	if u, err := url.Parse(c.Database); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			add(pw)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
