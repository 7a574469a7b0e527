//! The Nexon Open API, as decisions: the URL of a [`Resource`], the classification of an answer
//! ([`classify`]), whether and when to try again ([`retry`]), and the load error a failed call becomes.
//! The Worker's `upstream.rs` does the fetches, the rate limiter's calls and the sleeping.
//!
//! Answers: the ocid, the item equipment (kept as canonical JSON), "no such character" (`404`, or Nexon's
//! `400 OPENAPI00004` for an unknown name / `400 OPENAPI00003` for an unknown ocid), 429 (with
//! `Retry-After`), and failures. Only timeouts, network errors and 5xx are retried (every call is an
//! idempotent GET), with full-jitter exponential backoff ([`crate::backoff`]), at most
//! `UPSTREAM_MAX_RETRIES` times and only while a retry can finish within the request deadline.
use crate::alerts::{Alert, AlertKind};
use crate::backoff;
use crate::cache::{canonical, Entry, Resource};
use crate::config::Config;
use crate::limits::{CallOutcome, DenyReason};
use crate::single_flight::LoadError;
use std::fmt;

/// When a 429 carries no usable `Retry-After` (Nexon's limits are per second).
pub const THROTTLE_DEFAULT_MS: u64 = 1_000;
/// A `Retry-After` longer than this is capped (a broken header must not stop us for a day).
pub const THROTTLE_MAX_MS: u64 = 600_000;
/// What clients are told to wait after a failed load (the breaker tells them more once it opens).
pub const FAILURE_RETRY_AFTER_MS: u64 = 5_000;
pub const BACKOFF_BASE_MS: u64 = 100;
/// The largest backoff between two attempts (100 ms · 2^6).
pub const BACKOFF_MAX_MS: u64 = 6_400;

#[derive(Debug, PartialEq)]
pub enum Fetched {
    /// The body to cache: the ocid (UTF-8), or the item equipment as canonical JSON.
    Found(Vec<u8>),
    NotFound,
}

impl Fetched {
    /// The entry to cache for `resource`, loaded at `now` under the purge `generation` (its stamp): a body
    /// for the resource's (fresh, stale) windows, or a negative entry for `NOT_FOUND_TTL_S`.
    pub fn into_entry(self, resource: &Resource, cfg: &Config, now: u64, generation: u64) -> Entry {
        let mut entry = match self {
            Fetched::Found(body) => {
                let (fresh, stale) = resource.windows(cfg);
                Entry::found(body, now, fresh, stale)
            }
            Fetched::NotFound => Entry::not_found(now, cfg.not_found_ttl_ms),
        };
        entry.meta.generation = generation;
        entry
    }
}

/// How one attempt failed.
#[derive(Debug, PartialEq)]
pub enum CallError {
    Timeout,
    Network(String),
    Status { status: u16, nexon_code: Option<String> },
    Throttled { retry_after_ms: u64 },
    BadBody(String),
}

impl CallError {
    /// Only timeouts, network errors and 5xx may succeed on a second try.
    pub fn retryable(&self) -> bool {
        match self {
            CallError::Timeout | CallError::Network(_) => true,
            CallError::Status { status, .. } => *status >= 500,
            CallError::Throttled { .. } | CallError::BadBody(_) => false,
        }
    }

    /// What the rate limiter's breaker and 429 hold are told.
    pub fn outcome(&self) -> CallOutcome {
        match self {
            CallError::Throttled { retry_after_ms } => CallOutcome::Throttled {
                retry_after_ms: *retry_after_ms,
            },
            _ => CallOutcome::Failure,
        }
    }

