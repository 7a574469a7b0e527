//! Every setting the Worker reads from `[vars]` and secrets, parsed from a lookup function
//! `Fn(&str) -> Option<String>` (the Worker passes one over its `Env`; tests pass a table), with every
//! variable name a constant in [`var`] and documented in `wrangler.toml`.
//!
//! Rules, the same for every variable: unset (or set to blank) takes the documented default; a value that
//! is set but does not parse, or is outside its range, is a [`ConfigError`] naming the variable — never
//! silently replaced by the default. Windows that depend on each other are checked together
//! ([`ConfigError::StaleShorterThanFresh`]).
use crate::webhook::WebhookPolicy;
use std::fmt;
use std::str::FromStr;

/// The names of every variable and secret the Worker reads. They must match `wrangler.toml`.
pub mod var {
    /// Base URL of the Nexon Open API (a local fake in tests and dev).
    pub const UPSTREAM_BASE_URL: &str = "UPSTREAM_BASE_URL";
    pub const UPSTREAM_TIMEOUT_MS: &str = "UPSTREAM_TIMEOUT_MS";
    pub const UPSTREAM_MAX_RETRIES: &str = "UPSTREAM_MAX_RETRIES";
    pub const UPSTREAM_RATE_PER_SEC: &str = "UPSTREAM_RATE_PER_SEC";
    pub const UPSTREAM_BURST: &str = "UPSTREAM_BURST";
    pub const BREAKER_FAILURES: &str = "BREAKER_FAILURES";
    pub const BREAKER_OPEN_MS: &str = "BREAKER_OPEN_MS";
    pub const REQUEST_DEADLINE_MS: &str = "REQUEST_DEADLINE_MS";
    pub const OCID_FRESH_S: &str = "OCID_FRESH_S";
    pub const OCID_STALE_S: &str = "OCID_STALE_S";
    pub const EQUIPMENT_FRESH_S: &str = "EQUIPMENT_FRESH_S";
    pub const EQUIPMENT_STALE_S: &str = "EQUIPMENT_STALE_S";
    pub const STALE_WHILE_REVALIDATE_S: &str = "STALE_WHILE_REVALIDATE_S";
    pub const NOT_FOUND_TTL_S: &str = "NOT_FOUND_TTL_S";
    pub const REFRESH_WINDOW_S: &str = "REFRESH_WINDOW_S";
    pub const L1_MAX_ENTRIES: &str = "L1_MAX_ENTRIES";
    pub const L1_MAX_BYTES: &str = "L1_MAX_BYTES";
    pub const L1_TTL_S: &str = "L1_TTL_S";
    pub const PURGE_CHECK_MS: &str = "PURGE_CHECK_MS";
    pub const CLIENT_RATE_PER_SEC: &str = "CLIENT_RATE_PER_SEC";
    pub const CLIENT_BURST: &str = "CLIENT_BURST";
    pub const REFRESH_PER_MIN: &str = "REFRESH_PER_MIN";
    pub const REFRESH_BURST: &str = "REFRESH_BURST";
    pub const OUTBOX_BATCH_SIZE: &str = "OUTBOX_BATCH_SIZE";
    pub const OUTBOX_LEASE_MS: &str = "OUTBOX_LEASE_MS";
    pub const OUTBOX_DELIVERY_TIMEOUT_MS: &str = "OUTBOX_DELIVERY_TIMEOUT_MS";
    pub const OUTBOX_MAX_ATTEMPTS: &str = "OUTBOX_MAX_ATTEMPTS";
    pub const OUTBOX_BACKOFF_BASE_MS: &str = "OUTBOX_BACKOFF_BASE_MS";
    pub const OUTBOX_BACKOFF_CAP_MS: &str = "OUTBOX_BACKOFF_CAP_MS";
    pub const OUTBOX_RELAY_BUDGET_MS: &str = "OUTBOX_RELAY_BUDGET_MS";
    pub const OUTBOX_BACKLOG_ALERT_THRESHOLD: &str = "OUTBOX_BACKLOG_ALERT_THRESHOLD";
    pub const OUTBOX_DELIVERED_RETENTION_HOURS: &str = "OUTBOX_DELIVERED_RETENTION_HOURS";
    pub const OUTBOX_MAX_PAYLOAD_BYTES: &str = "OUTBOX_MAX_PAYLOAD_BYTES";
    pub const ALLOW_LOOPBACK_WEBHOOKS: &str = "ALLOW_LOOPBACK_WEBHOOKS";
    pub const ALERT_WINDOW_S: &str = "ALERT_WINDOW_S";
    pub const RUNBOOK_URL: &str = "RUNBOOK_URL";
    pub const IDEMPOTENCY_TTL_S: &str = "IDEMPOTENCY_TTL_S";
    pub const WATCH_SWEEP_BATCH: &str = "WATCH_SWEEP_BATCH";
    pub const WATCH_SWEEP_INTERVAL_S: &str = "WATCH_SWEEP_INTERVAL_S";
    pub const ENABLE_TEST_ROUTES: &str = "ENABLE_TEST_ROUTES";
    /// Secret: key for the Nexon Open API (header `x-nxopen-api-key`).
    pub const NEXON_API_KEY: &str = "NEXON_API_KEY";
    /// Secret: bearer token of `/metrics` and the admin routes.
    pub const ADMIN_TOKEN: &str = "ADMIN_TOKEN";
    /// Secret: a second bearer token accepted by `/metrics` only.
    pub const METRICS_SCRAPE_TOKEN: &str = "METRICS_SCRAPE_TOKEN";
    /// Secret: Discord-compatible webhook for CRITICAL and WARNING alerts.
    pub const ALERT_WEBHOOK_URL: &str = "ALERT_WEBHOOK_URL";
    /// Secret: PagerDuty Events API v2 endpoint (or a compatible one) paged for CRITICAL alerts.
    pub const PAGER_WEBHOOK_URL: &str = "PAGER_WEBHOOK_URL";
    /// Secret: the `routing_key` (integration key) sent in every page.
    pub const PAGER_ROUTING_KEY: &str = "PAGER_ROUTING_KEY";

