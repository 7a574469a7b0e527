//! Every D1 statement the Worker runs, as a pure value: its SQL text and its binds, in the order of the
//! text's `?N` placeholders ([`Statement`]), with the row types the queries read (`#[derive(Deserialize)]`)
//! and the rules on what a result means ([`changes`]: a missing row count is an error, never 0).
//!
//! The Worker's one executor (`worker/src/d1.rs`) turns a [`Statement`] into a prepared statement and
//! runs it; it decides nothing. Here, natively, every statement is checked to bind exactly the
//! placeholders its text uses ([`Statement::check`]), and each batch's order is what its caller relies on
//! (the index whose row count says whether the batch's write happened). Against a real SQLite with the
//! migrations applied (`sqlite`, tests only), every statement prepares, the claim takes aggregate heads
//! under its lease, and the claim's scan uses the index that keeps it off delivered rows.
//!
//! - [`watches`]: idempotency records, watches, valuation snapshots, the sweep;
//! - [`outbox`]: an event's insert, the relay's claim and fenced settles, dead letters, counts;
//! - [`alerts`]: the alert state (dedup windows) and its guarded inserts;
//! - [`health`]: the `/healthz` probes.
pub mod alerts;
#[cfg(test)]
mod every;
pub mod health;
pub mod outbox;
#[cfg(test)]
mod sqlite;
mod statement;
pub mod watches;

pub use statement::{changes, changes_at, js_number, Bind, Found, Statement, MAX_SAFE_INTEGER};
