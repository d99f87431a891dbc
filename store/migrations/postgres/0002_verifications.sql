-- 0002_verifications: verifications, their suite runs, test results and logs.
-- Keep in lockstep with ../sqlite/0002_verifications.sql: same tables, columns,
-- keys and indexes; only the types differ. Times are TIMESTAMPTZ; NULL is "never".

CREATE TABLE verifications (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	forge         TEXT    NOT NULL,
	repo          TEXT    NOT NULL,
	sha           TEXT    NOT NULL,
	change_id     BIGINT REFERENCES changes (id) ON DELETE SET NULL, -- NULL: a bare commit
	config_ref    TEXT    NOT NULL DEFAULT '',
	config_digest TEXT    NOT NULL DEFAULT '',
	state         TEXT    NOT NULL,
	stale         BOOLEAN NOT NULL DEFAULT FALSE,
	reason        TEXT    NOT NULL DEFAULT '',
	trigger       TEXT    NOT NULL DEFAULT '',
	attempt       INTEGER NOT NULL DEFAULT 1,
	worker        TEXT    NOT NULL DEFAULT '',
	heartbeat_at  TIMESTAMPTZ,
	created_at    TIMESTAMPTZ NOT NULL,
	started_at    TIMESTAMPTZ,
	finished_at   TIMESTAMPTZ
);
CREATE INDEX verifications_forge_repo_sha ON verifications (forge, repo, sha);
CREATE INDEX verifications_change_id ON verifications (change_id);
CREATE INDEX verifications_state ON verifications (state);
-- At most one live verification per commit and configuration: concurrent
-- creators meet here (INSERT … ON CONFLICT … DO NOTHING), not in Go.
CREATE UNIQUE INDEX verifications_live ON verifications (forge, repo, sha, config_digest)
	WHERE state IN ('queued', 'running');

CREATE TABLE suite_runs (
	id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	verification_id BIGINT  NOT NULL REFERENCES verifications (id) ON DELETE CASCADE,
	name            TEXT    NOT NULL,
	required        BOOLEAN NOT NULL DEFAULT FALSE,
	state           TEXT    NOT NULL,
	image           TEXT    NOT NULL DEFAULT '',
	exit_code       INTEGER, -- NULL until the command exited
	oom_killed      BOOLEAN NOT NULL DEFAULT FALSE,
	timed_out       BOOLEAN NOT NULL DEFAULT FALSE,
	description     TEXT    NOT NULL DEFAULT '',
	passed          INTEGER NOT NULL DEFAULT 0,
	failed          INTEGER NOT NULL DEFAULT 0,
	skipped         INTEGER NOT NULL DEFAULT 0,
	image_digests   TEXT    NOT NULL DEFAULT '{}', -- JSON object image → digest
	timings         TEXT    NOT NULL DEFAULT '{}', -- JSON object of nanoseconds per phase
	log_bytes       BIGINT  NOT NULL DEFAULT 0, -- length of the log so far
	started_at      TIMESTAMPTZ,
	finished_at     TIMESTAMPTZ,
	UNIQUE (verification_id, name)
);

-- One row per JUnit test case, seq its position in the report.
CREATE TABLE test_results (
	suite_run_id BIGINT  NOT NULL REFERENCES suite_runs (id) ON DELETE CASCADE,
	seq          INTEGER NOT NULL,
	class        TEXT    NOT NULL DEFAULT '',
	name         TEXT    NOT NULL,
	status       TEXT    NOT NULL,
	duration_ns  BIGINT  NOT NULL DEFAULT 0,
	message      TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (suite_run_id, seq)
);

-- A suite run's log in the chunks it was produced in. start_offset is the
-- chunk's first byte in the whole log, so a reader seeks to an offset through
-- the unique key instead of summing lengths.
CREATE TABLE suite_logs (
	suite_run_id BIGINT  NOT NULL REFERENCES suite_runs (id) ON DELETE CASCADE,
	seq          INTEGER NOT NULL,
	start_offset BIGINT  NOT NULL,
	data         BYTEA   NOT NULL,
	PRIMARY KEY (suite_run_id, seq),
	UNIQUE (suite_run_id, start_offset)
);
