package testenv

import (
	"context"
	"fmt"

	"github.com/testcontainers/testcontainers-go/network"
)

// createNetwork creates the run's private bridge network: services are reached
// by their names on it, and it is the runner's only network. Unless the spec
// allows egress it is internal: no route leaves the host.
func (e *environment) createNetwork(ctx context.Context) error {
	opts := []network.NetworkCustomizer{
		network.WithDriver("bridge"),
		network.WithLabels(e.labels(RoleNetwork)),
	}
	if !e.spec.Egress {
		opts = append(opts, network.WithInternal())
	}
	nw, err := network.New(ctx, opts...)
	if err != nil {
		return fmt.Errorf("create network: %w", err)
	}
	e.network = nw
	return nil
}
