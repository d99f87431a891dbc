package store

import (
	"context"
	"crypto/hmac"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/patchgate/patchgate"
)

// AuditService reads and checks the audit log. The services append to it with
// appendAudit, inside the transaction of the change an entry records.
type AuditService struct{ db *DB }

var _ patchgate.AuditService = (*AuditService)(nil)

// NewAuditService returns the audit service of db.
func NewAuditService(db *DB) *AuditService { return &AuditService{db: db} }

// auditLockKey is the PostgreSQL advisory lock that serialises appends to the
// audit chain ("pgaudit!"); migrateLockKey is another.
const auditLockKey int64 = 0x7067617564697421

// auditBatch is how many entries VerifyAudit and ExportAudit read per
// transaction, so that neither holds one open for the whole log.
const auditBatch = 1000

const auditColumns = `seq, at, actor, action, subject, sha, detail, prev_hash, hash`

// appendAudit appends e to the audit chain in tx: it sets Seq to the last
// entry's plus one, PrevHash to its hash, At to now, and Hash: a MAC under the
// DB's AuditKey, or, on a database opened without one, a plain hash. Call it
// as the last statement before Commit: on PostgreSQL it takes the chain's
// advisory lock until the transaction ends, and a transaction that holds it
// must not then wait for row locks that another one, waiting for the chain,
// holds. On SQLite the IMMEDIATE write transaction already serialises
// appenders.
//
// It never mixes the two: with a key it fails after a plain entry (an upgraded
// database whose log SealAudit has not keyed yet), and after a keyed entry an
// append without the key, or with another key, fails.
func (d *DB) appendAudit(ctx context.Context, tx *txn, e patchgate.AuditEntry) error {
	if e.Actor == "" || e.Action == "" {
		return fmt.Errorf("audit %q: actor and action are required", e.Action)
	}
	if d.dialect == DialectPostgres {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, auditLockKey); err != nil {
			return fmt.Errorf("audit %s: lock the chain: %w", e.Action, err)
		}
	}
	last, plain, err := d.chainEnd(ctx, tx)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	if plain && last.Seq > 0 && d.AuditKey != nil {
		return fmt.Errorf("audit %s: %w", e.Action, errNotKeyed(last.Seq))
	}
	e.Seq, e.PrevHash = last.Seq+1, last.Hash
	_, err = d.insertAudit(ctx, tx, e)
	return err
}

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

// errNotKeyed says that a log written before keying needs SealAudit.
func errNotKeyed(last int64) error {
	return patchgate.Errorf(patchgate.EINVALID, "the audit log is not keyed yet (its last entry %d has a plain hash): "+
		"after upgrading from a version without audit keys, run `patchgate audit seal` once", last)
}

// sealAudit appends the AuditKeyed entry after last, a plain entry, and returns
// its head. A log that was keyed before and then has plain entries again was
// written by someone without the key: sealing it once more would vouch for
// them, so it refuses.
func (d *DB) sealAudit(ctx context.Context, tx *txn, last patchgate.AuditHead) (patchgate.AuditHead, error) {
	var seq int64
	err := tx.QueryRow(ctx, `SELECT seq FROM audit_log WHERE action = $1 ORDER BY seq LIMIT 1`, patchgate.AuditKeyed).Scan(&seq)
	if err == nil {
		return last, patchgate.Errorf(patchgate.EINVALID, "the audit log was keyed at entry %d but its last entry %d is plain: "+
			"run `patchgate audit verify`", seq, last.Seq)
	} else if !errors.Is(err, sql.ErrNoRows) {
		return last, fmt.Errorf("look for the audit log's keyed entry: %w", err)
	}
	e := patchgate.AuditEntry{Seq: last.Seq + 1, PrevHash: last.Hash, Actor: patchgate.SystemActor,
		Action: patchgate.AuditKeyed, Subject: "audit", Detail: map[string]string{"plain_through": strconv.FormatInt(last.Seq, 10)}}
	hash, err := d.insertAudit(ctx, tx, e)
	return patchgate.AuditHead{Seq: e.Seq, Hash: hash}, err
}

