//! Binding names. They must match `wrangler.toml`. Variable and secret names are in
//! [`pve_edge::config::var`].

/// Workers KV namespace used as the L2 cache.
pub const CACHE_KV: &str = "CACHE";
/// Durable Object namespace that coordinates single-flight loads.
pub const SINGLE_FLIGHT: &str = "SINGLE_FLIGHT";
/// Durable Object namespace of the token buckets (the upstream's, with its circuit breaker; per-client refresh).
pub const RATE_LIMITER: &str = "RATE_LIMITER";
/// D1 database holding the outbox.
pub const DB: &str = "DB";
/// Durable Object namespace of the metrics aggregator (one instance, "global").
pub const METRICS: &str = "METRICS";
