//! Binding and variable names. They must match `wrangler.toml`.

/// Workers KV namespace used as the L2 cache.
pub const CACHE_KV: &str = "CACHE";
/// Durable Object namespace that coordinates single-flight loads.
pub const SINGLE_FLIGHT: &str = "SINGLE_FLIGHT";
/// Durable Object namespace of the token buckets (the upstream's, with its circuit breaker; per-client refresh).
pub const RATE_LIMITER: &str = "RATE_LIMITER";
/// D1 database holding the outbox.
pub const DB: &str = "DB";
/// Plain variable: base URL of the Nexon Open API (a local fake in tests and dev).
pub const UPSTREAM_BASE_URL: &str = "UPSTREAM_BASE_URL";
/// Durable Object namespace of the metrics aggregator (one instance, "global").
pub const METRICS: &str = "METRICS";
/// Secret: bearer token of the admin routes.
pub const ADMIN_TOKEN: &str = "ADMIN_TOKEN";
/// Secret: Discord-compatible webhook for CRITICAL and WARNING alerts.
pub const ALERT_WEBHOOK_URL: &str = "ALERT_WEBHOOK_URL";
/// Secret: PagerDuty Events API v2 endpoint (or a compatible one) that pages for CRITICAL alerts.
pub const PAGER_WEBHOOK_URL: &str = "PAGER_WEBHOOK_URL";
/// Secret: the `routing_key` (integration key) of the pager's service.
pub const PAGER_ROUTING_KEY: &str = "PAGER_ROUTING_KEY";
