package main

import (
	"time"

	"github.com/patchgate/patchgate"
)

// EnforcementConfig configures what makes the forges enforce the gate:
// GitLab's external status checks' shared secrets, and how often waiting
// deployments and status checks are answered again.
type EnforcementConfig struct {
	// StatusCheckSecrets are the shared secrets of the GitLab external status
	// checks pointing at /webhooks/gitlab/status-check; several while
	// rotating. None: status checks are refused.
	StatusCheckSecrets []string `yaml:"status_check_secrets"`
	// SweepInterval is how often waiting deployments are decided again and
	// open status checks re-answered; well under GitLab's two minutes.
	SweepInterval time.Duration `yaml:"sweep_interval"`
}

// validate checks the enforcement keys and every repository's.
func (e EnforcementConfig) validate(repos []RepoConfig) []error {
	var errs []error
	for i, s := range e.StatusCheckSecrets {
		if len(s) < 8 {
			errs = append(errs, configKeyErrorf("enforcement.status_check_secrets[%d]: a secret needs at least 8 characters", i))
		}
	}
	if e.SweepInterval < 100*time.Millisecond || e.SweepInterval > time.Minute {
		errs = append(errs, configKeyErrorf("enforcement.sweep_interval: %s: want 100ms to 1m (GitLab fails a status check pending for 2m)", e.SweepInterval))
	}
	for i, r := range repos {
		if err := patchgate.DeployRequirement(r.DeployRequires).Validate(); err != nil {
			errs = append(errs, configKeyErrorf("repos[%d].deploy_requires: %q: want promoted (the default) or approved", i, r.DeployRequires))
		}
		for j, env := range r.Environments {
			if env == "" || len(env) > 255 {
				errs = append(errs, configKeyErrorf("repos[%d].environments[%d]: want an environment name of 1 to 255 characters", i, j))
			}
		}
		if len(r.Environments) == 0 && r.DeployRequires != "" {
			errs = append(errs, configKeyErrorf("repos[%d].deploy_requires: set with no environments: list the guarded ones in repos[%d].environments", i, i))
		}
	}
	return errs
}