    pub fn into_load_error(self) -> LoadError {
        match self {
            CallError::Throttled { retry_after_ms } => LoadError::UpstreamRateLimited {
                retry_after_ms,
                detail: "upstream answered 429".into(),
            },
            other => LoadError::unavailable(FAILURE_RETRY_AFTER_MS, other.to_string()),
        }
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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

/// The outcome of a call, an attempt's [`CallOutcome`] for the rate limiter.
pub fn outcome(result: &Result<Fetched, CallError>) -> CallOutcome {
    match result {
        Ok(_) => CallOutcome::Success,
        Err(e) => e.outcome(),
    }
}

/// The `path` label of `pve_upstream_calls_total`.
pub fn path_label(resource: &Resource) -> &'static str {
    match resource {
        Resource::Ocid { .. } => "id",
        Resource::Equipment { .. } => "item-equipment",
    }
}

/// The `outcome` label of `pve_upstream_calls_total`, and whether the call counts in
/// `pve_upstream_429_total` / `pve_upstream_errors_total`.
pub fn outcome_label(result: &Result<Fetched, CallError>) -> (&'static str, Counted) {
    match result {
        Ok(Fetched::Found(_)) => ("ok", Counted::Neither),
        Ok(Fetched::NotFound) => ("not_found", Counted::Neither),
        Err(CallError::Throttled { .. }) => ("throttled", Counted::Throttled),
        Err(CallError::Timeout) => ("timeout", Counted::Error),
        Err(CallError::Network(_) | CallError::Status { .. }) => ("error", Counted::Error),
        Err(CallError::BadBody(_)) => ("error", Counted::Neither),
    }
}

/// Which of the two upstream failure counters a call adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    Neither,
    Throttled,
    Error,
}

/// The base URL is unusable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError(pub String);

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad UPSTREAM_BASE_URL: {}", self.0)
    }
}

impl std::error::Error for UrlError {}

/// The upstream URL for `resource` under `base` (the name or ocid percent-encoded as a query value).
///
/// # Errors
/// [`UrlError`] when `base` plus the path is not a URL.
pub fn url_for(base: &str, resource: &Resource) -> Result<String, UrlError> {
    let (path, param, value) = match resource {
        Resource::Ocid { name } => ("/maplestory/v1/id", "character_name", name),
        Resource::Equipment { ocid } => ("/maplestory/v1/character/item-equipment", "ocid", ocid),
    };
    let mut url = url::Url::parse(&format!("{base}{path}")).map_err(|e| UrlError(e.to_string()))?;
    url.query_pairs_mut().append_pair(param, value);
    Ok(url.into())
}

/// Turn an upstream answer into what we cache, or a failure.
pub fn classify(
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
                if !crate::validate::is_valid_ocid(&id.ocid) {
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
            retry_after_ms: retry_after_ms(retry_after, now),
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
pub fn nexon_error_code(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Body {
        error: Error,
    }
    #[derive(serde::Deserialize)]
    struct Error {
        name: String,
    }
    serde_json::from_slice::<Body>(body).ok().map(|b| b.error.name)
}

/// A 429's wait: `Retry-After` in seconds or as an HTTP date ([`crate::http::retry_after_ms`]), capped at
/// [`THROTTLE_MAX_MS`]; [`THROTTLE_DEFAULT_MS`] when absent or unreadable.
pub fn retry_after_ms(value: Option<&str>, now: u64) -> u64 {
    value
        .and_then(|v| crate::http::retry_after_ms(v, now, THROTTLE_MAX_MS))
        .unwrap_or(THROTTLE_DEFAULT_MS)
}

/// The wait before attempt `attempt + 1`: full jitter from `random` (a uniform `u64` from the platform);
/// without randomness the full backoff (still bounded, merely not spread).
pub fn backoff_ms(attempt: u32, random: Option<u64>) -> u64 {
    match random {
        Some(random) => backoff::full_jitter(attempt, BACKOFF_BASE_MS, BACKOFF_MAX_MS, random),
        None => backoff::ceiling(attempt, BACKOFF_BASE_MS, BACKOFF_MAX_MS),
    }
}

/// The limits of one load's retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryBudget {
    /// `UPSTREAM_MAX_RETRIES`: attempts after the first.
    pub max_retries: u32,
    /// `UPSTREAM_TIMEOUT_MS`: how long one more attempt may take.
    pub timeout_ms: u64,
    /// The first attempt's start plus `REQUEST_DEADLINE_MS` (epoch ms).
    pub ends_at: u64,
}

/// After attempt number `attempt` (from 1) failed with `err` at `now`: sleep `backoff_ms` and try again
/// (`Some(backoff_ms)`), or give up (`None`). A retry must be retryable, within the retry count, and able
/// to finish (backoff plus a whole attempt) before the budget ends.
pub fn retry(err: &CallError, attempt: u32, backoff_ms: u64, now: u64, budget: &RetryBudget) -> Option<u64> {
    let fits = now.saturating_add(backoff_ms).saturating_add(budget.timeout_ms) <= budget.ends_at;
    (err.retryable() && attempt <= budget.max_retries && fits).then_some(backoff_ms)
}

/// The load error of an upstream call the limiter refused: the bucket or a 429's hold is a rate limit,
/// an open breaker an unavailable upstream.
pub fn denied(reason: DenyReason, retry_after_ms: u64) -> LoadError {
    let detail = format!("upstream call refused: {reason:?}");
    match reason {
        DenyReason::RateLimited | DenyReason::Throttled => LoadError::UpstreamRateLimited {
            retry_after_ms,
            detail,
        },
        DenyReason::CircuitOpen => LoadError::UpstreamUnavailable {
            retry_after_ms,
            detail,
        },
    }
}

/// The log line (warning level) of the `upstream.circuit_open` alert's raise, which runs after the leader's
/// load (`leader` is its request id): what the raise did, or why it failed.
pub fn breaker_opened_line(
    leader: &str,
    raised: &Result<crate::alerts::Raised, crate::error::EdgeError>,
) -> serde_json::Value {
    let mut line =
        serde_json::json!({"domain": "alerts", "task": "breaker_opened", "leader_request_id": leader});
    match raised {
        Ok(r) => {
            line["outcome"] = "ok".into();
            line["raised"] =
                serde_json::to_value(r).unwrap_or_else(|e| format!("unserializable: {e}").into());
        }
        Err(e) => {
            line["outcome"] = "error".into();
            line["error_detail"] = e.to_string().into();
        }
    }
    line
}

/// What the admission control's answer means for the next attempt ([`gate`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Gate {
    /// Call (as the breaker's half-open probe, if `probe`).
    Go { probe: bool },
    /// The limiter refused the call ([`denied`]): counted as rate limited, and the load's error.
    Denied(LoadError),
    /// The limiter could not be asked: without it we cannot know whether a call is allowed, so fail closed.
    Unavailable(LoadError),
}

