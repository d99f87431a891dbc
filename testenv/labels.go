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

// LabelInstance is the instance id of the database that knows the run
// (Runner.Instance), on the resources of a Runner that has one: owners can be
// configured alike by mistake, instance ids cannot.
const LabelInstance = "dev.patchgate.instance"

// Values of LabelRole.
const (
	RoleNetwork = "network"
	RoleService = "service"
	RoleRunner  = "runner"
)

// labels returns the labels of one resource of a run; instance may be empty.
func labels(owner, instance, runID, role string, now time.Time) map[string]string {
	l := map[string]string{
		LabelOwner:   owner,
		LabelRun:     runID,
		LabelRole:    role,
		LabelCreated: strconv.FormatInt(now.Unix(), 10),
	}
	if instance != "" {
		l[LabelInstance] = instance
	}
	return l
}
