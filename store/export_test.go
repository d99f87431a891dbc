package store

import (
	"context"
	"database/sql"
	"runtime"
	"time"

	"github.com/patchgate/patchgate"
)

// OpenSQLiteSinglePool opens path the other way SQLite writes can be serialised:
// one pool of several connections, all beginning IMMEDIATE, writers waiting in
// SQLite's busy handler. Only BenchmarkCreateDelivery uses it, to compare.
func OpenSQLiteSinglePool(ctx context.Context, path string) (*DB, error) {
	d := &DB{Now: func() time.Time { return time.Now().UTC() }, dialect: DialectSQLite, url: path, sync: "NORMAL"}
	p, err := sql.Open("sqlite", d.sqliteDSN("_txlock=immediate"))
	if err != nil {
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	p.SetMaxOpenConns(n)
	p.SetMaxIdleConns(n)
	d.write, d.read = p, p
	return d, d.Ping(ctx)
}

// MigrateTo applies the embedded migrations up to and including version, so that
// a test can fill a database at an older schema and then migrate it.
func (d *DB) MigrateTo(ctx context.Context, version int64) error {
	ms, err := migrations(d.dialect)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.version > version {
			break
		}
		if _, err := d.migrate(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// SetTicketStateForTest settles ticket id at state through the same write and
// audit path as ReconcileTicket, with evidence made up to fit: a test of the SLA
// clock or of a listing needs a ticket in a state, not the history behind it.
// A move to reopened comes with a reopen now after a release an hour ago.
func (s *TicketService) SetTicketStateForTest(ctx context.Context, id int64, state patchgate.TicketState) error {
	if err := state.Validate(); err != nil {
		return err
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	t, err := scanTicket(tx.QueryRow(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE id = $1`, id))
	if err != nil {
		return notFound(err, "ticket %d", id)
	}
	e := patchgate.TicketEvidence{ReopenedAt: t.ReopenedAt}
	if state == patchgate.TicketReopened && t.State != state {
		now := s.db.now()
		e.ReopenedAt, e.Releases = now, []time.Time{now.Add(-time.Hour)}
	}
	if _, err := s.db.settleTicket(ctx, tx, t, state, e, patchgate.AuditActor(ctx)); err != nil {
		return err
	}
	return tx.Commit()
}
