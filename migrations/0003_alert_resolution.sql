-- An alert can be resolved (POST /v1/admin/alerts/{alert_key}/resolve): the time it was, NULL while it is
-- open. A resolved alert's dedup window is over, so its next raise is sent (and pages, if CRITICAL).
ALTER TABLE alert_state ADD COLUMN resolved_at INTEGER;
