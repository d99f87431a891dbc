package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
)

// TokenService stores API tokens as SHA-256 hashes.
type TokenService struct{ db *DB }

var _ patchgate.TokenService = (*TokenService)(nil)

// NewTokenService returns the token service of db.
func NewTokenService(db *DB) *TokenService { return &TokenService{db: db} }

const tokenColumns = `id, name, role, users, projects, hash, created_at, last_used_at, revoked_at`

func tokenDest(t *patchgate.Token) []any {
	return []any{&t.ID, &t.Name, &t.Role, usersCol{&t.Users}, projectsCol{&t.Projects}, &t.Hash, timeCol{&t.CreatedAt}, optTimeCol{&t.LastUsedAt},
		optTimeCol{&t.RevokedAt}}
}

// usersCol stores a token's users as "github:alice#11,gitlab:alice.b#42":
// each login with the forge user id pinned when the token was created
// ("github:alice" alone for a token created before patchgate pinned people).
// The token.created audit entry records the same text, so audit verify sees
// an id changed behind patchgate's back.
type usersCol struct{ users *[]patchgate.ForgeUser }

// Scan implements sql.Scanner.
func (c usersCol) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	case nil:
	default:
		return fmt.Errorf("token users: unexpected %T", src)
	}
	*c.users = []patchgate.ForgeUser{}
	if s == "" {
		return nil
	}
	for _, item := range strings.Split(s, ",") {
		item, id, pinned := strings.Cut(item, "#")
		u, err := patchgate.ParseForgeUser(item)
		if err != nil {
			return fmt.Errorf("token users: %w", err)
		}
		if pinned {
			if u.UserID, err = strconv.ParseInt(id, 10, 64); err != nil || u.UserID <= 0 {
				return fmt.Errorf("token users: %q: the user id is not a positive number", item+"#"+id)
			}
		}
		*c.users = append(*c.users, u)
	}
	return nil
}

// projectsCol stores a token's projects as "PAY,OPS"; ” is none.
type projectsCol struct{ projects *[]string }

// Scan implements sql.Scanner.
func (c projectsCol) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	case nil:
	default:
		return fmt.Errorf("token projects: unexpected %T", src)
	}
	*c.projects = nil
	if s != "" {
		*c.projects = strings.Split(s, ",")
	}
	return nil
}

func joinUsers(users []patchgate.ForgeUser) string {
	parts := make([]string, len(users))
	for i, u := range users {
		parts[i] = u.String()
		if u.UserID != 0 {
			parts[i] += "#" + strconv.FormatInt(u.UserID, 10)
		}
	}
	return strings.Join(parts, ",")
}

// CreateToken stores t (with Hash set) and sets its ID and CreatedAt, audited as
// token.created; ECONFLICT if the name (or the hash) is taken.
func (s *TokenService) CreateToken(ctx context.Context, t *patchgate.Token) error {
	if err := t.Validate(); err != nil {
		return err
	}
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	created := s.db.now()
	err = tx.QueryRow(ctx, `INSERT INTO tokens (name, role, users, projects, hash, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		t.Name, t.Role, joinUsers(t.Users), strings.Join(t.Projects, ","), t.Hash, created).Scan(&t.ID)
	if patchgate.ErrorCode(err) == patchgate.ECONFLICT {
		return patchgate.Errorf(patchgate.ECONFLICT, "a token named %q (or with the same secret) exists", t.Name)
	} else if err != nil {
		return fmt.Errorf("create token %q: %w", t.Name, err)
	}
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = created, nil, nil
	// Never the hash: the log is exported and kept for good, and a token's hash
	// is what authentication looks up. Its fingerprint lets audit verify find
	// a row whose hash was replaced.
	detail := map[string]string{"role": string(t.Role), "id": strconv.FormatInt(t.ID, 10),
		"hash": patchgate.AuditFingerprint(t.Hash)}
	if len(t.Users) > 0 {
		detail["users"] = joinUsers(t.Users)
	}
	if len(t.Projects) > 0 {
		detail["projects"] = strings.Join(t.Projects, ",")
	}
	if err := s.db.appendAudit(ctx, tx, patchgate.AuditEntry{Actor: patchgate.AuditActor(ctx),
		Action: patchgate.AuditTokenCreated, Subject: "token:" + t.Name, Detail: detail}); err != nil {
		return err
	}
	if t.Users == nil {
		t.Users = []patchgate.ForgeUser{}
	}
	return tx.Commit()
}

// FindTokenByHash returns the unrevoked token with that hash; ENOTFOUND if none.
func (s *TokenService) FindTokenByHash(ctx context.Context, hash string) (*patchgate.Token, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var t patchgate.Token
	if err := tx.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1 AND revoked_at IS NULL`,
		hash).Scan(tokenDest(&t)...); err != nil {
		// The hash is a credential: keep it out of the message.
		return nil, notFound(err, "token")
	}
	return &t, nil
}

// FindTokens lists all tokens, revoked ones included, oldest first.
func (s *TokenService) FindTokens(ctx context.Context) ([]*patchgate.Token, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.Query(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("find tokens: %w", err)
	}
	defer rows.Close()
	ts := []*patchgate.Token{}
	for rows.Next() {
		t := &patchgate.Token{}
		if err := rows.Scan(tokenDest(t)...); err != nil {
			return nil, fmt.Errorf("find tokens: %w", err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find tokens: %w", err)
	}
	return ts, nil
}

// RevokeToken revokes a token by name; revoking a revoked token changes
// nothing and is not audited again. ENOTFOUND if there is no token of that name.
func (s *TokenService) RevokeToken(ctx context.Context, name string) error {
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var id int64
	var role patchgate.Role
	var revokedAt *time.Time
	if err := tx.QueryRow(ctx, `SELECT id, role, revoked_at FROM tokens WHERE name = $1`+s.db.forUpdate(),
		name).Scan(&id, &role, optTimeCol{&revokedAt}); err != nil {
		return notFound(err, "token %q", name)
	}
	if revokedAt != nil {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE tokens SET revoked_at = $1 WHERE id = $2`, s.db.now(), id); err != nil {
		return fmt.Errorf("revoke token %q: %w", name, err)
	}
	if err := s.db.appendAudit(ctx, tx, patchgate.AuditEntry{Actor: patchgate.AuditActor(ctx),
		Action: patchgate.AuditTokenRevoked, Subject: "token:" + name,
		Detail: map[string]string{"role": string(role)}}); err != nil {
		return err
	}
	return tx.Commit()
}
