package testenv

import (
	"io"
	"strings"

	"github.com/moby/moby/api/types/container"

	"github.com/patchgate/patchgate"
)

// NoEgressNotice starts the log of every suite whose network is internal, so
// that a suite failing to download something says why at once.
const NoEgressNotice = "[patchgate] this environment has no network egress: the suite and its services reach each other and nothing else. " +
	"An operator allows egress per repository with `egress: true` under its repos[] entry in patchgate's configuration.\n"

// announceNetwork writes NoEgressNotice to log when the run's network is
// internal; a failing log writer is the log's problem, not the run's.
func (e *environment) announceNetwork(log io.Writer) {
	if !e.spec.Egress {
		_, _ = io.WriteString(log, NoEgressNotice)
	}
}

// rootServiceCaps are the capabilities a service image that starts as root
// keeps: what the official database images' entrypoints need to make their
// data directory their user's (search and chmod another user's directories)
// and drop to that user (setgid, setuid). Measured, not guessed, with a
// root-starting variant of the PostgreSQL test image in
// TestServiceCapabilitiesAreMinimal: it starts with these and fails without
// any one of them. An image that starts as its own user keeps none.
var rootServiceCaps = []string{"DAC_READ_SEARCH", "FOWNER", "SETGID", "SETUID"}

// serviceCaps returns the capabilities a service running as user keeps.
func serviceCaps(user string) []string {
	name, _, _ := strings.Cut(user, ":")
	if name == "" || name == "0" || name == "root" {
		return rootServiceCaps
	}
	return nil
}

// lockDownService gives a service container the runner's lockdown: not
// privileged, no host mounts, every capability dropped but caps, no setuid
// escalation, the run's limits, and the run's network only.
func lockDownService(h *container.HostConfig, network string, limits patchgate.Limits, caps []string) {
	pids := limits.PIDs
	h.NetworkMode = container.NetworkMode(network)
	h.Privileged = false
	h.Binds = nil
	h.Mounts = nil
	h.CapDrop = []string{"ALL"}
	h.CapAdd = caps
	h.SecurityOpt = []string{"no-new-privileges:true"}
	h.Resources.Memory = limits.MemoryBytes
	h.Resources.MemorySwap = limits.MemoryBytes
	h.Resources.NanoCPUs = limits.NanoCPUs
	h.Resources.PidsLimit = &pids
}
