-- 0013_ticket_evidence: what a ticket's derived state needs that was not kept.
-- Keep in lockstep with ../sqlite/0013_ticket_evidence.sql.
--
-- tickets.reopened_at is the forge time of the latest reopen; fixes that landed
-- and releases promoted before it no longer count. changes.merged_at is the
-- earliest forge time an event reported the change merged. NULL is "never".
ALTER TABLE tickets ADD COLUMN reopened_at TIMESTAMPTZ;
ALTER TABLE changes ADD COLUMN merged_at TIMESTAMPTZ;

-- Existing data: the last reopen the audit log records (patchgate's time, the
-- best estimate left), and the last forge time of each merged change.
UPDATE tickets SET reopened_at = (
	SELECT MAX(a.at) FROM audit_log a
	WHERE a.action = 'ticket.state' AND a.subject = 'ticket:' || tickets.key
		AND a.detail::jsonb ->> 'to' = 'reopened');
UPDATE changes SET merged_at = forge_updated_at WHERE state = 'merged';
