package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// TestStatementCache: a connection runs each statement text it saw before
// from its cache; a query of the same text while the first one's rows are
// open runs on its own (both read right), and a schema change in between is
// seen by the cached statement.
func TestStatementCache(t *testing.T) {
	ctx := context.Background()
	db, err := openSQLiteDB("file:" + filepath.Join(t.TempDir(), "cache.db") + "?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{`CREATE TABLE t (n INTEGER)`, `INSERT INTO t VALUES (1), (2), (3)`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const q = `SELECT n FROM t WHERE n >= ? ORDER BY n`
	read := func(rows *sql.Rows) []int {
		var out []int
		for rows.Next() {
			var n int
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			out = append(out, n)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	outer, err := conn.QueryContext(ctx, q, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !outer.Next() {
		t.Fatal("outer query: no first row")
	}
	inner, err := conn.QueryContext(ctx, q, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(inner); len(got) != 2 || got[0] != 2 || got[1] != 3 {
		t.Errorf("inner query while the outer's rows are open: got %v, want [2 3]", got)
	}
	inner.Close()
	if got := read(outer); len(got) != 2 || got[0] != 2 || got[1] != 3 {
		t.Errorf("rest of the outer query: got %v, want [2 3]", got)
	}
	outer.Close()
	var found, busy bool
	if err := conn.Raw(func(dc any) error {
		s := dc.(*cachingConn).stmts[q]
		found, busy = s != nil, s != nil && s.busy
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !found || busy {
		t.Fatalf("the query's cached statement: found %v, busy %v; want found, free", found, busy)
	}
	if _, err := conn.ExecContext(ctx, `ALTER TABLE t ADD COLUMN m INTEGER NOT NULL DEFAULT 7`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO t (n) VALUES (4)`); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.QueryContext(ctx, q, 4)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(rows); len(got) != 1 || got[0] != 4 {
		t.Errorf("cached query after a schema change: got %v, want [4]", got)
	}
	rows.Close()
	var cols int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('t')`).Scan(&cols); err != nil || cols != 2 {
		t.Errorf("columns after ALTER: got %d (%v), want 2", cols, err)
	}
}
