package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/patchgate/patchgate"
)

// EscalationService stores escalations and the notices that tell of them.
type EscalationService struct{ db *DB }

var _ patchgate.EscalationService = (*EscalationService)(nil)

// NewEscalationService returns the escalation service of db.
func NewEscalationService(db *DB) *EscalationService { return &EscalationService{db: db} }

const escalationColumns = `e.id, e.ticket_id, t.key, e.opened_at, e.phase, e.cause, e.from_level, e.to_level,
	e.deadline, e.repo, e.supplier, e.contract, e.created_at`

func scanEscalation(sc interface{ Scan(...any) error }) (*patchgate.Escalation, error) {
	var e patchgate.Escalation
	if err := sc.Scan(&e.ID, &e.TicketID, &e.Ticket, timeCol{&e.OpenedAt}, &e.Phase, &e.Cause, &e.From, &e.To,
		timeCol{&e.Deadline}, &e.Repo, &e.Supplier, &e.Contract, timeCol{&e.At}); err != nil {
		return nil, err
	}
	return &e, nil
}

// RecordEscalations inserts each escalation unless the same ticket, clock and
// phase already escalated for the same cause or to the same level (ON
// CONFLICT DO NOTHING on both unique keys: a concurrent sweep waits for the
// other's transaction, then skips), moves the ticket to the new level,
// audits it, and queues the notices of those recorded, in one transaction.
func (s *EscalationService) RecordEscalations(ctx context.Context, escs []*patchgate.Escalation,
	notices func([]*patchgate.Escalation) ([]*patchgate.EscalationNotice, error)) ([]*patchgate.Escalation, error) {
	if len(escs) == 0 {
		return nil, nil
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := s.db.now()
	actor := patchgate.AuditActor(ctx)
	var recorded []*patchgate.Escalation
	for _, e := range escs {
		if err := e.To.Validate(); err != nil {
			return nil, err
		}
		id := int64(0)
		err := tx.QueryRow(ctx, `INSERT INTO ticket_escalations (ticket_id, opened_at, phase, cause, from_level, to_level,
			deadline, repo, supplier, contract, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT DO NOTHING RETURNING id`,
			e.TicketID, e.OpenedAt, e.Phase, e.Cause, e.From, e.To, e.Deadline, e.Repo, e.Supplier, e.Contract, now).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			continue // escalated before
		} else if err != nil {
			return nil, fmt.Errorf("record escalation of ticket %s to %s: %w", e.Ticket, e.To, err)
		}
		rec := *e
		rec.ID, rec.At = id, now
		// The level moves from the one the sweep read (or none, when it
		// started at its default): a tracker, a label or a person that set
		// another meanwhile is not overwritten, and the escalation is not
		// recorded; the next sweep judges the ticket at its new level.
		res, err := tx.Exec(ctx, `UPDATE tickets SET support_level = $1, updated_at = $2
			WHERE id = $3 AND (support_level = $4 OR COALESCE(support_level, '') = '')`,
			e.To, now, e.TicketID, e.From)
		if err != nil {
			return nil, fmt.Errorf("set the level of ticket %s to %s: %w", e.Ticket, e.To, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("set the level of ticket %s to %s: %w", e.Ticket, e.To, err)
		} else if n == 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM ticket_escalations WHERE id = $1`, id); err != nil {
				return nil, fmt.Errorf("forget the escalation of ticket %s: %w", e.Ticket, err)
			}
			continue
		}
		detail := map[string]string{"from": string(e.From), "to": string(e.To), "phase": string(e.Phase),
			"cause": string(e.Cause), "deadline": patchgate.AuditTime(e.Deadline), "opened_at": patchgate.AuditTime(e.OpenedAt)}
		for k, v := range map[string]string{"repo": e.Repo, "supplier": e.Supplier, "contract": e.Contract} {
			if v != "" {
				detail[k] = v
			}
		}
		if err := s.db.appendAudit(ctx, tx, patchgate.AuditEntry{Actor: actor, Action: patchgate.AuditTicketEscalated,
			Subject: "ticket:" + e.Ticket, Detail: detail}); err != nil {
			return nil, err
		}
		if err := s.db.recordTicket(ctx, tx, e.TicketID, actor); err != nil {
			return nil, err
		}
		recorded = append(recorded, &rec)
	}
	if len(recorded) > 0 && notices != nil {
		ns, err := notices(recorded)
		if err != nil {
			return nil, err
		}
		for _, n := range ns {
			ids, _ := json.Marshal(n.Escalations) // an []int64 always marshals
			if _, err := tx.Exec(ctx, `INSERT INTO escalation_notices (channel, kind, body, escalations, state, next_at, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $6)`, n.Channel, n.Kind, n.Body, string(ids), patchgate.NoticePending, now); err != nil {
				return nil, fmt.Errorf("queue the escalation notice to %s: %w", n.Channel, err)
			}
		}
	}
	return recorded, tx.Commit()
}

// FindEscalations returns the ticket's escalations, oldest first.
func (s *EscalationService) FindEscalations(ctx context.Context, ticketID int64) ([]*patchgate.Escalation, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	out := []*patchgate.Escalation{}
	err = scanEach(ctx, tx, `SELECT `+escalationColumns+` FROM ticket_escalations e JOIN tickets t ON t.id = e.ticket_id
		WHERE e.ticket_id = $1 ORDER BY e.id`, []any{ticketID}, func(sc interface{ Scan(...any) error }) error {
		e, err := scanEscalation(sc)
		if err == nil {
			out = append(out, e)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("find escalations of ticket %d: %w", ticketID, err)
	}
	return out, nil
}

const noticeColumns = `id, channel, kind, body, escalations, state, attempts, next_at, last_error, created_at`

// DueNotices returns pending notices whose next attempt is due, oldest first.
func (s *EscalationService) DueNotices(ctx context.Context, now time.Time, limit int) ([]*patchgate.EscalationNotice, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	out := []*patchgate.EscalationNotice{}
	err = scanEach(ctx, tx, `SELECT `+noticeColumns+` FROM escalation_notices WHERE state = $1 AND next_at <= $2
		ORDER BY id LIMIT $3`, []any{patchgate.NoticePending, now, limit}, func(sc interface{ Scan(...any) error }) error {
		var n patchgate.EscalationNotice
		var ids string
		if err := sc.Scan(&n.ID, &n.Channel, &n.Kind, &n.Body, &ids, &n.State, &n.Attempts, timeCol{&n.NextAt},
			&n.LastError, timeCol{&n.CreatedAt}); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(ids), &n.Escalations); err != nil {
			return fmt.Errorf("notice %d escalations: %w", n.ID, err)
		}
		out = append(out, &n)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find due escalation notices: %w", err)
	}
	return out, nil
}

// ClaimNotice moves the notice's next attempt to until if it is still
// pending with the next attempt read, so one process sends it.
func (s *EscalationService) ClaimNotice(ctx context.Context, n *patchgate.EscalationNotice, until time.Time) (bool, error) {
	res, err := s.db.exec(ctx, `UPDATE escalation_notices SET next_at = $1 WHERE id = $2 AND state = $3 AND next_at = $4`,
		until, n.ID, patchgate.NoticePending, n.NextAt)
	if err != nil {
		return false, fmt.Errorf("claim escalation notice %d: %w", n.ID, err)
	}
	c, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim escalation notice %d: %w", n.ID, err)
	}
	if c == 1 {
		n.NextAt = until.UTC().Truncate(time.Microsecond)
	}
	return c == 1, nil
}

// FinishNotice records one attempt's outcome.
func (s *EscalationService) FinishNotice(ctx context.Context, id int64, sent bool, errMsg string, next time.Time) error {
	state, sentAt := patchgate.NoticePending, time.Time{}
	switch {
	case sent:
		state, sentAt, next = patchgate.NoticeSent, s.db.now(), s.db.now()
	case next.IsZero():
		state, next = patchgate.NoticeFailed, s.db.now()
	}
	if _, err := s.db.exec(ctx, `UPDATE escalation_notices SET state = $1, attempts = attempts + 1, last_error = $2,
		next_at = $3, sent_at = $4 WHERE id = $5`, state, errMsg, next, sentAt, id); err != nil {
		return fmt.Errorf("record the attempt of escalation notice %d: %w", id, err)
	}
	return nil
}
