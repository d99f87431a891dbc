-- 0008_audit_append_next: an entry can only be appended as the next one.
-- Keep in lockstep with ../sqlite/0008_audit_append_next.sql.
--
-- 0004 refuses UPDATE, DELETE and TRUNCATE, but not an INSERT that skips seqs
-- (a gap) or, through ON CONFLICT DO UPDATE, one that targets an existing
-- entry (its UPDATE trigger would refuse that too). This trigger refuses any
-- seq but the last one plus one. Appenders hold the chain's advisory lock, so
-- two of them never race for the same seq; a raw racing insert meets the
-- primary key. Someone who drops it can still edit the table; the keyed chain
-- (patchgate.AuditEntry.ComputeMAC) is what finds that.
CREATE FUNCTION audit_log_append_next() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE want BIGINT;
BEGIN
	SELECT COALESCE(max(seq), 0) + 1 INTO want FROM audit_log;
	IF NEW.seq IS DISTINCT FROM want THEN
		RAISE EXCEPTION 'audit log is append-only: an entry must have the next seq (%), not %', want, NEW.seq
			USING ERRCODE = 'raise_exception';
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER audit_log_append_next BEFORE INSERT ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_append_next();
