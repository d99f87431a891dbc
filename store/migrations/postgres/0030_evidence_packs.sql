-- 0030_evidence_packs: the signed evidence pack of each promoted candidate
-- (in-toto statements in DSSE envelopes, JSON Lines), kept as signed: the
-- first pack of a candidate holds for good, so a retried promotion never
-- signs a second, different one. asset_url is where the forge release
-- carries it once attached.
-- Keep in lockstep with ../sqlite/0030_evidence_packs.sql.
CREATE TABLE evidence_packs (
	candidate_id BIGINT      NOT NULL PRIMARY KEY REFERENCES candidates (id),
	name         TEXT        NOT NULL,
	sha256       TEXT        NOT NULL,
	key_id       TEXT        NOT NULL,
	data         BYTEA       NOT NULL,
	asset_url    TEXT        NOT NULL DEFAULT '',
	created_at   TIMESTAMPTZ NOT NULL
);