    /// Every plain variable (each has an entry in `wrangler.toml`'s `[vars]`).
    pub const VARS: &[&str] = &[
        UPSTREAM_BASE_URL,
        UPSTREAM_TIMEOUT_MS,
        UPSTREAM_MAX_RETRIES,
        UPSTREAM_RATE_PER_SEC,
        UPSTREAM_BURST,
        BREAKER_FAILURES,
        BREAKER_OPEN_MS,
        REQUEST_DEADLINE_MS,
        OCID_FRESH_S,
        OCID_STALE_S,
        EQUIPMENT_FRESH_S,
        EQUIPMENT_STALE_S,
        STALE_WHILE_REVALIDATE_S,
        NOT_FOUND_TTL_S,
        REFRESH_WINDOW_S,
        L1_MAX_ENTRIES,
        L1_MAX_BYTES,
        L1_TTL_S,
        PURGE_CHECK_MS,
        CLIENT_RATE_PER_SEC,
        CLIENT_BURST,
        REFRESH_PER_MIN,
        REFRESH_BURST,
        OUTBOX_BATCH_SIZE,
        OUTBOX_LEASE_MS,
        OUTBOX_DELIVERY_TIMEOUT_MS,
        OUTBOX_MAX_ATTEMPTS,
        OUTBOX_BACKOFF_BASE_MS,
        OUTBOX_BACKOFF_CAP_MS,
        OUTBOX_RELAY_BUDGET_MS,
        OUTBOX_BACKLOG_ALERT_THRESHOLD,
        OUTBOX_DELIVERED_RETENTION_HOURS,
        OUTBOX_MAX_PAYLOAD_BYTES,
        ALLOW_LOOPBACK_WEBHOOKS,
        ALERT_WINDOW_S,
        RUNBOOK_URL,
        IDEMPOTENCY_TTL_S,
        WATCH_SWEEP_BATCH,
        WATCH_SWEEP_INTERVAL_S,
        ENABLE_TEST_ROUTES,
    ];
    /// Every secret (never in `wrangler.toml`; named in its comment and in `.dev.vars.example`).
    pub const SECRETS: &[&str] = &[
        NEXON_API_KEY,
        ADMIN_TOKEN,
        METRICS_SCRAPE_TOKEN,
        ALERT_WEBHOOK_URL,
        PAGER_WEBHOOK_URL,
        PAGER_ROUTING_KEY,
    ];
}

