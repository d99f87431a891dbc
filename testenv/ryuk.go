package testenv

import (
	"errors"
	"fmt"
	"os"

	"github.com/testcontainers/testcontainers-go"
)

// ryukEnv is the variable testcontainers-go reads, once per process, to decide
// whether every container and network it creates first needs its reaper.
const ryukEnv = "TESTCONTAINERS_RYUK_DISABLED"

// disableRyuk turns testcontainers' reaper (Ryuk) off for this process and
// checks that it is off. Ryuk's image cannot be pulled on air-gapped or
// mirrored hosts, and patchgate labels and sweeps its own resources, so no
// setting of the operator's (the variable, ~/.testcontainers.properties) may
// turn it on. testcontainers reads its configuration once, on its first use,
// and only "true" counts (not "1"): this runs before any testcontainers call
// of a Runner, and refuses to go on when the configuration was read earlier
// with the reaper on, rather than start it.
func disableRyuk() error {
	if os.Getenv(ryukEnv) != "true" {
		if err := os.Setenv(ryukEnv, "true"); err != nil {
			return fmt.Errorf("disable testcontainers' reaper: %w", err)
		}
	}
	if !testcontainers.ReadConfig().RyukDisabled {
		return errors.New("testcontainers' reaper (Ryuk) is enabled: its configuration was read before patchgate could disable it, and patchgate never starts Ryuk (its image cannot be pulled on air-gapped hosts)")
	}
	return nil
}
