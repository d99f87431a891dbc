-- The processor scans pending deliveries in (received_at, forge, id) order many
-- times a second under load; an index in exactly that order spares a sort of
-- the whole backlog on every scan.
DROP INDEX deliveries_outcome_received_at;
CREATE INDEX deliveries_pending_order ON deliveries (outcome, received_at, forge, id);
