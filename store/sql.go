package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/patchgate/patchgate"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteTime is how times are stored on SQLite: fixed width, so that comparing
// the text compares the times.
const sqliteTime = "2006-01-02T15:04:05.000000Z"

// txn is a transaction that binds arguments for its dialect and translates driver
// errors. Every method that touches the database runs in one.
type txn struct {
	tx     *sql.Tx
	sqlite bool
}

// begin starts a write transaction: IMMEDIATE on SQLite, so it holds the write
// lock from the start and never has to upgrade a read lock.
func (d *DB) begin(ctx context.Context) (*txn, error) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", translate(err))
	}
	return &txn{tx: tx, sqlite: d.dialect == DialectSQLite}, nil
}

// beginRead starts a read-only transaction, so that a page and its total count
// see the same snapshot.
func (d *DB) beginRead(ctx context.Context) (*txn, error) {
	tx, err := d.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("begin: %w", translate(err))
	}
	return &txn{tx: tx, sqlite: d.dialect == DialectSQLite}, nil
}

// Commit commits the transaction.
func (t *txn) Commit() error {
	if err := t.tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", translate(err))
	}
	return nil
}

// Rollback aborts the transaction; after Commit it does nothing, so it is
// deferred right after begin.
func (t *txn) Rollback() { _ = t.tx.Rollback() }

// Exec runs a statement.
func (t *txn) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	r, err := t.tx.ExecContext(ctx, query, t.bind(args)...)
	return r, translate(err)
}

// Query runs a query.
func (t *txn) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := t.tx.QueryContext(ctx, query, t.bind(args)...)
	return rows, translate(err)
}

// QueryRow runs a query expected to return at most one row.
func (t *txn) QueryRow(ctx context.Context, query string, args ...any) *Row {
	return &Row{row: t.tx.QueryRowContext(ctx, query, t.bind(args)...)}
}

// Row is one row whose Scan translates driver errors.
type Row struct{ row *sql.Row }

// Scan copies the row's columns into dest; sql.ErrNoRows when there was none.
func (r *Row) Scan(dest ...any) error { return translate(r.row.Scan(dest...)) }

func (t *txn) bind(args []any) []any { return bind(t.sqlite, args) }

// exec runs one statement as its own transaction on the write pool: one round
// trip instead of three, for the hot path.
func (d *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	r, err := d.write.ExecContext(ctx, query, bind(d.dialect == DialectSQLite, args)...)
	return r, translate(err)
}

// bind converts arguments to what the dialect stores: times in UTC at
// microsecond precision (text on SQLite), and a zero time as NULL.
// It copies rather than converts in place: callers reuse a where's arguments
// for the count and the page.
func bind(sqlite bool, args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case time.Time:
			out[i] = bindTime(sqlite, v)
		case *time.Time:
			if v != nil {
				out[i] = bindTime(sqlite, *v)
			}
		default:
			out[i] = a
		}
	}
	return out
}

func bindTime(sqlite bool, v time.Time) any {
	if v.IsZero() {
		return nil
	}
	v = v.UTC().Truncate(time.Microsecond)
	if sqlite {
		return v.Format(sqliteTime)
	}
	return v
}

// timeCol scans a stored time (TIMESTAMPTZ, SQLite text, or NULL as zero).
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
	case time.Time:
		*c.t = v.UTC()
	case string:
		return c.parse(v)
	case []byte:
		return c.parse(string(v))
	default:
		return fmt.Errorf("scan time: unexpected %T", src)
	}
	return nil
}

func (c timeCol) parse(s string) error {
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("scan time %q: %w", s, err)
	}
	*c.t = v.UTC()
	return nil
}

// optTimeCol scans a nullable time into a pointer.
type optTimeCol struct{ t **time.Time }

func (c optTimeCol) Scan(src any) error {
	if src == nil {
		*c.t = nil
		return nil
	}
	var v time.Time
	if err := (timeCol{&v}).Scan(src); err != nil {
		return err
	}
	*c.t = &v
	return nil
}

// translate is the one place driver errors become patchgate errors: unique
// violations are ECONFLICT, foreign-key violations EINVALID, with generic
// messages that call sites replace when they know what the record is. The
// driver's error stays in the text for logs.
func translate(err error) error {
	if err == nil || errors.Is(err, sql.ErrNoRows) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w (%v)", patchgate.Errorf(patchgate.ECONFLICT, "already exists"), err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w (%v)", patchgate.Errorf(patchgate.EINVALID, "refers to a record that does not exist"), err)
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w (%v)", patchgate.Errorf(patchgate.ECONFLICT, "already exists"), err)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%w (%v)", patchgate.Errorf(patchgate.EINVALID, "refers to a record that does not exist"), err)
		}
	}
	return err
}

// where builds a WHERE clause from a filter's set fields. Conditions use "$?"
// for their argument, numbered in the order they are added.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, arg any) {
	w.conds = append(w.conds, strings.Replace(cond, "$?", w.arg(arg), 1))
}

// arg adds an argument and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// Page sizes of the Find methods.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// page returns the clause selecting one page of a where's rows.
func (w *where) page(offset, limit int) string {
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	offset = max(offset, 0)
	return " LIMIT " + w.arg(limit) + " OFFSET " + w.arg(offset)
}

// qualify prefixes each column of a column list with a table alias, for joins.
func qualify(alias, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// notFound turns sql.ErrNoRows into ENOTFOUND "<what> not found" and wraps any
// other error as "find <what>".
func notFound(err error, what string, args ...any) error {
	w := fmt.Sprintf(what, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return patchgate.Errorf(patchgate.ENOTFOUND, "%s not found", w)
	}
	return fmt.Errorf("find %s: %w", w, err)
}
