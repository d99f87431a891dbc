// Package store keeps patchgate's state in SQLite (the embedded default) or
// PostgreSQL behind one database/sql code path: modernc.org/sqlite (pure Go,
// driver "sqlite") and pgx v5 through its stdlib adapter.
//
// SQL is written once with $N placeholders, which PostgreSQL and modernc's SQLite
// both accept, so statements need no rebinding. The dialects differ only in the
// migration files, in row locking (SELECT … FOR UPDATE on PostgreSQL, immediate
// transactions on SQLite) and in how times are bound: TIMESTAMPTZ on PostgreSQL,
// fixed-width UTC text ("2006-01-02T15:04:05.000000Z") on SQLite, so that text
// order is time order. Times are stored with microsecond precision (PostgreSQL's)
// on both, and a zero time is stored as NULL.
//
// SQLite runs in WAL mode with synchronous=NORMAL: a commit survives a crash of
// patchgate, but a power loss or OS crash may lose the last transactions before
// the next WAL checkpoint (the file stays consistent). Add ?synchronous=full to
// the URL when every acknowledged webhook must survive power loss too; it costs
// one fsync per commit (see BenchmarkCreateDelivery), and so one per batch of
// concurrent deliveries (group commit, delivery_batch.go).
//
// SQLite allows one writer at a time. Writes go through a pool of exactly one
// connection whose transactions begin IMMEDIATE, so writers queue in Go instead
// of polling SQLite's busy handler, and a read-then-write transaction can never
// fail to upgrade its lock (the IMMEDIATE still matters against other processes:
// the CLI, River's own pool). Reads use a separate pool of query_only connections
// that WAL lets run beside the writer. The alternative, one pool of several
// connections all beginning IMMEDIATE, had the same throughput in
// BenchmarkCreateDelivery but a worst case of ~0.5 s under 16 concurrent writers
// (SQLite's busy handler sleeps in steps of up to 100 ms) against ~0.1 s here.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/patchgate/patchgate"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Dialects a DB speaks.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// busyTimeout is how long an SQLite connection waits for another process's
// write lock (the CLI, River's pool) before failing with SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// DB is an open patchgate database. It is safe for concurrent use.
type DB struct {
	// Now returns the current time, in UTC. Tests replace it.
	Now func() time.Time
	// AuditKey keys the audit chain (HMAC-SHA256). It is kept outside the
	// database, so that those who can write the database cannot recompute the
	// chain; set it before the first write. Without it, entries get plain
	// hashes, and appending to a keyed chain fails.
	AuditKey []byte
	// AuditKeyed says that the key file records a log keyed with AuditKey
	// (kept beside the key, outside the database): then a log without an
	// audit.keyed entry was rewritten without the key, and is never sealed.
	AuditKeyed bool

	dialect string
	url     string // postgres: the URL as given; sqlite: the file path
	memory  bool
	sync    string // sqlite synchronous mode

	// write runs every transaction that writes: on SQLite one connection with
	// BEGIN IMMEDIATE; on PostgreSQL the only pool.
	write *sql.DB
	// read runs reads: on SQLite a pool of query_only connections; on PostgreSQL
	// (and for an in-memory SQLite database) the same pool as write.
	read *sql.DB

	// batch gathers concurrent delivery inserts into one transaction.
	batch deliveryBatch
	// deliveryCommitHook is SetDeliveryCommitHook's.
	deliveryCommitHook atomic.Pointer[func(ids []string) error]
}

// SetDeliveryCommitHook makes hook run before each batch of deliveries commits,
// with their ids; an error from it fails the batch as a failed commit would.
// Tests inject faults with it, on a running server too; nil removes it.
func (d *DB) SetDeliveryCommitHook(hook func(ids []string) error) {
	if hook == nil {
		d.deliveryCommitHook.Store(nil)
		return
	}
	d.deliveryCommitHook.Store(&hook)
}

// Open opens the database at rawURL without migrating it:
//
//	sqlite://patchgate.db          a file relative to the working directory
//	sqlite:///var/lib/patchgate/patchgate.db   an absolute path
//	sqlite::memory:                a private in-memory database on one connection (tests)
//	postgres://user:pass@host:5432/patchgate?sslmode=disable   (or postgresql://)
//
// SQLite URLs accept ?synchronous=normal (default) or ?synchronous=full. A URL
// Open cannot use is an EINVALID error that says why. Open checks that the
// database answers; call CheckSchema or Migrate before using it.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	d := &DB{Now: func() time.Time { return time.Now().UTC() }}
	var err error
	switch {
	case rawURL == "sqlite::memory:", rawURL == "sqlite://:memory:":
		d.dialect, d.memory = DialectSQLite, true
		err = d.openSQLite()
	case strings.HasPrefix(rawURL, "sqlite://"):
		d.dialect = DialectSQLite
		if d.url, d.sync, err = parseSQLiteURL(rawURL); err != nil {
			return nil, err
		}
		err = d.openSQLite()
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		d.dialect, d.url = DialectPostgres, rawURL
		err = d.openPostgres()
	default:
		scheme, _, _ := strings.Cut(rawURL, ":")
		return nil, patchgate.Errorf(patchgate.EINVALID,
			"database URL with scheme %q: want sqlite://path.db, sqlite:///abs/path.db, sqlite::memory: or postgres://…", scheme)
	}
	if err != nil {
		return nil, err
	}
	if err := d.Ping(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("open %s database: %w", d.dialect, err)
	}
	return d, nil
}

