package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/patchgate/patchgate/config"
)

// configKeys is the server file's key table: every key of Config that holds a
// value, with its PATCHGATE_* variable derived from its path, its default, its
// range and what it is for. A test holds it to Config, DefaultConfig and the
// README's list of variables.
var configKeys = []config.Key{
	{Path: "listen", Kind: config.KindString, Default: "127.0.0.1:8080", Range: "host:port", Doc: "Where the HTTP server listens."},
	{Path: "database", Kind: config.KindString, Default: "sqlite://patchgate.db", Range: "sqlite://FILE or postgres://…", Doc: "The database: an SQLite file, or PostgreSQL shared by several processes."},
	{Path: "public_url", Kind: config.KindString, Default: "http://127.0.0.1:8080", Range: "an http(s) URL", Doc: "The URL users and forges reach patchgate at."},
	{Path: "github.api_url", Kind: config.KindString, Default: "https://api.github.com/", Range: "an http(s) URL", Doc: "GitHub's API endpoint (GitHub Enterprise: https://HOST/api/v3/)."},
	{Path: "github.web_url", Kind: config.KindString, Range: "an http(s) URL", Doc: "GitHub's web host, to recognise issue URLs; derived from api_url when empty."},
	{Path: "github.token", Kind: config.KindString, Doc: "GitHub's API token."},
	{Path: "github.webhook_secrets", Kind: config.KindList, Range: "at least 8 characters each", Doc: "The secrets GitHub's deliveries are signed with; several while rotating."},
	{Path: "github.app_id", Kind: config.KindInt, Range: "a GitHub App's id", Doc: "Run as this GitHub App (with github.private_key_file): installation tokens instead of github.token, check runs instead of statuses."},
	{Path: "github.private_key_file", Kind: config.KindString, Range: "a PEM file readable by its owner only", Doc: "The GitHub App's private key, as GitHub generated it."},
	{Path: "gitlab.api_url", Kind: config.KindString, Default: "https://gitlab.com/api/v4/", Range: "an http(s) URL", Doc: "GitLab's API endpoint (self-managed: https://HOST/api/v4/)."},
	{Path: "gitlab.web_url", Kind: config.KindString, Range: "an http(s) URL", Doc: "GitLab's web host, to recognise issue URLs; derived from api_url when empty."},
	{Path: "gitlab.token", Kind: config.KindString, Doc: "GitLab's API token."},
	{Path: "gitlab.webhook_secrets", Kind: config.KindList, Range: "at least 8 characters each", Doc: "The secrets GitLab's deliveries carry; several while rotating."},
	{Path: "gitlab.app_id", Kind: config.KindInt, Range: "unset", Doc: "Unused: GitLab has no App mode (the key exists because both forges share one section shape)."},
	{Path: "gitlab.private_key_file", Kind: config.KindString, Range: "unset", Doc: "Unused: GitLab has no App mode."},
	{Path: "repos", Kind: config.KindJSON, Want: "a JSON list of repositories", Doc: "The repositories patchgate serves."},
	{Path: "release_managers", Kind: config.KindJSON, Want: `JSON like {"github":["alice"]}`, Doc: "Per forge, the users who may approve releases."},
	{Path: "log.level", Kind: config.KindString, Default: "info", Range: "debug, info, warn or error", Doc: "The least severe log level written."},
	{Path: "log.format", Kind: config.KindString, Default: "auto", Range: "auto, json or text", Doc: "The log format; auto is text on a terminal, JSON otherwise."},
	{Path: "workers.deliveries", Kind: config.KindInt, Default: "4", Range: "1 to 64", Doc: "How many deliveries are processed at once."},
	{Path: "reconcile.interval", Kind: config.KindDuration, Default: "10m", Range: "0 (off) or at least 1m", Doc: "How often open changes' heads are compared with the forges' (also at start)."},
	{Path: "reconcile.retry", Kind: config.KindDuration, Default: "30s", Range: "a positive duration", Doc: "How soon reconciliation runs again after the intake refused a delivery (5xx) or a run failed."},
	{Path: "workers.delivery_retention", Kind: config.KindDuration, Default: "336h", Range: "at least 168h", Doc: "How long processed deliveries are kept for dedup and inspection."},
	{Path: "runners.workers", Kind: config.KindInt, Default: "1", Range: "0 to 16", Doc: "How many verifications run at once in this process; 0 runs none."},
	{Path: "runners.owner", Kind: config.KindString, Doc: "The label of this instance's containers; default the host name and the database's instance id."},
	{Path: "runners.job_timeout", Kind: config.KindDuration, Default: "1h", Range: "at least 1m", Doc: "The bound on one verification, all suites included."},
	{Path: "runners.heartbeat", Kind: config.KindDuration, Default: "10s", Range: "100ms to 1m", Doc: "How often a running verification reports it is alive."},
	{Path: "runners.max_environments", Kind: config.KindInt, Default: "8", Range: "1 to 25", Doc: "The bound on concurrent environments (each takes a bridge network)."},
	{Path: "runners.retries", Kind: config.KindInt, Default: "2", Range: "0 to 10", Doc: "How many more times a suite that could not run is tried."},
	{Path: "runners.max_queue_wait", Kind: config.KindDuration, Default: "15m", Range: "1s to 24h", Doc: "How long a verification may wait for a worker; then it ends as an error (runner_unavailable)."},
	{Path: "runners.retry_backoff", Kind: config.KindDuration, Default: "10s", Range: "0 to 10m", Doc: "The pause before the first retry, doubled before each next one."},
	{Path: "runners.max_cpus", Kind: config.KindFloat, Range: "0 (the default: the host's cores) to 64", Doc: "The ceiling on the CPUs a suite may ask for."},
	{Path: "runners.max_memory", Kind: config.KindSize, Range: "0 (the default: half the host's memory) or at least 16m", Doc: "The ceiling on the memory a suite may ask for, like 4g."},
	{Path: "runners.max_pids", Kind: config.KindInt, Range: "0 (the default: 4096) or at least 16", Doc: "The ceiling on the processes a suite may ask for."},
	{Path: "runners.max_timeout", Kind: config.KindDuration, Range: "0 (the default: 6h) or at least 1s", Doc: "The ceiling on the timeout a suite may ask for."},
	{Path: "release_webhook.url", Kind: config.KindString, Range: "an http(s) URL", Doc: "Where every promotion is posted, signed."},
	{Path: "release_webhook.secret", Kind: config.KindString, Range: "at least 16 characters", Doc: "The HMAC-SHA256 key release_webhook's posts are signed with."},
	{Path: "migrate", Kind: config.KindBool, Doc: "Apply pending migrations at start-up instead of refusing to start."},
	{Path: "audit.key_file", Kind: config.KindString, Doc: "The file of the audit chain's HMAC key; default beside the SQLite file or the configuration."},
	{Path: "evidence.key_file", Kind: config.KindString, Doc: "The ed25519 key release evidence packs are signed with; default beside the SQLite file or the configuration."},
	{Path: "intake.max_unverified", Kind: config.KindInt, Default: "8", Range: "1 to 1024", Doc: "How many webhook bodies are read at once before their signature is verified."},
	{Path: "trackers", Kind: config.KindJSON, Want: "a JSON list of trackers", Doc: "The external ticket trackers (Jira) patchgate reads and updates."},
	{Path: "sla_webhook.url", Kind: config.KindString, Range: "an http(s) URL", Doc: "Where SLA transitions are posted, signed; unset, they go to release_webhook."},
	{Path: "sla_webhook.secret", Kind: config.KindString, Range: "at least 16 characters", Doc: "The HMAC-SHA256 key sla_webhook's posts are signed with."},
	{Path: "release.approvals", Kind: config.KindInt, Default: "1", Range: "1 to 10", Doc: "The least number of release managers who must approve a release; .patchgate.yml may ask more."},
	{Path: "release.allow_author_approval", Kind: config.KindBool, Doc: "Let an author of an included change approve; unless set, .patchgate.yml cannot allow it."},
	{Path: "release.auto_promote", Kind: config.KindBool, Doc: "Let .patchgate.yml promote a candidate on its last approval; unset, promotion is by hand."},
	{Path: "release.require_proof", Kind: config.KindBool, Doc: "Count a fix only with a fail-to-pass proof, whatever .patchgate.yml says."},
	{Path: "release.required", Kind: config.KindList, Range: "suite names", Doc: "Suites that must pass for a release, whatever .patchgate.yml says."},
	{Path: "reports.regression_label", Kind: config.KindString, Doc: "The label prefix naming the release that caused a ticket (default regression:, as in regression:v1.6.0)."},
	{Path: "enforcement.status_check_secrets", Kind: config.KindList, Range: "at least 8 characters each", Doc: "The shared secrets of GitLab's external status checks that call patchgate; several while rotating."},
	{Path: "enforcement.sweep_interval", Kind: config.KindDuration, Default: "15s", Range: "100ms to 1m", Doc: "How often waiting deployments are decided again and open status checks answered again."},
	{Path: "escalation.levels", Kind: config.KindJSON, Want: `JSON like {"L2":{"contacts":[{"name":"support","type":"slack","url":"https://hooks.slack.com/…"}]}}`, Doc: "Each support level's contacts, told when a ticket escalates to it (signed webhook, Slack or Teams)."},
	{Path: "escalation.interval", Kind: config.KindDuration, Default: "1m", Range: "10s to 1h", Doc: "How often tickets are checked for escalation and escalation notices sent or retried."},
}

