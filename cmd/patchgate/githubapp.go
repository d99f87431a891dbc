package main

import (
	"crypto/rsa"
	"fmt"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/forges"
	"github.com/patchgate/patchgate/keyfile"
	"github.com/patchgate/patchgate/usecase/checks"
	"github.com/patchgate/patchgate/usecase/delivery"
)

var _ checks.Forge = (*forges.GitHub)(nil)

// validateApp checks a forge section's App keys: GitHub only, both or
// neither.
func validateApp(key string, f *ForgeConfig) []error {
	var errs []error
	switch {
	case key != "github" && (f.AppID != 0 || f.PrivateKeyFile != ""):
		errs = append(errs, configKeyErrorf("%s.app_id: GitHub Apps exist on GitHub only; remove %s.app_id and %s.private_key_file", key, key, key))
	case f.AppID < 0:
		errs = append(errs, configKeyErrorf("%s.app_id: %d: want the App's id from its settings page", key, f.AppID))
	case f.AppID != 0 && f.PrivateKeyFile == "":
		errs = append(errs, configKeyErrorf("%s.private_key_file: required with %s.app_id: point it at the .pem file GitHub generated for the App", key, key))
	case f.AppID == 0 && f.PrivateKeyFile != "":
		errs = append(errs, configKeyErrorf("%s.app_id: required with %s.private_key_file: the App's id is on its settings page", key, key))
	}
	return errs
}

// readAppKey reads the GitHub App's private key file, refusing one that
// others may read, as the audit key is refused: whoever reads it can act as
// the App on every repository it is installed on.
func readAppKey(path string) (*rsa.PrivateKey, error) {
	raw, err := keyfile.Read(path, keyfile.Spec{Name: "github.private_key_file", Fix: "point it at the App's .pem file",
		Exposed: "generate a new key on the App's settings page if others did read it"})
	if err != nil {
		return nil, err
	}
	key, err := forges.ParseAppKey(raw)
	if err != nil {
		return nil, fmt.Errorf("github.private_key_file %s: %w", path, err)
	}
	return key, nil
}

// githubConfig is the GitHub client's configuration: App mode when app_id
// is set, the token otherwise.
func (m *Main) githubConfig() (forges.Config, error) {
	c := m.Config.GitHub
	cfg := forges.Config{BaseURL: c.APIURL, Token: c.Token, Logger: m.Logger}
	if c.AppID == 0 {
		// Say once what the token cannot enforce, so that an operator
		// learns what App mode adds before someone fakes a status.
		m.Logger.Info("github token mode: verdicts are commit statuses, which anyone with write access can also post",
			"app_mode_adds", "check runs bound to the App, annotations, a Re-run button for maintainers (github.app_id, github.private_key_file; README \"GitHub App mode\")")
		return cfg, nil
	}
	key, err := readAppKey(c.PrivateKeyFile)
	if err != nil {
		return cfg, err
	}
	cfg.Token, cfg.App = "", &forges.AppConfig{ID: c.AppID, Key: key}
	return cfg, nil
}

// checkActions acts on check run buttons when patchgate is a GitHub App;
// nil (no handler) otherwise.
func (m *Main) checkActions(st *stores, clients forgeAPIs, uc *useCases) delivery.CheckActions {
	if len(clients.checkForges) == 0 {
		return nil
	}
	return &checks.Actions{Forges: clients.checkForges, People: m.people(clients), Changes: st.changes,
		Verifier: uc.verifier, Logger: m.Logger}
}

// checkForgesOf is the App-mode GitHub client in its roles for check runs.
func checkForgesOf(gh *forges.GitHub) (map[patchgate.Forge]patchgate.CheckRunPoster, map[patchgate.Forge]checks.Forge) {
	if gh.AppID() == 0 {
		return map[patchgate.Forge]patchgate.CheckRunPoster{}, map[patchgate.Forge]checks.Forge{}
	}
	return map[patchgate.Forge]patchgate.CheckRunPoster{patchgate.GitHub: gh}, map[patchgate.Forge]checks.Forge{patchgate.GitHub: gh}
}

// checkForge is what check run buttons need of a forge; named here so that
// app.go's client table needs no import of its own for it.
type checkForge = checks.Forge
