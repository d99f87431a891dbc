package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for the admin connection
	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

// Environment of TestPostgres.
const (
	envPostgresURL     = "PATCHGATE_TEST_POSTGRES_URL"
	envRequirePostgres = "PATCHGATE_REQUIRE_POSTGRES"
)

// urls remembers the URL each test database was opened with, so that a test can
// open a second handle on it (a second process, as far as the database knows).
var urls sync.Map // *store.DB → string

// TestSQLite runs the store suite on SQLite files in temporary directories.
func TestSQLite(t *testing.T) {
	testStore(t, func(t *testing.T) *store.DB {
		return mustOpen(t, "sqlite://"+filepath.Join(t.TempDir(), "patchgate.db"))
	})
}

// TestPostgres runs the store suite on the PostgreSQL server named by
// PATCHGATE_TEST_POSTGRES_URL (scripts/postgres.sh starts one), each database in
// a fresh schema that is dropped afterwards. Without the variable it skips,
// unless PATCHGATE_REQUIRE_POSTGRES=1 (CI) makes that a failure.
func TestPostgres(t *testing.T) {
	testStore(t, postgresOpener(t))
}

// postgresOpener returns a function that opens a fresh, unmigrated database on
// the test server, or skips (fails) when there is none.
func postgresOpener(t *testing.T) func(t *testing.T) *store.DB {
	base := os.Getenv(envPostgresURL)
	if base == "" {
		if os.Getenv(envRequirePostgres) == "1" {
			t.Fatalf("%s=1 but %s is empty: run scripts/postgres.sh", envRequirePostgres, envPostgresURL)
		}
		t.Skipf("%s not set: run eval \"$(scripts/postgres.sh)\" to test on PostgreSQL", envPostgresURL)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", envPostgresURL, err)
	}
	t.Cleanup(func() { admin.Close() })
	if err := admin.PingContext(context.Background()); err != nil {
		t.Fatalf("connect to %s: %v", envPostgresURL, err)
	}
	return func(t *testing.T) *store.DB {
		t.Helper()
		schema := "patchgate_test_" + randomHex(t, 6)
		if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
			t.Fatalf("create schema: %v", err)
		}
		t.Cleanup(func() {
			if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
				t.Errorf("drop schema %s: %v", schema, err)
			}
		})
		u, err := withSearchPath(base, schema)
		if err != nil {
			t.Fatalf("%s: %v", envPostgresURL, err)
		}
		return mustOpen(t, u)
	}
}

