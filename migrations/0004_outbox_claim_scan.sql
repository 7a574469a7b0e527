-- A claim reads aggregate heads only (`pve_edge::sql::outbox::claim`). Scanning every undelivered row in
-- `seq` order instead costs a claim every row queued behind a blocked head (a leased or backing-off one):
-- with 1,000,000 events over 10,000 aggregates, blocks of 100 aggregates × 100 events and 400 heads in
-- flight, that is ~45,000 rows per claim, and it held the relay at 126 events/s (issue 17's soak). Before
-- that, the claim also walked every delivered row (88 ms per claim with 90% of 1,000,000 delivered).
--
-- `head` is 1 on the lowest-`seq` undelivered event of its aggregate and 0 on every other row. The
-- outbox's statements keep it so: an insert computes it, marking an event delivered clears it, and every
-- batch that removes a head from the undelivered set (a delivery, a dead-letter move, a watch's
-- deletion) ends with `promote_heads`. The claim still checks that no older undelivered event of the
-- aggregate exists, so a wrong flag could delay an event but never reorder one.
ALTER TABLE outbox ADD COLUMN head INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET head = 1
WHERE status != 'delivered' AND NOT EXISTS (
    SELECT 1 FROM outbox AS p
    WHERE p.status != 'delivered' AND p.aggregate_type = outbox.aggregate_type
      AND p.aggregate_id = outbox.aggregate_id AND p.seq < outbox.seq);
CREATE INDEX outbox_heads ON outbox (seq) WHERE head = 1;
