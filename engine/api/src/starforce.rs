//! `starforce` request/response schema: `pve starforce`, `POST /v1/starforce` and the Wasm API.
//!
//! Request (only the first three fields are required; unknown fields are an error):
//! ```json
//! {"item_level":200,"from_star":0,"to_star":22,"ruleset":"kms","star_catch":true,"safeguard":true,
//!  "events":{"thirty_off":false,"boom_reduction":false,"five_ten_fifteen":false,"plus_one":false},
//!  "mvp":"none","pc_room":false,"spare_cost":0}
//! ```
//! Defaults: `ruleset` `"kms"`, `star_catch` `true` (as players enhance, like the valuation and the page;
//! issue 15), every other boolean `false`, `mvp` `"none"`, `spare_cost` 0. The response's `request` echoes
//! the request with every default filled in, so it states the options used.
use crate::{ApiError, ErrorCode};
use pve_engine::starforce as sf;
use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize};

/// A named choice read as a string, so that a non-string is `invalid_type` (serde_json reports a
/// non-string where a derived enum is expected as a syntax error) and an unknown name `unknown_variant`.
fn by_name<'de, D: Deserializer<'de>, T: Copy>(
    d: D,
    names: &'static [&'static str],
    all: &[T],
) -> Result<T, D::Error> {
    let s = String::deserialize(d)?;
    match names.iter().position(|n| *n == s) {
        Some(i) => Ok(all[i]),
        None => Err(D::Error::unknown_variant(&s, names)),
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Ruleset {
    #[default]
    Kms,
    Gms,
    Savior,
    PreSavior,
}

impl<'de> Deserialize<'de> for Ruleset {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use Ruleset::*;
        by_name(
            d,
            &["kms", "gms", "savior", "pre_savior"],
            &[Kms, Gms, Savior, PreSavior],
        )
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Mvp {
    #[default]
    None,
    Silver,
    Gold,
    Diamond,
    Red,
}

impl<'de> Deserialize<'de> for Mvp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use Mvp::*;
        by_name(
            d,
            &["none", "silver", "gold", "diamond", "red"],
            &[None, Silver, Gold, Diamond, Red],
        )
    }
}

/// The event toggles; an absent one is `false`. Which ones the request gave is kept (not serialized)
/// so that an `event` preset can tell a contradicting toggle from a default.
#[derive(Debug, Clone, Copy, Default, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Events {
    #[serde(default)]
    pub thirty_off: bool,
    #[serde(default)]
    pub boom_reduction: bool,
    #[serde(default)]
    pub five_ten_fifteen: bool,
    #[serde(default)]
    pub plus_one: bool,
    /// `[thirty_off, boom_reduction, five_ten_fifteen, plus_one]` given in the request.
    #[serde(skip)]
    pub given: [bool; 4],
}

/// The wire form of [`Events`]: the same fields, each `Some` when present (a `null` is a type error).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsIn {
    #[serde(default, deserialize_with = "present")]
    thirty_off: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    boom_reduction: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    five_ten_fifteen: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    plus_one: Option<bool>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    bool::deserialize(d).map(Some)
}

impl<'de> Deserialize<'de> for Events {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let e = EventsIn::deserialize(d)?;
        let all = [e.thirty_off, e.boom_reduction, e.five_ten_fifteen, e.plus_one];
        Ok(Events {
            thirty_off: e.thirty_off.unwrap_or(false),
            boom_reduction: e.boom_reduction.unwrap_or(false),
            five_ten_fifteen: e.five_ten_fifteen.unwrap_or(false),
            plus_one: e.plus_one.unwrap_or(false),
            given: all.map(|v| v.is_some()),
        })
    }
}

/// A named KMS event preset (`pve_engine::starforce::rules::EVENT_PRESETS`, with its sources): it
/// sets `thirty_off`, `boom_reduction` and `five_ten_fifteen`; an `events` toggle given with another
/// value is `invalid_combination`.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventPreset {
    /// 샤이닝 스타포스: 30% off and destroy × 0.7 at ≤ 21★.
    Shining,
    /// 샤이닝 스타포스 with 5/10/15★ certain as well.
    #[serde(rename = "shining_5_10_15")]
    Shining51015,
}

