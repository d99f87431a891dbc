package people_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/usecase/people"
)

// tokens is an in-memory patchgate.TokenService that keeps what it is given.
type tokens struct {
	patchgate.TokenService
	created []*patchgate.Token
}

func (s *tokens) CreateToken(_ context.Context, t *patchgate.Token) error {
	s.created = append(s.created, t)
	return nil
}

// TestTokensPinTheCurrentHolder: a token names the account that holds its
// login when it is created, even when the login was pinned earlier to an
// account that has since renamed; a login the forge does not know refuses
// the token and says what to check.
func TestTokensPinTheCurrentHolder(t *testing.T) {
	ctx := context.Background()
	forge := accounts{"alice": 11}
	pinned := pins{}
	d := &people.Directory{Pins: pinned, Lookups: map[patchgate.Forge]patchgate.UserLookup{patchgate.GitHub: forge},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	store := &tokens{}
	issuer := &people.Tokens{TokenService: store, People: d}
	create := func(name, login string) (*patchgate.Token, error) {
		tok := &patchgate.Token{Name: name, Role: patchgate.RoleReleaseManager, Users: []patchgate.ForgeUser{{Forge: patchgate.GitHub, Login: login}}}
		return tok, issuer.CreateToken(ctx, tok)
	}
	if tok, err := create("alice-laptop", "Alice"); err != nil || tok.Users[0].UserID != 11 {
		t.Fatalf("token for alice: got %+v, %v; want user id 11", tok, err)
	}
	// alice renames; someone registers her old login.
	delete(forge, "alice")
	forge["alice-renamed"], forge["alice"] = 11, 99
	if tok, err := create("new-alice", "alice"); err != nil || tok.Users[0].UserID != 99 {
		t.Fatalf("token for the login's new holder: got %+v, %v; want user id 99", tok, err)
	}
	if p, err := d.Pin(ctx, patchgate.GitHub, "alice"); err != nil || p.UserID != 11 {
		t.Fatalf("the configured login's pin after the token: got %+v, %v; want it still 11", p, err)
	}
	if tok, err := create("renamed", "alice-renamed"); err != nil || tok.Users[0].UserID != 11 {
		t.Fatalf("token for alice's new login: got %+v, %v; want user id 11", tok, err)
	}
	_, err := create("ghost", "ghost")
	if patchgate.ErrorCode(err) != patchgate.EINVALID || !strings.Contains(err.Error(), `token "ghost" not created: github:ghost names no account`) {
		t.Fatalf("token for an unknown login: got %v, want invalid naming github:ghost", err)
	}
	if len(store.created) != 3 {
		t.Fatalf("stored %d tokens, want 3 (not the refused one)", len(store.created))
	}
}
