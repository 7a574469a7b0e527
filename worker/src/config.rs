//! Tunables of the cache and of the upstream protection, read from `[vars]` (see `wrangler.toml`, where each
//! is documented) with defaults. Read once per isolate: vars cannot change while an isolate lives.
//!
//! A var that is set but does not parse is an error (never silently replaced by the default).
use crate::error::EdgeError;
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

impl Config {
    /// The isolate's configuration, parsed on first use.
    pub fn get(env: &Env) -> Result<Rc<Config>, EdgeError> {
        if let Some(cfg) = CONFIG.with(|c| c.borrow().clone()) {
            return Ok(cfg);
        }
        let cfg = Rc::new(Config::from_lookup(|name| {
            env.var(name).ok().map(|v| v.to_string())
        })?);
        CONFIG.with(|c| *c.borrow_mut() = Some(cfg.clone()));
        Ok(cfg)
    }

    /// Parse from a name → value lookup (unset names take the default).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, EdgeError> {
        let d = Config::default();
        let secs = |name: &str, default_ms: u64| -> Result<u64, EdgeError> {
            Ok(parse::<u64>(&get, name)?.map_or(default_ms, |s| s.saturating_mul(1000)))
        };
        let cfg = Config {
            upstream_base_url: get("UPSTREAM_BASE_URL")
                .map(|s| s.trim_end_matches('/').to_owned())
                .unwrap_or(d.upstream_base_url),
            upstream_timeout_ms: parse(&get, "UPSTREAM_TIMEOUT_MS")?.unwrap_or(d.upstream_timeout_ms),
            upstream_max_retries: parse(&get, "UPSTREAM_MAX_RETRIES")?.unwrap_or(d.upstream_max_retries),
            upstream_rate_per_sec: parse(&get, "UPSTREAM_RATE_PER_SEC")?.unwrap_or(d.upstream_rate_per_sec),
            upstream_burst: parse(&get, "UPSTREAM_BURST")?.unwrap_or(d.upstream_burst),
            breaker_failures: parse(&get, "BREAKER_FAILURES")?.unwrap_or(d.breaker_failures),
            breaker_open_ms: parse(&get, "BREAKER_OPEN_MS")?.unwrap_or(d.breaker_open_ms),
            request_deadline_ms: parse(&get, "REQUEST_DEADLINE_MS")?.unwrap_or(d.request_deadline_ms),
            ocid_fresh_ms: secs("OCID_FRESH_S", d.ocid_fresh_ms)?,
            ocid_stale_ms: secs("OCID_STALE_S", d.ocid_stale_ms)?,
            equipment_fresh_ms: secs("EQUIPMENT_FRESH_S", d.equipment_fresh_ms)?,
            equipment_stale_ms: secs("EQUIPMENT_STALE_S", d.equipment_stale_ms)?,
            stale_while_revalidate_ms: secs("STALE_WHILE_REVALIDATE_S", d.stale_while_revalidate_ms)?,
            not_found_ttl_ms: secs("NOT_FOUND_TTL_S", d.not_found_ttl_ms)?,
            refresh_window_ms: secs("REFRESH_WINDOW_S", d.refresh_window_ms)?,
            l1_max_entries: parse(&get, "L1_MAX_ENTRIES")?.unwrap_or(d.l1_max_entries),
            l1_max_bytes: parse(&get, "L1_MAX_BYTES")?.unwrap_or(d.l1_max_bytes),
            l1_ttl_ms: secs("L1_TTL_S", d.l1_ttl_ms)?,
            client_rate_per_sec: parse(&get, "CLIENT_RATE_PER_SEC")?.unwrap_or(d.client_rate_per_sec),
            client_burst: parse(&get, "CLIENT_BURST")?.unwrap_or(d.client_burst),
            refresh_per_min: parse(&get, "REFRESH_PER_MIN")?.unwrap_or(d.refresh_per_min),
            refresh_burst: parse(&get, "REFRESH_BURST")?.unwrap_or(d.refresh_burst),
        };
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<(), EdgeError> {
        let positive = [
            ("UPSTREAM_RATE_PER_SEC", self.upstream_rate_per_sec),
            ("UPSTREAM_BURST", self.upstream_burst),
            ("CLIENT_RATE_PER_SEC", self.client_rate_per_sec),
            ("CLIENT_BURST", self.client_burst),
            ("REFRESH_PER_MIN", self.refresh_per_min),
            ("REFRESH_BURST", self.refresh_burst),
        ];
        for (name, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err(EdgeError::Config(format!(
                    "{name} must be a positive number, got {v}"
                )));
            }
        }
        if self.upstream_burst < 1.0 || self.client_burst < 1.0 || self.refresh_burst < 1.0 {
            return Err(EdgeError::Config("every *_BURST must be at least 1".into()));
        }
        if self.ocid_stale_ms < self.ocid_fresh_ms || self.equipment_stale_ms < self.equipment_fresh_ms {
            return Err(EdgeError::Config(
                "a *_STALE_S window must not be shorter than its *_FRESH_S".into(),
            ));
        }
        if self.upstream_timeout_ms == 0 || self.request_deadline_ms == 0 || self.breaker_failures == 0 {
            return Err(EdgeError::Config(
                "UPSTREAM_TIMEOUT_MS, REQUEST_DEADLINE_MS and BREAKER_FAILURES must be positive".into(),
            ));
        }
        Ok(())
    }
}

fn parse<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
) -> Result<Option<T>, EdgeError> {
    match get(name) {
        None => Ok(None),
        Some(raw) => raw
            .trim()
            .parse::<T>()
            .map(Some)
            .map_err(|_| EdgeError::Config(format!("{name}={raw:?} does not parse"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn check(vars: &[(&str, &str)]) -> Result<Config, EdgeError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|n| map.get(n).cloned())
    }

    #[test]
    fn defaults_when_unset() {
        assert_eq!(check(&[]).unwrap(), Config::default());
    }

    #[test]
    fn seconds_become_milliseconds_and_trailing_slash_is_dropped() {
        let c = check(&[
            ("EQUIPMENT_FRESH_S", "2"),
            ("UPSTREAM_BASE_URL", "http://127.0.0.1:9/"),
        ])
        .unwrap();
        assert_eq!(c.equipment_fresh_ms, 2_000);
        assert_eq!(c.upstream_base_url, "http://127.0.0.1:9");
    }

    #[test]
    fn a_value_that_does_not_parse_is_an_error_not_the_default() {
        assert!(check(&[("UPSTREAM_RATE_PER_SEC", "fast")]).is_err());
        assert!(check(&[("UPSTREAM_RATE_PER_SEC", "0")]).is_err());
        assert!(check(&[("EQUIPMENT_FRESH_S", "100"), ("EQUIPMENT_STALE_S", "10")]).is_err());
    }
}
