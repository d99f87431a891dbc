package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Ceilings are the operator's upper bounds on what a suite of any repository
// may ask for in .patchgate.yml (the server's runners.max_cpus, max_memory,
// max_pids and max_timeout). A zero field bounds nothing. Asking for more is a
// configuration error naming the ceiling; asking for nothing gets the default
// lowered to the ceiling.
type Ceilings struct {
	NanoCPUs    int64
	MemoryBytes int64
	PIDs        int64
	Timeout     time.Duration
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

// checkCeilings reports each limit of s over the operator's ceiling, at the
// key that asked for it, and lowers the defaults s did not ask for.
func (p *configParser) checkCeilings(s *Suite, key string, cpus, memory, pids, timeout *yaml.Node) {
	c := p.ceilings
	over := func(n *yaml.Node, field, ceiling, value string) {
		p.Add(n, key+"."+field, "%s exceeds the operator's ceiling runners.max_%s (%s)", value, field, ceiling)
	}
	if c.NanoCPUs > 0 && cpus != nil && s.Limits.NanoCPUs > c.NanoCPUs {
		over(cpus, "cpus", FormatCPUs(c.NanoCPUs), cpus.Value)
	}
	if c.MemoryBytes > 0 && memory != nil && s.Limits.MemoryBytes > c.MemoryBytes {
		over(memory, "memory", FormatSize(c.MemoryBytes), memory.Value)
	}
	if c.PIDs > 0 && pids != nil && s.Limits.PIDs > c.PIDs {
		over(pids, "pids", strconv.FormatInt(c.PIDs, 10), pids.Value)
	}
	if c.Timeout > 0 && s.Timeout > c.Timeout {
		if timeout != nil {
			over(timeout, "timeout", c.Timeout.String(), timeout.Value)
		} else {
			s.Timeout = c.Timeout
		}
	}
}
