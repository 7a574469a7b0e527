//! Limits on what clients send us, keyed by the client's address (`cf-connecting-ip`, which Cloudflare
//! always sets in production; when it is absent, as under `wrangler dev`, every request shares the
//! fixed key `local`).
//!
//! - Every `/v1/*` request takes a token from the client's bucket **in this isolate's memory**: the check
//!   runs before every request, L1 hits included, so it must cost no I/O. It is therefore per isolate, an
//!   approximation of a per-client limit; the upstream itself is protected globally by the
//!   `RateLimiter` Durable Object, whatever clients do.
//! - `refresh=true` costs an upstream call, so its per-client limit is exact: a `RateLimiter` instance
//!   per client (`refresh:{client}`), one round trip paid only by refresh requests.
use crate::config::Config;
use crate::context::now_ms;
use crate::error::EdgeError;
use crate::error::Platform;
use crate::metrics;
use crate::rate_limiter::{self, Admission};
use pve_edge::limits::{self, ClientBuckets};
use std::cell::RefCell;
use worker::{Env, Request};

/// Clients remembered per isolate; beyond this, idle (full) buckets are forgotten.
const MAX_CLIENTS: usize = 10_000;

thread_local! {
    static CLIENTS: RefCell<ClientBuckets> = RefCell::new(ClientBuckets::new(MAX_CLIENTS));
}

/// The client's key ([`limits::client_key`]).
pub fn client_key(req: &Request) -> String {
    let header = req.headers().get("cf-connecting-ip").ok().flatten();
    limits::client_key(header.as_deref()).to_owned()
}

/// Take one token from this client's bucket (per isolate).
///
/// # Errors
/// `RateLimited` with the time until the next token.
pub fn check(cfg: &Config, client: &str) -> Result<(), EdgeError> {
    let now = now_ms();
    CLIENTS.with(|clients| {
        clients
            .borrow_mut()
            .take(client, now, limits::client_rate(cfg))
            .map_err(|retry_after_ms| {
                metrics::inc(metrics::RATE_LIMITED, &[("scope", "client")]);
                EdgeError::RateLimited { retry_after_ms }
            })
    })
}

/// Take one token from this client's refresh bucket (global, in a Durable Object).
///
/// # Errors
/// `RefreshRateLimited` when the client refreshed too often; `Platform` if the limiter cannot answer.
pub async fn check_refresh(env: &Env, cfg: &Config, client: &str) -> Result<(), EdgeError> {
    let (instance, req) = limits::refresh_policy(cfg, client);
    match rate_limiter::acquire(env, &instance, &req).await.platform()? {
        Admission::Granted { .. } => Ok(()),
        Admission::Denied { retry_after_ms, .. } => {
            metrics::inc(metrics::RATE_LIMITED, &[("scope", "refresh")]);
            Err(EdgeError::RefreshRateLimited { retry_after_ms })
        }
    }
}
