-- 0019_quarantines: flaky tests quarantined by an admin through the API (the
-- .patchgate.yml ones live in the file), and the quarantine mark on a result.
-- Keep in lockstep with ../postgres/0019_quarantines.sql.
--
-- suite is '' for every suite. A test is quarantined once per suite: renewing
-- is removing and creating again, each audited.
CREATE TABLE quarantines (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	forge      TEXT NOT NULL,
	repo       TEXT NOT NULL,
	suite      TEXT NOT NULL DEFAULT '',
	test       TEXT NOT NULL,
	owner      TEXT NOT NULL,
	ticket     TEXT NOT NULL,
	reason     TEXT NOT NULL DEFAULT '',
	expires_at TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created_at TEXT NOT NULL,
	UNIQUE (forge, repo, suite, test)
);
-- quarantined marks the results of a test whose failure a quarantine excused.
ALTER TABLE test_results ADD COLUMN quarantined INTEGER NOT NULL DEFAULT 0; -- boolean
-- The flakiness history and the broken-test check read a test's results by name.
CREATE INDEX test_results_name ON test_results (name);
