//! The sweep's character lookup: name → ocid → item-equipment → valuation engine → [`ValuationSummary`].
//!
//! It is the character valuation route's lookup (the service [`crate::characters::lookup`] and
//! [`crate::characters::valued`]) in refresh mode: through the cache tiers, the single-flight
//! Durable Object and the global upstream token bucket / circuit breaker, so the sweep sees current
//! equipment without exceeding the upstream budget, and shares loads with concurrent requests. Unlike a
//! client's refresh, a failed load is an error here, never a stale copy.
use serde::Deserialize;
use serde_json::value::RawValue;
use worker::Env;

use crate::cache::{Background, Mode};
use crate::characters;
use crate::context::{now_ms, TaskContext};
use crate::error::EdgeError;
use pve_edge::valuation::{ItemValue, ValuationSummary};

/// Why the sweep could not get a character's current valuation.
#[derive(Debug)]
#[non_exhaustive]
pub enum LookupError {
    /// The Worker's configuration (vars) is invalid.
    NotConfigured(String),
    /// The upstream does not know this character.
    NotFound,
    /// The upstream answered 429, or our upstream token bucket is empty.
    RateLimited(String),
    /// 5xx, timeout, network error, an open circuit, or an answer we cannot read.
    Upstream(String),
    /// The valuation engine refused the equipment, or its answer lacks the equipped set.
    Valuation(String),
    /// A platform failure (KV, Durable Object, D1).
    Internal(String),
}

impl LookupError {
    pub fn code(&self) -> &'static str {
        match self {
            LookupError::NotConfigured(_) => "lookup_not_configured",
            LookupError::NotFound => "character_not_found",
            LookupError::RateLimited(_) => "upstream_rate_limited",
            LookupError::Upstream(_) => "upstream_unavailable",
            LookupError::Valuation(_) => "valuation_failed",
            LookupError::Internal(_) => "internal",
        }
    }

    /// Whether the sweep should stop here rather than try the next character.
    pub fn stops_sweep(&self) -> bool {
        !matches!(self, LookupError::NotFound | LookupError::Valuation(_))
    }
}

impl std::fmt::Display for LookupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LookupError::NotConfigured(d)
            | LookupError::RateLimited(d)
            | LookupError::Upstream(d)
            | LookupError::Valuation(d)
            | LookupError::Internal(d) => write!(f, "{}: {d}", self.code()),
            LookupError::NotFound => f.write_str(self.code()),
        }
    }
}

/// The character lookup's errors, as the sweep counts them. Exhaustive: a new [`EdgeError`] kind must be
/// classified here.
impl From<EdgeError> for LookupError {
    fn from(e: EdgeError) -> Self {
        let detail = e.to_string();
        match e {
            EdgeError::CharacterNotFound => LookupError::NotFound,
            EdgeError::UpstreamRateLimited { .. } => LookupError::RateLimited(detail),
            EdgeError::UpstreamUnavailable { .. } => LookupError::Upstream(detail),
            EdgeError::Config(_) => LookupError::NotConfigured(detail),
            // The engine refused the equipment, or the character has no such equipped set.
            EdgeError::Api(_) | EdgeError::InvalidQuery(_) | EdgeError::InvalidValuationSummary(_) => {
                LookupError::Valuation(detail)
            }
            // A platform failure, or a bug of ours.
            EdgeError::Platform(_) | EdgeError::Internal(_) => LookupError::Internal(detail),
            // A stored watch whose name the rule refuses: the rule changed after it was stored.
            EdgeError::InvalidCharacterName { .. } => LookupError::Internal(detail),
            // Answers to a client's HTTP request (routing, auth, bodies, client limits, watches, dead
            // letters): a lookup never produces them, so one here is a bug.
            EdgeError::RouteNotFound
            | EdgeError::MethodNotAllowed { .. }
            | EdgeError::Unauthorized
            | EdgeError::PayloadTooLarge { .. }
            | EdgeError::IdempotencyKeyMissing
            | EdgeError::IdempotencyKeyInvalid
            | EdgeError::IdempotencyKeyReused
            | EdgeError::InvalidWebhookUrl(_)
            | EdgeError::WatchTokenRequired
            | EdgeError::InvalidWatchToken
            | EdgeError::WatchNotFound
            | EdgeError::DeadLetterNotFound
            | EdgeError::AlertNotFound
            | EdgeError::DeadLetterAlreadyReplayed
            | EdgeError::ContentHashMismatch
            | EdgeError::InvalidCursor
            | EdgeError::RateLimited { .. }
            | EdgeError::RefreshRateLimited { .. } => {
                LookupError::Internal(format!("bug: a lookup answered {detail}"))
            }
        }
    }
}

