package config_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/config"
)

func TestParseConfigDesignExample(t *testing.T) {
	data, err := os.ReadFile("testdata/design-example.patchgate.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.ParseRepoFile(".patchgate.yml", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Suites) != 2 {
		t.Fatalf("got %d suites, want 2", len(cfg.Suites))
	}
	reg, integ := cfg.Suites[0], cfg.Suites[1]
	if reg.Name != "regression" || reg.JUnit != "report.xml" || reg.Timeout != 10*time.Minute || !reg.Required {
		t.Errorf("got regression %+v", reg)
	}
	if len(integ.Services) != 1 || integ.Services[0].Name != "db" || integ.Services[0].Env["POSTGRES_PASSWORD"] != "test" ||
		strings.Join(integ.Services[0].Ready, " ") != "pg_isready -U postgres" {
		t.Errorf("got services %+v", integ.Services)
	}
	if integ.Env["DATABASE_URL"] == "" || integ.Timeout != 10*time.Minute {
		t.Errorf("got integration env %v timeout %s", integ.Env, integ.Timeout)
	}
	if cfg.Release.Branch != "main" || cfg.Release.Approvals != 1 || strings.Join(cfg.Release.Required, ",") != "regression,integration" {
		t.Errorf("got release %+v", cfg.Release)
	}
	if len(cfg.Digest) != 64 {
		t.Errorf("got digest %q", cfg.Digest)
	}
}

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := config.ParseRepoFile(".patchgate.yml", []byte("suites:\n  unit:\n    image: golang:1.26\n    run: go test ./...\n    memory: 512m\n    cpus: 1.5\n  lint:\n    image: golang:1.26\n    run: go vet ./...\n    required: false\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Release.Required, ","); got != "unit" {
		t.Errorf("got required %q, want only the required suite", got)
	}
	if cfg.Release.Approvals != 1 {
		t.Errorf("got approvals %d, want 1", cfg.Release.Approvals)
	}
	if got := cfg.Suites[0].FlakyRetries; got != 1 {
		t.Errorf("got flaky_retries %d, want the default 1", got)
	}
	if got := cfg.Suites[0].Plan().FlakyRetries; got != 1 {
		t.Errorf("got a plan with flaky retries %d, want 1", got)
	}
	if cfg.Suites[0].Limits.MemoryBytes != 512<<20 || cfg.Suites[0].Limits.NanoCPUs != 1.5e9 {
		t.Errorf("got limits %+v", cfg.Suites[0].Limits)
	}
}

func TestParseConfigFlakyRetries(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want int
	}{
		{"disabled", "suites:\n  unit:\n    image: a\n    run: b\n    flaky_retries: 0\n", 0},
		{"most", "suites:\n  unit:\n    image: a\n    run: b\n    flaky_retries: 3\n", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.ParseRepoFile(".patchgate.yml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Suites[0].FlakyRetries; got != tt.want {
				t.Errorf("got flaky_retries %d, want %d", got, tt.want)
			}
		})
	}
}

func TestParseConfigProof(t *testing.T) {
	tests := []struct {
		name         string
		yaml         string
		want         config.ProofConfig
		requireProof bool
	}{
		{"defaults to the regression suite", "suites:\n  unit:\n    image: a\n    run: b\n  regression:\n    image: a\n    run: b\n",
			config.ProofConfig{Suite: "regression"}, false},
		{"else the first required suite", "suites:\n  lint:\n    image: a\n    run: b\n    required: false\n  unit:\n    image: a\n    run: b\n",
			config.ProofConfig{Suite: "unit"}, false},
		{"configured", "suites:\n  unit:\n    image: a\n    run: b\nproof: {suite: unit, run: \"go test -run '{{tests}}' ./...\"}\nrelease:\n  require_proof: true\n",
			config.ProofConfig{Suite: "unit", Run: "go test -run '{{tests}}' ./..."}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.ParseRepoFile(".patchgate.yml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Proof != tt.want || cfg.Release.RequireProof != tt.requireProof {
				t.Errorf("got proof %+v require_proof %v, want %+v %v", cfg.Proof, cfg.Release.RequireProof, tt.want, tt.requireProof)
			}
		})
	}
}

