-- A claim scans undelivered events in `seq` order (`pve_edge::sql::outbox::claim`). Without this index
-- SQLite walks the `seq` unique index through every delivered row first, and delivered rows stay for the
-- retention period (OUTBOX_DELIVERED_RETENTION_HOURS): measured on 1,000,000 events with 90% delivered,
-- 88 ms per claim before, 0.07 ms after (issue 17's soak). The claim's own `status != 'delivered'` term
-- is this index's condition, so the planner can use it.
CREATE INDEX outbox_undelivered_seq ON outbox (seq) WHERE status != 'delivered';