/// A variable that is set but unusable. `Display` names the variable and the value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The value is not a number of the variable's kind (an integer where one is expected).
    NotANumber { var: &'static str, value: String },
    /// A number outside `min..=max`.
    OutOfRange {
        var: &'static str,
        value: String,
        min: String,
        max: String,
    },
    /// A flag that is neither `"true"` nor `"false"`.
    NotABoolean { var: &'static str, value: String },
    /// A stale window shorter than its fresh window.
    StaleShorterThanFresh {
        stale: &'static str,
        fresh: &'static str,
    },
}

impl ConfigError {
    /// The variable at fault (for a pair, the stale one).
    pub fn var(&self) -> &'static str {
        match self {
            ConfigError::NotANumber { var, .. }
            | ConfigError::OutOfRange { var, .. }
            | ConfigError::NotABoolean { var, .. } => var,
            ConfigError::StaleShorterThanFresh { stale, .. } => stale,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NotANumber { var, value } => write!(f, "var {var} = {value:?} is not a number"),
            ConfigError::OutOfRange { var, value, min, max } => {
                write!(f, "var {var} = {value:?} is outside {min}..={max}")
            }
            ConfigError::NotABoolean { var, value } => {
                write!(f, "var {var} = {value:?} is not \"true\" or \"false\"")
            }
            ConfigError::StaleShorterThanFresh { stale, fresh } => {
                write!(f, "var {stale} must not be shorter than {fresh}")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// The value of a variable, or `None` when it is unset or blank.
pub fn text(get: &impl Fn(&str) -> Option<String>, var: &str) -> Option<String> {
    get(var).filter(|s| !s.trim().is_empty())
}

/// A number with a default, checked against `min..=max`.
///
/// # Errors
/// [`ConfigError::NotANumber`] when the value does not parse as `T`, [`ConfigError::OutOfRange`] when it
/// does but lies outside the range (a float `NaN` is out of every range).
pub fn number<T>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
    min: T,
    max: T,
) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + Copy + fmt::Display,
{
    let Some(raw) = text(get, var) else {
        return Ok(default);
    };
    match raw.trim().parse::<T>() {
        Ok(v) if v >= min && v <= max => Ok(v),
        Ok(_) => Err(ConfigError::OutOfRange {
            var,
            value: raw,
            min: min.to_string(),
            max: max.to_string(),
        }),
        Err(_) => Err(ConfigError::NotANumber { var, value: raw }),
    }
}

/// A flag: `"true"` or `"false"`, the default when unset.
///
/// # Errors
/// [`ConfigError::NotABoolean`] for any other value.
pub fn flag(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match text(get, var).as_deref().map(str::trim) {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(ConfigError::NotABoolean {
            var,
            value: other.to_owned(),
        }),
    }
}

const MS_PER_S: u64 = 1_000;
const DAY_S: u64 = 86_400;

/// A duration given in seconds, returned in milliseconds (`max_s` keeps the product far from overflow).
fn seconds_as_ms(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default_ms: u64,
    min_s: u64,
    max_s: u64,
) -> Result<u64, ConfigError> {
    Ok(number(get, var, default_ms / MS_PER_S, min_s, max_s)? * MS_PER_S)
}

/// Tunables of the cache and of the upstream protection.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Base URL of the Nexon Open API (`UPSTREAM_BASE_URL`), without a trailing `/`.
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

impl Config {
    /// # Errors
    /// The first variable that is set but unusable, or a stale window shorter than its fresh window.
    pub fn parse(get: &impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        use var::*;
        let d = Config::default();
        let cfg = Config {
            upstream_base_url: text(get, UPSTREAM_BASE_URL)
                .map(|s| s.trim().trim_end_matches('/').to_owned())
                .unwrap_or(d.upstream_base_url),
            upstream_timeout_ms: number(get, UPSTREAM_TIMEOUT_MS, d.upstream_timeout_ms, 1, 60_000)?,
            upstream_max_retries: number(get, UPSTREAM_MAX_RETRIES, d.upstream_max_retries, 0, 5)?,
            upstream_rate_per_sec: number(get, UPSTREAM_RATE_PER_SEC, d.upstream_rate_per_sec, 0.001, 1e6)?,
            upstream_burst: number(get, UPSTREAM_BURST, d.upstream_burst, 1.0, 1e6)?,
            breaker_failures: number(get, BREAKER_FAILURES, d.breaker_failures, 1, 1_000_000)?,
            breaker_open_ms: number(get, BREAKER_OPEN_MS, d.breaker_open_ms, 0, 3_600_000)?,
            request_deadline_ms: number(get, REQUEST_DEADLINE_MS, d.request_deadline_ms, 1, 120_000)?,
            ocid_fresh_ms: seconds_as_ms(get, OCID_FRESH_S, d.ocid_fresh_ms, 0, 30 * DAY_S)?,
            ocid_stale_ms: seconds_as_ms(get, OCID_STALE_S, d.ocid_stale_ms, 0, 365 * DAY_S)?,
            equipment_fresh_ms: seconds_as_ms(get, EQUIPMENT_FRESH_S, d.equipment_fresh_ms, 0, 30 * DAY_S)?,
            equipment_stale_ms: seconds_as_ms(get, EQUIPMENT_STALE_S, d.equipment_stale_ms, 0, 365 * DAY_S)?,
            stale_while_revalidate_ms: seconds_as_ms(
                get,
                STALE_WHILE_REVALIDATE_S,
                d.stale_while_revalidate_ms,
                0,
                30 * DAY_S,
            )?,
            not_found_ttl_ms: seconds_as_ms(get, NOT_FOUND_TTL_S, d.not_found_ttl_ms, 0, DAY_S)?,
            refresh_window_ms: seconds_as_ms(get, REFRESH_WINDOW_S, d.refresh_window_ms, 0, DAY_S)?,
            l1_max_entries: number(get, L1_MAX_ENTRIES, d.l1_max_entries, 0, 1_000_000)?,
            l1_max_bytes: number(get, L1_MAX_BYTES, d.l1_max_bytes, 0, 1 << 30)?,
            l1_ttl_ms: seconds_as_ms(get, L1_TTL_S, d.l1_ttl_ms, 0, DAY_S)?,
            purge_check_ms: number(get, PURGE_CHECK_MS, d.purge_check_ms, 0, 3_600_000)?,
            client_rate_per_sec: number(get, CLIENT_RATE_PER_SEC, d.client_rate_per_sec, 0.001, 1e9)?,
            client_burst: number(get, CLIENT_BURST, d.client_burst, 1.0, 1e9)?,
            refresh_per_min: number(get, REFRESH_PER_MIN, d.refresh_per_min, 0.001, 1e9)?,
            refresh_burst: number(get, REFRESH_BURST, d.refresh_burst, 1.0, 1e9)?,
        };
        cfg.check_windows()?;
        Ok(cfg)
    }

    /// What ranges alone cannot say: a stale window is not shorter than its fresh window.
    fn check_windows(&self) -> Result<(), ConfigError> {
        if self.ocid_stale_ms < self.ocid_fresh_ms {
            return Err(ConfigError::StaleShorterThanFresh {
                stale: var::OCID_STALE_S,
                fresh: var::OCID_FRESH_S,
            });
        }
        if self.equipment_stale_ms < self.equipment_fresh_ms {
            return Err(ConfigError::StaleShorterThanFresh {
                stale: var::EQUIPMENT_STALE_S,
                fresh: var::EQUIPMENT_FRESH_S,
            });
        }
        Ok(())
    }
}

impl WebhookPolicy {
    /// The policy from `ALLOW_LOOPBACK_WEBHOOKS` (default false).
    ///
    /// # Errors
    /// [`ConfigError::NotABoolean`].
    pub fn parse(get: &impl Fn(&str) -> Option<String>) -> Result<WebhookPolicy, ConfigError> {
        Ok(WebhookPolicy {
            allow_loopback: flag(get, var::ALLOW_LOOPBACK_WEBHOOKS, false)?,
        })
    }
}

/// Outbox relay settings (`[vars]` in wrangler.toml documents each one).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RelayConfig {
    /// Events claimed (and delivered concurrently) per claim: `OUTBOX_BATCH_SIZE`.
    pub batch_size: u32,
    /// How long a claim holds its events: `OUTBOX_LEASE_MS`. Should exceed the delivery timeout (not
    /// enforced: the lease tests run with a shorter lease on purpose, and the lease-token fence keeps a
    /// late settlement out either way).
    pub lease_ms: u64,
    /// Deadline of one POST: `OUTBOX_DELIVERY_TIMEOUT_MS`.
    pub delivery_timeout_ms: u64,
    /// Attempts before an event is dead-lettered: `OUTBOX_MAX_ATTEMPTS`.
    pub max_attempts: u32,
    /// Full-jitter exponential backoff: `OUTBOX_BACKOFF_BASE_MS`, `OUTBOX_BACKOFF_CAP_MS`.
    pub backoff_base_ms: u64,
    pub backoff_cap_ms: u64,
    /// Wall-clock budget of one relay run: `OUTBOX_RELAY_BUDGET_MS`.
    pub budget_ms: u64,
    /// Undelivered events above which a cron run raises a WARNING: `OUTBOX_BACKLOG_ALERT_THRESHOLD`.
    pub backlog_alert_threshold: u64,
    /// Delivered events are purged after this long: `OUTBOX_DELIVERED_RETENTION_HOURS`.
    pub delivered_retention_ms: u64,
    pub webhooks: WebhookPolicy,
}

impl RelayConfig {
    /// # Errors
    /// The first variable that is set but unusable.
    pub fn parse(get: &impl Fn(&str) -> Option<String>) -> Result<RelayConfig, ConfigError> {
        use var::*;
        Ok(RelayConfig {
            batch_size: number(get, OUTBOX_BATCH_SIZE, 6, 1, 50)?,
            lease_ms: number(get, OUTBOX_LEASE_MS, 60_000, 100, 3_600_000)?,
            delivery_timeout_ms: number(get, OUTBOX_DELIVERY_TIMEOUT_MS, 10_000, 50, 120_000)?,
            max_attempts: number(get, OUTBOX_MAX_ATTEMPTS, 10, 1, 100)?,
            backoff_base_ms: number(get, OUTBOX_BACKOFF_BASE_MS, 1_000, 1, 3_600_000)?,
            backoff_cap_ms: number(get, OUTBOX_BACKOFF_CAP_MS, 600_000, 1, 86_400_000)?,
            budget_ms: number(get, OUTBOX_RELAY_BUDGET_MS, 20_000, 100, 600_000)?,
            backlog_alert_threshold: number(get, OUTBOX_BACKLOG_ALERT_THRESHOLD, 1_000, 1, u64::MAX)?,
            delivered_retention_ms: number(get, OUTBOX_DELIVERED_RETENTION_HOURS, 168u64, 1, 87_600)?
                * 3_600_000,
            webhooks: WebhookPolicy::parse(get)?,
        })
    }

    /// The wait before attempt `attempt + 1`: full jitter ([`crate::backoff::full_jitter`]) from the
    /// caller's random number. Without randomness, the whole ceiling: later rather than in lockstep with
    /// other events.
    pub fn backoff_ms(&self, attempt: u32, random: Option<u64>) -> u64 {
        use crate::backoff::{ceiling, full_jitter};
        let (base, cap) = (self.backoff_base_ms, self.backoff_cap_ms);
        random.map_or(ceiling(attempt, base, cap), |r| {
            full_jitter(attempt, base, cap, r)
        })
    }
}

/// Watch settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchConfig {
    /// How long an Idempotency-Key is remembered: `IDEMPOTENCY_TTL_S` (default one day).
    pub idempotency_ttl_ms: u64,
    /// Largest `valuation.changed` body; per-item changes are cut to fit: `OUTBOX_MAX_PAYLOAD_BYTES`.
    pub max_payload_bytes: usize,
    /// Characters refreshed per sweep (the upstream budget of one cron run): `WATCH_SWEEP_BATCH`.
    pub sweep_batch: u32,
    /// A watched character is refreshed at most this often by the sweep: `WATCH_SWEEP_INTERVAL_S`.
    pub sweep_interval_ms: u64,
}

impl WatchConfig {
    /// # Errors
    /// The first variable that is set but unusable.
    pub fn parse(get: &impl Fn(&str) -> Option<String>) -> Result<WatchConfig, ConfigError> {
        use var::*;
        Ok(WatchConfig {
            idempotency_ttl_ms: seconds_as_ms(get, IDEMPOTENCY_TTL_S, 86_400_000, 60, 2_592_000)?,
            max_payload_bytes: number(get, OUTBOX_MAX_PAYLOAD_BYTES, 16_384usize, 1_024, 262_144)?,
            sweep_batch: number(get, WATCH_SWEEP_BATCH, 5, 0, 100)?,
            sweep_interval_ms: seconds_as_ms(get, WATCH_SWEEP_INTERVAL_S, 3_600_000, 0, 604_800)?,
        })
    }
}

/// Alert settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertConfig {
    /// Dedup window: `ALERT_WINDOW_S` (default 900).
    pub window_ms: u64,
    /// Base of the runbook link in alert messages: `RUNBOOK_URL` (default `RUNBOOK.md`).
    pub runbook_url: String,
}

