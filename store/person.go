package store

import (
	"context"
	"fmt"

	"github.com/patchgate/patchgate"
)

// PersonService pins logins to forge user ids, one row per (forge, login);
// the primary key settles racing pins: the first wins.
type PersonService struct{ db *DB }

var _ patchgate.PersonService = (*PersonService)(nil)

// NewPersonService returns the person pin service of db.
func NewPersonService(db *DB) *PersonService { return &PersonService{db: db} }

// FindPin returns the pin of login on forge; ENOTFOUND when none.
func (s *PersonService) FindPin(ctx context.Context, forge patchgate.Forge, login string) (*patchgate.PersonPin, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	p := &patchgate.PersonPin{Forge: forge, Login: patchgate.PinKey(login)}
	if err := tx.QueryRow(ctx, `SELECT user_id FROM people WHERE forge = $1 AND login = $2`, forge, p.Login).Scan(&p.UserID); err != nil {
		return nil, notFound(err, "pin of %s:%s", forge, p.Login)
	}
	return p, nil
}

// PinPerson pins p unless its login is pinned already, and returns the pin
// that holds.
func (s *PersonService) PinPerson(ctx context.Context, p patchgate.PersonPin) (*patchgate.PersonPin, error) {
	p.Login = patchgate.PinKey(p.Login)
	if err := (patchgate.ForgeUser{Forge: p.Forge, Login: p.Login}).Validate(); err != nil {
		return nil, err
	}
	if p.UserID <= 0 {
		return nil, patchgate.Errorf(patchgate.EINVALID, "pin %s:%s: user id required", p.Forge, p.Login)
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(ctx, `INSERT INTO people (forge, login, user_id, pinned_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (forge, login) DO NOTHING`, p.Forge, p.Login, p.UserID, s.db.now()); err != nil {
		return nil, fmt.Errorf("pin %s:%s: %w", p.Forge, p.Login, err)
	}
	out := &patchgate.PersonPin{Forge: p.Forge, Login: p.Login}
	if err := tx.QueryRow(ctx, `SELECT user_id FROM people WHERE forge = $1 AND login = $2`, p.Forge, p.Login).Scan(&out.UserID); err != nil {
		return nil, fmt.Errorf("read pin of %s:%s: %w", p.Forge, p.Login, err)
	}
	return out, tx.Commit()
}
