package testenv

import (
	"context"
	"fmt"

	"github.com/testcontainers/testcontainers-go/network"
)

// createNetwork creates the run's private bridge network: services are reached
// by their names on it, and it is the runner's only network.
func (e *environment) createNetwork(ctx context.Context) error {
	nw, err := network.New(ctx,
		network.WithDriver("bridge"),
		network.WithLabels(e.labels(RoleNetwork)),
	)
	if err != nil {
		return fmt.Errorf("create network: %w", err)
	}
	e.network = nw
	return nil
}
