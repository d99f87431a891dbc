-- 0016_sessions: dashboard sign-ins.
-- Keep in lockstep with ../postgres/0016_sessions.sql.
--
-- A browser that signed in with an API token holds a cookie "id.secret"; the
-- row keeps the secret's SHA-256 only, and the token it acts as, whose role is
-- read again on every request (revoking the token ends the session).
CREATE TABLE sessions (
	id           TEXT PRIMARY KEY,
	token_id     BIGINT NOT NULL REFERENCES tokens (id),
	hash         TEXT NOT NULL,
	csrf         TEXT NOT NULL,
	created_at   TEXT NOT NULL,
	last_seen_at TEXT NOT NULL,
	expires_at   TEXT NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