impl AlertConfig {
    /// # Errors
    /// [`ConfigError`] for an unusable `ALERT_WINDOW_S`.
    pub fn parse(get: &impl Fn(&str) -> Option<String>) -> Result<AlertConfig, ConfigError> {
        Ok(AlertConfig {
            window_ms: seconds_as_ms(get, var::ALERT_WINDOW_S, 900_000, 0, 604_800)?,
            runbook_url: text(get, var::RUNBOOK_URL).unwrap_or_else(|| "RUNBOOK.md".to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lookup over a fixed table, as the Worker's `Env` would answer.
    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let table: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| table.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    /// One case: the variables set, and the error `Config::parse` must give (None: it parses).
    fn check(pairs: &[(&str, &str)], expect: Option<ConfigError>) {
        assert_eq!(Config::parse(&vars(pairs)).err(), expect, "{pairs:?}");
    }

    fn out_of_range(var: &'static str, value: &str, min: &str, max: &str) -> Option<ConfigError> {
        Some(ConfigError::OutOfRange {
            var,
            value: value.into(),
            min: min.into(),
            max: max.into(),
        })
    }

    fn not_a_number(var: &'static str, value: &str) -> Option<ConfigError> {
        Some(ConfigError::NotANumber {
            var,
            value: value.into(),
        })
    }

    #[test]
    fn unset_and_blank_take_the_defaults() {
        assert_eq!(Config::parse(&vars(&[])).unwrap(), Config::default());
        assert_eq!(
            Config::parse(&vars(&[
                (var::UPSTREAM_TIMEOUT_MS, "  "),
                (var::UPSTREAM_BASE_URL, "")
            ]))
            .unwrap(),
            Config::default()
        );
        assert_eq!(RelayConfig::parse(&vars(&[])).unwrap().batch_size, 6);
        assert_eq!(
            WatchConfig::parse(&vars(&[])).unwrap().idempotency_ttl_ms,
            86_400_000
        );
        assert_eq!(
            AlertConfig::parse(&vars(&[])).unwrap(),
            AlertConfig {
                window_ms: 900_000,
                runbook_url: "RUNBOOK.md".into()
            }
        );
        assert!(!WebhookPolicy::parse(&vars(&[])).unwrap().allow_loopback);
    }

    #[test]
    fn set_values_are_read_with_their_units() {
        let cfg = Config::parse(&vars(&[
            (var::UPSTREAM_BASE_URL, "http://127.0.0.1:8787/"),
            (var::UPSTREAM_TIMEOUT_MS, " 250 "),
            (var::EQUIPMENT_FRESH_S, "2"),
            (var::UPSTREAM_RATE_PER_SEC, "0.5"),
        ]))
        .unwrap();
        assert_eq!(cfg.upstream_base_url, "http://127.0.0.1:8787");
        assert_eq!(cfg.upstream_timeout_ms, 250);
        assert_eq!(cfg.equipment_fresh_ms, 2_000);
        assert_eq!(cfg.upstream_rate_per_sec, 0.5);
        let relay = RelayConfig::parse(&vars(&[(var::OUTBOX_DELIVERED_RETENTION_HOURS, "2")])).unwrap();
        assert_eq!(relay.delivered_retention_ms, 7_200_000);
        let watch = WatchConfig::parse(&vars(&[(var::WATCH_SWEEP_INTERVAL_S, "0")])).unwrap();
        assert_eq!(watch.sweep_interval_ms, 0);
    }

    #[test]
    fn parsing_errors_name_the_variable_and_the_rule() {
        check(
            &[(var::UPSTREAM_TIMEOUT_MS, "3s")],
            not_a_number(var::UPSTREAM_TIMEOUT_MS, "3s"),
        );
        check(
            &[(var::UPSTREAM_TIMEOUT_MS, "-1")],
            not_a_number(var::UPSTREAM_TIMEOUT_MS, "-1"),
        );
        check(
            &[(var::UPSTREAM_MAX_RETRIES, "1.5")],
            not_a_number(var::UPSTREAM_MAX_RETRIES, "1.5"),
        );
        check(
            &[(var::UPSTREAM_TIMEOUT_MS, "0")],
            out_of_range(var::UPSTREAM_TIMEOUT_MS, "0", "1", "60000"),
        );
        check(
            &[(var::UPSTREAM_MAX_RETRIES, "6")],
            out_of_range(var::UPSTREAM_MAX_RETRIES, "6", "0", "5"),
        );
        check(
            &[(var::UPSTREAM_BURST, "0.5")],
            out_of_range(var::UPSTREAM_BURST, "0.5", "1", "1000000"),
        );
        check(
            &[(var::UPSTREAM_BURST, "NaN")],
            out_of_range(var::UPSTREAM_BURST, "NaN", "1", "1000000"),
        );
        check(
            &[(var::CLIENT_BURST, "inf")],
            out_of_range(var::CLIENT_BURST, "inf", "1", "1000000000"),
        );
        check(
            &[(var::OCID_FRESH_S, "2592001")],
            out_of_range(var::OCID_FRESH_S, "2592001", "0", "2592000"),
        );
        check(
            &[(var::L1_MAX_BYTES, "1073741825")],
            out_of_range(var::L1_MAX_BYTES, "1073741825", "0", "1073741824"),
        );
        check(
            &[(var::REFRESH_PER_MIN, "0")],
            out_of_range(var::REFRESH_PER_MIN, "0", "0.001", "1000000000"),
        );
        // The first bad variable in declaration order is the one reported.
        check(
            &[(var::REFRESH_BURST, "x"), (var::UPSTREAM_TIMEOUT_MS, "y")],
            not_a_number(var::UPSTREAM_TIMEOUT_MS, "y"),
        );
    }

    #[test]
    fn a_stale_window_shorter_than_fresh_is_refused() {
        check(
            &[(var::EQUIPMENT_FRESH_S, "100"), (var::EQUIPMENT_STALE_S, "10")],
            Some(ConfigError::StaleShorterThanFresh {
                stale: var::EQUIPMENT_STALE_S,
                fresh: var::EQUIPMENT_FRESH_S,
            }),
        );
        check(
            &[(var::OCID_STALE_S, "0")],
            Some(ConfigError::StaleShorterThanFresh {
                stale: var::OCID_STALE_S,
                fresh: var::OCID_FRESH_S,
            }),
        );
        check(
            &[(var::EQUIPMENT_FRESH_S, "10"), (var::EQUIPMENT_STALE_S, "10")],
            None,
        );
    }

    #[test]
    fn other_settings_report_their_variable() {
        let e = RelayConfig::parse(&vars(&[(var::OUTBOX_BATCH_SIZE, "0")])).unwrap_err();
        assert_eq!(e.var(), var::OUTBOX_BATCH_SIZE);
        let e = RelayConfig::parse(&vars(&[(var::ALLOW_LOOPBACK_WEBHOOKS, "yes")])).unwrap_err();
        assert_eq!(
            e,
            ConfigError::NotABoolean {
                var: var::ALLOW_LOOPBACK_WEBHOOKS,
                value: "yes".into()
            }
        );
        let e = WatchConfig::parse(&vars(&[(var::IDEMPOTENCY_TTL_S, "59")])).unwrap_err();
        assert_eq!(
            e,
            out_of_range(var::IDEMPOTENCY_TTL_S, "59", "60", "2592000").unwrap()
        );
        let e = WatchConfig::parse(&vars(&[(var::OUTBOX_MAX_PAYLOAD_BYTES, "1e4")])).unwrap_err();
        assert_eq!(e, not_a_number(var::OUTBOX_MAX_PAYLOAD_BYTES, "1e4").unwrap());
        let e = AlertConfig::parse(&vars(&[(var::ALERT_WINDOW_S, "604801")])).unwrap_err();
        assert_eq!(e.var(), var::ALERT_WINDOW_S);
        assert_eq!(
            e.to_string(),
            "var ALERT_WINDOW_S = \"604801\" is outside 0..=604800"
        );
        assert!(flag(
            &vars(&[(var::ENABLE_TEST_ROUTES, " true ")]),
            var::ENABLE_TEST_ROUTES,
            false
        )
        .unwrap());
    }

    #[test]
    fn backoff_without_randomness_waits_the_whole_ceiling() {
        let relay = RelayConfig::parse(&vars(&[])).unwrap();
        assert_eq!(relay.backoff_ms(3, None), 4_000);
        assert!(relay.backoff_ms(3, Some(12_345)) <= 4_000);
    }

    /// Every name in [`var::VARS`] is documented in `wrangler.toml`'s `[vars]`, and every secret in its
    /// comment, so the constants cannot drift from the deploy file.
    #[test]
    fn every_variable_is_in_wrangler_toml() {
        let toml = include_str!("../../wrangler.toml");
        for name in var::VARS {
            assert!(
                toml.lines().any(|l| l.starts_with(&format!("{name} = "))),
                "{name} is not set in wrangler.toml [vars]"
            );
        }
        for name in var::SECRETS {
            assert!(toml.contains(name), "secret {name} is not named in wrangler.toml");
        }
    }
}