func TestParseConfigErrorsNameLineAndKey(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // "line: key: message" fragment
	}{
		{"empty", "", ".patchgate.yml:1: file is empty"},
		{"not yaml", "suites: [\n", ".patchgate.yml:"},
		{"no suites", "release: {branch: main}\n", "suites: required"},
		{"unknown top key", "suites: {a: {image: x, run: y}}\nreleases: {}\n", ":2: releases: unknown key"},
		{"missing run", "suites:\n  unit:\n    image: golang:1.26\n", ":3: suites.unit.run: required"},
		{"missing image", "suites:\n  unit:\n    run: go test\n", ":3: suites.unit.image: required"},
		{"bad image", "suites:\n  unit:\n    image: 'Not An Image'\n    run: x\n", ":3: suites.unit.image:"},
		{"bad timeout", "suites:\n  unit:\n    image: a\n    run: b\n    timeout: forever\n", ":5: suites.unit.timeout: want a duration"},
		{"junit escapes", "suites:\n  unit:\n    image: a\n    run: b\n    junit: ../../etc/passwd\n", ":5: suites.unit.junit:"},
		{"ready not list", "suites:\n  unit:\n    image: a\n    run: b\n    services:\n      db:\n        image: p\n        ready: {x: 1}\n", ":8: suites.unit.services.db.ready: want a list"},
		{"bad env name", "suites:\n  unit:\n    image: a\n    run: b\n    env: {'1X': y}\n", "suites.unit.env.1X: not a valid"},
		{"required names unknown suite", "suites:\n  unit:\n    image: a\n    run: b\nrelease:\n  required: [unit, e2e]\n", ":6: release.required: no suite named \"e2e\""},
		{"approvals zero", "suites:\n  unit:\n    image: a\n    run: b\nrelease:\n  approvals: 0\n", ":6: release.approvals:"},
		{"bad suite name", "suites:\n  Unit Tests:\n    image: a\n    run: b\n", ":2: suites.Unit Tests:"},
		{"memory too small", "suites:\n  unit:\n    image: a\n    run: b\n    memory: 1k\n", ":5: suites.unit.memory:"},
		{"flaky retries negative", "suites:\n  unit:\n    image: a\n    run: b\n    flaky_retries: -1\n", ":5: suites.unit.flaky_retries: want a number of re-runs from 0 to 3"},
		{"flaky retries too many", "suites:\n  unit:\n    image: a\n    run: b\n    flaky_retries: 4\n", ":5: suites.unit.flaky_retries:"},
		{"proof names unknown suite", "suites:\n  unit:\n    image: a\n    run: b\nproof:\n  suite: regression\n", ":6: proof.suite: no suite named \"regression\" (want one of unit)"},
		{"proof run without tests", "suites:\n  unit:\n    image: a\n    run: b\nproof:\n  run: go test ./...\n", ":6: proof.run: must name the tests with {{tests}}"},
		{"proof unknown key", "suites:\n  unit:\n    image: a\n    run: b\nproof:\n  command: x\n", ":6: proof.command: unknown key (want one of run, suite)"},
		{"require_proof not a bool", "suites:\n  unit:\n    image: a\n    run: b\nrelease:\n  require_proof: maybe\n", ":6: release.require_proof: want true or false"},
		{"flaky retries not a number", "suites:\n  unit:\n    image: a\n    run: b\n    flaky_retries: once\n", ":5: suites.unit.flaky_retries:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.ParseRepoFile(".patchgate.yml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %T, want a *Error", err)
			}
			// Wherever it surfaces (a release blocker, the API), the user
			// reads the problem, not "internal error".
			if code, msg := patchgate.ErrorCode(err), patchgate.ErrorMessage(err); code != patchgate.EINVALID || msg != ce.Error() {
				t.Errorf("as a patchgate error: got %s %q, want invalid %q", code, msg, ce.Error())
			}
		})
	}
}

func FuzzParseConfig(f *testing.F) {
	if data, err := os.ReadFile("testdata/design-example.patchgate.yml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("suites: {a: {image: x, run: y, services: {db: {image: p, ready: [a]}}}}"))
	f.Add([]byte("suites:\n  &a x: *a\n"))
	f.Add([]byte("suites: {a: {image: x, run: y}}\nquarantine:\n- {test: TestX, suite: a, owner: alice, ticket: PAY-9, expires: 2026-12-20}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.ParseRepoFile(".patchgate.yml", data)
		if err != nil {
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("got %T (%v), want *Error", err, err)
			}
			return
		}
		if len(cfg.Suites) == 0 {
			t.Fatal("a valid config has suites")
		}
		for _, s := range cfg.Suites {
			if s.Image == "" || strings.TrimSpace(s.Run) == "" || s.Timeout <= 0 {
				t.Fatalf("accepted an incomplete suite %+v", s)
			}
		}
		for _, q := range cfg.Quarantine {
			if strings.TrimSpace(q.Test) == "" || strings.TrimSpace(q.Owner) == "" || strings.TrimSpace(q.Ticket) == "" || q.ExpiresAt.IsZero() {
				t.Fatalf("accepted an incomplete quarantine %+v", q)
			}
		}
	})
}