impl<'de> Deserialize<'de> for EventPreset {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use EventPreset::*;
        by_name(d, &["shining", "shining_5_10_15"], &[Shining, Shining51015])
    }
}

impl EventPreset {
    fn rules(self) -> &'static sf::EventPreset {
        match self {
            EventPreset::Shining => &sf::EVENT_PRESETS[0],
            EventPreset::Shining51015 => &sf::EVENT_PRESETS[1],
        }
    }
}

/// The request; echoed back, with every default filled in, as the response's `request`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(transform = request_rules_schema))]
#[serde(deny_unknown_fields)]
pub struct StarforceRequest {
    /// 0 to 300.
    #[cfg_attr(feature = "schema", schemars(range(max = pve_engine::starforce::MAX_ITEM_LEVEL)))]
    pub item_level: u32,
    /// The current star; at most `to_star` (else 400 `invalid_combination`).
    pub from_star: u32,
    /// The target star; at most the rule set's star cap for `item_level` (else 400 `out_of_range`).
    pub to_star: u32,
    #[serde(default)]
    pub ruleset: Ruleset,
    /// Success × 1.05 at every attempt. Absent → `true` (as players enhance); always given in the echo.
    /// `star_catch_no_effect` is raised only when the request gives `true`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "schema", schemars(with = "bool", extend("default" = true)))]
    pub star_catch: Option<bool>,
    #[serde(default)]
    pub safeguard: bool,
    #[serde(default)]
    pub events: Events,
    /// A named event preset that sets the event toggles (echoed with the toggles it set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventPreset>,
    #[serde(default)]
    pub mvp: Mvp,
    #[serde(default)]
    pub pc_room: bool,
    /// Mesos per destroyed item, from 0 to 10^15.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 0.0, max = sf::MAX_SPARE_COST)))]
    pub spare_cost: f64,
    /// Per-star safeguard policy (stars where the rule set offers it); `safeguard: true` is the
    /// every-allowed-star short form. Both given → `invalid_combination`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safeguard_stars: Option<Vec<u32>>,
    /// The budget-and-spares planner's question; absent → no `plan` in the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanRequest>,
}

/// The cross-field rules [`compute`] checks, as JSON Schema (request side only), derived from the rule
/// tables so a request the schema admits is one the engine takes: the star cap of each rule set by
/// item level (`to_star`, else `out_of_range`), `from_star ≤ to_star` (else `invalid_combination`),
/// the stars where each rule set offers safeguard (`safeguard_stars`, else `out_of_range`), not both
/// `safeguard: true` and `safeguard_stars`, and an `event` preset's toggles (a given toggle that
/// contradicts it is `invalid_combination`).
#[cfg(feature = "schema")]
fn request_rules_schema(schema: &mut schemars::Schema) {
    use serde_json::{json, Value};
    let top = sf::RuleSetId::ALL
        .iter()
        .map(|id| id.rules().max_star)
        .max()
        .unwrap_or(0);
    if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for star in ["from_star", "to_star"] {
            if let Some(p) = props.get_mut(star) {
                p["maximum"] = json!(top);
            }
        }
    }
    // Each rule is a list of branches one of which must admit the request (`anyOf`), not an if/then:
    // schemathesis' generator (jsonschema_rs' canonical form) takes the one and not the other. The star
    // cap and `from_star ≤ to_star` are one list, a branch per (rule set, level band, target): as two
    // lists (or the second in one list of 31), jsonschema_rs' product of them is too large and it gives up.
    let mut caps = Vec::new();
    for id in sf::RuleSetId::ALL {
        let r = id.rules();
        let mut low = 0;
        for &(level, cap) in r.star_caps {
            if low > sf::MAX_ITEM_LEVEL {
                break;
            }
            let high = level.min(sf::MAX_ITEM_LEVEL);
            for to in 0..=cap {
                let mut branch = json!({"properties": {
                    "ruleset": {"const": id.as_str()},
                    "item_level": {"minimum": low, "maximum": high},
                    "to_star": {"const": to},
                    "from_star": {"maximum": to},
                    "safeguard_stars": {"items": {"enum": r.safeguard.stars}}
                }});
                // An absent `ruleset` is the default one; another must be named.
                if id != sf::RuleSetId::default() {
                    branch["required"] = json!(["ruleset"]);
                }
                caps.push(branch);
            }
            low = high.saturating_add(1);
        }
    }
    let mut presets = vec![json!({"properties": {"event": {"type": "null"}}})];
    for preset in [EventPreset::Shining, EventPreset::Shining51015] {
        let p = preset.rules();
        presets.push(json!({
            "required": ["event"],
            "properties": {
                "event": {"const": p.name},
                "events": {"properties": {
                    "thirty_off": {"const": p.thirty_off},
                    "boom_reduction": {"const": p.boom_reduction},
                    "five_ten_fifteen": {"const": p.five_ten_fifteen}
                }}
            }
        }));
    }
    let rules = vec![
        json!({"anyOf": caps}),
        json!({"not": {
            "properties": {"safeguard": {"const": true}, "safeguard_stars": {"type": "array"}},
            "required": ["safeguard", "safeguard_stars"]
        }}),
        json!({"anyOf": presets}),
    ];
    schema.insert("allOf".into(), Value::Array(rules));
}

