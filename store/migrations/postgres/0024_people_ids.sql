-- 0024_people_ids: people are forge user ids, not logins, everywhere the gate
-- compares people. An approval records its approver's user id (the token's
-- pinned id, or the comment author's as the forge reported it) and a change
-- its author's (the opener's, or a branch's last pusher's); 0 where unknown
-- (rows from before), which the gate then tells apart by login.
-- One person may hold two logins in turn (a rename), and two people one login
-- (a released login registered again): the gate, under the candidate's row
-- lock, refuses a second live approval by the same id; the index below only
-- refuses the exact same login and id twice.
-- Keep in lockstep with ../sqlite/0024_people_ids.sql.
ALTER TABLE approvals ADD COLUMN approver_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE changes ADD COLUMN author_id BIGINT NOT NULL DEFAULT 0;
DROP INDEX approvals_live;
CREATE UNIQUE INDEX approvals_live ON approvals (candidate_id, approver, approver_id)
	WHERE withdrawn_at IS NULL;
