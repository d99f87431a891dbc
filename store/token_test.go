package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/store"
)

func testTokens(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	s := store.NewTokenService(open(t))
	hash := func(secret string) string {
		sum := sha256.Sum256([]byte(secret))
		return hex.EncodeToString(sum[:])
	}

	ci := &patchgate.Token{Name: "ci", Role: patchgate.RoleDeveloper, Hash: hash("s1")}
	if err := s.CreateToken(ctx, ci); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	if ci.ID == 0 || ci.CreatedAt.IsZero() {
		t.Errorf("created token = %+v, want id and creation time", ci)
	}
	rm := &patchgate.Token{Name: "release", Role: patchgate.RoleReleaseManager, Hash: hash("s2")}
	if err := s.CreateToken(ctx, rm); err != nil {
		t.Fatal(err)
	}

	t.Run("conflicts", func(t *testing.T) {
		err := s.CreateToken(ctx, &patchgate.Token{Name: "ci", Role: patchgate.RoleViewer, Hash: hash("s3")})
		wantCode(t, err, patchgate.ECONFLICT)
		err = s.CreateToken(ctx, &patchgate.Token{Name: "ci2", Role: patchgate.RoleViewer, Hash: hash("s1")})
		wantCode(t, err, patchgate.ECONFLICT)
		err = s.CreateToken(ctx, &patchgate.Token{Name: "bad", Role: "root", Hash: hash("s4")})
		wantCode(t, err, patchgate.EINVALID)
	})

	t.Run("find by hash", func(t *testing.T) {
		got, err := s.FindTokenByHash(ctx, hash("s1"))
		if err != nil || got.ID != ci.ID || got.Name != "ci" || got.Role != patchgate.RoleDeveloper || !got.CreatedAt.Equal(ci.CreatedAt) {
			t.Errorf("FindTokenByHash = %+v, %v; want ci", got, err)
		}
		_, err = s.FindTokenByHash(ctx, hash("unknown"))
		wantCode(t, err, patchgate.ENOTFOUND)
	})

	t.Run("revoke", func(t *testing.T) {
		if err := s.RevokeToken(ctx, "ci"); err != nil {
			t.Fatalf("RevokeToken: %v", err)
		}
		if err := s.RevokeToken(ctx, "ci"); err != nil {
			t.Errorf("second RevokeToken: %v, want nil", err)
		}
		wantCode(t, s.RevokeToken(ctx, "nobody"), patchgate.ENOTFOUND)
		_, err := s.FindTokenByHash(ctx, hash("s1"))
		wantCode(t, err, patchgate.ENOTFOUND)
		all, err := s.FindTokens(ctx)
		if err != nil || len(all) != 2 {
			t.Fatalf("FindTokens = %v, %v; want 2 tokens", all, err)
		}
		if all[0].Name != "ci" || all[0].RevokedAt == nil || all[1].Name != "release" || all[1].RevokedAt != nil {
			t.Errorf("FindTokens = %+v, %+v; want ci (revoked), release", all[0], all[1])
		}
	})

	t.Run("users", func(t *testing.T) {
		users := []patchgate.ForgeUser{{Forge: patchgate.GitHub, Login: "alice"}, {Forge: patchgate.GitLab, Login: "alice.b"}}
		tok := &patchgate.Token{Name: "alice-laptop", Role: patchgate.RoleReleaseManager, Users: users, Hash: hash("s5")}
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		got, err := s.FindTokenByHash(ctx, hash("s5"))
		if err != nil || len(got.Users) != 2 || got.Users[0] != users[0] || got.Users[1] != users[1] {
			t.Errorf("FindTokenByHash = %+v, %v; want users github:alice and gitlab:alice.b", got, err)
		}
		if got, err := s.FindTokenByHash(ctx, hash("s2")); err != nil || got.Users == nil || len(got.Users) != 0 {
			t.Errorf("a token naming nobody: got users %#v, %v; want an empty list", got.Users, err)
		}
		err = s.CreateToken(ctx, &patchgate.Token{Name: "two-alices", Role: patchgate.RoleReleaseManager, Hash: hash("s6"),
			Users: []patchgate.ForgeUser{{Forge: patchgate.GitHub, Login: "alice"}, {Forge: patchgate.GitHub, Login: "al"}}})
		wantCode(t, err, patchgate.EINVALID)
	})

	t.Run("projects", func(t *testing.T) {
		desk := &patchgate.Token{Name: "desk", Role: patchgate.RoleTracker, Projects: []string{"PAY", "OPS"}, Hash: hash("p1")}
		if err := s.CreateToken(ctx, desk); err != nil {
			t.Fatal(err)
		}
		got, err := s.FindTokenByHash(ctx, hash("p1"))
		if err != nil || len(got.Projects) != 2 || got.Projects[0] != "PAY" || got.Projects[1] != "OPS" {
			t.Errorf("FindTokenByHash = %+v, %v; want projects PAY, OPS", got, err)
		}
		if got, err := s.FindTokenByHash(ctx, hash("s2")); err != nil || got.Projects != nil {
			t.Errorf("unlimited token: got projects %v, %v; want none", got.Projects, err)
		}
		err = s.CreateToken(ctx, &patchgate.Token{Name: "bad-projects", Role: patchgate.RoleTracker, Projects: []string{"pay,OPS"}, Hash: hash("p2")})
		wantCode(t, err, patchgate.EINVALID)
	})
}
