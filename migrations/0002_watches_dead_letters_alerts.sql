-- Watches, valuation snapshots, the dead-letter queue, idempotency keys and alert dedup (issue 7).
-- 0001 created the outbox table; this migration only adds to it.

-- Per-attempt history ([{at, attempt, error}]) travels with an event into the dead-letter table.
ALTER TABLE outbox ADD COLUMN history TEXT NOT NULL DEFAULT '[]';
ALTER TABLE outbox ADD COLUMN delivered_at INTEGER;
-- Claims look for undelivered events by aggregate head; this keeps that scan off delivered rows.
CREATE INDEX outbox_undelivered ON outbox (status, aggregate_type, aggregate_id, seq) WHERE status != 'delivered';

-- Events that will never be delivered without a human: the payload, the reason and the history.
-- `status` is 'dead' until replayed ('replayed'); a replayed event that dies again updates its row.
CREATE TABLE dead_letters (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id         TEXT    NOT NULL UNIQUE,
    seq              INTEGER NOT NULL,
    aggregate_type   TEXT    NOT NULL,
    aggregate_id     TEXT    NOT NULL,
    event_type       TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    content_hash     TEXT    NOT NULL,
    attempts         INTEGER NOT NULL,
    reason           TEXT    NOT NULL,
    last_error       TEXT,
    history          TEXT    NOT NULL DEFAULT '[]',
    status           TEXT    NOT NULL DEFAULT 'dead' CHECK (status IN ('dead', 'replayed')),
    times_dead_lettered INTEGER NOT NULL DEFAULT 1,
    replay_count     INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    dead_lettered_at INTEGER NOT NULL,
    replayed_at      INTEGER
);
CREATE INDEX dead_letters_status ON dead_letters (status, id);

-- A watch: notify `webhook_url` when the valuation of `character` changes. The token is stored hashed.
CREATE TABLE watches (
    id              TEXT    PRIMARY KEY,
    character       TEXT    NOT NULL,
    webhook_url     TEXT    NOT NULL,
    token_hash      TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    created_at      INTEGER NOT NULL,
    deleted_at      INTEGER,
    last_checked_at INTEGER,
    last_check_error TEXT
);
CREATE INDEX watches_character ON watches (character, status);
CREATE INDEX watches_sweep ON watches (status, last_checked_at);

-- The valuation history of watched characters. (character, version) is unique so that two refreshes
-- racing on the same previous snapshot cannot both write a snapshot and its events.
CREATE TABLE valuation_snapshots (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    character    TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    summary      TEXT    NOT NULL,
    summary_hash TEXT    NOT NULL,
    total        REAL    NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (character, version)
);

-- Idempotency-Key records: the same key and body get the stored response again; another body gets 409.
CREATE TABLE idempotency_keys (
    scope         TEXT    NOT NULL,
    key           TEXT    NOT NULL,
    request_hash  TEXT    NOT NULL,
    status        INTEGER NOT NULL,
    response_body TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);

-- Alert dedup and counts: one row per alert key. Within a window the same key is counted, not re-sent.
CREATE TABLE alert_state (
    alert_key         TEXT    PRIMARY KEY,
    severity          TEXT    NOT NULL CHECK (severity IN ('CRITICAL', 'WARNING', 'INFO')),
    window_started_at INTEGER NOT NULL,
    count_in_window   INTEGER NOT NULL,
    total_count       INTEGER NOT NULL,
    last_event_id     TEXT,
    updated_at        INTEGER NOT NULL
);
