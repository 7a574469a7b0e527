//! The Nexon Open API, as the single-flight leader calls it: every attempt first takes a token from the
//! global [`crate::rate_limiter`] (which also holds the circuit breaker and the 429 hold), runs under a
//! timeout that aborts the fetch, and reports how it ended. Only timeouts, network errors and 5xx are
//! retried (every call here is an idempotent GET), with jittered exponential backoff, at most
//! `UPSTREAM_MAX_RETRIES` times and only while a retry can finish within `REQUEST_DEADLINE_MS` of the
//! first attempt.
//!
//! Answers are classified here: the ocid, the item equipment (kept as canonical JSON), "no such
//! character" (`404`, or Nexon's `400 OPENAPI00004` for an unknown name / `400 OPENAPI00003` for an
//! unknown ocid), 429 (with `Retry-After`), and failures.
use crate::alerts::{self, Alert, AlertKind};
use crate::cache::{canonical, Resource};
use crate::config::Config;
use crate::context::{now_ms, TaskContext};
use crate::fetch::{self, SendError};
use crate::metrics;
use crate::rate_limiter::{self, Admission, CallOutcome, DenyReason};
use crate::single_flight::LoadError;
use futures_util::future::{self, Either};
use std::time::Duration;
use worker::{wasm_bindgen_futures, Delay, Env, Headers, Method, Request, RequestInit, Url};

/// Secret holding the Nexon Open API key.
pub const API_KEY: &str = "NEXON_API_KEY";
/// When a 429 carries no usable `Retry-After` (Nexon's limits are per second).
const THROTTLE_DEFAULT_MS: u64 = 1_000;
/// A `Retry-After` longer than this is capped (a broken header must not stop us for a day).
const THROTTLE_MAX_MS: u64 = 600_000;
/// What clients are told to wait after a failed load (the breaker tells them more once it opens).
const FAILURE_RETRY_AFTER_MS: u64 = 5_000;
const BACKOFF_BASE_MS: u64 = 100;
/// The largest backoff between two attempts (100 ms · 2^6).
const BACKOFF_MAX_MS: u64 = 6_400;

#[derive(Debug, PartialEq)]
pub enum Fetched {
    /// The body to cache: the ocid (UTF-8), or the item equipment as canonical JSON.
    Found(Vec<u8>),
    NotFound,
}

/// How one attempt failed.
#[derive(Debug)]
enum CallError {
    Timeout,
    Network(String),
    Status { status: u16, nexon_code: Option<String> },
    Throttled { retry_after_ms: u64 },
    BadBody(String),
}

impl CallError {
    fn retryable(&self) -> bool {
        match self {
            CallError::Timeout | CallError::Network(_) => true,
            CallError::Status { status, .. } => *status >= 500,
            CallError::Throttled { .. } | CallError::BadBody(_) => false,
        }
    }

    fn outcome(&self) -> CallOutcome {
        match self {
            CallError::Throttled { retry_after_ms } => CallOutcome::Throttled {
                retry_after_ms: *retry_after_ms,
            },
            _ => CallOutcome::Failure,
        }
    }

