//! The dead-letter table: events that will not be delivered without a human. Each keeps its payload,
//! content hash, reason and attempt history. Admins list them (cursor paging), replay one (re-enqueued
//! with the same event id, after its hash is checked) or delete one. The cursor, the paging and the
//! replay rules are [`pve_edge::outbox::dead_letter`], the statements [`pve_edge::sql::outbox`]; this
//! module is their D1 I/O.
use pve_edge::outbox::dead_letter as rules;
use pve_edge::sql::outbox::{self as sql, Seq};
use worker::D1Database;

use crate::d1;
use crate::error::EdgeError;
pub use pve_edge::sql::outbox::{DeadLetter, ReasonCount};

pub struct Page {
    pub items: Vec<DeadLetter>,
    pub next_cursor: Option<String>,
}

/// Dead letters with `status = 'dead'` (or every status with `include_replayed`) in the order they were
/// first dead-lettered, after the row `after_id` (from the opaque cursor, [`rules::parse_cursor`]).
pub async fn list(
    db: &D1Database,
    after_id: u64,
    limit: u32,
    include_replayed: bool,
) -> Result<Page, EdgeError> {
    let statement = sql::list_dead_letters(after_id, rules::fetch_limit(limit), include_replayed);
    let rows: Vec<DeadLetter> = d1::all(db, statement).await?;
    let (items, next_cursor) = rules::page(rows, limit, |d| d.id);
    Ok(Page { items, next_cursor })
}

/// Re-enqueue a dead letter with the same event id, after checking its content hash. Its history comes
/// along; its attempt counter starts again. Returns the new `seq`.
pub async fn replay(db: &D1Database, event_id: &str, now_ms: u64) -> Result<u64, EdgeError> {
    let dl: DeadLetter = d1::first(db, sql::dead_letter(event_id))
        .await?
        .ok_or(EdgeError::DeadLetterNotFound)?;
    let hash_ok = pve_edge::outbox::hash_matches(&dl.event_id, &dl.event_type, &dl.payload, &dl.content_hash);
    rules::may_replay(&dl.status, hash_ok)?;
    let counts = d1::batch(db, sql::replay(&dl, now_ms).to_vec()).await?;
    rules::replayed(pve_edge::sql::changes_at(&counts, 1)?)?;
    let seq: Option<Seq> = d1::first(db, sql::seq_of(event_id)).await?;
    seq.map(|s| s.seq)
        .ok_or_else(|| EdgeError::internal("replayed event missing from the outbox"))
}

/// Delete a dead letter for good. `Ok(false)` when there was none.
pub async fn delete(db: &D1Database, event_id: &str) -> Result<bool, EdgeError> {
    Ok(d1::run(db, sql::delete_dead_letter(event_id)).await? > 0)
}

pub async fn counts(db: &D1Database) -> Result<Vec<ReasonCount>, EdgeError> {
    d1::all(db, sql::dead_letter_counts()).await
}
