// Package people says who is who: it resolves the logins the operator named
// (release_managers, trusted_users) to the forge's numeric user ids, once, and
// pins them, so that rights follow accounts, not logins. A renamed login keeps
// its rights; whoever registers a released login does not inherit them.
package people

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/patchgate/patchgate"
)

// Directory resolves configured logins to pinned user ids on first use and
// compares actors by id. Set the fields, then use it from any number of
// goroutines.
type Directory struct {
	// ReleaseManagers are the configured release managers' logins, per forge.
	ReleaseManagers map[patchgate.Forge][]string
	Pins            patchgate.PersonService
	// Lookups ask each forge for a login's id; a forge without one pins no
	// one, so nobody of it is recognised.
	Lookups map[patchgate.Forge]patchgate.UserLookup
	Logger  *slog.Logger

	mu    sync.Mutex
	cache map[patchgate.ForgeUser]*patchgate.PersonPin
}

// Pin returns the pin of login on forge, asking the forge and pinning the
// answer the first time. ENOTFOUND when the forge has no such account (or
// patchgate cannot ask it).
func (d *Directory) Pin(ctx context.Context, forge patchgate.Forge, login string) (*patchgate.PersonPin, error) {
	key := patchgate.ForgeUser{Forge: forge, Login: patchgate.PinKey(login)}
	d.mu.Lock()
	p := d.cache[key]
	d.mu.Unlock()
	if p != nil {
		return p, nil
	}
	p, err := d.Pins.FindPin(ctx, forge, key.Login)
	if patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
		lookup := d.Lookups[forge]
		if lookup == nil {
			return nil, patchgate.Errorf(patchgate.ENOTFOUND, "patchgate cannot look %s:%s up: no API access to %s", forge, key.Login, forge)
		}
		id, lerr := lookup.UserID(ctx, key.Login)
		if lerr != nil {
			return nil, fmt.Errorf("look %s:%s up: %w", forge, key.Login, lerr)
		}
		p, err = d.Pins.PinPerson(ctx, patchgate.PersonPin{Forge: forge, Login: key.Login, UserID: id})
		if err == nil {
			d.Logger.Info("person pinned", "forge", forge, "login", p.Login, "user_id", p.UserID)
		}
	}
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if d.cache == nil {
		d.cache = map[patchgate.ForgeUser]*patchgate.PersonPin{}
	}
	d.cache[key] = p
	d.mu.Unlock()
	return p, nil
}

// Among reports whether the account userID of forge is one of logins, by
// their pinned ids. Logins the forge has no account for match nobody.
func (d *Directory) Among(ctx context.Context, forge patchgate.Forge, logins []string, userID int64) (bool, error) {
	for _, login := range logins {
		p, err := d.Pin(ctx, forge, login)
		if patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
			d.Logger.Warn("configured login matches nobody", "forge", forge, "login", login, "err", err)
			continue
		} else if err != nil {
			return false, err
		}
		if patchgate.PinMatches(p, forge, userID) {
			return true, nil
		}
	}
	return false, nil
}

// ReleaseManager reports whether the account userID of forge is a configured
// release manager.
func (d *Directory) ReleaseManager(ctx context.Context, forge patchgate.Forge, userID int64) (bool, error) {
	return d.Among(ctx, forge, d.ReleaseManagers[forge], userID)
}

// Maintainer reports whether the account userID may vouch for others' changes
// in repo: a trusted user of the repository or a release manager of its forge.
func (d *Directory) Maintainer(ctx context.Context, repo *patchgate.Repository, userID int64) (bool, error) {
	return d.Among(ctx, repo.Forge, append(slices.Clone(repo.TrustedUsers), d.ReleaseManagers[repo.Forge]...), userID)
}

// Current returns who holds login on forge now, by asking the forge, and
// pins the answer when the login is not pinned yet. A token names the
// account that holds its login when the token is created: when an earlier
// pin names another account (the pinned one was renamed and someone
// registered the login since), the current holder is the answer, the pin
// stays with the configuration it was made for, and the change of hands is
// logged. ENOTFOUND when the forge has no such account or patchgate cannot
// ask it.
func (d *Directory) Current(ctx context.Context, forge patchgate.Forge, login string) (*patchgate.PersonPin, error) {
	key := patchgate.PinKey(login)
	lookup := d.Lookups[forge]
	if lookup == nil {
		return nil, patchgate.Errorf(patchgate.ENOTFOUND, "patchgate cannot look %s:%s up: no API access to %s", forge, key, forge)
	}
	id, err := lookup.UserID(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("look %s:%s up: %w", forge, key, err)
	}
	pin, err := d.Pins.PinPerson(ctx, patchgate.PersonPin{Forge: forge, Login: key, UserID: id})
	if err != nil {
		return nil, err
	}
	if pin.UserID != id {
		d.Logger.Warn("login changed hands since it was pinned: the token names its current holder", "forge", forge, "login", key,
			"pinned_user_id", pin.UserID, "user_id", id)
	}
	return &patchgate.PersonPin{Forge: forge, Login: key, UserID: id}, nil
}