    fn into_load_error(self) -> LoadError {
        match self {
            CallError::Throttled { retry_after_ms } => LoadError::UpstreamRateLimited {
                retry_after_ms,
                detail: "upstream answered 429".into(),
            },
            other => LoadError::unavailable(FAILURE_RETRY_AFTER_MS, other.to_string()),
        }
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Timeout => write!(f, "upstream timed out"),
            CallError::Network(e) => write!(f, "upstream network error: {e}"),
            CallError::Status { status, nexon_code } => {
                write!(
                    f,
                    "upstream answered {status} {}",
                    nexon_code.as_deref().unwrap_or("(no Nexon error code)")
                )
            }
            CallError::Throttled { retry_after_ms } => {
                write!(f, "upstream answered 429, retry after {retry_after_ms} ms")
            }
            CallError::BadBody(e) => write!(f, "upstream body unusable: {e}"),
        }
    }
}

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
        .map_err(|e| LoadError::unavailable(FAILURE_RETRY_AFTER_MS, format!("bad UPSTREAM_BASE_URL: {e}")))?;
    let policy = rate_limiter::upstream_policy(cfg);
    let budget_end = now_ms() + cfg.request_deadline_ms;
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        task.record("attempts", attempt);
        match rate_limiter::acquire(env, rate_limiter::UPSTREAM, &policy).await {
            Ok(Admission::Granted { probe }) => {
                if probe {
                    task.record("breaker_probe", true);
                }
            }
            Ok(Admission::Denied {
                reason,
                retry_after_ms,
            }) => {
                let detail = format!("upstream call refused: {reason:?}");
                task.record("denied", detail.clone());
                metrics::inc(metrics::RATE_LIMITED, &[("scope", "upstream")]);
                return Err(match reason {
                    DenyReason::RateLimited | DenyReason::Throttled => LoadError::UpstreamRateLimited {
                        retry_after_ms,
                        detail,
                    },
                    DenyReason::CircuitOpen => LoadError::UpstreamUnavailable {
                        retry_after_ms,
                        detail,
                    },
                });
            }
            // Without the limiter we cannot know whether a call is allowed: fail closed.
            Err(e) => {
                return Err(LoadError::unavailable(
                    FAILURE_RETRY_AFTER_MS,
                    format!("rate limiter: {e}"),
                ))
            }
        }
        let started = now_ms();
        let result = call_once(&url, &api_key, cfg.upstream_timeout_ms, resource).await;
        task.record("upstream_ms", now_ms().saturating_sub(started));
        let outcome = match &result {
            Ok(_) => CallOutcome::Success,
            Err(e) => e.outcome(),
        };
        count_call(resource, &result);
        match rate_limiter::report(env, cfg, outcome).await {
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
        let backoff = jittered_backoff(attempt);
        let retry_fits = now_ms() + backoff + cfg.upstream_timeout_ms <= budget_end;
        if !(err.retryable() && attempt <= cfg.upstream_max_retries && retry_fits) {
            return Err(err.into_load_error());
        }
        Delay::from(Duration::from_millis(backoff)).await;
    }
}

/// This call's failure opened the circuit breaker: raise `upstream.circuit_open` (WARNING, deduplicated
/// by its window) and deliver it, in the background so the load is not delayed. Exactly one report opens
/// the breaker per opening (the rate limiter object says which), so the alert follows each opening.
fn breaker_opened(env: &Env, cfg: &Config, task: &TaskContext, last_error: &str) {
    task.record("breaker_opened", true);
    let alert = Alert::new(
        AlertKind::UpstreamCircuitOpen,
        format!(
            "The upstream circuit breaker opened after {} consecutive failures; upstream calls are refused \
             for {} s, then one probe is let through. Last error: {last_error}",
            cfg.breaker_failures,
            cfg.breaker_open_ms / 1000
        ),
    )
    .count("consecutive_failures", i64::from(cfg.breaker_failures))
    .count("open_s", (cfg.breaker_open_ms / 1000) as i64)
    .detail("last_error", last_error);
    let (env, leader) = (env.clone(), task.request_id.clone());
    wasm_bindgen_futures::spawn_local(async move {
        let raised = alerts::raise(&env, alert).await;
        let log = match &raised {
            Ok(r) => serde_json::json!({"domain": "alerts", "task": "breaker_opened", "outcome": "ok",
                "leader_request_id": leader, "raised": serde_json::to_value(r).unwrap_or_default()}),
            Err(e) => serde_json::json!({"domain": "alerts", "task": "breaker_opened", "outcome": "error",
                "leader_request_id": leader, "error_detail": e.to_string()}),
        };
        worker::console_warn!("{log}");
        if matches!(raised, Ok(alerts::Raised::Enqueued { .. })) {
            crate::outbox::relay::run_after_write(&env).await;
        }
    });
}

fn count_call(resource: &Resource, result: &Result<Fetched, CallError>) {
    let path = match resource {
        Resource::Ocid { .. } => "id",
        Resource::Equipment { .. } => "item-equipment",
    };
    let outcome = match result {
        Ok(Fetched::Found(_)) => "ok",
        Ok(Fetched::NotFound) => "not_found",
        Err(CallError::Throttled { .. }) => "throttled",
        Err(CallError::Timeout) => "timeout",
        Err(_) => "error",
    };
    metrics::inc(metrics::UPSTREAM_CALLS, &[("path", path), ("outcome", outcome)]);
    match result {
        Err(CallError::Throttled { .. }) => metrics::inc(metrics::UPSTREAM_429, &[]),
        Err(CallError::Timeout | CallError::Network(_) | CallError::Status { .. }) => {
            metrics::inc(metrics::UPSTREAM_ERRORS, &[])
        }
        _ => {}
    }
}

