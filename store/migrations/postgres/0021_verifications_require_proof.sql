-- 0021_verifications_require_proof: release.require_proof as read when the
-- verification was planned. A fix's proof is required whether or not a proof
-- was recorded: a change linked to its ticket after its head's verdict has no
-- proof, and under require_proof it must not count as a verified fix.
-- Keep in lockstep with ../sqlite/0021_verifications_require_proof.sql.
ALTER TABLE verifications ADD COLUMN require_proof BOOLEAN NOT NULL DEFAULT FALSE;
