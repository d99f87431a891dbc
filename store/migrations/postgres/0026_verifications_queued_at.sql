-- 0026_verifications_queued_at: when a verification last went into the queue
-- (set when an orphan is queued again; NULL means at created_at), so that one
-- no runner starts within runners.max_queue_wait ends as an error
-- (runner_unavailable) instead of pending for ever.
-- Keep in lockstep with ../sqlite/0026_verifications_queued_at.sql.
ALTER TABLE verifications ADD COLUMN queued_at TIMESTAMPTZ;
