-- 0007_instance: the identity of the patchgate instance this database is.
-- Keep in lockstep with ../sqlite/0007_instance.sql: same columns; only the
-- random function differs.
--
-- Several instances, each with its own database, may share one Docker daemon;
-- the id, made once here and never changed, is what their container labels and
-- sweepers tell them apart by (a host name cannot). One row, ever.
CREATE TABLE instance (
	singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
	id        TEXT NOT NULL
);

INSERT INTO instance (singleton, id)
VALUES (1, substr(md5(random()::text || clock_timestamp()::text || pg_backend_pid()::text), 1, 16));
