-- 0014_ticket_sla_events: the SLA events (ticket.sla_at_risk,
-- ticket.sla_breached) sent for each ticket, so that each goes out once per
-- SLA clock: opened_at is the clock's start, and a reopen that restarts the
-- clock makes room for new ones.
-- Keep in lockstep with ../postgres/0014_ticket_sla_events.sql.
CREATE TABLE ticket_sla_events (
	ticket_id INTEGER NOT NULL REFERENCES tickets (id),
	event     TEXT    NOT NULL,
	opened_at TEXT    NOT NULL,
	sent_at   TEXT    NOT NULL,
	PRIMARY KEY (ticket_id, event, opened_at)
);
