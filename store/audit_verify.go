package store

import (
	"context"
	"crypto/hmac"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/patchgate/patchgate"
)

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
	if rep.Unaudited, rep.RecordsFrom, err = s.unaudited(ctx); err != nil {
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
	if key != nil && s.db.AuditKeyed && rep.Head.Seq == 0 {
		rep.Break = &patchgate.AuditBreak{Seq: 1, Reason: "entry missing: the log is empty, but the audit key file records " +
			"that it was keyed: its entries were deleted (restore the database from a backup)"}
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
			if marker == 0 && e.Seq == 1 && s.db.AuditKeyed {
				return &patchgate.AuditBreak{Seq: e.Seq, Reason: "not keyed: the log has plain hashes and no audit.keyed entry, " +
					"but the audit key file records that it was keyed: it was replaced or rewritten without the audit key " +
					"(do not run `patchgate audit seal`, which would vouch for the rewrite; restore the database from a backup)"}
			}
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
