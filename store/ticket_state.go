package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/patchgate/patchgate"
)

// ReconcileTicket reads ticket id's evidence, derives its state with
// patchgate.DeriveTicketState and settles it, auditing a change of state, in
// one transaction. On PostgreSQL the ticket's row is locked, on SQLite the
// write transaction is, so concurrent reconciliations of one ticket run one
// after the other and the last one sees all the evidence committed before it.
func (s *TicketService) ReconcileTicket(ctx context.Context, id int64) (*patchgate.Ticket, error) {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	t, err := s.db.reconcileTicket(ctx, tx, id, patchgate.AuditActor(ctx))
	if err != nil {
		return nil, err
	}
	return t, tx.Commit()
}

// reconcileTicket is ReconcileTicket inside tx, for the writes (a promotion)
// whose evidence and the states it implies must commit together; actor is
// who the audit entry names.
func (d *DB) reconcileTicket(ctx context.Context, tx *txn, id int64, actor string) (*patchgate.Ticket, error) {
	t, err := scanTicket(tx.QueryRow(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE id = $1`+d.forUpdate(), id))
	if err != nil {
		return nil, notFound(err, "ticket %d", id)
	}
	e, err := ticketEvidence(ctx, tx, t)
	if err != nil {
		return nil, err
	}
	return d.settleTicket(ctx, tx, t, patchgate.DeriveTicketState(e), e, actor)
}

// settleTicket writes t at state, derived from e, and audits a change of state.
func (d *DB) settleTicket(ctx context.Context, tx *txn, t *patchgate.Ticket, state patchgate.TicketState, e patchgate.TicketEvidence, actor string) (*patchgate.Ticket, error) {
	from := t.State
	if !t.Settle(state, e, d.now()) {
		return t, nil
	}
	t.UpdatedAt = d.now()
	if _, err := tx.Exec(ctx, `UPDATE tickets SET state = $1, opened_at = $2, verified_at = $3, released_at = $4,
		updated_at = $5 WHERE id = $6`, t.State, t.OpenedAt, t.VerifiedAt, t.ReleasedAt, t.UpdatedAt, t.ID); err != nil {
		return nil, fmt.Errorf("settle ticket %s: %w", t.Key, err)
	}
	if from != t.State {
		if err := d.appendAudit(ctx, tx, patchgate.AuditEntry{Actor: actor,
			Action: patchgate.AuditTicketState, Subject: "ticket:" + t.Key,
			Detail: map[string]string{"from": string(from), "to": string(t.State)}}); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// ticketEvidence gathers what patchgate.DeriveTicketState needs about t.
func ticketEvidence(ctx context.Context, tx *txn, t *patchgate.Ticket) (patchgate.TicketEvidence, error) {
	e := patchgate.TicketEvidence{ReopenedAt: t.ReopenedAt}
	// A change may fix the ticket through several links (title, body, commits);
	// it is one fix, except that each commit of a direct push is its own.
	type fixKey struct {
		change int64
		commit string
	}
	index := map[fixKey]int{}
	rows, err := tx.Query(ctx, `SELECT l.commit_sha, l.created_at, `+qualify("c", changeColumns)+`
		FROM links l JOIN changes c ON c.id = l.change_id
		WHERE l.ticket_id = $1 AND l.kind = $2 ORDER BY l.id`, t.ID, patchgate.LinkFixes)
	if err != nil {
		return e, fmt.Errorf("find fixes of %s: %w", t.Key, err)
	}
	for rows.Next() {
		var f patchgate.FixEvidence
		f.Change = &patchgate.Change{}
		if err := rows.Scan(append([]any{&f.CommitSHA, timeCol{&f.LinkedAt}}, changeDest(f.Change)...)...); err != nil {
			rows.Close()
			return e, fmt.Errorf("find fixes of %s: %w", t.Key, err)
		}
		if f.Change.Kind != patchgate.ChangePush {
			f.CommitSHA = ""
		}
		k := fixKey{f.Change.ID, f.CommitSHA}
		if i, ok := index[k]; ok {
			if f.LinkedAt.Before(e.Fixes[i].LinkedAt) {
				e.Fixes[i].LinkedAt = f.LinkedAt
			}
			continue
		}
		index[k] = len(e.Fixes)
		e.Fixes = append(e.Fixes, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return e, fmt.Errorf("find fixes of %s: %w", t.Key, err)
	}
	for i := range e.Fixes {
		f := &e.Fixes[i]
		ch := f.Change
		landedAs := ch.MergeCommitSHA
		if ch.Kind == patchgate.ChangePush {
			landedAs = f.CommitSHA
		} else if f.Head, err = verdictOf(ctx, tx, ch, ch.HeadSHA, false); err != nil {
			return e, err
		} else if f.Proof, f.ProofRequired, err = proofOf(ctx, tx, ch, ch.HeadSHA); err != nil {
			return e, err
		}
		if landedAs != "" {
			if f.Merged, err = verdictOf(ctx, tx, ch, landedAs, true); err != nil {
				return e, err
			}
		}
	}
	rows, err = tx.Query(ctx, `SELECT c.promoted_at FROM candidate_items i JOIN candidates c ON c.id = i.candidate_id
		WHERE i.ticket_id = $1 AND c.state = $2 AND c.promoted_at IS NOT NULL`, t.ID, patchgate.CandidatePromoted)
	if err != nil {
		return e, fmt.Errorf("find releases of %s: %w", t.Key, err)
	}
	defer rows.Close()
	for rows.Next() {
		var at time.Time
		if err := rows.Scan(timeCol{&at}); err != nil {
			return e, fmt.Errorf("find releases of %s: %w", t.Key, err)
		}
		e.Releases = append(e.Releases, at)
	}
	if err := rows.Err(); err != nil {
		return e, fmt.Errorf("find releases of %s: %w", t.Key, err)
	}
	return e, nil
}

// verdictOf is the newest verdict on sha in ch's repository that is not
// canceled: for a change's head, not stale either (a verdict a newer head made
// stale says nothing about the head now); for the commit a fix landed as, the
// newest final one, stale or not (the branch moving on does not undo that the
// commit passed). "" when there is none.
func verdictOf(ctx context.Context, tx *txn, ch *patchgate.Change, sha string, landed bool) (patchgate.RunState, error) {
	rows, err := tx.Query(ctx, `SELECT state, stale FROM verifications WHERE forge = $1 AND repo = $2 AND sha = $3
		ORDER BY id DESC LIMIT 50`, ch.Forge, ch.Repo, sha)
	if err != nil {
		return "", fmt.Errorf("find verdicts on %s: %w", sha, err)
	}
	defer rows.Close()
	for rows.Next() {
		var state patchgate.RunState
		var stale bool
		if err := rows.Scan(&state, &stale); err != nil {
			return "", fmt.Errorf("find verdicts on %s: %w", sha, err)
		}
		switch {
		case state == patchgate.RunCanceled:
		case landed && state.Final():
			return state, nil
		case !landed && !stale:
			return state, nil
		}
	}
	return "", rows.Err()
}

// proofOf is the fail-to-pass proof of the newest verification on a change's
// head that is neither stale nor canceled (the one verdictOf reads), and
// whether proof was required; "" when it has none.
func proofOf(ctx context.Context, tx *txn, ch *patchgate.Change, sha string) (patchgate.ProofState, bool, error) {
	var state patchgate.ProofState
	var required bool
	var proofRequired sql.NullBool
	err := tx.QueryRow(ctx, `SELECT COALESCE(p.state, ''), v.require_proof, p.require_proof FROM verifications v
		LEFT JOIN proofs p ON p.verification_id = v.id
		WHERE v.forge = $1 AND v.repo = $2 AND v.sha = $3 AND v.stale = $4 AND v.state <> $5
		ORDER BY v.id DESC LIMIT 1`, ch.Forge, ch.Repo, sha, false, patchgate.RunCanceled).Scan(&state, &required, &proofRequired)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("find the proof on %s: %w", sha, err)
	}
	// Required when the verification was planned under release.require_proof
	// (even if no proof was recorded: a change linked after its verdict) or
	// when its proof says so (proofs recorded before verifications kept it).
	return state, required || proofRequired.Bool, nil
}

// RecordReopen keeps at as the ticket's latest reopen when it is later than the
// one recorded. ENOTFOUND if there is no such ticket.
func (s *TicketService) RecordReopen(ctx context.Context, id int64, at time.Time) error {
	if at.IsZero() {
		return patchgate.Errorf(patchgate.EINVALID, "reopen of ticket %d: a time is required", id)
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var key string
	if err := tx.QueryRow(ctx, `SELECT key FROM tickets WHERE id = $1`+s.db.forUpdate(), id).Scan(&key); err != nil {
		return notFound(err, "ticket %d", id)
	}
	at = at.UTC().Truncate(time.Microsecond)
	if _, err := tx.Exec(ctx, `UPDATE tickets SET reopened_at = $1 WHERE id = $2 AND (reopened_at IS NULL OR reopened_at < $1)`,
		at, id); err != nil {
		return fmt.Errorf("record reopen of ticket %s: %w", key, err)
	}
	return tx.Commit()
}
