-- 0006_ticket_sla: the SLA clock of each ticket.
-- Keep in lockstep with ../sqlite/0006_ticket_sla.sql: same columns; only the
-- types and the JSON syntax differ. Times are TIMESTAMPTZ; NULL is "never".
--
-- opened_at starts the clock (the forge issue's created_at, else when patchgate
-- first saw the ticket; a reopen restarts it). verified_at and released_at are
-- when the ticket first reached fix_verified (or later) and released since then.
-- The store always sets opened_at; the column is nullable as on SQLite, which
-- cannot add a NOT NULL column without a constant default.
ALTER TABLE tickets ADD COLUMN opened_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN verified_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN released_at TIMESTAMPTZ;

-- Existing tickets: the clock starts at the last reopen the audit log records,
-- else at the ticket's creation; verified and released times are the first
-- such state changes the audit log records since then, else (state changes
-- from before the audit log) the ticket's last update, the best estimate left.
UPDATE tickets SET opened_at = COALESCE((
	SELECT MAX(a.at) FROM audit_log a
	WHERE a.action = 'ticket.state' AND a.subject = 'ticket:' || tickets.key
		AND a.detail::jsonb ->> 'to' = 'reopened'), created_at);

UPDATE tickets SET verified_at = COALESCE((
	SELECT MIN(a.at) FROM audit_log a
	WHERE a.action = 'ticket.state' AND a.subject = 'ticket:' || tickets.key
		AND a.detail::jsonb ->> 'to' IN ('fix_verified', 'fix_merged', 'released')
		AND a.at >= tickets.opened_at), updated_at)
WHERE state IN ('fix_verified', 'fix_merged', 'released');

UPDATE tickets SET released_at = COALESCE((
	SELECT MIN(a.at) FROM audit_log a
	WHERE a.action = 'ticket.state' AND a.subject = 'ticket:' || tickets.key
		AND a.detail::jsonb ->> 'to' = 'released'
		AND a.at >= tickets.opened_at), updated_at)
WHERE state = 'released';
