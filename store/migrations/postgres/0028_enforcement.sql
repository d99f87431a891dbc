-- 0028_enforcement: the forges' questions patchgate answers so that they
-- enforce the gate. Keep in lockstep with ../sqlite/0028_enforcement.sql.
--
-- deployment_reviews: a deployment to a guarded environment asked whether it
-- may proceed (GitHub deployment protection rule, GitLab blocked deployment).
-- One row per question; a pending one is answered when its candidate is
-- promoted, or rejected after 30 days. run_id is GitHub's Actions run,
-- deployment_id the forge's deployment.
CREATE TABLE deployment_reviews (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	forge         TEXT    NOT NULL,
	repo          TEXT    NOT NULL,
	environment   TEXT    NOT NULL,
	sha           TEXT    NOT NULL,
	run_id        BIGINT  NOT NULL DEFAULT 0,
	deployment_id BIGINT  NOT NULL DEFAULT 0,
	callback_url  TEXT    NOT NULL DEFAULT '',
	state         TEXT    NOT NULL,
	reason        TEXT    NOT NULL DEFAULT '',
	comment       TEXT    NOT NULL DEFAULT '',
	requested_at  TIMESTAMPTZ NOT NULL,
	answered_at   TIMESTAMPTZ,
	UNIQUE (forge, repo, environment, run_id, deployment_id)
);
CREATE INDEX deployment_reviews_pending ON deployment_reviews (state, forge, repo);

-- status_checks: GitLab asked for an external status check on a merge
-- request's head; answered is what patchgate last said, final once a
-- verdict (passed or failed) was given for that head.
CREATE TABLE status_checks (
	id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	repo         TEXT    NOT NULL,
	project_id   BIGINT  NOT NULL,
	mr_iid       BIGINT  NOT NULL,
	sha          TEXT    NOT NULL,
	check_id     BIGINT  NOT NULL,
	answered     TEXT    NOT NULL DEFAULT '',
	final        BOOLEAN NOT NULL DEFAULT FALSE,
	requested_at TIMESTAMPTZ NOT NULL,
	answered_at  TIMESTAMPTZ,
	UNIQUE (repo, mr_iid, sha, check_id)
);
CREATE INDEX status_checks_open ON status_checks (final);
