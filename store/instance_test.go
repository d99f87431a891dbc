package store_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/patchgate/patchgate/store"
)

// testInstance checks the instance id: made by the migration, the same for
// every handle on one database and across migrations, different per database.
func testInstance(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	fresh := open(t)

	migrate := func(db *store.DB) {
		t.Helper()
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	instanceID := func(db *store.DB) string {
		t.Helper()
		id, err := db.InstanceID(ctx)
		if err != nil {
			t.Fatalf("InstanceID: %v", err)
		}
		return id
	}
	migrate(fresh)
	id := instanceID(fresh)
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(id) {
		t.Errorf("got instance id %q, want 16 hex digits", id)
	}
	migrate(fresh)
	if again := instanceID(reopen(t, fresh)); again != id {
		t.Errorf("second handle, after migrating again: got instance id %q, want %q", again, id)
	}
	other := open(t)
	migrate(other)
	if o := instanceID(other); o == id {
		t.Errorf("two databases share instance id %q", id)
	}
}
