package store

import (
	"context"
	"crypto/hmac"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/patchgate/patchgate"
)

// chainEnd returns the last entry's head, the zero head for an empty log, and
// whether that entry is plain (not keyed). It fails when the entry carries
// neither a MAC under the DB's key nor a plain hash: the key is not the one the
// chain was written with, the database was opened without its key, or the
// entry was edited.
func (d *DB) chainEnd(ctx context.Context, tx *txn) (patchgate.AuditHead, bool, error) {
	var r auditRow
	err := tx.QueryRow(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return patchgate.AuditHead{}, true, nil
	} else if err != nil {
		return patchgate.AuditHead{}, false, fmt.Errorf("read the chain's end: %w", err)
	}
	head := patchgate.AuditHead{Seq: r.e.Seq, Hash: r.e.Hash}
	e, err := r.entry()
	if err != nil {
		return head, false, fmt.Errorf("the last entry of the audit log is unreadable (%v): run `patchgate audit verify`", err)
	}
	switch {
	case d.AuditKey != nil && hmac.Equal([]byte(e.ComputeMAC(d.AuditKey)), []byte(e.Hash)):
		return head, false, nil
	case e.ComputeHash() == e.Hash:
		return head, true, nil
	case d.AuditKey == nil:
		return head, false, patchgate.Errorf(patchgate.EINVALID,
			"the audit log is keyed (entry %d carries a MAC): open the database with its audit key (audit.key_file)", e.Seq)
	}
	return head, false, patchgate.Errorf(patchgate.EINVALID,
		"the audit key does not match the audit log's last entry %d: configure the key file the log was written with "+
			"(audit.key_file), or run `patchgate audit verify` to see whether the log was edited", e.Seq)
}

