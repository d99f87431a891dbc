package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/patchgate/patchgate/keyfile"
	"github.com/patchgate/patchgate/store"
)

// auditKeyBytes is the size of a new audit key.
const auditKeyBytes = 32

// defaultAuditKeyFile is where the audit key lives when audit.key_file is not
// set: beside an SQLite file (patchgate.db.audit-key), or patchgate.audit-key
// in dir (the configuration file's directory) for PostgreSQL. An in-memory
// database has none: its key lives as long as it does.
func defaultAuditKeyFile(database, dir string) string {
	switch {
	case database == "sqlite::memory:" || database == "sqlite://:memory:":
		return ""
	case strings.HasPrefix(database, "sqlite://"):
		path, _, _ := strings.Cut(strings.TrimPrefix(database, "sqlite://"), "?")
		return path + ".audit-key"
	}
	return filepath.Join(dir, "patchgate.audit-key")
}

// keyUse says what a command does with the audit log, and so what it may do
// about its key.
type keyUse int

const (
	// keyWrite: the command appends. A missing key file is created when the
	// log has never been keyed; the key must match the log.
	keyWrite keyUse = iota
	// keyRead: the command only reads (audit verify, head, export). The key
	// file must exist; whether it matches is what verify reports.
	keyRead
	// keySeal: `patchgate audit seal`, which keys an upgraded log.
	keySeal
	// keyNone: the command does not need the key (audit head, export).
	keyNone
)

// useAuditKey loads the audit key of cfg into db, creating the file when use
// allows it; seals the log (see store.AuditService.SealAudit) when this
// process migrated the database or created the key, so that an upgraded log is
// keyed and a new one starts with its audit.keyed entry; and, for writers,
// checks the key against the log. Every error names the file and what to do.
func useAuditKey(ctx context.Context, db *store.DB, cfg Config, use keyUse, migrated bool) error {
	if use == keyNone {
		return nil
	}
	path := cfg.Audit.KeyFile
	if path == "" {
		path = defaultAuditKeyFile(cfg.Database, ".")
	}
	audit := store.NewAuditService(db)
	if path == "" { // in-memory database
		db.AuditKey = make([]byte, auditKeyBytes)
		_, _ = rand.Read(db.AuditKey)
		if use == keyWrite { // records are cross-checked from its first entry
			if _, err := audit.Baseline(ctx); err != nil {
				return fmt.Errorf("audit baseline: %w", err)
			}
		}
		return nil
	}
	key, err := readAuditKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		if use != keyWrite {
			return fmt.Errorf("audit key file %s does not exist: patchgate creates it on its first start; "+
				"point audit.key_file (PATCHGATE_AUDIT_KEY_FILE) at the server's key file", path)
		}
		if keyed, kerr := audit.Keyed(ctx); kerr != nil {
			return kerr
		} else if keyed {
			return fmt.Errorf("audit key file %s does not exist, but the audit log was written with a key: "+
				"restore the file from a backup, or copy it from the host that created it (audit.key_file)", path)
		}
		key, err = createAuditKey(path)
		migrated = true // a new key: mark the log as keyed at once
	}
	if err != nil {
		return err
	}
	db.AuditKey = key
	mark := keyedMarkFile(path)
	if db.AuditKeyed, err = fileExists(mark); err != nil {
		return err
	}
	if use == keySeal || (use == keyWrite && migrated) {
		if _, err := audit.SealAudit(ctx); err != nil {
			if db.AuditKeyed {
				return fmt.Errorf("key the audit log with %s (%s records that it was keyed): %w", path, mark, err)
			}
			return fmt.Errorf("key the audit log with %s: %w", path, err)
		}
	}
	if use == keyWrite {
		if err := audit.CheckKey(ctx); err != nil {
			return fmt.Errorf("audit key file %s: %w", path, err)
		}
		if _, err := audit.Baseline(ctx); err != nil {
			return fmt.Errorf("audit baseline: %w", err)
		}
	}
	if use == keyWrite || use == keySeal {
		if err := markKeyed(ctx, audit, db, mark); err != nil {
			return err
		}
	}
	return nil
}

// keyedMarkFile is where patchgate records, beside the key file and outside
// the database, that the log was keyed with that key: path.keyed. A key file
// without one (written before it existed) stays readable; the mark is added
// on the next start of a writer.
func keyedMarkFile(keyFile string) string { return keyFile + ".keyed" }

// markKeyed writes the mark once the log is keyed: from then on a log without
// its audit.keyed entry is a rewrite, never sealed again (store.DB.AuditKeyed).
func markKeyed(ctx context.Context, audit *store.AuditService, db *store.DB, mark string) error {
	if db.AuditKeyed {
		return nil
	}
	if keyed, err := audit.Keyed(ctx); err != nil || !keyed {
		return err
	}
	const text = "The audit log of the key file beside this one is keyed: a log without its audit.keyed entry was\n" +
		"rewritten, and `patchgate audit seal` refuses it. Keep this file with the key file.\n"
	// An existing mark was written by another process: the log is keyed.
	if _, err := keyfile.WriteNew(mark, []byte(text)); err != nil {
		return fmt.Errorf("record that the audit log is keyed in %s: %w: make the key file's directory writable", mark, err)
	}
	db.AuditKeyed = true
	return nil
}

// fileExists reports whether path exists; an error other than its absence
// names the file.
func fileExists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("audit key mark %s: %w", path, err)
}

// readAuditKey reads a key file: hex, at least auditKeyBytes, readable by its
// owner only. A missing file is fs.ErrNotExist.
func readAuditKey(path string) ([]byte, error) {
	raw, err := keyfile.Read(path, auditKeyFile)
	if err != nil {
		return nil, err
	}
	return parseAuditKey(path, raw)
}

// parseAuditKey reads the key in raw, the content of the key file at path.
func parseAuditKey(path string, raw []byte) ([]byte, error) {
	key, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(key) < auditKeyBytes {
		return nil, fmt.Errorf("audit key file %s: want at least %d hex digits, as patchgate writes it: restore the file patchgate created", path, 2*auditKeyBytes)
	}
	return key, nil
}

// auditKeyFile is how the audit key file is named in errors.
var auditKeyFile = keyfile.Spec{Name: "audit key file", Key: "audit.key_file", Fix: "point audit.key_file at the key file",
	Exposed: "consider the key exposed if others did"}

// createAuditKey writes a new random key to path, readable by its owner only.
// When another process created it first, that one's key is read instead.
func createAuditKey(path string) ([]byte, error) {
	key := make([]byte, auditKeyBytes)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("make an audit key: %w", err)
	}
	data, err := keyfile.Create(path, []byte(hex.EncodeToString(key)+"\n"), auditKeyFile)
	if err != nil {
		return nil, err
	}
	return parseAuditKey(path, data)
}
