-- 0005_releases: release candidates, what they contain, and their approvals.
-- Keep in lockstep with ../postgres/0005_releases.sql: same tables, columns,
-- keys and indexes; only the types differ. Times are fixed-width UTC text
-- (2006-01-02T15:04:05.000000Z) so that text order is time order; NULL is "never".

-- state is open, superseded, promoting or promoted. CreateCandidate leaves at
-- most one candidate of a repo open (it supersedes the others under a per-repo
-- lock); promoting ones are left alone, so no index limits them.
CREATE TABLE candidates (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	forge       TEXT    NOT NULL,
	repo        TEXT    NOT NULL,
	branch      TEXT    NOT NULL DEFAULT '',
	sha         TEXT    NOT NULL,
	name        TEXT    NOT NULL, -- the tag promotion creates
	state       TEXT    NOT NULL,
	base_sha    TEXT    NOT NULL DEFAULT '', -- '' for the first release
	created_by  TEXT    NOT NULL DEFAULT '',
	created_at  TEXT    NOT NULL,
	promoted_by TEXT    NOT NULL DEFAULT '', -- who began the promotion
	promoted_at TEXT, -- NULL until promoted
	release_url TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX candidates_forge_repo_state ON candidates (forge, repo, state);
CREATE INDEX candidates_created_at ON candidates (created_at);
-- A tag name belongs to one live candidate of a repo: a superseded candidate
-- gives its name back, an open, promoting or promoted one keeps it.
CREATE UNIQUE INDEX candidates_name ON candidates (forge, repo, name)
	WHERE state <> 'superseded';

-- One row per (change, ticket it fixes); ticket_id NULL when the change fixes
-- none. The unique key reads NULL as 0, since NULLs never collide in a UNIQUE.
-- seq keeps the order the items were given in.
CREATE TABLE candidate_items (
	candidate_id INTEGER NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
	seq          INTEGER NOT NULL,
	change_id    INTEGER NOT NULL REFERENCES changes (id),
	ticket_id    INTEGER REFERENCES tickets (id),
	PRIMARY KEY (candidate_id, seq)
);
CREATE UNIQUE INDEX candidate_items_key ON candidate_items (candidate_id, change_id, COALESCE(ticket_id, 0));
CREATE INDEX candidate_items_change_id ON candidate_items (change_id);
CREATE INDEX candidate_items_ticket_id ON candidate_items (ticket_id);

-- Approvals are withdrawn, never deleted, so the record of who approved what
-- stays. One live approval per approver and candidate.
CREATE TABLE approvals (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	candidate_id INTEGER NOT NULL REFERENCES candidates (id) ON DELETE CASCADE,
	sha          TEXT    NOT NULL,
	approver     TEXT    NOT NULL,
	via          TEXT    NOT NULL DEFAULT '',
	created_at   TEXT    NOT NULL,
	withdrawn_at TEXT -- NULL while live
);
CREATE INDEX approvals_candidate_id ON approvals (candidate_id, id);
CREATE UNIQUE INDEX approvals_live ON approvals (candidate_id, approver)
	WHERE withdrawn_at IS NULL;