// Keyed reports whether the log's last entry carries anything but its plain
// hash: then a key was used on the log (or the entry was edited), and a new key
// must not be made for it. An empty log is not keyed.
func (s *AuditService) Keyed(ctx context.Context) (bool, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var r auditRow
	err = tx.QueryRow(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(r.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("read the audit log's end: %w", err)
	}
	e, err := r.entry()
	return err != nil || e.ComputeHash() != e.Hash, nil
}

// errNotKeyed says that a log written before keying needs SealAudit, or, when
// the key file records that the log was keyed, that it was rewritten.
func (d *DB) errNotKeyed(last int64) error {
	if d.AuditKeyed {
		return errRewritten(last)
	}
	return patchgate.Errorf(patchgate.EINVALID, "the audit log is not keyed yet (its last entry %d has a plain hash): "+
		"after upgrading from a version without audit keys, run `patchgate audit seal` once", last)
}

// errRewritten refuses to seal or write to a plain log (last is its last
// entry, 0 when empty) whose key file records that it was keyed.
func errRewritten(last int64) error {
	return patchgate.Errorf(patchgate.EINVALID, "the audit key file records that this audit log was keyed, but the log "+
		"(last entry %d) has no keyed end: it was replaced or rewritten without the key, and sealing it would vouch "+
		"for the rewrite; do not run `patchgate audit seal`: restore the database from a backup, and run "+
		"`patchgate audit verify` to see what changed (a new database made on purpose gets a new audit.key_file)", last)
}

// sealAudit appends the AuditKeyed entry after last, a plain entry, and returns
// its head. A log that was keyed before and then has plain entries again was
// written by someone without the key: sealing it once more would vouch for
// them, so it refuses; so it does when the key file records that the log was
// keyed (DB.AuditKeyed), even when no audit.keyed entry is left in it.
func (d *DB) sealAudit(ctx context.Context, tx *txn, last patchgate.AuditHead) (patchgate.AuditHead, error) {
	var seq int64
	err := tx.QueryRow(ctx, `SELECT seq FROM audit_log WHERE action = $1 ORDER BY seq LIMIT 1`, patchgate.AuditKeyed).Scan(&seq)
	if err == nil {
		return last, patchgate.Errorf(patchgate.EINVALID, "the audit log was keyed at entry %d but its last entry %d is plain: "+
			"run `patchgate audit verify`", seq, last.Seq)
	} else if !errors.Is(err, sql.ErrNoRows) {
		return last, fmt.Errorf("look for the audit log's keyed entry: %w", err)
	}
	if d.AuditKeyed {
		return last, errRewritten(last.Seq)
	}
	// The keyed entry is the baseline too: from it on, records are checked
	// against their entries (see checkRecords).
	detail, err := baselineDetail(ctx, tx)
	if err != nil {
		return last, err
	}
	detail["plain_through"] = strconv.FormatInt(last.Seq, 10)
	e := patchgate.AuditEntry{Seq: last.Seq + 1, PrevHash: last.Hash, Actor: patchgate.SystemActor,
		Action: patchgate.AuditKeyed, Subject: "audit", Detail: detail}
	hash, err := d.insertAudit(ctx, tx, e)
	return patchgate.AuditHead{Seq: e.Seq, Hash: hash}, err
}

// CheckKey checks the DB's AuditKey against the audit log before patchgate
// writes to it: the last entry must carry a MAC under it, or the log must be
// empty. It fails, saying what to do, when the entry carries a MAC under
// another key or is plain (a log SealAudit has not keyed yet). Call it at
// start-up, after Migrate.
func (s *AuditService) CheckKey(ctx context.Context) error {
	if s.db.AuditKey == nil {
		return patchgate.Errorf(patchgate.EINVALID, "no audit key: set audit.key_file")
	}
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	last, plain, err := s.db.chainEnd(ctx, tx)
	if err == nil && plain && (last.Seq > 0 || s.db.AuditKeyed) {
		err = s.db.errNotKeyed(last.Seq)
	}
	return err
}

// SealAudit keys a log written before audit keys existed: it appends the
// AuditKeyed entry, whose MAC covers the last plain entry's hash and so vouches
// for every plain entry before it. On an empty log it appends the AuditKeyed
// entry too (plain_through 0), so that from then on a process with another key
// is refused by CheckKey at start-up rather than at its first write. It
// reports whether it appended; an already keyed log needs nothing. Run it once,
// right after the upgrade (or the creation of the database): it vouches for
// whatever the plain part holds at that moment.
func (s *AuditService) SealAudit(ctx context.Context) (bool, error) {
	if s.db.AuditKey == nil {
		return false, patchgate.Errorf(patchgate.EINVALID, "no audit key: set audit.key_file")
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if s.db.dialect == DialectPostgres {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, auditLockKey); err != nil {
			return false, fmt.Errorf("lock the audit chain: %w", err)
		}
	}
	last, plain, err := s.db.chainEnd(ctx, tx)
	if err != nil || !plain {
		return false, err
	}
	if _, err := s.db.sealAudit(ctx, tx, last); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// Baseline appends the audit.baseline entry to a keyed log that has no
// baseline yet (one keyed before records were cross-checked), recording what
// checkRecords needs to tell rows written before it from rows that must have
// their entries. It reports whether it appended. A log keyed since carries
// the baseline in its audit.keyed entry. Run it at start-up, after CheckKey.
func (s *AuditService) Baseline(ctx context.Context) (bool, error) {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if s.db.dialect == DialectPostgres {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, auditLockKey); err != nil {
			return false, fmt.Errorf("lock the audit chain: %w", err)
		}
	}
	if b, err := findBaseline(ctx, tx); err != nil || b != nil {
		return false, err
	}
	detail, err := baselineDetail(ctx, tx)
	if err != nil {
		return false, err
	}
	if err := s.db.appendAudit(ctx, tx, patchgate.AuditEntry{Actor: patchgate.SystemActor, Action: patchgate.AuditBaseline,
		Subject: "audit", Detail: detail}); err != nil {
		return false, err
	}
	return true, tx.Commit()
}