/// The upstream URL for `resource`.
pub fn url_for(base: &str, resource: &Resource) -> Result<Url, worker::Error> {
    let (path, param, value) = match resource {
        Resource::Ocid { name } => ("/maplestory/v1/id", "character_name", name),
        Resource::Equipment { ocid } => ("/maplestory/v1/character/item-equipment", "ocid", ocid),
    };
    let mut url = Url::parse(&format!("{base}{path}"))?;
    url.query_pairs_mut().append_pair(param, value);
    Ok(url)
}

/// One attempt, request and body, under `timeout_ms` ([`fetch::send`] aborts the request when it runs out
/// before the headers; the body must arrive within what is left).
async fn call_once(
    url: &Url,
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
    let req = Request::new_with_init(url.as_str(), &init).map_err(network)?;
    let mut resp = fetch::send(req, Duration::from_millis(timeout_ms))
        .await
        .map_err(|e| match e {
            SendError::Timeout(_) => CallError::Timeout,
            SendError::Network(e) => CallError::Network(e.to_string()),
        })?;
    let status = resp.status_code();
    let retry_after = resp.headers().get("retry-after").ok().flatten();
    let left = timeout_ms.saturating_sub(now_ms().saturating_sub(started));
    let read = resp.bytes();
    futures_util::pin_mut!(read);
    let body = match future::select(read, Delay::from(Duration::from_millis(left))).await {
        Either::Left((body, _)) => body.map_err(network)?,
        Either::Right(_) => return Err(CallError::Timeout),
    };
    classify(status, retry_after.as_deref(), &body, resource, now_ms())
}

/// Turn an upstream answer into what we cache, or a failure.
fn classify(
    status: u16,
    retry_after: Option<&str>,
    body: &[u8],
    resource: &Resource,
    now: u64,
) -> Result<Fetched, CallError> {
    match status {
        200 => match resource {
            Resource::Ocid { .. } => {
                #[derive(serde::Deserialize)]
                struct Id {
                    ocid: String,
                }
                let id: Id = serde_json::from_slice(body).map_err(|e| CallError::BadBody(e.to_string()))?;
                if !is_valid_ocid(&id.ocid) {
                    return Err(CallError::BadBody(format!("implausible ocid {:?}", id.ocid)));
                }
                Ok(Fetched::Found(id.ocid.into_bytes()))
            }
            Resource::Equipment { .. } => {
                let canonical = canonical::canonicalize(body).map_err(CallError::BadBody)?;
                if canonical.first() != Some(&b'{') {
                    return Err(CallError::BadBody("item equipment is not a JSON object".into()));
                }
                Ok(Fetched::Found(canonical))
            }
        },
        404 => Ok(Fetched::NotFound),
        429 => Err(CallError::Throttled {
            retry_after_ms: parse_retry_after(retry_after, now),
        }),
        _ => {
            let nexon_code = nexon_error_code(body);
            let not_found = status == 400
                && matches!(
                    (resource, nexon_code.as_deref()),
                    (Resource::Ocid { .. }, Some("OPENAPI00004"))
                        | (Resource::Equipment { .. }, Some("OPENAPI00003"))
                );
            if not_found {
                Ok(Fetched::NotFound)
            } else {
                Err(CallError::Status { status, nexon_code })
            }
        }
    }
}

/// `{"error":{"name":"OPENAPI00004","message":"…"}}` → `OPENAPI00004`.
fn nexon_error_code(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v.get("error")?.get("name")?.as_str().map(str::to_owned)
}

/// Seconds, or an HTTP date (pve-edge parses both, natively too); capped; a default when absent or
/// unreadable.
fn parse_retry_after(value: Option<&str>, now: u64) -> u64 {
    value
        .and_then(|v| pve_edge::http::retry_after_ms(v, now, THROTTLE_MAX_MS))
        .unwrap_or(THROTTLE_DEFAULT_MS)
}

