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
pub mod dead_letter;
pub mod relay;

use crate::error::EdgeError;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

pub use pve_edge::outbox::relay::OutboxCounts;
pub use pve_edge::outbox::Aggregate;

/// An event about to be written. `payload` is the exact JSON body that will be POSTed.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_id: String,
    pub aggregate: Aggregate,
    pub aggregate_id: String,
    pub event_type: String,
    pub payload: String,
}

/// The columns written by [`NewEvent::insert`]; `seq` is the next number after the largest present.
const INSERT_SELECT: &str =
    "INSERT INTO outbox (event_id, seq, aggregate_type, aggregate_id, event_type, payload, \
     content_hash, status, attempts, next_attempt_at, created_at, updated_at) \
     SELECT ?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox), ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?7, ?7";

impl NewEvent {
    pub fn content_hash(&self) -> String {
        content_hash(&self.event_id, &self.event_type, &self.payload)
    }

    /// The INSERT statement, to put in a batch next to the state change it describes.
    pub fn insert(&self, db: &D1Database, now_ms: u64) -> worker::Result<D1PreparedStatement> {
        db.prepare(INSERT_SELECT).bind(&self.binds(now_ms))
    }

    /// The INSERT, done only when `guard_sql` (a boolean SQL expression over `?8`, `?9`) is true.
    pub fn insert_if(
        &self,
        db: &D1Database,
        now_ms: u64,
        guard_sql: &str,
        guard_binds: [JsValue; 2],
    ) -> worker::Result<D1PreparedStatement> {
        let mut binds = self.binds(now_ms).to_vec();
        binds.extend(guard_binds);
        db.prepare(format!("{INSERT_SELECT} WHERE {guard_sql}"))
            .bind(&binds)
    }

    fn binds(&self, now_ms: u64) -> [JsValue; 7] {
        [
            self.event_id.as_str().into(),
            self.aggregate.as_str().into(),
            self.aggregate_id.as_str().into(),
            self.event_type.as_str().into(),
            self.payload.as_str().into(),
            self.content_hash().into(),
            js_num(now_ms),
        ]
    }
}

pub use pve_edge::outbox::{content_hash, hash_matches};

/// A fresh event id (`evt_` + 128 random bits).
pub fn new_event_id() -> Result<String, EdgeError> {
    crate::token::random_id("evt_", 16).map_err(EdgeError::platform)
}

/// Integers go to D1 as JS numbers (exact up to 2^53; D1 has no BigInt binding).
pub fn js_num(n: u64) -> JsValue {
    JsValue::from_f64(n as f64)
}

/// Counts for the admin stats route and the backlog check.
pub async fn counts(db: &D1Database, now_ms: u64) -> Result<OutboxCounts, EdgeError> {
    let row: Option<OutboxCounts> = crate::d1::first(
        db.prepare(
            "SELECT COALESCE(SUM(status = 'pending'), 0) AS pending, \
             COALESCE(SUM(status = 'pending' AND next_attempt_at <= ?1), 0) AS pending_due, \
             COALESCE(SUM(status = 'leased' AND lease_expires_at > ?1), 0) AS leased, \
             COALESCE(SUM(status = 'leased' AND lease_expires_at <= ?1), 0) AS leased_expired, \
             COALESCE(SUM(status = 'delivered'), 0) AS delivered, \
             MIN(CASE WHEN status != 'delivered' THEN created_at END) AS oldest_undelivered_created_at \
             FROM outbox",
        )
        .bind(&[js_num(now_ms)]),
        None,
    )
    .await?;
    row.ok_or_else(|| EdgeError::internal("outbox count query returned no row"))
}
