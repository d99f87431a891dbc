package store

import (
	"context"
	"database/sql"
	"runtime"
	"time"
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
