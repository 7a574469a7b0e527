//! The dead-letter table: events that will not be delivered without a human. Each keeps its payload,
//! content hash, reason and attempt history. Admins list them (cursor paging), replay one (re-enqueued
//! with the same event id, after its hash is checked) or delete one. The cursor, the paging and the
//! replay rules are [`pve_edge::outbox::dead_letter`]; this module is their D1 I/O.
use crate::error::Platform;
use pve_edge::outbox::dead_letter as rules;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

use super::js_num;
use crate::error::EdgeError;

/// Two statements that move the outbox rows matched by `where_sql` (over `?1`, `?2`) into the
/// dead-letter table with `reason` and `error`; put both in one batch, in this order (the `DELETE`'s
/// row count tells whether the move happened). A row dead-lettered before (and replayed since) is
/// updated in place and keeps its whole history.
pub fn move_statements(
    db: &D1Database,
    where_sql: &str,
    key: [JsValue; 2],
    reason: &str,
    error: &str,
    now_ms: u64,
) -> worker::Result<[D1PreparedStatement; 2]> {
    let [k1, k2] = key;
    let insert = db
        .prepare(format!(
            "INSERT INTO dead_letters (event_id, seq, aggregate_type, aggregate_id, event_type, payload, \
                 content_hash, attempts, reason, last_error, history, status, created_at, dead_lettered_at) \
             SELECT event_id, seq, aggregate_type, aggregate_id, event_type, payload, content_hash, attempts, \
                 ?3, ?4, json_insert(history, '$[#]', json_object('at', ?5, 'attempt', attempts, 'error', ?4)), \
                 'dead', created_at, ?5 \
             FROM outbox WHERE {where_sql} \
             ON CONFLICT (event_id) DO UPDATE SET seq = excluded.seq, payload = excluded.payload, \
                 content_hash = excluded.content_hash, attempts = excluded.attempts, reason = excluded.reason, \
                 last_error = excluded.last_error, history = excluded.history, status = 'dead', \
                 times_dead_lettered = dead_letters.times_dead_lettered + 1, \
                 dead_lettered_at = excluded.dead_lettered_at"
        ))
        .bind(&[k1.clone(), k2.clone(), reason.into(), error.into(), js_num(now_ms)])?;
    let delete = db
        .prepare(format!("DELETE FROM outbox WHERE {where_sql}"))
        .bind(&[k1, k2])?;
    Ok([insert, delete])
}

/// One dead letter as the admin API shows it.
#[derive(Debug, Serialize, Deserialize)]
pub struct DeadLetter {
    #[serde(skip_serializing)]
    pub id: u64,
    pub event_id: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub event_type: String,
    pub reason: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// The stored payload, exactly as stored (a tampered one may not even be JSON).
    pub payload: String,
    pub content_hash: String,
    /// `[{at, attempt, error}]` as JSON text in the table; decoded for the answer.
    #[serde(serialize_with = "raw_json")]
    pub history: String,
    pub status: String,
    pub times_dead_lettered: u32,
    pub replay_count: u32,
    pub created_at: u64,
    pub dead_lettered_at: u64,
    pub replayed_at: Option<u64>,
}

fn raw_json<S: serde::Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => v.serialize(s),
        Err(_) => s.serialize_str(text),
    }
}

pub struct Page {
    pub items: Vec<DeadLetter>,
    pub next_cursor: Option<String>,
}

const COLUMNS: &str = "id, event_id, aggregate_type, aggregate_id, event_type, reason, attempts, last_error, \
     payload, content_hash, history, status, times_dead_lettered, replay_count, created_at, dead_lettered_at, replayed_at";

