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
	t.Run("a ceiling from the host says so", func(t *testing.T) {
		host := config.Ceilings{}.Or(config.DefaultCeilings(config.HostResources{CPUs: 2, MemoryBytes: 8 << 30}))
		_, err := config.ParseRepoFileWithin(".patchgate.yml", suite("    memory: 256g\n    cpus: 3\n    pids: 5000\n"), host)
		for _, want := range []string{
			".patchgate.yml:5: suites.regression.memory: 256g exceeds the host's ceiling runners.max_memory (4g, half the host's memory; the operator set none)",
			".patchgate.yml:6: suites.regression.cpus: 3 exceeds the host's ceiling runners.max_cpus (2, the host's cores; the operator set none)",
			".patchgate.yml:7: suites.regression.pids: 5000 exceeds the default ceiling runners.max_pids (4096; the operator set none)",
		} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("got error %v, want it to contain %q", err, want)
			}
		}
	})
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

func TestDefaultCeilings(t *testing.T) {
	fixed := func(c config.Ceilings) config.Ceilings {
		c.PIDs, c.Timeout = 4096, 6*time.Hour
		c.From = config.CeilingSources{CPUs: config.CeilingFromHost, Memory: config.CeilingFromHost, PIDs: config.CeilingFromDefault, Timeout: config.CeilingFromDefault}
		return c
	}
	tests := []struct {
		name string
		host config.HostResources
		want config.Ceilings
	}{
		{"a small host", config.HostResources{CPUs: 2, MemoryBytes: 4 << 30}, fixed(config.Ceilings{NanoCPUs: 2e9, MemoryBytes: 2 << 30})},
		{"a large host", config.HostResources{CPUs: 64, MemoryBytes: 512 << 30}, fixed(config.Ceilings{NanoCPUs: 64e9, MemoryBytes: 256 << 30})},
		// /proc/meminfo counts kB: half of it is rounded down to a MiB.
		{"memory not in MiB", config.HostResources{CPUs: 1, MemoryBytes: 24683748 << 10}, fixed(config.Ceilings{NanoCPUs: 1e9, MemoryBytes: 12052 << 20})},
		{"an unknown host bounds only pids and timeout", config.HostResources{}, fixed(config.Ceilings{})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := config.DefaultCeilings(tt.host); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCeilingsOr(t *testing.T) {
	defaults := config.DefaultCeilings(config.HostResources{CPUs: 4, MemoryBytes: 16 << 30})
	op, host, def := config.CeilingFromOperator, config.CeilingFromHost, config.CeilingFromDefault
	tests := []struct {
		name     string
		operator config.Ceilings
		want     config.Ceilings
	}{
		{"the operator sets none", config.Ceilings{},
			config.Ceilings{NanoCPUs: 4e9, MemoryBytes: 8 << 30, PIDs: 4096, Timeout: 6 * time.Hour, From: config.CeilingSources{CPUs: host, Memory: host, PIDs: def, Timeout: def}}},
		{"the operator sets some", config.Ceilings{MemoryBytes: 32 << 30, Timeout: 30 * time.Minute},
			config.Ceilings{NanoCPUs: 4e9, MemoryBytes: 32 << 30, PIDs: 4096, Timeout: 30 * time.Minute, From: config.CeilingSources{CPUs: host, Memory: op, PIDs: def, Timeout: op}}},
		{"the operator sets all", config.Ceilings{NanoCPUs: 1e9, MemoryBytes: 1 << 30, PIDs: 100, Timeout: time.Minute},
			config.Ceilings{NanoCPUs: 1e9, MemoryBytes: 1 << 30, PIDs: 100, Timeout: time.Minute, From: config.CeilingSources{CPUs: op, Memory: op, PIDs: op, Timeout: op}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.operator.Or(defaults); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCeilingsDescribe(t *testing.T) {
	c := config.Ceilings{NanoCPUs: 15e8, MemoryBytes: 4 << 30, PIDs: 4096, Timeout: 6 * time.Hour,
		From: config.CeilingSources{CPUs: config.CeilingFromOperator, Memory: config.CeilingFromHost, PIDs: config.CeilingFromDefault}}
	tests := []struct {
		field, want string
	}{
		{"cpus", "the operator's ceiling runners.max_cpus (1.5)"},
		{"memory", "the host's ceiling runners.max_memory (4g, half the host's memory; the operator set none)"},
		{"pids", "the default ceiling runners.max_pids (4096; the operator set none)"},
		{"timeout", "the operator's ceiling runners.max_timeout (6h0m0s)"}, // an unset source is the operator's
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			if got := c.Describe(tt.field); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
