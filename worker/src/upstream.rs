//! The Nexon Open API, as the single-flight leader calls it: every attempt first takes a token from the
//! global [`crate::rate_limiter`] (which also holds the circuit breaker and the 429 hold), runs under a
//! timeout that aborts the fetch, and reports how it ended. The URL, the classification of an answer,
//! the retry decision, `Retry-After` and the backoff are [`pve_edge::upstream`]'s; this module does the
//! calls and the waiting.
use crate::alerts;
use crate::config::Config;
use crate::context::{log, now_ms, Level, TaskContext};
use crate::fetch::{self, within, SendError};
use crate::metrics;
use crate::rate_limiter;
use pve_edge::cache::Resource;
use pve_edge::config::var::NEXON_API_KEY as API_KEY;
use pve_edge::single_flight::LoadError;
use pve_edge::upstream::{
    breaker_alert, breaker_opened_line, classify, gate, outcome, outcome_label, path_label, url_for,
    Attempts, CallError, Counted, Fetched, Gate, FAILURE_RETRY_AFTER_MS,
};
use std::time::Duration;
use worker::{wasm_bindgen_futures, Delay, Env, Headers, Method, Request, RequestInit};

/// Fetch `resource` from the upstream, under the global admission control, with retries.
/// `task` (the leader's log line) records the attempts.
pub async fn fetch(
    env: &Env,
    cfg: &Config,
    resource: &Resource,
    task: &TaskContext,
) -> Result<Fetched, LoadError> {
    let api_key = env.secret(API_KEY).map(|s| s.to_string()).map_err(|_| {
        LoadError::unavailable(FAILURE_RETRY_AFTER_MS, format!("secret {API_KEY} is not set"))
    })?;
    let url = url_for(&cfg.upstream_base_url, resource)
        .map_err(|e| LoadError::unavailable(FAILURE_RETRY_AFTER_MS, e.to_string()))?;
    let policy = rate_limiter::upstream_policy(cfg);
    let mut attempts = Attempts::new(cfg, now_ms());
    loop {
        task.record("attempts", attempts.start());
        match gate(rate_limiter::acquire(env, rate_limiter::UPSTREAM, &policy).await) {
            Gate::Go { probe: false } => {}
            Gate::Go { probe: true } => task.record("breaker_probe", true),
            Gate::Denied(refused) => {
                task.record("denied", refused.detail());
                metrics::inc(metrics::RATE_LIMITED, &[("scope", "upstream")]);
                return Err(refused);
            }
            Gate::Unavailable(e) => return Err(e),
        }
        let started = now_ms();
        let result = call_once(&url, &api_key, cfg.upstream_timeout_ms, resource).await;
        task.record("upstream_ms", now_ms().saturating_sub(started));
        count_call(resource, &result);
        match rate_limiter::report(env, cfg, outcome(&result)).await {
            Ok(true) => {
                let last = result.as_ref().err().map(ToString::to_string).unwrap_or_default();
                breaker_opened(env, cfg, task, &last);
            }
            Ok(false) => {}
            Err(e) => task.record("report_error", e.to_string()),
        }
        let err = match result {
            Ok(fetched) => return Ok(fetched),
            Err(e) => e,
        };
        task.record("last_error", err.to_string());
        let wait = attempts.failed(err, now_ms(), crate::token::random_u64())?;
        Delay::from(Duration::from_millis(wait)).await;
    }
}

/// This call's failure opened the circuit breaker: raise `upstream.circuit_open` (WARNING, deduplicated
/// by its window) and deliver it, in the background so the load is not delayed. Exactly one report opens
/// the breaker per opening (the rate limiter object says which), so the alert follows each opening.
fn breaker_opened(env: &Env, cfg: &Config, task: &TaskContext, last_error: &str) {
    task.record("breaker_opened", true);
    let alert = breaker_alert(cfg, last_error);
    let (env, leader) = (env.clone(), task.request_id.clone());
    wasm_bindgen_futures::spawn_local(async move {
        let raised = alerts::raise(&env, alert).await;
        log(Level::Warn, &breaker_opened_line(&leader, &raised));
        if matches!(raised, Ok(alerts::Raised::Enqueued { .. })) {
            crate::outbox::relay::run_after_write(&env).await;
        }
    });
}

fn count_call(resource: &Resource, result: &Result<Fetched, CallError>) {
    let (label, counted) = outcome_label(result);
    metrics::inc(
        metrics::UPSTREAM_CALLS,
        &[("path", path_label(resource)), ("outcome", label)],
    );
    match counted {
        Counted::Throttled => metrics::inc(metrics::UPSTREAM_429, &[]),
        Counted::Error => metrics::inc(metrics::UPSTREAM_ERRORS, &[]),
        Counted::Neither => {}
    }
}

/// One attempt, request and body, under `timeout_ms` ([`fetch::send`] aborts the request when it runs out
/// before the headers; the body must arrive within what is left).
async fn call_once(
    url: &str,
    api_key: &str,
    timeout_ms: u64,
    resource: &Resource,
) -> Result<Fetched, CallError> {
    let started = now_ms();
    let network = |e: worker::Error| CallError::Network(e.to_string());
    let headers = Headers::new();
    headers.set("x-nxopen-api-key", api_key).map_err(network)?;
    headers.set("accept", "application/json").map_err(network)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let req = Request::new_with_init(url, &init).map_err(network)?;
    let mut resp = fetch::send(req, Duration::from_millis(timeout_ms))
        .await
        .map_err(|e| match e {
            SendError::Timeout(_) => CallError::Timeout,
            SendError::Network(e) => CallError::Network(e.to_string()),
        })?;
    let status = resp.status_code();
    let retry_after = resp.headers().get("retry-after").ok().flatten();
    let left = timeout_ms.saturating_sub(now_ms().saturating_sub(started));
    let body = within(left, resp.bytes()).await.ok_or(CallError::Timeout)?;
    let body = body.map_err(network)?;
    classify(status, retry_after.as_deref(), &body, resource, now_ms())
}
