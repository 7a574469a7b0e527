//! # pve-edge
//!
//! Every decision the Worker makes, as plain functions and state machines: which cache tier answers,
//! whether a call may go upstream, how an upstream answer is classified, how an outbox delivery settles,
//! whether a webhook URL is acceptable, when an alert is sent, which status an error gets.
//!
//! Architecture Invariant: this crate does no I/O. It has no `worker`, `worker-sys`, `js-sys`,
//! `wasm-bindgen`, `web-sys` or `getrandom` dependency; time (milliseconds since the epoch), randomness
//! (numbers drawn by the caller) and the results of KV, D1, Durable Object and fetch calls are arguments.
//! It knows HTTP semantics (statuses, header values), not workers-rs. It builds natively and for wasm32,
//! so every decision is tested with plain `cargo test`. `worker/` is the I/O shell around it.

pub mod alerts;
pub mod backoff;
pub mod cache;
pub mod character;
pub mod config;
pub mod dispatch;
pub mod error;
pub mod hash;
pub mod health;
pub mod http;
pub mod limits;
pub mod metrics;
pub mod outbox;
pub mod purge;
pub mod request;
pub mod routes;
pub mod single_flight;
pub mod sql;
pub mod task;
#[cfg(any(test, feature = "test-hooks"))]
pub mod test_hooks;
pub mod time;
pub mod upstream;
pub mod validate;
pub mod valuation;
pub mod watches;
pub mod webhook;