/// Nexon ocids are 32 hex characters; accept any short token of safe characters.
pub fn is_valid_ocid(ocid: &str) -> bool {
    (1..=64).contains(&ocid.len())
        && ocid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Full jitter: uniform in [0, base·2^(attempt-1)], at most `BACKOFF_MAX_MS`.
fn jittered_backoff(attempt: u32) -> u64 {
    use pve_edge::backoff::{ceiling, full_jitter};
    match crate::token::random_u64() {
        Some(random) => full_jitter(attempt, BACKOFF_BASE_MS, BACKOFF_MAX_MS, random),
        // No randomness: the full backoff (still bounded, merely not spread).
        None => ceiling(attempt, BACKOFF_BASE_MS, BACKOFF_MAX_MS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ocid() -> Resource {
        Resource::Ocid {
            name: "에반".into()
        }
    }
    fn equipment() -> Resource {
        Resource::Equipment { ocid: "abc".into() }
    }

    #[test]
    fn urls_escape_the_name() {
        let url = url_for("http://127.0.0.1:9", &ocid()).unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/maplestory/v1/id?character_name=%EC%97%90%EB%B0%98"
        );
        let url = url_for("https://open.api.nexon.com", &equipment()).unwrap();
        assert_eq!(
            url.as_str(),
            "https://open.api.nexon.com/maplestory/v1/character/item-equipment?ocid=abc"
        );
    }

    #[test]
    fn classify_answers() {
        let found = classify(200, None, br#"{"ocid":"0123abcd"}"#, &ocid(), 0).unwrap();
        assert_eq!(found, Fetched::Found(b"0123abcd".to_vec()));
        assert!(matches!(
            classify(200, None, br#"{"ocid":"../x"}"#, &ocid(), 0),
            Err(CallError::BadBody(_))
        ));
        let eq = classify(200, None, br#"{"b":1, "a":2}"#, &equipment(), 0).unwrap();
        assert_eq!(eq, Fetched::Found(br#"{"a":2,"b":1}"#.to_vec()));
        assert!(matches!(
            classify(200, None, b"[1]", &equipment(), 0),
            Err(CallError::BadBody(_))
        ));
        let unknown = br#"{"error":{"name":"OPENAPI00004","message":"Please input valid parameter"}}"#;
        assert_eq!(
            classify(400, None, unknown, &ocid(), 0).unwrap(),
            Fetched::NotFound
        );
        assert!(matches!(
            classify(400, None, unknown, &equipment(), 0),
            Err(CallError::Status { status: 400, .. })
        ));
        let bad_id = br#"{"error":{"name":"OPENAPI00003","message":"Please input valid id"}}"#;
        assert_eq!(
            classify(400, None, bad_id, &equipment(), 0).unwrap(),
            Fetched::NotFound
        );
        assert_eq!(classify(404, None, b"", &ocid(), 0).unwrap(), Fetched::NotFound);
        let bad_key = br#"{"error":{"name":"OPENAPI00005","message":"Please input valid api key"}}"#;
        let e = classify(400, None, bad_key, &ocid(), 0).unwrap_err();
        assert!(!e.retryable() && e.outcome() == CallOutcome::Failure);
        let e = classify(503, None, b"", &ocid(), 0).unwrap_err();
        assert!(e.retryable());
        let e = classify(429, Some("3"), b"", &ocid(), 0).unwrap_err();
        assert!(!e.retryable());
        assert_eq!(e.outcome(), CallOutcome::Throttled { retry_after_ms: 3000 });
    }

    #[test]
    fn retry_after_parsing() {
        assert_eq!(parse_retry_after(Some("2"), 0), 2000);
        assert_eq!(parse_retry_after(Some("0"), 0), 1);
        assert_eq!(parse_retry_after(None, 0), THROTTLE_DEFAULT_MS);
        assert_eq!(parse_retry_after(Some("86400"), 0), THROTTLE_MAX_MS);
    }

    #[test]
    fn backoff_stays_within_its_cap() {
        for attempt in 1..10 {
            let cap = pve_edge::backoff::ceiling(attempt, BACKOFF_BASE_MS, BACKOFF_MAX_MS);
            assert!(jittered_backoff(attempt) <= cap);
        }
    }
}