/// `budget_mesos` (attempt mesos, ≥ 0) and `spares` (owned replacement items); an absent one is
/// unlimited, not both.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "StarforcePlanRequest"))]
#[cfg_attr(
    feature = "schema",
    schemars(extend("allOf" = [{"anyOf": [
        {"required": ["budget_mesos"], "properties": {"budget_mesos": {"type": "number"}}},
        {"required": ["spares"], "properties": {"spares": {"type": "integer"}}}
    ]}]))
)]
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 0.0)))]
    pub budget_mesos: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spares: Option<u32>,
}

impl From<&StarforceRequest> for sf::Request {
    fn from(r: &StarforceRequest) -> Self {
        sf::Request {
            item_level: r.item_level,
            from_star: r.from_star,
            to_star: r.to_star,
            ruleset: match r.ruleset {
                Ruleset::Kms => sf::RuleSetId::Kms,
                Ruleset::Gms => sf::RuleSetId::Gms,
                Ruleset::Savior => sf::RuleSetId::Savior,
                Ruleset::PreSavior => sf::RuleSetId::PreSavior,
            },
            star_catch: r.star_catch.unwrap_or(sf::DEFAULT_STAR_CATCH),
            safeguard: r.safeguard,
            events: sf::Events {
                thirty_off: r.events.thirty_off,
                boom_reduction: r.events.boom_reduction,
                five_ten_fifteen: r.events.five_ten_fifteen,
                plus_one: r.events.plus_one,
            },
            mvp: match r.mvp {
                Mvp::None => sf::Mvp::None,
                Mvp::Silver => sf::Mvp::Silver,
                Mvp::Gold => sf::Mvp::Gold,
                Mvp::Diamond => sf::Mvp::Diamond,
                Mvp::Red => sf::Mvp::Red,
            },
            pc_room: r.pc_room,
            spare_cost: r.spare_cost,
        }
    }
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Warning {
    pub code: &'static str,
    /// Always empty today; there so a warning has the shape of every other message.
    pub params: crate::message::Params,
    pub message: String,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CostQuantiles {
    pub p50: f64,
    pub p75: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
}

/// How the quantiles were computed (see `pve_engine::starforce::distribution`).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Distribution {
    pub method: &'static str,
    /// Cell width in mesos.
    pub grid_step: f64,
    pub cells: usize,
    /// Standard deviation the grid's rounding adds to the cost (it keeps the mean exact).
    pub noise_sd: f64,
    /// Documented relative error bound of each quantile.
    pub quantile_rel_error_bound: f64,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PerStar {
    pub star: u32,
    pub success: f64,
    pub maintain: f64,
    pub decrease: f64,
    pub destroy: f64,
    /// Mesos per attempt (discounts, events and safeguard surcharge included).
    pub attempt_cost: f64,
    /// Whether the safeguard surcharge is paid at this star.
    pub safeguard: bool,
    pub expected_attempts: f64,
    pub expected_cost: f64,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StarAdvice {
    pub star: u32,
    pub use_safeguard: bool,
    pub expected_total_with_safeguard: f64,
    pub expected_total_without_safeguard: f64,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Advice {
    pub spare_cost: f64,
    /// Stars where the cheapest policy uses safeguard.
    pub safeguard_stars: Vec<u32>,
    /// Expected `attempt mesos + spare_cost · booms` under that policy.
    pub expected_total: f64,
    /// Every star of the range where safeguard is offered and would prevent a destroy.
    pub stars: Vec<StarAdvice>,
}

/// The numbers, present when the target is reachable.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Results {
    pub mean_cost: f64,
    pub sd_cost: f64,
    pub mean_booms: f64,
    pub sd_booms: f64,
    pub p_no_boom: f64,
    pub mean_attempts: f64,
    pub sd_attempts: f64,
    pub mean_total_cost: f64,
    pub cost_quantiles: CostQuantiles,
    /// `null` when there is nothing to do (`from_star == to_star`).
    pub distribution: Option<Distribution>,
    /// `P(0 destroyed items), P(1), …` until the remaining mass is below 1e-6; a PMF that would need
    /// more than 4096 entries for that (mean destroys in the hundreds or more) lists only its first
    /// 256, with the warning `booms_pmf_truncated`.
    pub booms_pmf: Vec<f64>,
    /// Probability of more booms than `booms_pmf` lists.
    pub booms_pmf_tail: f64,
    /// `[[mesos, p], …]`: 88 points, `p` from 0.001 to 0.999 (ascending), `mesos` the least attempt
    /// cost with `P(cost ≤ mesos) ≥ p`, non-decreasing; `cost_quantiles` are five of these points.
    pub cost_cdf: Vec<[f64; 2]>,
    /// How `cost_cdf` was computed: `"grid_quantiles"` (the quantiles' grid walks, see `distribution`).
    pub cost_cdf_method: &'static str,
    /// Relative error bound of each point's `mesos` (the quantiles' documented bound).
    pub cost_cdf_error_bound: f64,
    pub per_star: Vec<PerStar>,
    pub advice: Advice,
    /// Every allowed per-star safeguard policy that is Pareto-optimal in (mean attempt mesos, mean
    /// destroyed items), ascending mean mesos; equal means are all listed.
    pub frontier: Vec<FrontierPolicy>,
    /// The spare prices at which the policy with the lowest `mean_cost + spare_price · mean_booms`
    /// changes, ascending, with the cheapest policy just below and just above (exact lower envelope).
    pub spare_price_breakpoints: Vec<SparePriceBreakpoint>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FrontierPolicy {
    pub safeguard_stars: Vec<u32>,
    pub mean_cost: f64,
    pub mean_booms: f64,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SparePriceBreakpoint {
    pub spare_price: f64,
    /// Safeguard stars of the cheapest policy just below `spare_price`.
    pub policy_below: Vec<u32>,
    /// Safeguard stars of the cheapest policy just above `spare_price`.
    pub policy_above: Vec<u32>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BudgetFor {
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BestPolicy {
    pub safeguard_stars: Vec<u32>,
    pub p_reach: f64,
    pub error_bound: f64,
}

/// The planner's answer (see `pve_engine::starforce::plan`).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "StarforcePlanResponse"))]
pub struct PlanResponse {
    /// P(reach `to_star` with attempt mesos ≤ budget and destroyed items ≤ spares), request's policy.
    pub p_reach: f64,
    /// Absolute, rigorous: half the gap between the floor- and ceil-rounded lattice walks, each clipped by
    /// Cantelli's inequality on the exact mean and sd of the attempt cost (at most 0.5).
    pub error_bound: f64,
    pub method: &'static str,
    /// What the budget counts.
    pub budget_counts: &'static str,
    pub budget_for: BudgetFor,
    /// Cell width (mesos) `budget_for` is read on.
    pub budget_for_step: f64,
    pub best_policy: BestPolicy,
    /// Why a `budget_for` level is null.
    pub notes: Vec<crate::message::MessageOut>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StarforceResponse {
    pub engine_version: &'static str,
    pub ruleset: &'static str,
    pub request: StarforceRequest,
    pub impossible: bool,
    /// Why the target cannot be reached: `{code, params, message}` (code `starforce.unreachable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impossible_reason: Option<crate::message::MessageOut>,
    #[serde(flatten)]
    pub results: Option<Results>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanResponse>,
    pub warnings: Vec<Warning>,
}

impl From<sf::Error> for ApiError {
    fn from(e: sf::Error) -> Self {
        let code = match e {
            sf::Error::FromAboveTo { .. } => ErrorCode::InvalidCombination,
            sf::Error::Numerical { .. } => ErrorCode::Internal,
            _ => ErrorCode::OutOfRange,
        };
        ApiError::new(code, e.to_string())
    }
}

fn results(r: &sf::Report, spare_cost: f64) -> Results {
    let m = &r.moments;
    let q = &r.cost_quantiles;
    Results {
        mean_cost: m.mean_cost,
        sd_cost: m.sd_cost,
        mean_booms: m.mean_booms,
        sd_booms: m.sd_booms,
        p_no_boom: m.p_no_boom,
        mean_attempts: m.mean_attempts,
        sd_attempts: m.sd_attempts,
        mean_total_cost: m.mean_total_cost,
        cost_quantiles: CostQuantiles {
            p50: q.p50,
            p75: q.p75,
            p90: q.p90,
            p95: q.p95,
            p99: q.p99,
        },
        distribution: r.grid.map(|g| Distribution {
            method: "grid",
            grid_step: g.step,
            cells: g.cells,
            noise_sd: g.noise_sd,
            quantile_rel_error_bound: sf::distribution::QUANTILE_REL_ERROR_BOUND,
        }),
        booms_pmf: r.listed_booms().0.to_vec(),
        booms_pmf_tail: r.listed_booms().1,
        cost_cdf: r.cost_cdf.iter().map(|&(x, p)| [x, p]).collect(),
        cost_cdf_method: "grid_quantiles",
        cost_cdf_error_bound: sf::distribution::QUANTILE_REL_ERROR_BOUND,
        frontier: r
            .frontier
            .policies
            .iter()
            .map(|p| FrontierPolicy {
                safeguard_stars: p.safeguard_stars.clone(),
                mean_cost: p.mean_cost,
                mean_booms: p.mean_booms,
            })
            .collect(),
        spare_price_breakpoints: r
            .frontier
            .breakpoints
            .iter()
            .map(|b| SparePriceBreakpoint {
                spare_price: b.spare_price,
                policy_below: b.below.clone(),
                policy_above: b.above.clone(),
            })
            .collect(),
        per_star: r
            .per_star
            .iter()
            .map(|s| PerStar {
                star: s.star,
                success: s.attempt.success,
                maintain: s.attempt.maintain,
                decrease: s.attempt.decrease,
                destroy: s.attempt.destroy,
                attempt_cost: s.attempt.cost,
                safeguard: s.attempt.safeguarded,
                expected_attempts: s.expected_attempts,
                expected_cost: s.expected_cost,
            })
            .collect(),
        advice: Advice {
            spare_cost,
            safeguard_stars: r
                .advice
                .stars
                .iter()
                .filter(|s| s.use_safeguard)
                .map(|s| s.star)
                .collect(),
            expected_total: r.advice.expected_total,
            stars: r
                .advice
                .stars
                .iter()
                .map(|s| StarAdvice {
                    star: s.star,
                    use_safeguard: s.use_safeguard,
                    expected_total_with_safeguard: s.expected_total_with,
                    expected_total_without_safeguard: s.expected_total_without,
                })
                .collect(),
        },
    }
}

/// The planner's part of the response; `None` without a `plan` in the request.
fn plan_response(req: &StarforceRequest, engine: &sf::Request) -> Result<Option<PlanResponse>, ApiError> {
    let Some(p) = req.plan else {
        return Ok(None);
    };
    if p.budget_mesos.is_none() && p.spares.is_none() {
        return Err(ApiError::new(
            ErrorCode::InvalidCombination,
            "plan needs budget_mesos or spares (absent means unlimited, not both)".to_string(),
        ));
    }
    if let Some(b) = p.budget_mesos.filter(|b| !(b.is_finite() && *b >= 0.0)) {
        return Err(ApiError::new(
            ErrorCode::OutOfRange,
            format!("plan.budget_mesos {b} must be a finite number >= 0"),
        ));
    }
    let plan = sf::Plan {
        budget_mesos: p.budget_mesos,
        spares: p.spares,
    };
    let report = match sf::plan(engine, &plan, req.safeguard_stars.as_deref())? {
        sf::Reach::Reachable(r) => r,
        sf::Reach::Unreachable { .. } => return Ok(None),
    };
    let mut notes: Vec<crate::message::MessageOut> = report
        .budget_for
        .iter()
        .zip(["p50", "p90", "p99"])
        .filter(|(b, _)| b.is_none())
        .map(|(_, level)| {
            crate::message::MessageOut::from(&pve_engine::message::Message::new(
                "starforce.plan_budget_null",
                vec![("level", level.into())],
                format!("budget_for.{level} is null: P(destroyed items <= spares) is below that probability"),
            ))
        })
        .collect();
    let target = sf::plan::ERROR_TARGET;
    if report.reach.error_bound > target {
        let bound = report.reach.error_bound;
        notes.push(crate::message::MessageOut::from(&pve_engine::message::Message::new(
            "starforce.plan_bound_above_target",
            vec![("error_bound", bound.into()), ("target", target.into())],
            format!(
                "p_reach is known only within {bound}: the lattice reached its work limit before the bound fell \
                 to {target}"
            ),
        )));
    }
    Ok(Some(PlanResponse {
        p_reach: report.reach.p_reach,
        error_bound: report.reach.error_bound,
        method: "lattice_bracket",
        budget_counts: "attempt mesos only; the spares are already owned",
        budget_for: BudgetFor {
            p50: report.budget_for[0],
            p90: report.budget_for[1],
            p99: report.budget_for[2],
        },
        budget_for_step: report.budget_step,
        best_policy: BestPolicy {
            safeguard_stars: report.best_safeguard_stars,
            p_reach: report.best.p_reach,
            error_bound: report.best.error_bound,
        },
        notes,
    }))
}

/// `safeguard_stars` checked against the rule set: only allowed stars, not with `safeguard: true`.
fn check_safeguard_stars(req: &StarforceRequest, engine: &sf::Request) -> Result<(), ApiError> {
    let Some(stars) = &req.safeguard_stars else {
        return Ok(());
    };
    if req.safeguard {
        return Err(ApiError::new(
            ErrorCode::InvalidCombination,
            "safeguard: true and safeguard_stars are both given; use one".to_string(),
        ));
    }
    let allowed = engine.ruleset.rules().safeguard.stars;
    if let Some(s) = stars.iter().find(|s| !allowed.contains(s)) {
        return Err(ApiError::new(
            ErrorCode::OutOfRange,
            format!(
                "safeguard_stars: {s}★ does not offer safeguard under ruleset {}",
                engine.ruleset.as_str()
            ),
        ));
    }
    Ok(())
}

/// Apply the `event` preset to the toggles; a given toggle that contradicts it is `invalid_combination`.
fn apply_event(req: &mut StarforceRequest) -> Result<(), ApiError> {
    let Some(preset) = req.event else {
        return Ok(());
    };
    let p = preset.rules();
    let e = &mut req.events;
    let fixed = [
        ("thirty_off", 0, e.thirty_off, p.thirty_off),
        ("boom_reduction", 1, e.boom_reduction, p.boom_reduction),
        ("five_ten_fifteen", 2, e.five_ten_fifteen, p.five_ten_fifteen),
    ];
    if let Some((name, _, given, want)) = fixed.iter().find(|(_, i, v, want)| e.given[*i] && v != want) {
        return Err(ApiError::new(
            ErrorCode::InvalidCombination,
            format!(
                "event {} sets events.{name} to {want}, but the request gives {given}; drop one",
                p.name
            ),
        ));
    }
    e.thirty_off = p.thirty_off;
    e.boom_reduction = p.boom_reduction;
    e.five_ten_fifteen = p.five_ten_fifteen;
    Ok(())
}

/// The `impossible_reason` of a target no path reaches: `star` is the lowest star whose attempt cannot
/// succeed.
fn unreachable(req: &StarforceRequest, star: u32) -> pve_engine::message::Message {
    let (from, to) = (req.from_star, req.to_star);
    pve_engine::message::Message::new(
        "starforce.unreachable",
        vec![
            ("from_star", from.into()),
            ("to_star", to.into()),
            ("star", star.into()),
        ],
        format!("{to}★ cannot be reached from {from}★: the success probability at {star}★ is 0"),
    )
}

/// Parse a JSON request strictly and [`compute`] it.
#[cfg(feature = "json")]
pub fn handle(json: &str) -> Result<StarforceResponse, ApiError> {
    compute(crate::parse_request(json)?)
}

/// Compute a request already deserialized (from JSON or a JS value).
pub fn compute(mut req: StarforceRequest) -> Result<StarforceResponse, ApiError> {
    apply_event(&mut req)?;
    // A default is not a request: star catch that changes nothing is reported only when asked for.
    let star_catch_asked = req.star_catch == Some(true);
    let engine = sf::Request::from(&req);
    req.star_catch = Some(engine.star_catch);
    check_safeguard_stars(&req, &engine)?;
    let plan = plan_response(&req, &engine)?;
    let out = match &req.safeguard_stars {
        None => sf::compute(&engine)?,
        Some(stars) => sf::compute_policy(&engine, stars)?,
    };
    let (impossible_reason, results) = match &out.result {
        sf::Reach::Reachable(report) => (None, Some(results(report, req.spare_cost))),
        sf::Reach::Unreachable { star } => (
            Some(crate::message::MessageOut::from(&unreachable(&req, *star))),
            None,
        ),
    };
    Ok(StarforceResponse {
        engine_version: crate::ENGINE_VERSION,
        ruleset: out.ruleset.as_str(),
        impossible: impossible_reason.is_some(),
        impossible_reason,
        results,
        plan,
        warnings: out
            .warnings
            .iter()
            .filter(|&&w| star_catch_asked || w != sf::Warning::StarCatchNoEffect)
            .map(|w| Warning {
                code: w.code(),
                params: crate::message::Params(Vec::new()),
                message: w.to_string(),
            })
            .collect(),
        request: req,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No built-in rule set has an attempt that cannot succeed, so no request reaches this path; its message
    /// is checked here: catalogued with its params, and serialized as every other message.
    #[test]
    fn the_unreachable_reason_is_a_catalogued_message() {
        let req: StarforceRequest =
            serde_json::from_str(r#"{"item_level":200,"from_star":12,"to_star":22}"#).unwrap();
        let m = unreachable(&req, 17);
        assert!(m.is_catalogued(), "{m:?}");
        let out = serde_json::to_value(crate::message::MessageOut::from(&m)).unwrap();
        assert_eq!(out["code"], "starforce.unreachable");
        assert_eq!(
            out["params"],
            serde_json::json!({"from_star": 12, "to_star": 22, "star": 17})
        );
        assert_eq!(
            out["message"],
            "22★ cannot be reached from 12★: the success probability at 17★ is 0"
        );
    }
}
