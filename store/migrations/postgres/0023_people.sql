-- 0022_people: people are forge user ids, not logins. The first time patchgate
-- needs a configured login (release_managers, trusted_users, a token's
-- --user), it asks the forge for the login's numeric user id and pins it here:
-- a renamed login keeps its rights, and whoever registers a released login
-- does not inherit them. login is stored lower-case (logins are
-- case-insensitive on both forges).
-- Keep in lockstep with ../sqlite/0022_people.sql.
CREATE TABLE people (
	forge     TEXT        NOT NULL,
	login     TEXT        NOT NULL,
	user_id   BIGINT      NOT NULL,
	pinned_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (forge, login)
);
