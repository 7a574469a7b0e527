//! This isolate's metrics registry. The catalogue, the arithmetic and the exposition are
//! [`pve_edge::metrics`]; this module only holds the isolate's [`Registry`] (deltas since the last
//! flush to the `Metrics` Durable Object, see `metrics_store.rs`).
pub use pve_edge::metrics::*;
use std::cell::RefCell;

thread_local! {
    static LOCAL: RefCell<Registry> = RefCell::new(Registry::default());
}

/// Add `by` to a counter series.
pub fn inc_by(def: &'static Def, labels: &[(&str, &str)], by: f64) {
    LOCAL.with(|l| l.borrow_mut().inc_by(def, labels, by));
}

pub fn inc(def: &'static Def, labels: &[(&str, &str)]) {
    inc_by(def, labels, 1.0);
}

/// Record one observation (in the family's base unit) in a histogram series.
pub fn observe(def: &'static Def, labels: &[(&str, &str)], value: f64) {
    LOCAL.with(|l| l.borrow_mut().observe(def, labels, value));
}

/// Take this isolate's deltas if at least `min_interval_ms` passed since the last take (or `force`).
pub fn take_deltas(now_ms: u64, min_interval_ms: u64, force: bool) -> Option<Snapshot> {
    LOCAL.with(|l| l.borrow_mut().take_deltas(now_ms, min_interval_ms, force))
}

/// Put deltas back after a failed flush, so they are sent with the next one.
pub fn restore(deltas: Snapshot) {
    LOCAL.with(|l| l.borrow_mut().restore(deltas));
}
