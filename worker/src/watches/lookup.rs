//! The sweep's character lookup: name → ocid → item-equipment → valuation engine → [`ValuationSummary`].
//!
//! This is the minimal direct path to the upstream (`UPSTREAM_BASE_URL`, key `NEXON_API_KEY`), with a
//! timeout on every call and no retry. The sweep bounds it (`WATCH_SWEEP_BATCH` characters per cron run,
//! two upstream calls each) and stops at the first 429 or upstream failure. It is the one function to
//! replace with the cached character lookup (tiers, single-flight, global rate limiter) when that lands.
use std::time::Duration;

use pve_api::Operation;
use serde::Deserialize;
use worker::{Env, Headers, Method, Request, RequestInit, Url};

use super::{ItemValue, ValuationSummary};
use crate::bindings::UPSTREAM_BASE_URL;
use crate::fetch;
use crate::vars;

/// Deadline of one upstream call made by the sweep.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(5);
/// The upstream's answers are bounded before we parse them.
const MAX_UPSTREAM_BYTES: usize = 2 * 1024 * 1024;

/// Why the sweep could not get a character's current valuation.
#[derive(Debug)]
#[non_exhaustive]
pub enum LookupError {
    /// `UPSTREAM_BASE_URL` or `NEXON_API_KEY` is not set.
    NotConfigured,
    /// The upstream does not know this character.
    NotFound,
    /// The upstream answered 429.
    RateLimited,
    /// 5xx, timeout, network error, or an answer we cannot read.
    Upstream(String),
    /// The valuation engine refused the equipment, or its answer lacks the equipped set.
    Valuation(String),
}

impl LookupError {
    pub fn code(&self) -> &'static str {
        match self {
            LookupError::NotConfigured => "lookup_not_configured",
            LookupError::NotFound => "character_not_found",
            LookupError::RateLimited => "upstream_rate_limited",
            LookupError::Upstream(_) => "upstream_unavailable",
            LookupError::Valuation(_) => "valuation_failed",
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
            LookupError::Upstream(d) | LookupError::Valuation(d) => write!(f, "{}: {d}", self.code()),
            other => f.write_str(other.code()),
        }
    }
}

/// The current valuation of `name`'s equipped set.
pub async fn current_valuation(env: &Env, name: &str) -> Result<ValuationSummary, LookupError> {
    let base = vars::text(env, UPSTREAM_BASE_URL).ok_or(LookupError::NotConfigured)?;
    let key = vars::text(env, "NEXON_API_KEY").ok_or(LookupError::NotConfigured)?;
    let base = base.trim_end_matches('/');

    #[derive(Deserialize)]
    struct Ocid {
        ocid: String,
    }
    let mut url = parse_url(&format!("{base}/maplestory/v1/id"))?;
    url.query_pairs_mut().append_pair("character_name", name);
    let ocid: Ocid = serde_json::from_str(&get(url, &key).await?)
        .map_err(|e| LookupError::Upstream(format!("id answer: {e}")))?;

    let mut url = parse_url(&format!("{base}/maplestory/v1/character/item-equipment"))?;
    url.query_pairs_mut().append_pair("ocid", &ocid.ocid);
    let equipment = get(url, &key).await?;
    let equipment: serde_json::Value = serde_json::from_str(&equipment)
        .map_err(|e| LookupError::Upstream(format!("item-equipment answer: {e}")))?;
    let request = serde_json::json!({ "equipment": equipment }).to_string();
    let valuation =
        pve_api::handle(Operation::Valuation, &request).map_err(|e| LookupError::Valuation(e.to_string()))?;
    summary_from_valuation(&valuation)
}

fn parse_url(s: &str) -> Result<Url, LookupError> {
    Url::parse(s).map_err(|e| LookupError::Upstream(format!("bad upstream URL {s:?}: {e}")))
}

async fn get(url: Url, key: &str) -> Result<String, LookupError> {
    let headers = Headers::new();
    let mut init = RequestInit::new();
    let request = headers
        .set("x-nxopen-api-key", key)
        .and_then(|()| {
            Request::new_with_init(url.as_str(), init.with_method(Method::Get).with_headers(headers))
        })
        .map_err(|e| LookupError::Upstream(format!("building the request: {e}")))?;
    let mut resp = fetch::send(request, UPSTREAM_TIMEOUT)
        .await
        .map_err(|e| LookupError::Upstream(e.to_string()))?;
    match resp.status_code() {
        200 => {}
        429 => return Err(LookupError::RateLimited),
        // Nexon answers an unknown character name with a 4xx error body.
        400 | 404 => return Err(LookupError::NotFound),
        s => return Err(LookupError::Upstream(format!("HTTP {s} from {}", url.path()))),
    }
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| LookupError::Upstream(format!("reading the answer: {e}")))?;
    if bytes.len() > MAX_UPSTREAM_BYTES {
        return Err(LookupError::Upstream(format!("answer of {} bytes", bytes.len())));
    }
    String::from_utf8(bytes).map_err(|_| LookupError::Upstream("answer is not UTF-8".into()))
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
