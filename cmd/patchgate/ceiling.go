package main

import (
	"bufio"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/patchgate/patchgate/config"
)

// localHost reads the resources of the machine patchgate runs on: its cores
// and /proc/meminfo's MemTotal (zero, unknown, where there is none). Suites
// run on the local Docker daemon; with a remote one the operator sets
// runners.max_* for that host.
func localHost() config.HostResources {
	return config.HostResources{CPUs: runtime.NumCPU(), MemoryBytes: memTotal("/proc/meminfo")}
}

// memTotal reads MemTotal from a meminfo file, in bytes; 0 when it cannot.
func memTotal(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil || kb < 0 {
			return 0
		}
		return kb << 10
	}
	return 0
}

// runnerCeilings are the ceilings this server's suites run under: the
// operator's runners.max_* keys, and the host's defaults where they are unset.
func (m *Main) runnerCeilings() config.Ceilings {
	return m.Config.Runners.EffectiveCeilings(localHost())
}

// ceilingSummary lists each ceiling with its value and where it came from,
// like "memory", "4g (operator)", for the start-up log and config check.
func ceilingSummary(c config.Ceilings) [][2]string {
	show := func(v int64, format func(int64) string, from config.CeilingSource) string {
		if v <= 0 {
			return "none"
		}
		if from == "" {
			from = config.CeilingFromOperator
		}
		return fmt.Sprintf("%s (%s)", format(v), from)
	}
	return [][2]string{
		{"cpus", show(c.NanoCPUs, config.FormatCPUs, c.From.CPUs)},
		{"memory", show(c.MemoryBytes, config.FormatSize, c.From.Memory)},
		{"pids", show(c.PIDs, func(v int64) string { return strconv.FormatInt(v, 10) }, c.From.PIDs)},
		{"timeout", show(int64(c.Timeout), func(v int64) string { return time.Duration(v).String() }, c.From.Timeout)},
	}
}

// logCeilings says at start-up what a suite may ask for at most, and whether
// the operator or the host decided it.
func logCeilings(log *slog.Logger, c config.Ceilings) {
	var args []any
	for _, kv := range ceilingSummary(c) {
		args = append(args, kv[0], kv[1])
	}
	log.Info("runner ceilings", args...)
}

// ceilingLine is the ceilings in one line, for config check: "runner
// ceilings: cpus 2 (host), memory 4g (operator), ...".
func ceilingLine(c config.Ceilings) string {
	var parts []string
	for _, kv := range ceilingSummary(c) {
		parts = append(parts, kv[0]+" "+kv[1])
	}
	return "runner ceilings: " + strings.Join(parts, ", ")
}