/// Dead letters with `status = 'dead'` (or every status with `include_replayed`) in the order they were
/// first dead-lettered, after the row `after_id` (from the opaque cursor, [`rules::parse_cursor`]).
pub async fn list(
    db: &D1Database,
    after_id: u64,
    limit: u32,
    include_replayed: bool,
) -> Result<Page, EdgeError> {
    let rows: Vec<DeadLetter> = crate::d1::all(
        db.prepare(format!(
            "SELECT {COLUMNS} FROM dead_letters WHERE id > ?1 AND (status = 'dead' OR ?3) ORDER BY id LIMIT ?2"
        ))
        .bind(&[js_num(after_id), js_num(rules::fetch_limit(limit)), include_replayed.into()]),
    )
    .await?;
    let (items, next_cursor) = rules::page(rows, limit, |d| d.id);
    Ok(Page { items, next_cursor })
}

pub async fn get(db: &D1Database, event_id: &str) -> Result<Option<DeadLetter>, EdgeError> {
    crate::d1::first(
        db.prepare(format!("SELECT {COLUMNS} FROM dead_letters WHERE event_id = ?1"))
            .bind(&[event_id.into()]),
        None,
    )
    .await
}

/// Re-enqueue a dead letter with the same event id, after checking its content hash. Its history comes
/// along; its attempt counter starts again. Returns the new `seq`.
pub async fn replay(db: &D1Database, event_id: &str, now_ms: u64) -> Result<u64, EdgeError> {
    let dl = get(db, event_id).await?.ok_or(EdgeError::DeadLetterNotFound)?;
    let hash_ok = super::hash_matches(&dl.event_id, &dl.event_type, &dl.payload, &dl.content_hash);
    rules::may_replay(&dl.status, hash_ok)?;
    let id = JsValue::from(event_id);
    // The guard repeats the hash we checked, so a row changed between our read and this batch is not
    // re-enqueued.
    let guard = "event_id = ?1 AND status = 'dead' AND content_hash = ?3 AND payload = ?4";
    let binds = [
        id.clone(),
        js_num(now_ms),
        dl.content_hash.as_str().into(),
        dl.payload.as_str().into(),
    ];
    let results = db
        .batch(vec![
            db.prepare(format!(
                "INSERT INTO outbox (event_id, seq, aggregate_type, aggregate_id, event_type, payload, content_hash, \
                     status, attempts, next_attempt_at, history, created_at, updated_at) \
                 SELECT event_id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox), aggregate_type, aggregate_id, \
                     event_type, payload, content_hash, 'pending', 0, ?2, \
                     json_insert(history, '$[#]', json_object('at', ?2, 'attempt', 0, 'error', 'replayed by admin')), \
                     created_at, ?2 \
                 FROM dead_letters WHERE {guard}"
            ))
            .bind(&binds)
            .platform()?,
            db.prepare(format!(
                "UPDATE dead_letters SET status = 'replayed', replayed_at = ?2, replay_count = replay_count + 1 \
                 WHERE {guard}"
            ))
            .bind(&binds)
            .platform()?,
        ])
        .await
        .platform()?;
    rules::replayed(crate::d1::changes_at(&results, 1)?)?;
    let seq: Option<u64> = crate::d1::first(
        db.prepare("SELECT seq FROM outbox WHERE event_id = ?1")
            .bind(&[id]),
        Some("seq"),
    )
    .await?;
    seq.ok_or_else(|| EdgeError::internal("replayed event missing from the outbox"))
}

/// Delete a dead letter for good. `Ok(false)` when there was none.
pub async fn delete(db: &D1Database, event_id: &str) -> Result<bool, EdgeError> {
    let changed = crate::d1::run(
        db.prepare("DELETE FROM dead_letters WHERE event_id = ?1")
            .bind(&[event_id.into()]),
    )
    .await?;
    Ok(changed > 0)
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ReasonCount {
    pub reason: String,
    pub status: String,
    pub n: u64,
}

pub async fn counts(db: &D1Database) -> Result<Vec<ReasonCount>, EdgeError> {
    crate::d1::all(Ok(db.prepare(
        "SELECT reason, status, COUNT(*) AS n FROM dead_letters GROUP BY reason, status ORDER BY reason, status",
    )))
    .await
}
