package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/patchgate/patchgate"
)

// recordTicket appends a ticket.recorded entry for ticket id when what the
// reports read of it (patchgate.AuditTicketRecord) differs from its latest
// such entry, so the reports can be recomputed from the audit log alone.
// Every write of those columns calls it in its transaction; comparing with
// the log rather than with the row before makes a ticket written before the
// entry existed catch up the next time it is touched.
func (d *DB) recordTicket(ctx context.Context, tx *txn, id int64, actor string) error {
	t, err := scanTicket(tx.QueryRow(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE id = $1`, id))
	if err != nil {
		return notFound(err, "ticket %d", id)
	}
	record := patchgate.AuditTicketRecord(t)
	var raw string
	err = tx.QueryRow(ctx, `SELECT detail FROM audit_log WHERE subject = $1 AND action = $2 ORDER BY seq DESC LIMIT 1`,
		"ticket:"+t.Key, patchgate.AuditTicketRecorded).Scan(&raw)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("read the audit record of ticket %s: %w", t.Key, err)
	default:
		var last map[string]string
		if err := json.Unmarshal([]byte(raw), &last); err != nil {
			return fmt.Errorf("read the audit record of ticket %s: %w", t.Key, err)
		}
		if maps.Equal(last, record) {
			return nil
		}
	}
	return d.appendAudit(ctx, tx, patchgate.AuditEntry{Actor: actor, Action: patchgate.AuditTicketRecorded,
		Subject: "ticket:" + t.Key, Detail: record})
}
