package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/patchgate/patchgate"
)

// migrationFiles holds one directory of numbered migrations per dialect,
// migrations/<dialect>/NNNN_name.sql, kept in lockstep (a test checks it).
//
//go:embed migrations
var migrationFiles embed.FS

// migrateLockKey is the PostgreSQL advisory lock that serialises Migrate across
// processes ("patchgat").
const migrateLockKey int64 = 0x7061746368676174

// migration is one embedded schema change.
type migration struct {
	version int64
	name    string
	sql     string
}

// migrations returns the dialect's migrations in order.
func migrations(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number", e.Name())
		}
		b, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: strings.TrimSuffix(e.Name(), ".sql"), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share a version", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// Migrate applies the pending migrations in order, each in its own transaction,
// and returns how many it applied. It is safe to run from several processes at
// once: PostgreSQL serialises them on an advisory lock, SQLite on its write lock.
func (d *DB) Migrate(ctx context.Context) (int, error) {
	ms, err := migrations(d.dialect)
	if err != nil {
		return 0, err
	}
	applied := 0
	for _, m := range ms {
		ok, err := d.migrate(ctx, m)
		if err != nil {
			return applied, fmt.Errorf("migrate to %s: %w", m.name, err)
		}
		if ok {
			applied++
		}
	}
	return applied, nil
}

// migrate applies m unless it is already applied, and reports whether it did.
func (d *DB) migrate(ctx context.Context, m migration) (bool, error) {
	tx, err := d.begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()

	appliedAt := "TEXT"
	if d.dialect == DialectPostgres {
		// Held until commit; a second migrator waits here, then sees the version.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLockKey); err != nil {
			return false, fmt.Errorf("lock migrations: %w", err)
		}
		appliedAt = "TIMESTAMPTZ"
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    BIGINT PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at `+appliedAt+` NOT NULL
	)`); err != nil {
		return false, fmt.Errorf("create schema_migrations: %w", err)
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, m.version).Scan(&n); err != nil {
		return false, fmt.Errorf("read schema_migrations: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.Exec(ctx, m.sql); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.version, m.name, d.now()); err != nil {
		return false, fmt.Errorf("record migration: %w", err)
	}
	return true, tx.Commit()
}

// appliedVersions returns the versions recorded in schema_migrations; none when
// the table does not exist yet.
func (d *DB) appliedVersions(ctx context.Context) (map[int64]bool, error) {
	tx, err := d.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()

	exists := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`
	if d.dialect == DialectPostgres {
		exists = `SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = 'schema_migrations'`
	}
	var n int
	if err := tx.QueryRow(ctx, exists).Scan(&n); err != nil {
		return nil, fmt.Errorf("look for schema_migrations: %w", err)
	}
	applied := map[int64]bool{}
	if n == 0 {
		return applied, nil
	}
	rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		applied[v] = true
	}
	return applied, rows.Err()
}

// SchemaVersion returns the highest applied migration version, 0 for an empty
// database.
func (d *DB) SchemaVersion(ctx context.Context) (int64, error) {
	applied, err := d.appliedVersions(ctx)
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	var v int64
	for a := range applied {
		v = max(v, a)
	}
	return v, nil
}

// Pending returns how many embedded migrations the database has not applied.
func (d *DB) Pending(ctx context.Context) (int, error) {
	ms, err := migrations(d.dialect)
	if err != nil {
		return 0, err
	}
	applied, err := d.appliedVersions(ctx)
	if err != nil {
		return 0, fmt.Errorf("pending migrations: %w", err)
	}
	n := 0
	for _, m := range ms {
		if !applied[m.version] {
			n++
		}
	}
	return n, nil
}

// CheckSchema returns nil when the database schema is exactly what this build
// expects, and otherwise an ECONFLICT error that tells the operator what to do:
// run `patchgate migrate`, or upgrade patchgate when the schema is newer.
func (d *DB) CheckSchema(ctx context.Context) error {
	ms, err := migrations(d.dialect)
	if err != nil {
		return err
	}
	applied, err := d.appliedVersions(ctx)
	if err != nil {
		return fmt.Errorf("check schema: %w", err)
	}
	known := map[int64]bool{}
	pending := 0
	for _, m := range ms {
		known[m.version] = true
		if !applied[m.version] {
			pending++
		}
	}
	for v := range applied {
		if !known[v] {
			return patchgate.Errorf(patchgate.ECONFLICT,
				"database schema has migration %d, which this patchgate does not know: upgrade patchgate", v)
		}
	}
	if pending > 0 {
		return patchgate.Errorf(patchgate.ECONFLICT,
			"database schema is %d migration(s) behind this patchgate: run `patchgate migrate` (or start with migration enabled)", pending)
	}
	return nil
}