// withSearchPath returns a PostgreSQL URL whose connections use schema.
func withSearchPath(base, schema string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema) // pgx sends unknown parameters as run-time settings
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func mustOpen(t *testing.T, rawURL string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), rawURL)
	if err != nil {
		t.Fatalf("Open(%q): %v", rawURL, err)
	}
	urls.Store(db, rawURL)
	t.Cleanup(func() {
		urls.Delete(db)
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return db
}

// reopen opens a second handle on db's database.
func reopen(t *testing.T, db *store.DB) *store.DB {
	t.Helper()
	u, ok := urls.Load(db)
	if !ok {
		t.Fatal("reopen: database was not opened by mustOpen")
	}
	other := mustOpen(t, u.(string))
	other.AuditKey = db.AuditKey
	return other
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// testStore is the suite every dialect must pass. open returns a fresh,
// unmigrated database that is closed (and dropped) when the test ends.
func testStore(t *testing.T, open func(t *testing.T) *store.DB) {
	migrated := func(t *testing.T) *store.DB {
		t.Helper()
		db := open(t)
		if _, err := db.Migrate(context.Background()); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		db.Now = newClock().Now
		db.AuditKey = testAuditKey
		return db
	}
	t.Run("Open", func(t *testing.T) { testOpened(t, open) })
	t.Run("Migrations", func(t *testing.T) { testMigrations(t, open) })
	t.Run("Instance", func(t *testing.T) { testInstance(t, open) })
	t.Run("Tickets", func(t *testing.T) { testTickets(t, migrated) })
	t.Run("TicketState", func(t *testing.T) { testTicketState(t, migrated) })
	t.Run("TicketSLA", func(t *testing.T) { testTicketSLA(t, migrated, open) })
	t.Run("TrackerTickets", func(t *testing.T) { testTrackerTickets(t, migrated) })
	t.Run("SLAEvents", func(t *testing.T) { testSLAEvents(t, migrated) })
	t.Run("Changes", func(t *testing.T) { testChanges(t, migrated) })
	t.Run("Links", func(t *testing.T) { testLinks(t, migrated) })
	t.Run("Deliveries", func(t *testing.T) { testDeliveries(t, migrated) })
	t.Run("Tokens", func(t *testing.T) { testTokens(t, migrated) })
	t.Run("Verifications", func(t *testing.T) { testVerifications(t, migrated) })
	t.Run("QueueWait", func(t *testing.T) { testQueueWait(t, migrated) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, migrated) })
	t.Run("AuditKeyed", func(t *testing.T) { testAuditKeyed(t, migrated, open) })
	t.Run("Releases", func(t *testing.T) { testReleases(t, migrated) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, migrated) })
	t.Run("Commands", func(t *testing.T) { testCommands(t, migrated) })
	t.Run("People", func(t *testing.T) { testPeople(t, migrated) })
	t.Run("Quarantines", func(t *testing.T) { testQuarantines(t, migrated) })
	t.Run("Proofs", func(t *testing.T) { testProofs(t, migrated) })
	t.Run("Reports", func(t *testing.T) { testReports(t, migrated) })
	t.Run("Enforcement", func(t *testing.T) { testEnforcement(t, migrated) })
	t.Run("Redeliveries", func(t *testing.T) { testRedeliveries(t, migrated) })
	t.Run("Escalations", func(t *testing.T) { testEscalations(t, migrated) })
}

// testOpened checks what every open database offers before migrating.
func testOpened(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db := open(t)
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if d := db.Dialect(); d != store.DialectSQLite && d != store.DialectPostgres {
		t.Fatalf("Dialect() = %q", d)
	}
	if got := db.Now(); got.Location() != time.UTC {
		t.Errorf("default Now() location = %v, want UTC", got.Location())
	}
	// $N placeholders, out of order and repeated, mean the same on both dialects.
	var a, b string
	if err := db.SQL().QueryRowContext(ctx, `SELECT $2, $1 || $2`, "x", "y").Scan(&a, &b); err != nil {
		t.Fatalf("placeholders: %v", err)
	}
	if a != "y" || b != "xy" {
		t.Errorf("SELECT $2, $1 || $2 = %q, %q, want y, xy", a, b)
	}
	// River gets its own pool: one connection on SQLite, pgx on PostgreSQL.
	switch db.Dialect() {
	case store.DialectSQLite:
		p, err := db.OpenRiverPool()
		if err != nil {
			t.Fatalf("OpenRiverPool: %v", err)
		}
		defer p.Close()
		if err := p.PingContext(ctx); err != nil || p.Stats().MaxOpenConnections != 1 {
			t.Errorf("River pool: ping %v, max open %d; want nil, 1", err, p.Stats().MaxOpenConnections)
		}
		_, err = db.OpenPgxPool(ctx)
		wantCode(t, err, patchgate.EINVALID)
	case store.DialectPostgres:
		p, err := db.OpenPgxPool(ctx)
		if err != nil {
			t.Fatalf("OpenPgxPool: %v", err)
		}
		defer p.Close()
		if err := p.Ping(ctx); err != nil {
			t.Errorf("pgx pool ping: %v", err)
		}
		_, err = db.OpenRiverPool()
		wantCode(t, err, patchgate.EINVALID)
	}
}

// clock is a test clock that advances one second per reading, so that rows
// created one after the other have distinct, ordered times.
type clock struct{ n atomic.Int64 }

var clockStart = time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)

func newClock() *clock { return &clock{} }

func (c *clock) Now() time.Time { return clockStart.Add(time.Duration(c.n.Add(1)) * time.Second) }

