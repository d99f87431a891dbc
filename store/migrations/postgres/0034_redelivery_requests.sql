-- 0034_redelivery_requests: which process asked a forge to redeliver what.
-- Keep in lockstep with ../sqlite/0034_redelivery_requests.sql.
--
-- Several `patchgate serve` on one database read the same hook delivery logs
-- after an outage; each failed attempt (hook_id, attempt_id on the forge) is
-- redelivered by the one process whose row this insert made. A redelivery
-- that fails in turn is a new attempt, with a new id, so it is asked for again;
-- one still under way keeps the log's newest attempt, which has a row, so it
-- is not asked for twice (a row an hour old is taken over: the forge lost that
-- redelivery). Rows older than the forges keep their logs go.
-- forge is the delivery source (github, gitlab); hook_id is 0 for a GitHub
-- App's hook.
CREATE TABLE redelivery_requests (
	forge        TEXT NOT NULL,
	hook_id      BIGINT NOT NULL,
	attempt_id   BIGINT NOT NULL,
	guid         TEXT NOT NULL,
	holder       TEXT NOT NULL,
	requested_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (forge, hook_id, attempt_id)
);