/// The gate of one attempt, from the limiter's answer (or the platform's error asking it).
pub fn gate<E: fmt::Display>(admission: Result<crate::limits::Admission, E>) -> Gate {
    use crate::limits::Admission;
    match admission {
        Ok(Admission::Granted { probe }) => Gate::Go { probe },
        Ok(Admission::Denied {
            reason,
            retry_after_ms,
        }) => Gate::Denied(denied(reason, retry_after_ms)),
        Err(e) => Gate::Unavailable(LoadError::unavailable(
            FAILURE_RETRY_AFTER_MS,
            format!("rate limiter: {e}"),
        )),
    }
}

/// One leader's attempts at an upstream call: their count and the [`RetryBudget`] they share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempts {
    attempt: u32,
    budget: RetryBudget,
}

impl Attempts {
    /// The attempts of a load that starts at `now`, under `cfg`'s retries, timeout and deadline.
    pub fn new(cfg: &Config, now: u64) -> Attempts {
        Attempts {
            attempt: 0,
            budget: RetryBudget {
                max_retries: cfg.upstream_max_retries,
                timeout_ms: cfg.upstream_timeout_ms,
                ends_at: now + cfg.request_deadline_ms,
            },
        }
    }

    /// Start the next attempt; its number, from 1 (the `attempts` log field).
    pub fn start(&mut self) -> u32 {
        self.attempt += 1;
        self.attempt
    }

    /// The current attempt failed with `err` at `now`: the wait before the next one ([`retry`], with
    /// [`backoff_ms`] from `random`), or the load's error.
    ///
    /// # Errors
    /// `err` as a [`LoadError`] when it may not be retried or no retry fits the budget.
    pub fn failed(&self, err: CallError, now: u64, random: Option<u64>) -> Result<u64, LoadError> {
        let backoff = backoff_ms(self.attempt, random);
        retry(&err, self.attempt, backoff, now, &self.budget).ok_or_else(|| err.into_load_error())
    }
}

