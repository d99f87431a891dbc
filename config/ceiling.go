package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Ceilings are the upper bounds on what a suite of any repository may ask for
// in .patchgate.yml: the server's runners.max_cpus, max_memory, max_pids and
// max_timeout, or where the operator sets none, the defaults DefaultCeilings
// derives from the host. A zero field bounds nothing. Asking for more is a
// configuration error naming the ceiling and its source; asking for nothing
// gets the default lowered to the ceiling.
type Ceilings struct {
	NanoCPUs    int64
	MemoryBytes int64
	PIDs        int64
	Timeout     time.Duration
	// From says where each limit came from; zero means the operator.
	From CeilingSources
}

// CeilingSource says where a ceiling came from.
type CeilingSource string

// Where a ceiling comes from.
const (
	// CeilingFromOperator is the server configuration's runners.max_* key.
	CeilingFromOperator CeilingSource = "operator"
	// CeilingFromHost is derived from the host's resources.
	CeilingFromHost CeilingSource = "host"
	// CeilingFromDefault is patchgate's own fixed default.
	CeilingFromDefault CeilingSource = "default"
)

// CeilingSources says where each limit of a Ceilings came from.
type CeilingSources struct {
	CPUs, Memory, PIDs, Timeout CeilingSource
}

// HostResources are what the machine that runs the suites has; a zero field
// is unknown.
type HostResources struct {
	CPUs        int
	MemoryBytes int64
}

// DefaultPIDsCeiling is the ceiling on a suite's processes when the operator
// sets none: far above what a test suite needs, far below what exhausts a
// host's process table.
const DefaultPIDsCeiling = 4096

// DefaultCeilings are the ceilings that apply where the operator sets none, so
// that no .patchgate.yml can ask for more than the host can give: the host's
// cores, half its memory (rounded down to a MiB, so the other half stays for
// the host, patchgate and the suite's services), DefaultPIDsCeiling processes
// and the longest timeout a .patchgate.yml may give (6h). What the host does
// not say stays unbounded.
func DefaultCeilings(host HostResources) Ceilings {
	c := Ceilings{PIDs: DefaultPIDsCeiling, Timeout: maxTimeout,
		From: CeilingSources{CPUs: CeilingFromHost, Memory: CeilingFromHost, PIDs: CeilingFromDefault, Timeout: CeilingFromDefault}}
	if host.CPUs > 0 {
		c.NanoCPUs = int64(host.CPUs) * 1e9
	}
	if host.MemoryBytes > 0 {
		c.MemoryBytes = host.MemoryBytes / 2 &^ (1<<20 - 1)
	}
	return c
}

// Or returns c with each limit it leaves unset (zero) taken from defaults,
// with the default's source; the limits c sets are the operator's.
func (c Ceilings) Or(defaults Ceilings) Ceilings {
	out := Ceilings{From: CeilingSources{CPUs: CeilingFromOperator, Memory: CeilingFromOperator, PIDs: CeilingFromOperator, Timeout: CeilingFromOperator}}
	out.NanoCPUs, out.From.CPUs = pick(c.NanoCPUs, defaults.NanoCPUs, defaults.From.CPUs)
	out.MemoryBytes, out.From.Memory = pick(c.MemoryBytes, defaults.MemoryBytes, defaults.From.Memory)
	out.PIDs, out.From.PIDs = pick(c.PIDs, defaults.PIDs, defaults.From.PIDs)
	out.Timeout, out.From.Timeout = pick(c.Timeout, defaults.Timeout, defaults.From.Timeout)
	return out
}

// pick is the operator's value when set, else the default with its source.
func pick[T int64 | time.Duration](operator, def T, from CeilingSource) (T, CeilingSource) {
	if operator != 0 {
		return operator, CeilingFromOperator
	}
	return def, from
}

// Describe says what a ceiling is and where it came from, for an error or the
// start-up log: "the operator's ceiling runners.max_memory (4g)", or "the
// host's ceiling runners.max_memory (3g, half the host's memory; the operator
// set none)". field is cpus, memory, pids or timeout.
func (c Ceilings) Describe(field string) string {
	var value string
	var from CeilingSource
	switch field {
	case "cpus":
		value, from = FormatCPUs(c.NanoCPUs), c.From.CPUs
	case "memory":
		value, from = FormatSize(c.MemoryBytes), c.From.Memory
	case "pids":
		value, from = strconv.FormatInt(c.PIDs, 10), c.From.PIDs
	case "timeout":
		value, from = c.Timeout.String(), c.From.Timeout
	}
	key := "runners.max_" + field
	switch from {
	case CeilingFromHost:
		what := "the host's cores"
		if field == "memory" {
			what = "half the host's memory"
		}
		return fmt.Sprintf("the host's ceiling %s (%s, %s; the operator set none)", key, value, what)
	case CeilingFromDefault:
		return fmt.Sprintf("the default ceiling %s (%s; the operator set none)", key, value)
	}
	return fmt.Sprintf("the operator's ceiling %s (%s)", key, value)
}

// ParseSize reads a size like 512m, 2g or 1.5GiB, as .patchgate.yml's memory
// key does; the operator's runners.max_memory is read the same way.
func ParseSize(s string) (int64, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"gib", 1 << 30}, {"mib", 1 << 20}, {"kib", 1 << 10}, {"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}} {
		if rest, ok := strings.CutSuffix(v, u.suffix); ok {
			v, mult = rest, u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f >= 0) || f*float64(mult) > 1<<50 {
		return 0, fmt.Errorf("%q is not a size like 512m or 2g", s)
	}
	return int64(f * float64(mult)), nil
}

// FormatSize writes a size the way ParseSize reads it: 4g, 1536m, or bytes.
func FormatSize(b int64) string {
	switch {
	case b >= 1<<30 && b%(1<<30) == 0:
		return strconv.FormatInt(b>>30, 10) + "g"
	case b >= 1<<20 && b%(1<<20) == 0:
		return strconv.FormatInt(b>>20, 10) + "m"
	}
	return strconv.FormatInt(b, 10)
}

// FormatCPUs writes a CPU limit as the configuration gives it: 1.5.
func FormatCPUs(nano int64) string {
	return strconv.FormatFloat(float64(nano)/1e9, 'f', -1, 64)
}

// checkCeilings reports each limit of s over its ceiling, at the key that
// asked for it, naming the ceiling and its source, and lowers the defaults s
// did not ask for.
func (p *configParser) checkCeilings(s *Suite, key string, cpus, memory, pids, timeout *yaml.Node) {
	c := p.ceilings
	over := func(n *yaml.Node, field string) {
		p.Add(n, key+"."+field, "%s exceeds %s", n.Value, c.Describe(field))
	}
	if c.NanoCPUs > 0 && cpus != nil && s.Limits.NanoCPUs > c.NanoCPUs {
		over(cpus, "cpus")
	}
	if c.MemoryBytes > 0 && memory != nil && s.Limits.MemoryBytes > c.MemoryBytes {
		over(memory, "memory")
	}
	if c.PIDs > 0 && pids != nil && s.Limits.PIDs > c.PIDs {
		over(pids, "pids")
	}
	if c.Timeout > 0 && s.Timeout > c.Timeout {
		if timeout != nil {
			over(timeout, "timeout")
		} else {
			s.Timeout = c.Timeout
		}
	}
}
