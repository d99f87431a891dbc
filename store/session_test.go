package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

func testSessions(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	db := open(t)
	tokens, s := store.NewTokenService(db), store.NewSessionService(db)
	tok := &patchgate.Token{Name: "dash", Role: patchgate.RoleReleaseManager, Hash: patchgate.HashToken("secret")}
	if err := tokens.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	newSession := func(id string, expires time.Time) *patchgate.Session {
		sess := &patchgate.Session{ID: id, TokenID: tok.ID, Hash: patchgate.HashToken("cookie-" + id), CSRF: "csrf-" + id, ExpiresAt: expires}
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatalf("CreateSession %s: %v", id, err)
		}
		return sess
	}
	now := db.Now() // the store's clock, which tests replace
	live := newSession("live", now.Add(time.Hour))
	newSession("expired", now.Add(-time.Minute))

	got, err := s.FindSession(ctx, "live")
	if err != nil {
		t.Fatalf("FindSession: %v", err)
	}
	if got.Hash != live.Hash || got.CSRF != "csrf-live" || got.Token == nil || got.Token.Name != "dash" || got.Token.Role != patchgate.RoleReleaseManager {
		t.Errorf("FindSession: got %+v (token %+v), want the live session with its token", got, got.Token)
	}
	_, err = s.FindSession(ctx, "expired")
	wantCode(t, err, patchgate.ENOTFOUND)
	_, err = s.FindSession(ctx, "missing")
	wantCode(t, err, patchgate.ENOTFOUND)
	err = s.CreateSession(ctx, &patchgate.Session{ID: "bad"})
	wantCode(t, err, patchgate.EINVALID)

	if err := s.TouchSession(ctx, "live"); err != nil {
		t.Fatalf("TouchSession: %v", err)
	}
	if n, err := s.DeleteExpiredSessions(ctx, now.Add(-time.Hour)); err != nil || n != 1 {
		t.Errorf("DeleteExpiredSessions: got %d, %v; want 1 (the expired one)", n, err)
	}

	// Revoking the token ends its sessions.
	if err := tokens.RevokeToken(ctx, "dash"); err != nil {
		t.Fatal(err)
	}
	_, err = s.FindSession(ctx, "live")
	wantCode(t, err, patchgate.ENOTFOUND)

	if err := s.DeleteSession(ctx, "live"); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	if err := s.DeleteSession(ctx, "live"); err != nil {
		t.Fatalf("DeleteSession of a deleted session: %v", err)
	}
}
