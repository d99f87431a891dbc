package store

import (
	"context"
	"database/sql"
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
	t, err = d.settleTicket(ctx, tx, t, patchgate.DeriveTicketState(e), e, actor)
	if err != nil {
		return nil, err
	}
	// A ticket written before the reports' audit record existed catches up
	// the first time it is reconciled; otherwise this finds its record current.
	return t, d.recordTicket(ctx, tx, t.ID, actor)
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
	if err := d.recordTicket(ctx, tx, t.ID, actor); err != nil {
		return nil, err
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
		} else {
			vs, err := verdictsOn(ctx, tx, ch, ch.HeadSHA)
			if err != nil {
				return e, err
			}
			f.Head, f.Proof, f.ProofRequired = patchgate.HeadVerdict(vs)
		}
		if landedAs != "" {
			vs, err := verdictsOn(ctx, tx, ch, landedAs)
			if err != nil {
				return e, err
			}
			f.Merged = patchgate.LandedVerdict(vs)
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

// verdictsOn returns the newest verifications of sha in ch's repository,
// newest first, as the evidence patchgate.HeadVerdict and
// patchgate.LandedVerdict choose from. Fifty are more than enough: a commit
// is verified again only when its configuration changes or a run is retried.
func verdictsOn(ctx context.Context, tx *txn, ch *patchgate.Change, sha string) ([]patchgate.VerdictEvidence, error) {
	rows, err := tx.Query(ctx, `SELECT v.state, v.stale, COALESCE(p.state, ''), v.require_proof, p.require_proof
		FROM verifications v LEFT JOIN proofs p ON p.verification_id = v.id
		WHERE v.forge = $1 AND v.repo = $2 AND v.sha = $3
		ORDER BY v.id DESC LIMIT 50`, ch.Forge, ch.Repo, sha)
	if err != nil {
		return nil, fmt.Errorf("find verdicts on %s: %w", sha, err)
	}
	defer rows.Close()
	var vs []patchgate.VerdictEvidence
	for rows.Next() {
		var v patchgate.VerdictEvidence
		var proofRequired sql.NullBool
		if err := rows.Scan(&v.State, &v.Stale, &v.Proof, &v.ProofRequired, &proofRequired); err != nil {
			return nil, fmt.Errorf("find verdicts on %s: %w", sha, err)
		}
		v.ProofRequired = v.ProofRequired || proofRequired.Bool
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find verdicts on %s: %w", sha, err)
	}
	return vs, nil
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
	if err := s.db.recordTicket(ctx, tx, id, patchgate.AuditActor(ctx)); err != nil {
		return err
	}
	return tx.Commit()
}
