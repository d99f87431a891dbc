-- 0018_proofs: the fail-to-pass proof of a verification whose change fixes a
-- ticket: the changed tests run on the base (the fix left out) and on the head.
-- Keep in lockstep with ../postgres/0018_proofs.sql.
--
-- One row per verification (a re-run attempt replaces it). record holds the
-- per-test outcomes, regressions and excluded (quarantined) tests as JSON:
-- they are read and written whole, never queried into.
CREATE TABLE proofs (
	verification_id INTEGER PRIMARY KEY REFERENCES verifications (id) ON DELETE CASCADE,
	state           TEXT    NOT NULL,
	description     TEXT    NOT NULL,
	base_sha        TEXT    NOT NULL DEFAULT '',
	require_proof   INTEGER NOT NULL DEFAULT 0, -- boolean
	record          TEXT    NOT NULL,
	created_at      TEXT    NOT NULL
);