// insertAudit writes e, whose Seq and PrevHash are set, at now with its MAC
// (or plain hash without a key), and returns that.
func (d *DB) insertAudit(ctx context.Context, tx *txn, e patchgate.AuditEntry) (string, error) {
	detail, err := json.Marshal(e.Detail)
	if err != nil {
		return "", fmt.Errorf("audit %s: %w", e.Action, err)
	}
	if len(e.Detail) == 0 {
		detail = []byte("{}")
	}
	e.At = d.now()
	e.Hash = e.ComputeHash()
	if d.AuditKey != nil {
		e.Hash = e.ComputeMAC(d.AuditKey)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit_log (`+auditColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		e.Seq, e.At, e.Actor, e.Action, e.Subject, e.SHA, string(detail), e.PrevHash, e.Hash); err != nil {
		return "", fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return e.Hash, nil
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
	if err == nil && plain && last.Seq > 0 {
		err = errNotKeyed(last.Seq)
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

// actorOr returns who acts in ctx; when ctx names no one (a direct call, the
// CLI), the by the caller passed, else patchgate.SystemActor.
func actorOr(ctx context.Context, by string) string {
	if _, ok := patchgate.PrincipalFromContext(ctx); ok || by == "" {
		return patchgate.AuditActor(ctx)
	}
	return by
}

// auditRow is an audit_log row as stored. Its columns are decoded apart from
// scanning so that VerifyAudit can report an unreadable entry as a break rather
// than fail on it.
type auditRow struct {
	e      patchgate.AuditEntry
	at     any
	detail string
}

func (r *auditRow) dest() []any {
	return []any{&r.e.Seq, &r.at, &r.e.Actor, &r.e.Action, &r.e.Subject, &r.e.SHA, &r.detail, &r.e.PrevHash, &r.e.Hash}
}

// entry decodes the time and the detail; an empty detail is nil.
func (r *auditRow) entry() (*patchgate.AuditEntry, error) {
	e := r.e
	if err := (timeCol{&e.At}).Scan(r.at); err != nil {
		return nil, fmt.Errorf("audit entry %d: %w", e.Seq, err)
	}
	if err := json.Unmarshal([]byte(r.detail), &e.Detail); err != nil {
		return nil, fmt.Errorf("audit entry %d: detail: %w", e.Seq, err)
	}
	if len(e.Detail) == 0 {
		e.Detail = nil
	}
	return &e, nil
}

// FindAudit returns matching entries in ascending Seq, at most filter.Limit
// (DefaultLimit when 0, never more than MaxLimit).
func (s *AuditService) FindAudit(ctx context.Context, f patchgate.AuditFilter) ([]*patchgate.AuditEntry, error) {
	var w where
	if f.Actor != nil {
		w.add("actor = $?", *f.Actor)
	}
	if f.Action != nil {
		w.add("action = $?", *f.Action)
	}
	if f.Subject != nil {
		w.add("subject = $?", *f.Subject)
	}
	if f.AfterSeq > 0 {
		w.add("seq > $?", f.AfterSeq)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)

	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var es []*patchgate.AuditEntry
	err = queryAudit(ctx, tx, `SELECT `+auditColumns+` FROM audit_log`+w.String()+` ORDER BY seq LIMIT `+w.arg(limit),
		w.args, func(r *auditRow) error {
			e, err := r.entry()
			if err != nil {
				return err
			}
			es = append(es, e)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("find audit entries: %w", err)
	}
	if es == nil {
		es = []*patchgate.AuditEntry{}
	}
	return es, nil
}

// queryAudit runs a query of auditColumns and calls fn for each row.
func queryAudit(ctx context.Context, tx *txn, query string, args []any, fn func(*auditRow) error) error {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r auditRow
		if err := rows.Scan(r.dest()...); err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// eachAudit calls fn for every entry in ascending Seq, reading auditBatch rows
// per read transaction. The log only grows at its end, so the batches together
// see one consistent prefix of it.
func (s *AuditService) eachAudit(ctx context.Context, fn func(*auditRow) error) error {
	var after int64
	for {
		n := 0
		err := func() error {
			tx, err := s.db.beginRead(ctx)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			return queryAudit(ctx, tx, `SELECT `+auditColumns+` FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2`,
				[]any{after, auditBatch}, func(r *auditRow) error {
					n++
					after = r.e.Seq
					return fn(r)
				})
		}()
		if err != nil || n < auditBatch {
			return err
		}
	}
}

// VerifyAudit walks the chain from its first entry; see CheckAudit.
func (s *AuditService) VerifyAudit(ctx context.Context) (int64, error) {
	rep, err := s.verifyChain(ctx)
	if err != nil {
		return 0, err
	}
	if rep.Break != nil {
		return rep.Checked, rep.Break
	}
	return rep.Checked, nil
}

// HeadAudit returns the last entry's Seq and Hash; the zero head when the log
// is empty.
func (s *AuditService) HeadAudit(ctx context.Context) (patchgate.AuditHead, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return patchgate.AuditHead{}, err
	}
	defer tx.Rollback()
	var h patchgate.AuditHead
	err = tx.QueryRow(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&h.Seq, &h.Hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return h, fmt.Errorf("read the audit log's head: %w", err)
	}
	return h, nil
}

// CheckAudit walks the chain from its first entry. The first entry must have
// Seq 1 and an empty PrevHash; each next one Seq one more and PrevHash the hash
// of the one before. With the DB's AuditKey, entries from the AuditKeyed one on
// (from the first, when there is none) must carry their MAC under it, and the
// entries before it their plain hash; without a key, every entry its plain hash
// (and a keyed log cannot be checked: EINVALID). The first entry that does not
// hold is the report's Break; a missing entry is named by its Seq. With an
// anchored head, the log must still reach it and hold the same hash there, so
// that a log cut short after the anchor is found. Then every approval row, its
// withdrawal, every promoted candidate and every ticket's current state must
// have its entry, and every such entry its record (Unaudited).
func (s *AuditService) CheckAudit(ctx context.Context, check patchgate.AuditCheck) (*patchgate.AuditReport, error) {
	rep, err := s.verifyChain(ctx)
	if err != nil {
		return nil, err
	}
	if a := check.Head; a != nil && rep.Break == nil {
		switch {
		case rep.Head.Seq < a.Seq:
			rep.Break = &patchgate.AuditBreak{Seq: rep.Head.Seq + 1, Reason: fmt.Sprintf(
				"truncated: the anchored head is entry %d, but the log ends at entry %d", a.Seq, rep.Head.Seq)}
		case a.Seq > 0:
			var hash string
			if err := s.readHash(ctx, a.Seq, &hash); err != nil {
				return nil, err
			}
			if !hmac.Equal([]byte(hash), []byte(a.Hash)) {
				rep.Break = &patchgate.AuditBreak{Seq: a.Seq, Reason: fmt.Sprintf(
					"anchored head mismatch: entry %d has hash %s, the anchor says %s", a.Seq, hash, a.Hash)}
			}
		}
	}
	if rep.Unaudited, err = s.unaudited(ctx); err != nil {
		return nil, err
	}
	return rep, nil
}

// readHash reads one entry's stored hash.
func (s *AuditService) readHash(ctx context.Context, seq int64, hash *string) error {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := tx.QueryRow(ctx, `SELECT hash FROM audit_log WHERE seq = $1`, seq).Scan(hash); err != nil {
		return fmt.Errorf("read audit entry %d: %w", seq, err)
	}
	return nil
}

// keyedAt returns the Seq of the first AuditKeyed entry, 0 when there is none.
func (s *AuditService) keyedAt(ctx context.Context) (int64, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var seq int64
	err = tx.QueryRow(ctx, `SELECT seq FROM audit_log WHERE action = $1 ORDER BY seq LIMIT 1`, patchgate.AuditKeyed).Scan(&seq)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("look for the audit log's keyed entry: %w", err)
	}
	return seq, nil
}

// verifyChain is CheckAudit's walk of the chain itself.
func (s *AuditService) verifyChain(ctx context.Context) (*patchgate.AuditReport, error) {
	key := s.db.AuditKey
	marker, err := s.keyedAt(ctx)
	if err != nil {
		return nil, err
	}
	// Entries up to plainThrough carry plain hashes. Where the keyed part
	// begins is the AuditKeyed entry's place, not what its detail says: it is
	// read before anything is verified.
	plainThrough := max(marker-1, 0)
	if key == nil {
		if marker > 0 {
			return nil, patchgate.Errorf(patchgate.EINVALID, "the audit log is keyed from entry %d: checking it needs its audit key (audit.key_file)", marker)
		}
		plainThrough = math.MaxInt64
	}
	rep := &patchgate.AuditReport{}
	var prev string
	err = s.eachAudit(ctx, func(r *auditRow) error {
		rep.Head = patchgate.AuditHead{Seq: r.e.Seq, Hash: r.e.Hash}
		if rep.Break != nil {
			return nil // read on for the head
		}
		rep.Break = s.checkEntry(r, rep.Checked+1, prev, plainThrough, marker)
		if rep.Break == nil {
			rep.Checked, prev = r.e.Seq, r.e.Hash
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify audit log: %w", err)
	}
	if key != nil && rep.Head.Seq > plainThrough {
		rep.KeyedFrom = plainThrough + 1
	}
	return rep, nil
}

// checkEntry checks one entry, the want'th, against the hash of the one before
// (prev) and its own hash or MAC; nil when it holds.
func (s *AuditService) checkEntry(r *auditRow, want int64, prev string, plainThrough, marker int64) *patchgate.AuditBreak {
	switch {
	case r.e.Seq != want:
		return &patchgate.AuditBreak{Seq: want, Reason: fmt.Sprintf("entry missing: the next entry is %d", r.e.Seq)}
	case r.e.PrevHash != prev:
		return &patchgate.AuditBreak{Seq: r.e.Seq, Reason: fmt.Sprintf("prev-hash mismatch: %q is not the hash of entry %d", r.e.PrevHash, r.e.Seq-1)}
	}
	e, err := r.entry()
	if err != nil {
		return &patchgate.AuditBreak{Seq: r.e.Seq, Reason: fmt.Sprintf("unreadable: %v", err)}
	}
	if e.Seq <= plainThrough {
		if e.ComputeHash() != e.Hash {
			reason := "hash mismatch: the entry was changed after it was written"
			if s.db.AuditKey == nil {
				reason += ", or it is keyed and checking it needs the audit key (audit.key_file)"
			}
			return &patchgate.AuditBreak{Seq: e.Seq, Reason: reason}
		}
		return nil
	}
	if !hmac.Equal([]byte(e.ComputeMAC(s.db.AuditKey)), []byte(e.Hash)) {
		if e.ComputeHash() == e.Hash {
			if marker == 0 && e.Seq == 1 {
				return &patchgate.AuditBreak{Seq: e.Seq, Reason: "not keyed: the log has plain hashes and no audit.keyed entry " +
					"vouches for them; if this database was upgraded and `patchgate audit seal` has not run yet, run it, " +
					"otherwise the log was rewritten without the audit key"}
			}
			return &patchgate.AuditBreak{Seq: e.Seq, Reason: "not keyed: a plain hash where a MAC belongs, so it was written or rewritten without the audit key"}
		}
		return &patchgate.AuditBreak{Seq: e.Seq, Reason: "MAC mismatch: the entry was changed after it was written, or the audit key is not the one it was written with"}
	}
	if e.Seq == marker && e.Detail["plain_through"] != strconv.FormatInt(plainThrough, 10) {
		return &patchgate.AuditBreak{Seq: e.Seq, Reason: fmt.Sprintf("the audit.keyed entry vouches for entries through %q, not %d", e.Detail["plain_through"], plainThrough)}
	}
	return nil
}

// ExportAudit writes every entry to w as one JSON object per line, ascending.
func (s *AuditService) ExportAudit(ctx context.Context, w io.Writer) error {
	enc := json.NewEncoder(w)
	err := s.eachAudit(ctx, func(r *auditRow) error {
		e, err := r.entry()
		if err != nil {
			return err
		}
		return enc.Encode(e)
	})
	if err != nil {
		return fmt.Errorf("export audit log: %w", err)
	}
	return nil
}

// RecordConfig appends a config.changed entry when digest differs from the one
// the last such entry recorded (or none was recorded): each start of patchgate
// with a new configuration is audited, an unchanged restart is not. It reports
// whether it appended.
func (s *AuditService) RecordConfig(ctx context.Context, digest string, detail map[string]string) (bool, error) {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var last string
	err = tx.QueryRow(ctx, `SELECT detail FROM audit_log WHERE action = $1 ORDER BY seq DESC LIMIT 1`, patchgate.AuditConfigChanged).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("read the last configuration digest: %w", err)
	}
	var prev map[string]string
	_ = json.Unmarshal([]byte(last), &prev)
	if prev["digest"] == digest {
		return false, nil
	}
	d := map[string]string{"digest": digest}
	for k, v := range detail {
		d[k] = v
	}
	if err := s.db.appendAudit(ctx, tx, patchgate.AuditEntry{
		Actor: actorOr(ctx, ""), Action: patchgate.AuditConfigChanged, Subject: "config", Detail: d,
	}); err != nil {
		return false, err
	}
	return true, tx.Commit()
}
