-- 0022_token_projects: a tracker's token may be limited to its projects.
-- Keep in lockstep with ../postgres/0022_token_projects.sql.

-- The project keys a token may update tickets of, joined by "," (PAY,OPS);
-- '' for a token limited to none.
ALTER TABLE tokens ADD COLUMN projects TEXT NOT NULL DEFAULT '';
