-- 0004_audit_log: the append-only, hash-chained audit log.
-- Keep in lockstep with ../postgres/0004_audit_log.sql: same table, columns and
-- indexes; only the types and the guard triggers differ. seq is assigned by the
-- appender (last + 1, inside its write transaction), not by the database, so
-- that the chain has no gaps; hash covers every other column (see
-- patchgate.AuditEntry.ComputeHash). detail is a JSON object of strings.

CREATE TABLE audit_log (
	seq       INTEGER PRIMARY KEY,
	at        TEXT    NOT NULL,
	actor     TEXT    NOT NULL,
	action    TEXT    NOT NULL,
	subject   TEXT    NOT NULL DEFAULT '',
	sha       TEXT    NOT NULL DEFAULT '',
	detail    TEXT    NOT NULL DEFAULT '{}',
	prev_hash TEXT    NOT NULL,
	hash      TEXT    NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_subject ON audit_log (subject, seq);

-- Append-only in the schema too. Someone who drops these triggers can still edit
-- the table; VerifyAudit is what finds that.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit log is append-only');
END;
