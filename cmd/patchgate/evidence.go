package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/evidence"
	"github.com/patchgate/patchgate/keyfile"
	"github.com/patchgate/patchgate/store"
	"github.com/patchgate/patchgate/usecase/gate"
)

// EvidenceConfig locates the key release evidence packs are signed with.
type EvidenceConfig struct {
	// KeyFile holds patchgate's ed25519 signing key (PEM, PKCS#8). Default:
	// beside an SQLite file (patchgate.db.evidence-key); for PostgreSQL,
	// patchgate.evidence-key beside the configuration file, or in the
	// working directory without one. Created (0600) on first start; refused
	// when group or others may read it.
	KeyFile string `yaml:"key_file"`
}

// configDir is the directory default key files live in: the configuration
// file's, or the working directory without one.
func configDir(path string) string {
	if path == "" {
		return "."
	}
	return filepath.Dir(path)
}

// defaultEvidenceKeyFile is where the evidence key lives when
// evidence.key_file is not set, beside the audit key. An in-memory database
// has none: its packs are signed with a key that lives as long as it does.
func defaultEvidenceKeyFile(database, dir string) string {
	switch {
	case database == "sqlite::memory:" || database == "sqlite://:memory:":
		return ""
	case strings.HasPrefix(database, "sqlite://"):
		path, _, _ := strings.Cut(strings.TrimPrefix(database, "sqlite://"), "?")
		return path + ".evidence-key"
	}
	return filepath.Join(dir, "patchgate.evidence-key")
}

// loadEvidenceKey loads the configured key, creating the file on first use
// (create false: a missing file is an error naming it).
func loadEvidenceKey(cfg Config, create bool) (*evidence.Key, error) {
	path := cfg.Evidence.KeyFile
	if path == "" {
		path = defaultEvidenceKeyFile(cfg.Database, ".")
	}
	if path == "" { // in-memory database
		return evidence.GenerateKey()
	}
	name := "evidence key file " + path
	data, err := keyfile.Read(path, evidenceKeyFile)
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		return createEvidenceKey(path)
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("evidence key file %s does not exist: patchgate creates it on its first start; "+
			"point evidence.key_file (PATCHGATE_EVIDENCE_KEY_FILE) at the server's key file", path)
	case err != nil:
		return nil, err
	}
	return evidence.ParseKey(name, data)
}

// evidenceKeyFile is how the evidence key file is named in errors.
var evidenceKeyFile = keyfile.Spec{Name: "evidence key file", Key: "evidence.key_file", Fix: "point evidence.key_file at the key file",
	Exposed: "consider the key exposed if others did: make a new one and publish its public key"}

// createEvidenceKey writes a new key to path, readable by its owner only.
// When another process created it first, that one's key is used instead.
func createEvidenceKey(path string) (*evidence.Key, error) {
	k, err := evidence.GenerateKey()
	if err != nil {
		return nil, err
	}
	pemKey, err := k.PrivatePEM()
	if err != nil {
		return nil, err
	}
	data, err := keyfile.Create(path, pemKey, evidenceKeyFile)
	if err != nil {
		return nil, err
	}
	return evidence.ParseKey("evidence key file "+path, data)
}

// evidenceRecorder makes the writer of every promotion's evidence pack,
// signed with the configured key; every forge client that can attach
// release assets attaches the pack to the release.
func (m *Main) evidenceRecorder(st *stores, clients forgeAPIs) (gate.EvidenceWriter, error) {
	key, err := loadEvidenceKey(m.Config, true)
	if err != nil {
		return nil, err
	}
	m.Logger.Info("evidence packs are signed with key "+key.ID()+": publish `patchgate evidence key` for auditors", "key_id", key.ID())
	assets := map[patchgate.Forge]patchgate.ReleaseAssets{}
	for forge, r := range clients.releasers {
		if a, ok := r.(patchgate.ReleaseAssets); ok {
			assets[forge] = a
		}
	}
	// The author rule the gate applied to approvals, to record who wrote the
	// release, so that verify can check no author approved it.
	authors := &gate.AuthorRule{Authors: clients.authors, Comparers: clients.comparers, Branches: st.changes, Logger: m.Logger}
	return &gate.EvidenceRecorder{Runs: st.verifications, Authors: authors, People: m.people(clients),
		Audit: store.NewAuditService(m.DB), Signer: &evidence.Signer{Key: key}, Packs: store.NewEvidencePackService(m.DB),
		Assets: assets, PublicURL: m.Config.PublicURL}, nil
}
