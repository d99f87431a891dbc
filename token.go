package patchgate

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Role grants a set of permissions; each role includes the ones before it.
type Role string

// Roles, least to most privileged.
const (
	RoleViewer Role = "viewer"
	// RoleTracker is a ticket tracker's or helpdesk's token: it may set what
	// patchgate knows of tickets (PUT /api/v1/tickets/{key}), and no more.
	RoleTracker        Role = "tracker"
	RoleDeveloper      Role = "developer"
	RoleReleaseManager Role = "release-manager"
	RoleAdmin          Role = "admin"
)

// Validate reports whether r is a known role.
func (r Role) Validate() error {
	if r.rank() < 0 {
		return Errorf(EINVALID, "unknown role %q (want viewer, tracker, developer, release-manager or admin)", string(r))
	}
	return nil
}

// Allows reports whether a holder of r may do what needs role want.
func (r Role) Allows(want Role) bool { return r.rank() >= 0 && r.rank() >= want.rank() }

func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 0
	case RoleTracker:
		return 1
	case RoleDeveloper:
		return 2
	case RoleReleaseManager:
		return 3
	case RoleAdmin:
		return 4
	}
	return -1
}

// Token is an API token. Only the SHA-256 of its secret is stored; the secret is
// shown once, when it is created.
type Token struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Role Role   `json:"role"`
	// Users name the person holding the token, one login per forge; a token
	// approves and promotes only as that person.
	Users []ForgeUser `json:"users"`
	// Projects, when set, limit the token to the tickets of these project
	// keys (PAY, OPS): a helpdesk's token tells about its own projects only.
	Projects   []string   `json:"projects,omitempty"`
	Hash       string     `json:"-"` // hex SHA-256 of the secret
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Validate checks a token before it is stored.
func (t *Token) Validate() error {
	if t.Name == "" || len(t.Name) > 100 {
		return Errorf(EINVALID, "token name required (at most 100 characters)")
	}
	if strings.EqualFold(t.Name, AutoProposer) {
		// Candidates created under that name are patchgate's automatic ones,
		// which automatic proposals may supersede.
		return Errorf(EINVALID, "token name %q is patchgate's own: automatic candidates are proposed under it; choose another name", t.Name)
	}
	if len(t.Hash) != 64 {
		return Errorf(EINVALID, "token hash must be a hex SHA-256")
	}
	if err := validateUsers(t.Users); err != nil {
		return err
	}
	for _, p := range t.Projects {
		if !ValidExternalKey(p + "-1") {
			return Errorf(EINVALID, "token project %q: want a project key such as PAY", p)
		}
	}
	return t.Role.Validate()
}

// TokenService stores API tokens. Implementations are safe for concurrent use.
type TokenService interface {
	// CreateToken stores t (with Hash set); ECONFLICT if the name is taken.
	CreateToken(ctx context.Context, t *Token) error
	// FindTokenByHash returns the unrevoked token with that hash; ENOTFOUND if none.
	FindTokenByHash(ctx context.Context, hash string) (*Token, error)
	// FindTokens lists all tokens, revoked ones included.
	FindTokens(ctx context.Context) ([]*Token, error)
	// RevokeToken revokes a token by name; ENOTFOUND if there is none.
	RevokeToken(ctx context.Context, name string) error
}

// Principal is who is acting: an API token's holder or a forge user.
type Principal struct {
	// Name is the token's name, or the forge login of a comment's author.
	Name string `json:"name"`
	Role Role   `json:"role"`
	// Token is the API token's name, "" for a forge user.
	Token string `json:"token,omitempty"`
	// Users are the person behind the principal, one login per forge.
	Users []ForgeUser `json:"users,omitempty"`
	// Projects limit the principal to tickets of these projects; none: all.
	Projects []string `json:"projects,omitempty"`
}

// Person returns who the principal is on forge: the person that approvals are
// counted by and the author rule is applied to. EFORBIDDEN when the principal
// names no user there (a token created without --user), since a token alone
// is nobody in particular.
// The person carries the user id the token pinned (or the forge reported for
// a comment's author), 0 when unknown.
func (p Principal) Person(forge Forge) (ForgeUser, error) {
	u, ok := userOn(p.Users, forge)
	if !ok {
		if p.Token != "" {
			return ForgeUser{}, Errorf(EFORBIDDEN, "token %q names no %s user, and approvals and promotions are a person's: create a token with --user %s:LOGIN (API: \"users\": [\"%s:LOGIN\"]) and revoke this one",
				p.Token, forge, forge, forge)
		}
		return ForgeUser{}, Errorf(EFORBIDDEN, "%s names no %s user: approvals and promotions are a person's", p.Name, forge)
	}
	return u, nil
}

// Approver returns who the principal approves as on forge: Person, with
// the login lowercased, refused (EFORBIDDEN) while the person's forge user id
// is unknown. An approval counts a person, and a person is a forge user id: a
// login alone could belong to whoever registered it after its holder let it
// go. Tokens created before patchgate pinned people carry no id; the
// refusal says how to replace such a token.
func (p Principal) Approver(forge Forge) (ForgeUser, error) {
	u, err := p.Person(forge)
	if err != nil {
		return ForgeUser{}, err
	}
	if u.UserID == 0 {
		if p.Token != "" {
			return ForgeUser{}, Errorf(EFORBIDDEN, "token %q names %s with no forge user id (it was created before patchgate pinned people), and an approval counts a person by forge user id: create a token with `patchgate token create --user %s`, which pins the id, and revoke this one",
				p.Token, u.String(), u.String())
		}
		return ForgeUser{}, Errorf(EFORBIDDEN, "%s has no forge user id known to patchgate, and an approval counts a person by forge user id: approve again once %s names the account by id, or through a token created with `patchgate token create --user %s`",
			u.String(), forge, u.String())
	}
	return ForgeUser{Forge: forge, Login: strings.ToLower(u.Login), UserID: u.UserID}, nil
}

type principalKey struct{}

// NewContextWithPrincipal returns a context carrying p.
func NewContextWithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFromContext returns the principal in ctx, if any.
func PrincipalFromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// tokenPrefix makes patchgate tokens recognisable to secret scanners.
const tokenPrefix = "pgt_"

// NewTokenSecret returns a fresh random token secret and its stored hash.
func NewTokenSecret() (secret, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("generate token: %w", err)
	}
	secret = tokenPrefix + hex.EncodeToString(b[:])
	return secret, HashToken(secret), nil
}

// HashToken returns the hex SHA-256 of a token secret, the only form stored.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
