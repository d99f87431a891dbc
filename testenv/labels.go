package testenv

import (
	"strconv"
	"time"
)

// Labels patchgate puts on every container and network it creates. Ryuk is
// disabled on patchgate's hosts, so these are what the sweeper finds leftovers by.
const (
	LabelOwner   = "dev.patchgate.owner"   // the patchgate instance (Runner.Owner)
	LabelRun     = "dev.patchgate.run"     // EnvironmentSpec.RunID
	LabelRole    = "dev.patchgate.role"    // RoleNetwork, RoleService or RoleRunner
	LabelCreated = "dev.patchgate.created" // unix seconds
	LabelService = "dev.patchgate.service" // service name, on service containers
)

// Values of LabelRole.
const (
	RoleNetwork = "network"
	RoleService = "service"
	RoleRunner  = "runner"
)

// labels returns the labels of one resource of a run.
func labels(owner, runID, role string, now time.Time) map[string]string {
	return map[string]string{
		LabelOwner:   owner,
		LabelRun:     runID,
		LabelRole:    role,
		LabelCreated: strconv.FormatInt(now.Unix(), 10),
	}
}