// wantCode fails unless err carries the patchgate error code want.
func wantCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := patchgate.ErrorCode(err); got != want {
		t.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
}

func ptr[T any](v T) *T { return &v }

// sha returns a deterministic 40-hex commit id for a name.
func sha(name string) string {
	h := hex.EncodeToString([]byte(name))
	return (h + strings.Repeat("0", 40))[:40]
}

// TestOpenURLs checks the URLs Open accepts and the EINVALID errors of those it
// does not; it needs no server.
func TestOpenURLs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Chdir(dir)
	for _, tc := range []struct {
		name, url string
		code      string // "" for success
		dialect   string
		contains  string
	}{
		{name: "relative file", url: "sqlite://patchgate.db", dialect: store.DialectSQLite},
		{name: "absolute file", url: "sqlite://" + filepath.Join(dir, "abs.db"), dialect: store.DialectSQLite},
		{name: "full sync", url: "sqlite://full.db?synchronous=full", dialect: store.DialectSQLite},
		{name: "memory", url: "sqlite::memory:", dialect: store.DialectSQLite},
		{name: "empty", url: "", code: patchgate.EINVALID, contains: "want sqlite://"},
		{name: "mysql", url: "mysql://u:secret@h/db", code: patchgate.EINVALID, contains: `"mysql"`},
		{name: "no path", url: "sqlite://", code: patchgate.EINVALID, contains: "no file path"},
		{name: "unknown parameter", url: "sqlite://x.db?cache=shared", code: patchgate.EINVALID, contains: "unknown parameter"},
		{name: "bad sync", url: "sqlite://x.db?synchronous=off", code: patchgate.EINVALID, contains: "synchronous"},
		{name: "bad postgres", url: "postgres://u:secret@host:notaport/db", code: patchgate.EINVALID},
		{name: "missing directory", url: "sqlite://" + filepath.Join(dir, "no", "such", "dir.db"), code: patchgate.EINTERNAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := store.Open(ctx, tc.url)
			if tc.code != "" {
				wantCode(t, err, tc.code)
				if !strings.Contains(err.Error(), tc.contains) {
					t.Errorf("error %q does not contain %q", err, tc.contains)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error %q leaks the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer db.Close()
			if db.Dialect() != tc.dialect {
				t.Errorf("Dialect() = %q, want %q", db.Dialect(), tc.dialect)
			}
			if n, err := db.Migrate(ctx); err != nil || n == 0 {
				t.Errorf("Migrate() = %d, %v; want > 0, nil", n, err)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "patchgate.db")); err != nil {
		t.Errorf("relative sqlite URL did not create patchgate.db in the working directory: %v", err)
	}
}

// TestMigrationsLockstep checks that every dialect has the same migrations,
// defining the same tables, columns and indexes. Columns are the lower-case
// words that start a line; upper-case ones are SQL (trigger and function
// bodies, which are each dialect's own).
func TestMigrationsLockstep(t *testing.T) {
	ident := regexp.MustCompile(`(?m)^\s*(?:CREATE (?:UNIQUE )?(?:TABLE|INDEX) (\w+)|([a-z_]\w*)\s+[A-Z])`)
	shape := func(dialect string) map[string][]string {
		entries, err := os.ReadDir(filepath.Join("migrations", dialect))
		if err != nil {
			t.Fatal(err)
		}
		m := map[string][]string{}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join("migrations", dialect, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range ident.FindAllStringSubmatch(string(b), -1) {
				m[e.Name()] = append(m[e.Name()], g[1]+g[2])
			}
		}
		return m
	}
	lite, pg := shape(store.DialectSQLite), shape(store.DialectPostgres)
	if len(lite) == 0 {
		t.Fatal("no sqlite migrations")
	}
	for name, ids := range lite {
		if !slices.Equal(ids, pg[name]) {
			t.Errorf("%s: sqlite defines %v, postgres %v", name, ids, pg[name])
		}
	}
	for name := range pg {
		if _, ok := lite[name]; !ok {
			t.Errorf("%s exists for postgres only", name)
		}
	}
}
