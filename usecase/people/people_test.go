package people_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/usecase/people"
)

// pins is an in-memory patchgate.PersonService: the first pin wins.
type pins map[string]*patchgate.PersonPin

func (p pins) FindPin(_ context.Context, forge patchgate.Forge, login string) (*patchgate.PersonPin, error) {
	if pin := p[string(forge)+":"+patchgate.PinKey(login)]; pin != nil {
		return pin, nil
	}
	return nil, patchgate.Errorf(patchgate.ENOTFOUND, "not pinned")
}

func (p pins) PinPerson(_ context.Context, pin patchgate.PersonPin) (*patchgate.PersonPin, error) {
	k := string(pin.Forge) + ":" + patchgate.PinKey(pin.Login)
	if p[k] == nil {
		p[k] = &pin
	}
	return p[k], nil
}

// accounts is a forge's logins now, with their ids.
type accounts map[string]int64

func (a accounts) UserID(_ context.Context, login string) (int64, error) {
	if id, ok := a[login]; ok {
		return id, nil
	}
	return 0, patchgate.Errorf(patchgate.ENOTFOUND, "no user %s", login)
}

func TestDirectoryComparesPinnedIDs(t *testing.T) {
	ctx := context.Background()
	forge := accounts{"alice": 11, "bob": 12}
	d := &people.Directory{ReleaseManagers: map[patchgate.Forge][]string{patchgate.GitHub: {"Alice", "bob", "gone"}},
		Pins: pins{}, Lookups: map[patchgate.Forge]patchgate.UserLookup{patchgate.GitHub: forge},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	check := func(step string, userID int64, want bool) {
		t.Helper()
		if got, err := d.ReleaseManager(ctx, patchgate.GitHub, userID); err != nil || got != want {
			t.Fatalf("%s: ReleaseManager(%d) = %v, %v; want %v", step, userID, got, err, want)
		}
	}
	check("alice before the rename", 11, true)
	// alice renames her account; someone registers her old login.
	delete(forge, "alice")
	forge["alice-renamed"], forge["alice"] = 11, 99
	for _, tt := range []struct {
		name   string
		userID int64
		want   bool
	}{
		{"alice after the rename", 11, true},
		{"the new account under the login alice", 99, false},
		{"bob", 12, true},
		{"nobody", 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) { check(tt.name, tt.userID, tt.want) })
	}
	if ok, err := d.ReleaseManager(ctx, patchgate.GitLab, 11); err != nil || ok {
		t.Fatalf("ReleaseManager on a forge without release managers = %v, %v; want false", ok, err)
	}
	repo := &patchgate.Repository{Forge: patchgate.GitHub, Name: "acme/payments", TrustedUsers: []string{"carol"}}
	forge["carol"] = 13
	if ok, err := d.Maintainer(ctx, repo, 13); err != nil || !ok {
		t.Fatalf("Maintainer(carol) = %v, %v; want true", ok, err)
	}
}
