//! The `RateLimiter` Durable Object: a token bucket per instance name, consulted before a call goes out.
//!
//! - `upstream`: the global limit on calls to the Nexon Open API. The same instance also holds the
//!   upstream's **circuit breaker** and its **429 hold** (`Retry-After`): all three are global facts about
//!   one upstream, needed at the same moment (before each call), so one round trip answers them all and
//!   every single-flight leader, in any isolate, sees the failures the others saw. (A per-isolate breaker
//!   would need each isolate to fail on its own; one per cache key would never see consecutive failures.)
//! - `refresh:{client}`: the per-client limit on `refresh=true` (no breaker).
//!
//! State is in memory only. An instance is evicted only after it has been idle for a while; by then the
//! bucket would have refilled and a hold or an open breaker would usually have expired, so what a
//! restart forgets is close to what time would have forgotten anyway.
//!
//! The decisions (bucket, breaker, hold, probe) and the object's answers are [`pve_edge::limits::Limiter`]
//! (`serve`); this is its I/O shell.
use crate::bindings::RATE_LIMITER;
use crate::config::Config;
use crate::context::now_ms;
use crate::durable;
use pve_edge::limits::{upstream_breaker, Limiter, Report, Reported, StateView};
pub use pve_edge::limits::{upstream_policy, AcquireRequest, Admission, CallOutcome, UPSTREAM};
use serde::de::DeserializeOwned;
use std::cell::RefCell;
use worker::{durable_object, DurableObject, Env, Method, Request, Response, Result, State};

/// Ask instance `name` for one token.
pub async fn acquire(env: &Env, name: &str, req: &AcquireRequest) -> Result<Admission> {
    call(env, name, "/acquire", serde_json::to_string(req)?).await
}

/// Tell the upstream instance how a call ended. Returns whether this report opened the circuit breaker
/// (it was closed or half-open, and is open now): the caller raises the alert.
pub async fn report(env: &Env, cfg: &Config, outcome: CallOutcome) -> Result<bool> {
    let body = serde_json::to_string(&Report {
        outcome,
        breaker: upstream_breaker(cfg),
    })?;
    Ok(call::<Reported>(env, UPSTREAM, "/report", body).await?.opened)
}

/// The upstream circuit breaker as the `pve_upstream_circuit_state` gauge: 0 closed, 1 half-open, 2 open.
pub async fn circuit_state(env: &Env) -> Result<f64> {
    Ok(f64::from(
        call::<StateView>(env, UPSTREAM, "/state", "{}".into())
            .await?
            .circuit,
    ))
}

async fn call<T: DeserializeOwned>(env: &Env, name: &str, path: &str, body: String) -> Result<T> {
    let stub = durable::stub(env, RATE_LIMITER, name)?;
    let req = durable::request(
        Method::Post,
        &format!("https://rate-limiter{path}"),
        Some(body),
        None,
    )?;
    durable::call_json(&stub, req).await
}

#[durable_object]
pub struct RateLimiter {
    limiter: RefCell<Limiter>,
}

impl DurableObject for RateLimiter {
    fn new(_state: State, _env: Env) -> Self {
        RateLimiter {
            limiter: RefCell::default(),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let body = req.text().await?;
        let reply = self.limiter.borrow_mut().serve(&req.path(), &body, now_ms());
        crate::error::respond(reply)
    }
}