// configKeyNoun words the server file's problems as its README quotes them:
// "config key runners.workers: 40: want 0 to 16".
const configKeyNoun = "config key"

// maxConfigErrors bounds how many problems one check reports: enough to fix a
// file in one go, not a wall of text for a file that is not configuration.
const maxConfigErrors = 20

// configKeyErrorf returns a *config.Error from "KEY: message", the form every
// check of Validate writes its finding in.
func configKeyErrorf(format string, args ...any) error {
	msg := fmt.Errorf(format, args...).Error()
	key, rest, ok := strings.Cut(msg, ": ")
	if !ok {
		return &config.Error{Msg: msg, Noun: configKeyNoun}
	}
	return &config.Error{Key: key, Msg: rest, Noun: configKeyNoun}
}

// locate gives the findings of Validate (errors of "config key KEY: …") the
// file and line of their key, where the key is in the file; a value from a
// default or a variable keeps no line.
func locate(err error, file string, lines map[string]int) error {
	errs := splitErrors(err)
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
		var ce *config.Error
		if errors.As(e, &ce) && ce.File == "" {
			if line, ok := lines[ce.Key]; ok {
				located := *ce
				located.File, located.Line = file, line
				out[i] = &located
			}
		}
	}
	if len(out) == 1 {
		return out[0]
	}
	return errors.Join(out...)
}

// splitErrors returns the errors joined in err, or err alone.
func splitErrors(err error) []error { return config.Split(err) }
