//! Tunables of the cache and of the upstream protection, read from `[vars]` (see `wrangler.toml`, where each
//! is documented) with defaults. Read once per isolate: vars cannot change while an isolate lives.
//!
//! A var that is set but does not parse, or is out of range, is an error (never silently replaced by the
//! default).
use crate::bindings::UPSTREAM_BASE_URL;
use crate::error::EdgeError;
use crate::vars::{self, ConfigError};
use std::cell::RefCell;
use std::rc::Rc;
use worker::Env;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Base URL of the Nexon Open API (`UPSTREAM_BASE_URL`).
    pub upstream_base_url: String,
    /// Timeout of one upstream attempt.
    pub upstream_timeout_ms: u64,
    /// Retries after the first attempt, for timeouts, network errors and 5xx only.
    pub upstream_max_retries: u32,
    /// The global token bucket in front of the upstream.
    pub upstream_rate_per_sec: f64,
    pub upstream_burst: f64,
    /// Consecutive upstream failures that open the circuit breaker, and how long it stays open.
    pub breaker_failures: u32,
    pub breaker_open_ms: u64,
    /// The longest a client request waits for an upstream load (then: stale, or 503).
    pub request_deadline_ms: u64,
    /// name → ocid: fresh for, then usable on upstream errors for.
    pub ocid_fresh_ms: u64,
    pub ocid_stale_ms: u64,
    /// ocid → equipment.
    pub equipment_fresh_ms: u64,
    pub equipment_stale_ms: u64,
    /// After `fresh`, for this long a stale copy is answered at once and refreshed in the background.
    pub stale_while_revalidate_ms: u64,
    /// An unknown character is remembered for this long.
    pub not_found_ttl_ms: u64,
    /// `refresh=true` accepts a copy fetched at most this long before the request.
    pub refresh_window_ms: u64,
    /// L1 (per-isolate memory) bounds and TTL.
    pub l1_max_entries: usize,
    pub l1_max_bytes: usize,
    pub l1_ttl_ms: u64,
    /// How long an isolate trusts its view of a character's purge generation before asking the
    /// character's Durable Object again: the staleness bound of a purge in other isolates.
    pub purge_check_ms: u64,
    /// Per-client inbound limit (per isolate).
    pub client_rate_per_sec: f64,
    pub client_burst: f64,
    /// Per-client limit of `refresh=true` (global, in a Durable Object).
    pub refresh_per_min: f64,
    pub refresh_burst: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            upstream_base_url: "https://open.api.nexon.com".into(),
            upstream_timeout_ms: 3_000,
            upstream_max_retries: 1,
            upstream_rate_per_sec: 5.0,
            upstream_burst: 10.0,
            breaker_failures: 5,
            breaker_open_ms: 30_000,
            request_deadline_ms: 5_000,
            ocid_fresh_ms: 86_400_000,
            ocid_stale_ms: 7 * 86_400_000,
            equipment_fresh_ms: 600_000,
            equipment_stale_ms: 86_400_000,
            stale_while_revalidate_ms: 3_600_000,
            not_found_ttl_ms: 60_000,
            refresh_window_ms: 10_000,
            l1_max_entries: 500,
            l1_max_bytes: 32 * 1024 * 1024,
            l1_ttl_ms: 60_000,
            purge_check_ms: 1_000,
            client_rate_per_sec: 20.0,
            client_burst: 100.0,
            refresh_per_min: 6.0,
            refresh_burst: 3.0,
        }
    }
}

thread_local! {
    static CONFIG: RefCell<Option<Rc<Config>>> = const { RefCell::new(None) };
}

const DAY_S: u64 = 86_400;
const MS_PER_S: u64 = 1_000;

impl Config {
    /// The isolate's configuration, parsed on first use.
    pub fn get(env: &Env) -> Result<Rc<Config>, EdgeError> {
        if let Some(cfg) = CONFIG.with(|c| c.borrow().clone()) {
            return Ok(cfg);
        }
        let cfg = Rc::new(Config::from_env(env)?);
        CONFIG.with(|c| *c.borrow_mut() = Some(cfg.clone()));
        Ok(cfg)
    }

