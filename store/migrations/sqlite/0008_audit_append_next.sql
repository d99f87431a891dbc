-- 0008_audit_append_next: an entry can only be appended as the next one.
-- Keep in lockstep with ../postgres/0008_audit_append_next.sql.
--
-- 0004 refuses UPDATE and DELETE, but not an INSERT that replaces or skips:
-- INSERT OR REPLACE resolves its primary-key conflict by deleting the old row
-- without firing DELETE triggers (recursive_triggers is off), so it rewrote an
-- entry in place; and an entry inserted with a seq beyond the end left a gap.
-- This trigger runs before the conflict is looked at, and refuses any seq but
-- the last one plus one. Someone who drops it can still edit the table; the
-- keyed chain (patchgate.AuditEntry.ComputeMAC) is what finds that.
CREATE TRIGGER audit_log_append_next BEFORE INSERT ON audit_log
WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_log)
BEGIN
	SELECT RAISE(ABORT, 'audit log is append-only: an entry must have the next seq');
END;
