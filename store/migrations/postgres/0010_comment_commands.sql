-- 0010_comment_commands: each comment carrying a patchgate command acts once.
-- Keep in lockstep with ../sqlite/0010_comment_commands.sql.

-- One row per comment that acted: a replayed or re-sent delivery of the same
-- comment finds it here and is refused. sha is what the command is bound to:
-- the head an ok-to-test vouched for, the candidate's commit for an approval.
CREATE TABLE comment_commands (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	forge       TEXT    NOT NULL,
	repo        TEXT    NOT NULL,
	comment_id  BIGINT  NOT NULL,
	command     TEXT    NOT NULL,
	author      TEXT    NOT NULL DEFAULT '',
	change_number INTEGER NOT NULL DEFAULT 0, -- the PR/MR commented on
	sha         TEXT    NOT NULL DEFAULT '',
	created_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX comment_commands_comment ON comment_commands (forge, repo, comment_id);
CREATE INDEX comment_commands_sha ON comment_commands (forge, repo, sha, command);
