-- The transactional outbox: events written in the same D1 batch (one transaction) as the state they
-- describe, and delivered later by the relay. The relay and its safety nets come with the outbox issue.
CREATE TABLE outbox (
    event_id        TEXT    PRIMARY KEY,
    seq             INTEGER NOT NULL UNIQUE,
    aggregate_type  TEXT    NOT NULL,
    aggregate_id    TEXT    NOT NULL,
    event_type      TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    content_hash    TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'leased', 'delivered')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_token     TEXT,
    lease_expires_at INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_aggregate ON outbox (aggregate_type, aggregate_id, seq);
