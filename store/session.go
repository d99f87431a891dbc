package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/patchgate/patchgate"
)

// SessionService stores dashboard sessions.
type SessionService struct{ db *DB }

var _ patchgate.SessionService = (*SessionService)(nil)

// NewSessionService returns the session service of db.
func NewSessionService(db *DB) *SessionService { return &SessionService{db: db} }

// CreateSession stores s and sets its CreatedAt and LastSeenAt, audited as
// session.created in the same transaction.
func (s *SessionService) CreateSession(ctx context.Context, sess *patchgate.Session) error {
	if sess.ID == "" || len(sess.Hash) != 64 || sess.CSRF == "" || sess.TokenID <= 0 || sess.ExpiresAt.IsZero() {
		return patchgate.Errorf(patchgate.EINVALID, "session: id, token, hash, csrf and expiry are required")
	}
	now := s.db.now()
	tx, err := s.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(ctx, `INSERT INTO sessions (id, token_id, hash, csrf, created_at, last_seen_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		sess.ID, sess.TokenID, sess.Hash, sess.CSRF, now, now, sess.ExpiresAt); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	// A session acts as its token: audit verify finds one inserted past this.
	if err := s.db.appendAudit(ctx, tx, sessionEntry(ctx, sess)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	sess.CreatedAt, sess.LastSeenAt = now, now
	return nil
}

// FindSession returns the unexpired session id whose token is not revoked,
// with the token; ENOTFOUND otherwise.
func (s *SessionService) FindSession(ctx context.Context, id string) (*patchgate.Session, error) {
	tx, err := s.db.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var sess patchgate.Session
	var t patchgate.Token
	dest := append([]any{&sess.ID, &sess.TokenID, &sess.Hash, &sess.CSRF, timeCol{&sess.CreatedAt},
		timeCol{&sess.LastSeenAt}, timeCol{&sess.ExpiresAt}}, tokenDest(&t)...)
	if err := tx.QueryRow(ctx, `SELECT s.id, s.token_id, s.hash, s.csrf, s.created_at, s.last_seen_at, s.expires_at, `+
		qualify("t", tokenColumns)+`
		FROM sessions s JOIN tokens t ON t.id = s.token_id
		WHERE s.id = $1 AND s.expires_at > $2 AND t.revoked_at IS NULL`, id, s.db.now()).Scan(dest...); err != nil {
		// The id is half a credential: keep it out of the message.
		return nil, notFound(err, "session")
	}
	sess.Token = &t
	return &sess, nil
}

// TouchSession records activity now.
func (s *SessionService) TouchSession(ctx context.Context, id string) error {
	if _, err := s.db.exec(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id = $2`, s.db.now(), id); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// DeleteSession ends a session.
func (s *SessionService) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.db.exec(ctx, `DELETE FROM sessions WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions past their expiry or idle since
// before idleSince.
func (s *SessionService) DeleteExpiredSessions(ctx context.Context, idleSince time.Time) (int64, error) {
	res, err := s.db.exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2`, s.db.now(), idleSince)
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return res.RowsAffected()
}

// sessionEntry is the session.created entry of sess. It names the session by
// a fingerprint of its id (half of the cookie) and records its token, the
// fingerprint of its secret's hash and its expiry.
func sessionEntry(ctx context.Context, sess *patchgate.Session) patchgate.AuditEntry {
	return patchgate.AuditEntry{Actor: patchgate.AuditActor(ctx), Action: patchgate.AuditSessionCreated,
		Subject: "session:" + patchgate.AuditFingerprint(sess.ID), Detail: sessionFields(sess.TokenID, sess.Hash, sess.ExpiresAt)}
}

// sessionFields are the fields of a session that audit verify compares.
func sessionFields(tokenID int64, hash string, expires time.Time) map[string]string {
	return map[string]string{"token": strconv.FormatInt(tokenID, 10), "hash": patchgate.AuditFingerprint(hash),
		"expires": expires.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)}
}
