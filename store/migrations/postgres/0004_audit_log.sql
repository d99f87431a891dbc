-- 0004_audit_log: the append-only, hash-chained audit log.
-- Keep in lockstep with ../sqlite/0004_audit_log.sql: same table, columns and
-- indexes; only the types and the guard triggers differ. seq is assigned by the
-- appender (last + 1, under an advisory lock in its write transaction), not by
-- an identity, so that the chain has no gaps; hash covers every other column
-- (see patchgate.AuditEntry.ComputeHash). detail is a JSON object of strings,
-- kept as TEXT rather than JSONB so that it is stored exactly as written.

CREATE TABLE audit_log (
	seq       BIGINT  PRIMARY KEY,
	at        TIMESTAMPTZ NOT NULL,
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

-- Append-only in the schema too, TRUNCATE included (it fires no row triggers).
-- Someone who drops these triggers can still edit the table; VerifyAudit is
-- what finds that.
CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit log is append-only' USING ERRCODE = 'raise_exception';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
