-- 0011_change_head_events: the evidence a change's head is derived from.
-- Keep in lockstep with ../sqlite/0011_change_head_events.sql.
--
-- change_replaced_heads kept one successor per head, so a force-push back to an
-- earlier head (A → B → A) could never make A current again. Every event's
-- (before → after, at) is kept instead, and patchgate.DeriveHead walks them.
-- at is the forge's time; 1970 stands for "unknown" (it sorts first).
CREATE TABLE change_head_events (
	change_id  BIGINT      NOT NULL REFERENCES changes (id) ON DELETE CASCADE,
	before_sha TEXT        NOT NULL DEFAULT '',
	after_sha  TEXT        NOT NULL,
	at         TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (change_id, before_sha, after_sha, at)
);

-- Existing changes: their recorded moves (time unknown) and their current head
-- as a report at its time, so that the derived head is the stored one.
INSERT INTO change_head_events (change_id, before_sha, after_sha, at)
	SELECT change_id, sha, replaced_by, TIMESTAMPTZ '1970-01-01 00:00:00+00'
	FROM change_replaced_heads WHERE replaced_by <> '';
INSERT INTO change_head_events (change_id, before_sha, after_sha, at)
	SELECT id, '', head_sha, COALESCE(head_updated_at, updated_at)
	FROM changes WHERE head_sha <> '';

DROP TABLE change_replaced_heads;
