//! The transactional outbox on D1.
//!
//! An event is written in the same D1 batch (one transaction) as the state it describes, with a
//! SHA-256 content hash over a canonical encoding of (event id, event type, payload). The relay
//! ([`relay`]) claims due events with one `UPDATE … RETURNING` that sets a lease token and expiry, checks
//! the hash, delivers, and settles each event with updates fenced by that token. Three safety nets:
//! - **integrity**: a hash mismatch is never delivered; it goes to the dead-letter table with reason
//!   `content_hash_mismatch` and raises a CRITICAL alert;
//! - **stalled-event recovery**: an expired lease is claimable again, and the attempt counter is raised
//!   at claim time, so an event whose relay keeps dying still ends in the dead-letter table;
//! - **dead-letter queue** ([`dead_letter`]): payload, reason and attempt history, replayable by event id.
//!
//! Architecture Invariant: per aggregate, only the oldest undelivered event (lowest `seq`) is ever
//! claimable, so events of one aggregate are delivered in order. Delivery is at least once; receivers
//! deduplicate with the `Idempotency-Key` header, which is the event id and never changes.
//!
//! The statements (an event's insert, the claim, the fenced settles, the dead-letter moves) are
//! [`pve_edge::sql::outbox`]; this module and its children run them.
pub mod dead_letter;
pub mod relay;

use crate::error::EdgeError;
use worker::D1Database;

pub use pve_edge::outbox::relay::OutboxCounts;

/// A fresh event id (`evt_` + 128 random bits).
pub fn new_event_id() -> Result<String, EdgeError> {
    crate::token::random_id("evt_", 16).map_err(EdgeError::platform)
}

/// Counts for the admin stats route and the backlog check.
pub async fn counts(db: &D1Database, now_ms: u64) -> Result<OutboxCounts, EdgeError> {
    crate::d1::first(db, pve_edge::sql::outbox::counts(now_ms))
        .await?
        .ok_or_else(|| EdgeError::internal("outbox count query returned no row"))
}
