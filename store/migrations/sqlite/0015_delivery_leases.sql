-- 0015_delivery_leases: which process applies a repository's deliveries.
-- Keep in lockstep with ../postgres/0015_delivery_leases.sql.
--
-- Deliveries of one repository are applied one at a time, in order, so that
-- link extraction reads the change state its own update left. Within a process
-- the delivery processor ensures it; across the processes that share one
-- database (several `patchgate serve` on one PostgreSQL) a lease does: a
-- holder applies a repository's deliveries until expires_at, renewing as it
-- goes; a crashed holder's lease runs out and another process takes over.
-- repo is lower-cased, as repository names are case-insensitive on the forges.
CREATE TABLE delivery_leases (
	forge      TEXT NOT NULL,
	repo       TEXT NOT NULL,
	holder     TEXT NOT NULL,
	expires_at TEXT NOT NULL,
	PRIMARY KEY (forge, repo)
);
