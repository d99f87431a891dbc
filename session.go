package patchgate

import (
	"context"
	"time"
)

// Session is a dashboard sign-in: a browser that pasted an API token once and
// holds a cookie naming this session. Only the SHA-256 of the cookie's secret
// is stored. The session acts as its token, whose role is read again on every
// request, so revoking the token ends its sessions.
type Session struct {
	// ID is the public half of the cookie; the secret is the other half.
	ID      string `json:"id"`
	TokenID int64  `json:"token_id"`
	// Hash is the hex SHA-256 of the cookie's secret.
	Hash string `json:"-"`
	// CSRF is the per-session token every form carries.
	CSRF       string    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	// ExpiresAt ends the session however active it is.
	ExpiresAt time.Time `json:"expires_at"`
	// Token is the session's token, filled by FindSession.
	Token *Token `json:"-"`
}

// SessionService stores dashboard sessions. Implementations are safe for
// concurrent use.
type SessionService interface {
	// CreateSession stores s (ID, TokenID, Hash, CSRF and ExpiresAt set).
	CreateSession(ctx context.Context, s *Session) error
	// FindSession returns the unexpired session with that id whose token is
	// not revoked, with its token; ENOTFOUND otherwise.
	FindSession(ctx context.Context, id string) (*Session, error)
	// TouchSession records activity now, for the idle timeout.
	TouchSession(ctx context.Context, id string) error
	// DeleteSession ends a session (sign-out); deleting a missing one is no error.
	DeleteSession(ctx context.Context, id string) error
	// DeleteExpiredSessions removes sessions that expired or were idle since
	// before idleSince, and returns how many.
	DeleteExpiredSessions(ctx context.Context, idleSince time.Time) (int64, error)
}
