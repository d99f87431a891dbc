package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/patchgate/patchgate/config"
)

func TestParseConfigWithinCeilings(t *testing.T) {
	ceilings := config.Ceilings{NanoCPUs: 2e9, MemoryBytes: 4 << 30, PIDs: 512, Timeout: 30 * time.Minute}
	suite := func(extra string) []byte {
		return []byte("suites:\n  regression:\n    image: golang:1.26\n    run: go test ./...\n" + extra)
	}
	tests := []struct {
		name string
		yml  []byte
		want string // the error; empty: none
	}{
		{"memory over", suite("    memory: 8g\n"), ".patchgate.yml:5: suites.regression.memory: 8g exceeds the operator's ceiling runners.max_memory (4g)"},
		{"cpus over", suite("    cpus: 2.5\n"), ".patchgate.yml:5: suites.regression.cpus: 2.5 exceeds the operator's ceiling runners.max_cpus (2)"},
		{"pids over", suite("    pids: 4096\n"), ".patchgate.yml:5: suites.regression.pids: 4096 exceeds the operator's ceiling runners.max_pids (512)"},
		{"timeout over", suite("    timeout: 2h\n"), ".patchgate.yml:5: suites.regression.timeout: 2h exceeds the operator's ceiling runners.max_timeout (30m0s)"},
		{"at the ceilings", suite("    memory: 4096m\n    cpus: 2\n    pids: 512\n    timeout: 30m\n"), ""},
		{"nothing asked", suite(""), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.ParseRepoFileWithin(".patchgate.yml", tt.yml, ceilings)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("got error %v, want none", err)
			case tt.want != "":
				var ce *config.Error
				if !errors.As(err, &ce) || err.Error() != tt.want {
					t.Fatalf("got error %v, want %q", err, tt.want)
				}
			}
		})
	}
	t.Run("no ceilings bound nothing", func(t *testing.T) {
		if _, err := config.ParseRepoFileWithin(".patchgate.yml", suite("    memory: 64g\n    cpus: 32\n    timeout: 6h\n"), config.Ceilings{}); err != nil {
			t.Fatalf("got error %v, want none", err)
		}
	})
	t.Run("the default timeout is lowered to the ceiling", func(t *testing.T) {
		cfg, err := config.ParseRepoFileWithin(".patchgate.yml", suite(""), config.Ceilings{Timeout: 5 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Suites[0].Timeout; got != 5*time.Minute {
			t.Errorf("got timeout %s, want the ceiling's 5m", got)
		}
	})
	t.Run("every excess is named", func(t *testing.T) {
		_, err := config.ParseRepoFileWithin(".patchgate.yml", suite("    memory: 8g\n    cpus: 4\n"), ceilings)
		if err == nil || !strings.Contains(err.Error(), "runners.max_memory") || !strings.Contains(err.Error(), "runners.max_cpus") {
			t.Errorf("got %v, want both ceilings named", err)
		}
	})
}

func TestParseAndFormatSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		back string
	}{
		{"4g", 4 << 30, "4g"},
		{"1.5GiB", 3 << 29, "1536m"},
		{"512m", 512 << 20, "512m"},
		{"100000", 100000, "100000"},
	}
	for _, tt := range tests {
		got, err := config.ParseSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q): got %d, %v, want %d", tt.in, got, err, tt.want)
		}
		if back := config.FormatSize(got); back != tt.back {
			t.Errorf("FormatSize(%d): got %q, want %q", got, back, tt.back)
		}
	}
	for _, bad := range []string{"", "lots", "-1g", "1e300g"} {
		if _, err := config.ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q): got no error, want one", bad)
		}
	}
}
