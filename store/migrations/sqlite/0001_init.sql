-- 0001_init: tickets, changes, links, deliveries, tokens.
-- Keep in lockstep with ../postgres/0001_init.sql: same tables, columns, keys and
-- indexes; only the types differ. Times are fixed-width UTC text
-- (2006-01-02T15:04:05.000000Z) so that text order is time order; NULL is "never".

CREATE TABLE tickets (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	tracker          TEXT    NOT NULL,
	key              TEXT    NOT NULL,
	repo             TEXT    NOT NULL DEFAULT '',
	number           INTEGER NOT NULL DEFAULT 0,
	title            TEXT    NOT NULL DEFAULT '',
	url              TEXT    NOT NULL DEFAULT '',
	forge_state      TEXT    NOT NULL DEFAULT '',
	labels           TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings
	severity         TEXT    NOT NULL,
	state            TEXT    NOT NULL,
	author           TEXT    NOT NULL DEFAULT '',
	forge_updated_at TEXT,
	created_at       TEXT    NOT NULL,
	updated_at       TEXT    NOT NULL,
	UNIQUE (tracker, key)
);
CREATE INDEX tickets_created_at ON tickets (created_at);
CREATE INDEX tickets_repo ON tickets (repo);

CREATE TABLE changes (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	forge            TEXT    NOT NULL,
	repo             TEXT    NOT NULL, -- as the forge spelled it
	key              TEXT    NOT NULL, -- pr/42, mr/42, branch/main
	kind             TEXT    NOT NULL,
	number           INTEGER NOT NULL DEFAULT 0,
	title            TEXT    NOT NULL DEFAULT '',
	body             TEXT    NOT NULL DEFAULT '',
	source_branch    TEXT    NOT NULL DEFAULT '',
	target_branch    TEXT    NOT NULL DEFAULT '',
	head_sha         TEXT    NOT NULL DEFAULT '',
	base_sha         TEXT    NOT NULL DEFAULT '',
	author           TEXT    NOT NULL DEFAULT '',
	state            TEXT    NOT NULL,
	from_fork        INTEGER NOT NULL DEFAULT 0, -- boolean
	merge_commit_sha TEXT    NOT NULL DEFAULT '',
	url              TEXT    NOT NULL DEFAULT '',
	forge_updated_at TEXT,
	head_updated_at  TEXT,
	created_at       TEXT    NOT NULL,
	updated_at       TEXT    NOT NULL,
	UNIQUE (forge, repo, key)
);
CREATE INDEX changes_updated_at ON changes (updated_at);
CREATE INDEX changes_head_sha ON changes (head_sha);

-- Heads some update said were replaced; such a head never becomes current again.
-- replaced_by is the head the first such update reported ('' if none), so that
-- the chain A → B → C can be followed.
CREATE TABLE change_replaced_heads (
	change_id   INTEGER NOT NULL REFERENCES changes (id) ON DELETE CASCADE,
	sha         TEXT    NOT NULL,
	replaced_by TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (change_id, sha)
);

CREATE TABLE links (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	ticket_id  INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
	change_id  INTEGER NOT NULL REFERENCES changes (id) ON DELETE CASCADE,
	commit_sha TEXT    NOT NULL DEFAULT '', -- '' rather than NULL, so the unique key holds
	kind       TEXT    NOT NULL,
	source     TEXT    NOT NULL,
	provenance TEXT    NOT NULL DEFAULT '',
	created_by TEXT    NOT NULL,
	created_at TEXT    NOT NULL,
	UNIQUE (ticket_id, change_id, source, commit_sha)
);
CREATE INDEX links_change_id ON links (change_id);

-- Pairs a user unlinked by hand; extraction does not link them again.
CREATE TABLE link_suppressions (
	ticket_id  INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
	change_id  INTEGER NOT NULL REFERENCES changes (id) ON DELETE CASCADE,
	created_by TEXT    NOT NULL,
	created_at TEXT    NOT NULL,
	PRIMARY KEY (ticket_id, change_id)
);
CREATE INDEX link_suppressions_change_id ON link_suppressions (change_id);

CREATE TABLE deliveries (
	forge        TEXT    NOT NULL,
	id           TEXT    NOT NULL,
	event        TEXT    NOT NULL DEFAULT '',
	action       TEXT    NOT NULL DEFAULT '',
	repo         TEXT    NOT NULL DEFAULT '',
	status       TEXT    NOT NULL,
	outcome      TEXT    NOT NULL,
	reason       TEXT    NOT NULL DEFAULT '',
	payload      BLOB    NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	received_at  TEXT    NOT NULL,
	processed_at TEXT,
	PRIMARY KEY (forge, id)
);
CREATE INDEX deliveries_outcome_received_at ON deliveries (outcome, received_at);
CREATE INDEX deliveries_received_at ON deliveries (received_at);

CREATE TABLE tokens (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	name         TEXT NOT NULL UNIQUE,
	role         TEXT NOT NULL,
	hash         TEXT NOT NULL UNIQUE, -- hex SHA-256 of the secret
	created_at   TEXT NOT NULL,
	last_used_at TEXT,
	revoked_at   TEXT
);
