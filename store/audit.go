package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"

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
// append without the key, or with another key, fails. With DB.AuditKeyed it
// fails on a plain or empty log too: the log was keyed, so it was replaced.
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
	if plain && (last.Seq > 0 || d.AuditKeyed) && d.AuditKey != nil {
		return fmt.Errorf("audit %s: %w", e.Action, d.errNotKeyed(last.Seq))
	}
	e.Seq, e.PrevHash = last.Seq+1, last.Hash
	_, err = d.insertAudit(ctx, tx, e)
	return err
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