/// The current valuation of `name`'s equipped set: its equipment refreshed (a copy loaded by anyone
/// within `REFRESH_WINDOW_S` counts) and valued by the engine, as the valuation route does.
pub async fn current_valuation(
    env: &Env,
    bg: &impl Background,
    task: &TaskContext,
    name: &str,
) -> Result<ValuationSummary, LookupError> {
    let cfg = crate::config::get(env)?;
    let now = now_ms();
    let mode = Mode::Refresh {
        requested_at: now,
        stale_if_error: false,
    };
    let c = characters::lookup(
        env,
        bg,
        &cfg,
        task,
        name.to_owned(),
        mode,
        now + cfg.request_deadline_ms,
    )
    .await?;
    task.record("equipment_tier", c.equipment.how.tier());
    let valued = characters::valued(env, bg, &cfg, task, &c, "equipped").await?;
    summary_from_valued(&valued.entry.body)
}

/// The equipped set's summary from a [`characters::valued`] body (`{"set":…,"valuation":…}`, where
/// `valuation` is the engine's whole answer).
pub fn summary_from_valued(body: &[u8]) -> Result<ValuationSummary, LookupError> {
    #[derive(Deserialize)]
    struct Valued<'a> {
        #[serde(borrow)]
        valuation: &'a RawValue,
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| LookupError::Valuation("cached valuation is not UTF-8".into()))?;
    let valued: Valued =
        serde_json::from_str(text).map_err(|e| LookupError::Valuation(format!("cached valuation: {e}")))?;
    summary_from_valuation(valued.valuation.get())
}

/// Reduces the valuation engine's answer to the equipped set: its total and its items (slot, name,
/// mean cost in mesos; `None` when nothing of the item is valued in mesos).
pub fn summary_from_valuation(json: &str) -> Result<ValuationSummary, LookupError> {
    #[derive(Deserialize)]
    struct Valuation {
        sets: Vec<Set>,
    }
    #[derive(Deserialize)]
    struct Set {
        set: String,
        summary: SetSummary,
        items: Vec<SetItem>,
    }
    #[derive(Deserialize)]
    struct SetSummary {
        mean_mesos: Option<f64>,
    }
    #[derive(Deserialize)]
    struct SetItem {
        slot: String,
        name: String,
        mean_mesos: Option<f64>,
    }
    let v: Valuation =
        serde_json::from_str(json).map_err(|e| LookupError::Valuation(format!("unexpected answer: {e}")))?;
    let equipped = v
        .sets
        .into_iter()
        .find(|s| s.set == "equipped")
        .ok_or_else(|| LookupError::Valuation("the answer has no equipped set".into()))?;
    let total = equipped
        .summary
        .mean_mesos
        .ok_or_else(|| LookupError::Valuation("the equipped set has no total in mesos".into()))?;
    Ok(ValuationSummary {
        total_mean_cost: total,
        items: equipped
            .items
            .into_iter()
            .map(|i| ItemValue {
                slot: i.slot,
                name: i.name,
                mean_cost: i.mean_mesos,
            })
            .collect(),
    })
}