/// The `upstream.circuit_open` WARNING, raised when a call's failure opened the breaker.
pub fn breaker_alert(cfg: &Config, last_error: &str) -> Alert {
    Alert::new(
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
    .detail("last_error", last_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_breaker_alerts_line_says_what_the_raise_did() {
        let ok = breaker_opened_line("r1", &Ok(crate::alerts::Raised::Logged));
        assert_eq!(
            ok.to_string(),
            r#"{"domain":"alerts","leader_request_id":"r1","outcome":"ok","raised":{"outcome":"logged"},"task":"breaker_opened"}"#
        );
        let failed = breaker_opened_line("r2", &Err(crate::error::EdgeError::platform("d1 down")));
        assert_eq!(failed["outcome"], "error");
        assert_eq!(
            failed["error_detail"],
            crate::error::EdgeError::platform("d1 down").to_string()
        );
        assert!(failed.get("raised").is_none());
    }

    #[test]
    fn the_gate_goes_counts_a_denial_and_fails_closed_without_the_limiter() {
        use crate::limits::Admission;
        assert_eq!(
            gate::<String>(Ok(Admission::Granted { probe: true })),
            Gate::Go { probe: true }
        );
        let denial = Admission::Denied {
            reason: DenyReason::Throttled,
            retry_after_ms: 9,
        };
        assert_eq!(
            gate::<String>(Ok(denial)),
            Gate::Denied(denied(DenyReason::Throttled, 9))
        );
        let Gate::Unavailable(e) = gate::<&str>(Err("object gone")) else {
            panic!("fail closed")
        };
        assert_eq!(
            (e.code(), e.detail()),
            ("upstream_unavailable", "rate limiter: object gone")
        );
    }

    #[test]
    fn attempts_retry_only_within_their_count_and_deadline() {
        let cfg = Config {
            upstream_max_retries: 1,
            upstream_timeout_ms: 1_000,
            request_deadline_ms: 10_000,
            ..Config::default()
        };
        let mut a = Attempts::new(&cfg, 0);
        assert_eq!(a.start(), 1);
        let wait = a.failed(CallError::Timeout, 100, Some(0)).unwrap();
        assert!(wait <= BACKOFF_MAX_MS);
        assert_eq!(a.start(), 2);
        let e = a.failed(CallError::Timeout, 200, Some(0)).unwrap_err();
        assert_eq!(e, CallError::Timeout.into_load_error(), "past the retry count");
        let mut late = Attempts::new(&cfg, 0);
        late.start();
        assert!(
            late.failed(CallError::Timeout, 9_500, Some(0)).is_err(),
            "no retry past the deadline"
        );
    }

    #[test]
    fn a_refused_call_is_rate_limited_or_unavailable_by_its_reason() {
        assert_eq!(denied(DenyReason::RateLimited, 5).code(), "upstream_rate_limited");
        assert_eq!(denied(DenyReason::Throttled, 5).code(), "upstream_rate_limited");
        let open = denied(DenyReason::CircuitOpen, 7);
        assert_eq!(open.code(), "upstream_unavailable");
        assert_eq!(open.detail(), "upstream call refused: CircuitOpen");
    }

    #[test]
    fn the_breaker_alert_names_the_failures_and_the_last_error() {
        let cfg = Config::default();
        let a = breaker_alert(&cfg, "timeout");
        assert_eq!(a.kind, AlertKind::UpstreamCircuitOpen);
        assert!(
            a.what_happened().ends_with("Last error: timeout"),
            "{}",
            a.what_happened()
        );
        assert_eq!(a.details(), &[("last_error".to_owned(), "timeout".to_owned())]);
    }
    use proptest::prelude::*;

    fn ocid() -> Resource {
        Resource::Ocid {
            name: "에반".into()
        }
    }
    fn equipment() -> Resource {
        Resource::Equipment { ocid: "abc".into() }
    }

    #[test]
    fn loaded_entries_take_their_resources_windows_and_the_generation() {
        use crate::cache::{sha256_hex, Kind};
        let cfg = Config::parse(&|_: &str| None).unwrap();
        let ocid = Resource::Ocid { name: "a".into() };
        let eq = Resource::Equipment { ocid: "b".into() };
        let e = Fetched::Found(b"x".to_vec()).into_entry(&ocid, &cfg, 1_000, 7);
        assert_eq!(
            (e.meta.kind, e.meta.fresh_until, e.meta.generation),
            (Kind::Found, 1_000 + cfg.ocid_fresh_ms, 7)
        );
        assert_eq!(
            e.meta.stale_until,
            1_000 + cfg.ocid_stale_ms.max(cfg.ocid_fresh_ms)
        );
        let e = Fetched::Found(b"{}".to_vec()).into_entry(&eq, &cfg, 1_000, 0);
        assert_eq!(e.meta.fresh_until, 1_000 + cfg.equipment_fresh_ms);
        assert_eq!(e.meta.hash, sha256_hex(b"{}"));
        let n = Fetched::NotFound.into_entry(&ocid, &cfg, 1_000, 3);
        assert_eq!(
            (n.meta.kind, n.meta.stale_until, n.meta.generation, n.body.len()),
            (Kind::NotFound, 1_000 + cfg.not_found_ttl_ms, 3, 0)
        );
    }

    #[test]
    fn urls_escape_the_name() {
        assert_eq!(
            url_for("http://127.0.0.1:9", &ocid()).unwrap(),
            "http://127.0.0.1:9/maplestory/v1/id?character_name=%EC%97%90%EB%B0%98"
        );
        assert_eq!(
            url_for("https://open.api.nexon.com", &equipment()).unwrap(),
            "https://open.api.nexon.com/maplestory/v1/character/item-equipment?ocid=abc"
        );
        let odd = Resource::Ocid {
            name: "a&b=c d".into(),
        };
        assert_eq!(
            url_for("https://x", &odd).unwrap(),
            "https://x/maplestory/v1/id?character_name=a%26b%3Dc+d"
        );
        assert!(url_for("not a url", &ocid()).is_err());
    }

    #[test]
    fn classify_answers() {
        let found = classify(200, None, br#"{"ocid":"0123abcd"}"#, &ocid(), 0).unwrap();
        assert_eq!(found, Fetched::Found(b"0123abcd".to_vec()));
        assert!(matches!(
            classify(200, None, br#"{"ocid":"../x"}"#, &ocid(), 0),
            Err(CallError::BadBody(_))
        ));
        assert!(matches!(
            classify(200, None, b"not json", &ocid(), 0),
            Err(CallError::BadBody(_))
        ));
        let eq = classify(200, None, br#"{"b":1, "a":2}"#, &equipment(), 0).unwrap();
        assert_eq!(eq, Fetched::Found(br#"{"a":2,"b":1}"#.to_vec()));
        assert!(matches!(
            classify(200, None, b"[1]", &equipment(), 0),
            Err(CallError::BadBody(_))
        ));
        assert!(matches!(
            classify(200, None, br#"{"a":1,"a":2}"#, &equipment(), 0),
            Err(CallError::BadBody(_))
        ));
        let unknown = br#"{"error":{"name":"OPENAPI00004","message":"Please input valid parameter"}}"#;
        assert_eq!(
            classify(400, None, unknown, &ocid(), 0).unwrap(),
            Fetched::NotFound
        );
        assert_eq!(
            classify(400, None, unknown, &equipment(), 0),
            Err(CallError::Status {
                status: 400,
                nexon_code: Some("OPENAPI00004".into())
            })
        );
        let bad_id = br#"{"error":{"name":"OPENAPI00003","message":"Please input valid id"}}"#;
        assert_eq!(
            classify(400, None, bad_id, &equipment(), 0).unwrap(),
            Fetched::NotFound
        );
        // an unknown-ocid code on a name lookup is not "no such character"
        assert!(classify(400, None, bad_id, &ocid(), 0).is_err());
        assert_eq!(classify(404, None, b"", &ocid(), 0).unwrap(), Fetched::NotFound);
        let bad_key = br#"{"error":{"name":"OPENAPI00005","message":"Please input valid api key"}}"#;
        let e = classify(400, None, bad_key, &ocid(), 0).unwrap_err();
        assert!(!e.retryable() && e.outcome() == CallOutcome::Failure);
        let e = classify(503, None, b"", &ocid(), 0).unwrap_err();
        assert!(e.retryable());
        assert_eq!(
            e,
            CallError::Status {
                status: 503,
                nexon_code: None
            }
        );
        let e = classify(429, Some("3"), b"", &ocid(), 0).unwrap_err();
        assert!(!e.retryable());
        assert_eq!(e.outcome(), CallOutcome::Throttled { retry_after_ms: 3000 });
        let e = classify(
            429,
            Some("Wed, 21 Oct 2015 07:28:30 GMT"),
            b"",
            &ocid(),
            1_445_412_480_000,
        )
        .unwrap_err();
        assert_eq!(
            e,
            CallError::Throttled {
                retry_after_ms: 30_000
            }
        );
    }

    #[test]
    fn nexon_error_codes() {
        assert_eq!(
            nexon_error_code(br#"{"error":{"name":"OPENAPI00007","message":"m"}}"#).as_deref(),
            Some("OPENAPI00007")
        );
        assert_eq!(nexon_error_code(br#"{"error":{"message":"m"}}"#), None);
        assert_eq!(nexon_error_code(br#"{"error":"x"}"#), None);
        assert_eq!(nexon_error_code(b"<html>"), None);
        assert_eq!(nexon_error_code(b""), None);
    }

    #[test]
    fn retry_after_parsing() {
        assert_eq!(retry_after_ms(Some("2"), 0), 2000);
        assert_eq!(retry_after_ms(Some("0"), 0), 1);
        assert_eq!(retry_after_ms(None, 0), THROTTLE_DEFAULT_MS);
        assert_eq!(retry_after_ms(Some("soon"), 0), THROTTLE_DEFAULT_MS);
        assert_eq!(retry_after_ms(Some("86400"), 0), THROTTLE_MAX_MS);
    }

    #[test]
    fn failures_become_load_errors() {
        assert_eq!(
            CallError::Throttled { retry_after_ms: 7 }.into_load_error(),
            LoadError::UpstreamRateLimited {
                retry_after_ms: 7,
                detail: "upstream answered 429".into()
            }
        );
        assert_eq!(
            CallError::Timeout.into_load_error(),
            LoadError::unavailable(FAILURE_RETRY_AFTER_MS, "upstream timed out")
        );
    }

    #[test]
    fn metric_labels() {
        assert_eq!(path_label(&ocid()), "id");
        assert_eq!(path_label(&equipment()), "item-equipment");
        assert_eq!(
            outcome_label(&Ok(Fetched::NotFound)),
            ("not_found", Counted::Neither)
        );
        assert_eq!(
            outcome_label(&Err(CallError::Throttled { retry_after_ms: 1 })),
            ("throttled", Counted::Throttled)
        );
        assert_eq!(
            outcome_label(&Err(CallError::Timeout)),
            ("timeout", Counted::Error)
        );
        assert_eq!(
            outcome_label(&Err(CallError::BadBody("x".into()))),
            ("error", Counted::Neither)
        );
        assert_eq!(outcome(&Ok(Fetched::NotFound)), CallOutcome::Success);
    }

    #[test]
    fn the_retry_table() {
        let budget = RetryBudget {
            max_retries: 2,
            timeout_ms: 1_000,
            ends_at: 10_000,
        };
        let s503 = CallError::Status {
            status: 503,
            nexon_code: None,
        };
        let s400 = CallError::Status {
            status: 400,
            nexon_code: None,
        };
        assert_eq!(retry(&s503, 1, 100, 0, &budget), Some(100));
        assert_eq!(retry(&CallError::Timeout, 2, 100, 0, &budget), Some(100));
        assert_eq!(retry(&CallError::Network("x".into()), 1, 0, 0, &budget), Some(0));
        // the retry count
        assert_eq!(retry(&s503, 3, 100, 0, &budget), None);
        // not retryable
        assert_eq!(retry(&s400, 1, 100, 0, &budget), None);
        assert_eq!(
            retry(&CallError::Throttled { retry_after_ms: 1 }, 1, 0, 0, &budget),
            None
        );
        assert_eq!(retry(&CallError::BadBody("x".into()), 1, 0, 0, &budget), None);
        // the deadline: backoff + a whole attempt must fit
        assert_eq!(retry(&s503, 1, 100, 8_900, &budget), Some(100));
        assert_eq!(retry(&s503, 1, 100, 8_901, &budget), None);
        assert_eq!(retry(&s503, 1, u64::MAX, 0, &budget), None);
    }

    proptest! {
        #[test]
        fn backoff_stays_within_its_cap(attempt in 1u32..64, random in proptest::option::of(any::<u64>())) {
            let cap = backoff::ceiling(attempt, BACKOFF_BASE_MS, BACKOFF_MAX_MS);
            let b = backoff_ms(attempt, random);
            prop_assert!(b <= cap && cap <= BACKOFF_MAX_MS);
            if random.is_none() {
                prop_assert_eq!(b, cap);
            }
        }
    }
}
