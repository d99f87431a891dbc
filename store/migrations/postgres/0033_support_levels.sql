-- 0033_support_levels: a ticket's support level (L1 help desk … L4 outside
-- supplier; '' for tickets from before levels), its escalations — once per
-- ticket, SLA clock (opened_at), phase and cause, and once per ticket, clock,
-- phase and level — and the escalation notices still to send: the outbox
-- that survives restarts, one row per channel and sweep.
-- Keep in lockstep with ../sqlite/0033_support_levels.sql.
ALTER TABLE tickets ADD COLUMN support_level TEXT NOT NULL DEFAULT '';
-- told_level is the level the ticket's tracker (or the API) last named: its
-- news moves support_level only when it changes there, so the next sync does
-- not undo an escalation.
ALTER TABLE tickets ADD COLUMN told_level TEXT NOT NULL DEFAULT '';
CREATE INDEX tickets_support_level ON tickets (support_level);

CREATE TABLE ticket_escalations (
	id         BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	ticket_id  BIGINT      NOT NULL REFERENCES tickets (id),
	opened_at  TIMESTAMPTZ NOT NULL,
	phase      TEXT        NOT NULL,
	cause      TEXT        NOT NULL,
	from_level TEXT        NOT NULL,
	to_level   TEXT        NOT NULL,
	deadline   TIMESTAMPTZ NOT NULL,
	repo       TEXT        NOT NULL DEFAULT '',
	supplier   TEXT        NOT NULL DEFAULT '',
	contract   TEXT        NOT NULL DEFAULT '',
	created_at TIMESTAMPTZ NOT NULL,
	UNIQUE (ticket_id, opened_at, phase, cause),
	UNIQUE (ticket_id, opened_at, phase, to_level)
);

CREATE TABLE escalation_notices (
	id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	channel     TEXT        NOT NULL,
	kind        TEXT        NOT NULL,
	body        BYTEA       NOT NULL,
	escalations TEXT        NOT NULL,
	state       TEXT        NOT NULL,
	attempts    INTEGER     NOT NULL DEFAULT 0,
	next_at     TIMESTAMPTZ NOT NULL,
	last_error  TEXT        NOT NULL DEFAULT '',
	created_at  TIMESTAMPTZ NOT NULL,
	sent_at     TIMESTAMPTZ
);
CREATE INDEX escalation_notices_due ON escalation_notices (state, next_at);