// parseSQLiteURL returns the file path and synchronous mode of a sqlite:// URL.
// It does not use url.Parse: in sqlite://patchgate.db the file name is not a host.
func parseSQLiteURL(raw string) (path, sync string, err error) {
	rest := strings.TrimPrefix(raw, "sqlite://")
	path, query, _ := strings.Cut(rest, "?")
	if path == "" {
		return "", "", patchgate.Errorf(patchgate.EINVALID, "database URL %q: no file path (want sqlite://patchgate.db or sqlite:///abs/path.db)", raw)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", "", patchgate.Errorf(patchgate.EINVALID, "database URL %q: bad query: %v", raw, err)
	}
	sync = "NORMAL"
	for k, v := range q {
		switch k {
		case "synchronous":
			switch s := strings.ToUpper(v[len(v)-1]); s {
			case "NORMAL", "FULL":
				sync = s
			default:
				return "", "", patchgate.Errorf(patchgate.EINVALID, "database URL %q: synchronous=%s: want normal or full", raw, v[len(v)-1])
			}
		default:
			return "", "", patchgate.Errorf(patchgate.EINVALID, "database URL %q: unknown parameter %q (sqlite URLs accept synchronous)", raw, k)
		}
	}
	return path, sync, nil
}

// sqliteDSN builds a modernc DSN. The pragmas are DSN parameters so that every
// connection the pools open gets them, not only the first.
func (d *DB) sqliteDSN(extra ...string) string {
	params := []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()),
		"_pragma=foreign_keys(1)",
	}
	name := ":memory:"
	if !d.memory {
		name = d.url
		params = append(params, "_pragma=journal_mode(WAL)", "_pragma=synchronous("+d.sync+")")
	}
	return name + "?" + strings.Join(append(params, extra...), "&")
}

func (d *DB) openSQLite() error {
	if strings.Contains(d.url, "?") {
		return patchgate.Errorf(patchgate.EINVALID, "sqlite path %q: must not contain '?'", d.url)
	}
	w, err := openSQLiteDB(d.sqliteDSN("_txlock=immediate"))
	if err != nil {
		return fmt.Errorf("open sqlite %s: %w", d.url, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0) // an in-memory database lives as long as its connection
	d.write, d.read = w, w
	if d.memory {
		return nil
	}
	r, err := openSQLiteDB(d.sqliteDSN("_pragma=query_only(1)"))
	if err != nil {
		w.Close()
		return fmt.Errorf("open sqlite %s: %w", d.url, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	d.read = r
	return nil
}

func (d *DB) openPostgres() error {
	cfg, err := pgx.ParseConfig(d.url)
	if err != nil {
		// pgconn redacts the password in its parse errors.
		return patchgate.Errorf(patchgate.EINVALID, "database URL: %v", err)
	}
	p := stdlib.OpenDB(*cfg)
	p.SetMaxOpenConns(20)
	p.SetMaxIdleConns(10)
	p.SetConnMaxIdleTime(5 * time.Minute)
	d.write, d.read = p, p
	return nil
}

// Dialect returns DialectSQLite or DialectPostgres.
func (d *DB) Dialect() string { return d.dialect }

// Ping checks that the database answers (GET /readyz).
func (d *DB) Ping(ctx context.Context) error {
	if err := d.write.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	if d.read != d.write {
		if err := d.read.PingContext(ctx); err != nil {
			return fmt.Errorf("ping database: %w", err)
		}
	}
	return nil
}

// Close closes the pools. Callers stop using the DB first (STYLE rule 17).
func (d *DB) Close() error {
	err := d.write.Close()
	if d.read != d.write {
		if rerr := d.read.Close(); err == nil {
			err = rerr
		}
	}
	return err
}

// SQL returns the pool that writes (on SQLite, its single connection is shared
// with every write of this DB: hold it briefly).
func (d *DB) SQL() *sql.DB { return d.write }

// OpenRiverPool opens the separate one-connection pool River's riversqlite driver
// wants on an SQLite database. The caller closes it. River on PostgreSQL uses pgx
// directly: call OpenPgxPool there.
func (d *DB) OpenRiverPool() (*sql.DB, error) {
	if d.dialect != DialectSQLite || d.memory {
		return nil, patchgate.Errorf(patchgate.EINVALID, "a River sql.DB pool needs an SQLite file database (use OpenPgxPool on PostgreSQL)")
	}
	p, err := openSQLiteDB(d.sqliteDSN())
	if err != nil {
		return nil, fmt.Errorf("open river pool: %w", err)
	}
	p.SetMaxOpenConns(1)
	return p, nil
}

// OpenPgxPool opens a pgx pool on the same PostgreSQL database, for River's
// riverpgxv5 driver. The caller closes it.
func (d *DB) OpenPgxPool(ctx context.Context) (*pgxpool.Pool, error) {
	if d.dialect != DialectPostgres {
		return nil, patchgate.Errorf(patchgate.EINVALID, "a pgx pool needs a PostgreSQL database (use OpenRiverPool on SQLite)")
	}
	p, err := pgxpool.New(ctx, d.url)
	if err != nil {
		return nil, fmt.Errorf("open pgx pool: %w", err)
	}
	return p, nil
}

// now returns the DB's clock at stored precision.
func (d *DB) now() time.Time { return d.Now().UTC().Truncate(time.Microsecond) }

// forUpdate locks selected rows until the transaction ends on PostgreSQL. SQLite
// needs nothing: its write transactions begin IMMEDIATE and so run one at a time.
func (d *DB) forUpdate() string {
	if d.dialect == DialectPostgres {
		return " FOR UPDATE"
	}
	return ""
}

// SQLiteFile returns the file an sqlite:// database URL names, and false for
// any other URL (PostgreSQL, or an in-memory database).
func SQLiteFile(rawURL string) (string, bool) {
	if !strings.HasPrefix(rawURL, "sqlite://") || rawURL == "sqlite://:memory:" {
		return "", false
	}
	path, _, err := parseSQLiteURL(rawURL)
	return path, err == nil
}
