-- 0032_bisections: each candidate's search for the merge its release fails
-- from (issue 19). Its runs are ordinary verifications of the merge commits;
-- the row keeps where the search stands and, once found, the culprit.
-- Keep in lockstep with ../sqlite/0032_bisections.sql.
CREATE TABLE bisections (
	candidate_id    BIGINT      NOT NULL PRIMARY KEY REFERENCES candidates (id),
	state           TEXT        NOT NULL,
	points          INTEGER     NOT NULL DEFAULT 0,
	culprit_sha     TEXT        NOT NULL DEFAULT '',
	culprit_change  TEXT        NOT NULL DEFAULT '',
	culprit_ticket  TEXT        NOT NULL DEFAULT '',
	tests           TEXT        NOT NULL DEFAULT '',
	verification_id BIGINT      NOT NULL DEFAULT 0,
	reason          TEXT        NOT NULL DEFAULT '',
	started_by      TEXT        NOT NULL DEFAULT '',
	started_at      TIMESTAMPTZ NOT NULL,
	finished_at     TIMESTAMPTZ
);
CREATE INDEX bisections_running ON bisections (state);