    /// Every var through [`vars::number`]: unset takes the default, a value that does not parse or is out
    /// of its range is an error.
    fn from_env(env: &Env) -> Result<Config, EdgeError> {
        let d = Config::default();
        let secs = |var: &'static str, default_ms: u64, max_s: u64| -> Result<u64, ConfigError> {
            Ok(vars::number(env, var, default_ms / MS_PER_S, 0, max_s)? * MS_PER_S)
        };
        let cfg = Config {
            upstream_base_url: vars::text(env, UPSTREAM_BASE_URL)
                .map(|s| s.trim_end_matches('/').to_owned())
                .unwrap_or(d.upstream_base_url),
            upstream_timeout_ms: vars::number(env, "UPSTREAM_TIMEOUT_MS", d.upstream_timeout_ms, 1, 60_000)?,
            upstream_max_retries: vars::number(env, "UPSTREAM_MAX_RETRIES", d.upstream_max_retries, 0, 5)?,
            upstream_rate_per_sec: vars::number(
                env,
                "UPSTREAM_RATE_PER_SEC",
                d.upstream_rate_per_sec,
                0.001,
                1e6,
            )?,
            upstream_burst: vars::number(env, "UPSTREAM_BURST", d.upstream_burst, 1.0, 1e6)?,
            breaker_failures: vars::number(env, "BREAKER_FAILURES", d.breaker_failures, 1, 1_000_000)?,
            breaker_open_ms: vars::number(env, "BREAKER_OPEN_MS", d.breaker_open_ms, 0, 3_600_000)?,
            request_deadline_ms: vars::number(env, "REQUEST_DEADLINE_MS", d.request_deadline_ms, 1, 120_000)?,
            ocid_fresh_ms: secs("OCID_FRESH_S", d.ocid_fresh_ms, 30 * DAY_S)?,
            ocid_stale_ms: secs("OCID_STALE_S", d.ocid_stale_ms, 365 * DAY_S)?,
            equipment_fresh_ms: secs("EQUIPMENT_FRESH_S", d.equipment_fresh_ms, 30 * DAY_S)?,
            equipment_stale_ms: secs("EQUIPMENT_STALE_S", d.equipment_stale_ms, 365 * DAY_S)?,
            stale_while_revalidate_ms: secs(
                "STALE_WHILE_REVALIDATE_S",
                d.stale_while_revalidate_ms,
                30 * DAY_S,
            )?,
            not_found_ttl_ms: secs("NOT_FOUND_TTL_S", d.not_found_ttl_ms, DAY_S)?,
            refresh_window_ms: secs("REFRESH_WINDOW_S", d.refresh_window_ms, DAY_S)?,
            l1_max_entries: vars::number(env, "L1_MAX_ENTRIES", d.l1_max_entries, 0, 1_000_000)?,
            l1_max_bytes: vars::number(env, "L1_MAX_BYTES", d.l1_max_bytes, 0, 1 << 30)?,
            l1_ttl_ms: secs("L1_TTL_S", d.l1_ttl_ms, DAY_S)?,
            purge_check_ms: vars::number(env, "PURGE_CHECK_MS", d.purge_check_ms, 0, 3_600_000)?,
            client_rate_per_sec: vars::number(env, "CLIENT_RATE_PER_SEC", d.client_rate_per_sec, 0.001, 1e9)?,
            client_burst: vars::number(env, "CLIENT_BURST", d.client_burst, 1.0, 1e9)?,
            refresh_per_min: vars::number(env, "REFRESH_PER_MIN", d.refresh_per_min, 0.001, 1e9)?,
            refresh_burst: vars::number(env, "REFRESH_BURST", d.refresh_burst, 1.0, 1e9)?,
        };
        cfg.check_windows()?;
        Ok(cfg)
    }

    /// What ranges alone cannot say: a stale window is not shorter than its fresh window.
    fn check_windows(&self) -> Result<(), EdgeError> {
        if self.ocid_stale_ms < self.ocid_fresh_ms || self.equipment_stale_ms < self.equipment_fresh_ms {
            return Err(EdgeError::Config(
                "a *_STALE_S window must not be shorter than its *_FRESH_S".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_consistent() {
        assert!(Config::default().check_windows().is_ok());
    }

    #[test]
    fn a_stale_window_shorter_than_fresh_is_refused() {
        let cfg = Config {
            equipment_fresh_ms: 100_000,
            equipment_stale_ms: 10_000,
            ..Config::default()
        };
        assert!(cfg.check_windows().is_err());
    }
}
