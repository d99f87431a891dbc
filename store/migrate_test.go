package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

func testMigrations(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()

	t.Run("fresh database needs migrating", func(t *testing.T) {
		db := open(t)
		pending, err := db.Pending(ctx)
		if err != nil || pending == 0 {
			t.Fatalf("Pending() = %d, %v; want > 0, nil", pending, err)
		}
		if v, err := db.SchemaVersion(ctx); err != nil || v != 0 {
			t.Errorf("SchemaVersion() = %d, %v; want 0, nil", v, err)
		}
		err = db.CheckSchema(ctx)
		wantCode(t, err, patchgate.ECONFLICT)
		if !strings.Contains(err.Error(), "patchgate migrate") {
			t.Errorf("CheckSchema() = %q, want it to say run `patchgate migrate`", err)
		}
		// Open did not migrate: the tables are not there.
		_, err = store.NewTokenService(db).FindTokens(ctx)
		if err == nil {
			t.Errorf("FindTokens on an unmigrated database succeeded")
		}
	})

	t.Run("idempotent", func(t *testing.T) {
		db := open(t)
		pending, err := db.Pending(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n, err := db.Migrate(ctx)
		if err != nil || n != pending {
			t.Fatalf("Migrate() = %d, %v; want %d, nil", n, err, pending)
		}
		n, err = db.Migrate(ctx)
		if err != nil || n != 0 {
			t.Fatalf("second Migrate() = %d, %v; want 0, nil", n, err)
		}
		if p, err := db.Pending(ctx); err != nil || p != 0 {
			t.Errorf("Pending() after Migrate = %d, %v; want 0, nil", p, err)
		}
		if v, err := db.SchemaVersion(ctx); err != nil || v < 1 {
			t.Errorf("SchemaVersion() = %d, %v; want ≥ 1, nil", v, err)
		}
		if err := db.CheckSchema(ctx); err != nil {
			t.Errorf("CheckSchema() after Migrate = %v", err)
		}
	})

	t.Run("concurrent from two processes", func(t *testing.T) {
		db := open(t)
		other := reopen(t, db)
		pending, err := db.Pending(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		results := make([]int, 4)
		errs := make([]error, 4)
		for i := range results {
			h := db
			if i%2 == 1 {
				h = other
			}
			wg.Go(func() { results[i], errs[i] = h.Migrate(ctx) })
		}
		wg.Wait()
		total := 0
		for i, err := range errs {
			if err != nil {
				t.Fatalf("Migrate #%d: %v", i, err)
			}
			total += results[i]
		}
		if total != pending {
			t.Errorf("migrations applied in total = %d, want %d (each exactly once)", total, pending)
		}
		if err := other.CheckSchema(ctx); err != nil {
			t.Errorf("CheckSchema() = %v", err)
		}
	})

	t.Run("schema newer than the binary", func(t *testing.T) {
		db := open(t)
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at)
			VALUES (999999, '999999_future', CURRENT_TIMESTAMP)`); err != nil {
			t.Fatal(err)
		}
		err := db.CheckSchema(ctx)
		wantCode(t, err, patchgate.ECONFLICT)
		if !strings.Contains(err.Error(), "upgrade patchgate") {
			t.Errorf("CheckSchema() = %q, want it to say upgrade patchgate", err)
		}
		if p, err := db.Pending(ctx); err != nil || p != 0 {
			t.Errorf("Pending() = %d, %v; want 0, nil", p, err)
		}
	})
}
