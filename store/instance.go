package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/patchgate/patchgate"
)

// InstanceID returns the id migration 0007 gave this database: the identity of
// the patchgate instance it is, shared by every process using it and by no
// other database. The migration always makes it; ENOTFOUND only if the row was
// deleted by hand.
func (d *DB) InstanceID(ctx context.Context) (string, error) {
	tx, err := d.beginRead(ctx)
	if err != nil {
		return "", fmt.Errorf("read instance id: %w", err)
	}
	defer tx.Rollback()
	var id string
	err = tx.QueryRow(ctx, `SELECT id FROM instance WHERE singleton = 1`).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", patchgate.Errorf(patchgate.ENOTFOUND, "this database has no instance id: run `patchgate migrate`")
	}
	if err != nil {
		return "", fmt.Errorf("read instance id: %w", err)
	}
	return id, nil
}
