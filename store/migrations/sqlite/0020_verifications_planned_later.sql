-- 0020_verifications_planned_later: a verification is recorded when a head
-- is planned, before .patchgate.yml is read (a worker reads it, retrying
-- while the forge is down), so its config digest is empty until then. A live
-- verification is therefore unique per commit and the ref its configuration
-- is read at, which fixes the configuration as the digest did.
-- Keep in lockstep with ../postgres/0020_verifications_planned_later.sql.
--
-- Two live verifications of one commit and ref with different digests could
-- only come from a ref that is a branch name (a fork's change without a base
-- SHA); the older ones are cancelled so that the index can be built.
UPDATE verifications SET state = 'canceled', reason = 'superseded by a newer verification of the same commit and configuration ref'
	WHERE state IN ('queued', 'running') AND EXISTS (
		SELECT 1 FROM verifications AS newer
		WHERE newer.forge = verifications.forge AND newer.repo = verifications.repo
			AND newer.sha = verifications.sha AND newer.config_ref = verifications.config_ref
			AND newer.state IN ('queued', 'running') AND newer.id > verifications.id);
DROP INDEX verifications_live;
CREATE UNIQUE INDEX verifications_live ON verifications (forge, repo, sha, config_ref)
	WHERE state IN ('queued', 'running');
