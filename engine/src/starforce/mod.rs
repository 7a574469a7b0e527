//! Star force enhancement: exact expected cost, spread, destroy risk and cost distribution.
//!
//! # Model
//! One run starts at `from_star` and attempts until the item reaches `to_star`. Each attempt at current
//! star `s` succeeds (`s → s + 1`, or `+2` under the `plus_one` event), maintains, decreases (25-star
//! systems), or destroys the item, which is then replaced and restored to the rule set's restore star
//! (one destroyed item counted). In the 25-star systems two consecutive decreases make the next attempt
//! certain (chance time). All rates, costs, caps and option rules are data: see [`rules`].
//!
//! Option rules (from issue 3), applied per attempt in this order — they commute:
//! * `star_catch`: success × 1.05 (capped at 1); the other outcomes shrink by the same factor.
//! * `boom_reduction`: destroy × 0.7 at current star ≤ 21; the removed mass is a failure (maintain in the
//!   30-star systems, the star's failure outcome in the 25-star systems).
//! * `safeguard` (at the rule set's stars): destroy becomes a failure, surcharge `k × base` (not
//!   discounted), not charged on an attempt that cannot fail (`five_ten_fifteen` star, chance time).
//! * `five_ten_fifteen`: success is certain at current 5, 10 and 15★.
//! * cost `= base · (1 − mvp − pc_room if s ≤ 16) · (0.7 if thirty_off) + safeguard surcharge`.
//!
//! # What is exact
//! Means and standard deviations (cost, destroys, attempts), `p_no_boom`, the per-star table and the
//! safeguard advice are exact solutions of the absorbing chain (LU solves in `f64`). The booms PMF is
//! exact up to its reported tail. The cost quantiles come from a grid with a documented error bound (see
//! [`distribution`](self::distribution)); everything is deterministic, with `libm` for transcendental
//! functions, so native and Wasm results are bit-identical.
//!
//! # Example
//! ```
//! use pve_engine::starforce::{compute, Reach, Request};
//! let req = Request { star_catch: true, safeguard: true, ..Request::new(200, 0, 17) };
//! let out = compute(&req).unwrap();
//! let Reach::Reachable(report) = out.result else { panic!("17★ is reachable") };
//! assert!(report.moments.mean_cost > 1e9);
//! assert_eq!(report.moments.mean_booms, 0.0); // safeguard covers 15–17★, nothing above can boom
//! ```
mod chain;
pub mod distribution;
pub mod frontier;
mod linalg;
mod moments;
pub mod plan;
pub mod rules;

use std::fmt;

pub use chain::Attempt;
pub use distribution::{Grid, Precision};
pub use frontier::{Breakpoint, Frontier, PolicyMeans};
pub use moments::{Advice, Moments, StarAdvice, BOOMS_PMF_MAX_LEN, BOOMS_PMF_TAIL};
pub use plan::PlanReach;
pub use rules::{EventPreset, RuleSet, RuleSetId, EVENT_PRESETS};

use chain::{Chain, Setup};

/// Highest allowed item level.
pub const MAX_ITEM_LEVEL: u32 = 300;

/// Star catch in a request that does not say: on, as players enhance (issue 15). The `starforce`
/// operation, the valuation and the page's tabs all start from this; [`Request::new`] stays all-off.
pub const DEFAULT_STAR_CATCH: bool = true;

/// Star cap of an item level under the default (KMS) rules.
pub fn max_star(item_level: u32) -> u32 {
    rules::KMS.max_star(item_level)
}

/// KMS base cost (mesos) of one attempt at current star `star` (`star < 30`), before any option.
pub fn base_cost(item_level: u32, star: u32) -> f64 {
    rules::KMS.base_cost(item_level, star)
}

/// MVP grade (cost discount at ≤ 16★).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mvp {
    #[default]
    None,
    Silver,
    Gold,
    Diamond,
    Red,
}

/// Event options; all off by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Events {
    pub thirty_off: bool,
    pub boom_reduction: bool,
    pub five_ten_fifteen: bool,
    pub plus_one: bool,
}

/// One star force question. [`Request::new`] gives the defaults: KMS, no options, no spare cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub item_level: u32,
    pub from_star: u32,
    pub to_star: u32,
    pub ruleset: RuleSetId,
    pub star_catch: bool,
    /// Use safeguard at every star of the range where the rule set offers it.
    pub safeguard: bool,
    pub events: Events,
    pub mvp: Mvp,
    pub pc_room: bool,
    /// Mesos to replace one destroyed item (must be finite and `>= 0`).
    pub spare_cost: f64,
}

impl Request {
    pub fn new(item_level: u32, from_star: u32, to_star: u32) -> Request {
        Request {
            item_level,
            from_star,
            to_star,
            ruleset: RuleSetId::Kms,
            star_catch: false,
            safeguard: false,
            events: Events::default(),
            mvp: Mvp::None,
            pc_room: false,
            spare_cost: 0.0,
        }
    }
}

/// The largest `spare_cost` taken: 10^15 mesos, a thousand times the 1,000,000,000,000 an item at the top of
/// the market costs; above it the expected costs overflow what the solver computes in (a spare at 10^307
/// made the mean cost infinite and was reported as an engine bug).
pub const MAX_SPARE_COST: f64 = 1e15;

/// A request outside the rules.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    LevelOutOfRange {
        item_level: u32,
    },
    StarAboveCap {
        to_star: u32,
        cap: u32,
        item_level: u32,
        ruleset: RuleSetId,
    },
    FromAboveTo {
        from_star: u32,
        to_star: u32,
    },
    /// `spare_cost` is negative, not finite or above [`MAX_SPARE_COST`].
    InvalidSpareCost {
        spare_cost: f64,
    },
    /// A custom rule table fails [`RuleSet::check`].
    InvalidRuleSet {
        ruleset: RuleSetId,
    },
    /// A linear solve or the cost grid failed (a bug, never the caller's fault).
    Numerical {
        from_star: u32,
        to_star: u32,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::LevelOutOfRange { item_level } => {
                write!(f, "item_level {item_level} is outside 0..={MAX_ITEM_LEVEL}")
            }
            Error::StarAboveCap {
                to_star,
                cap,
                item_level,
                ruleset,
            } => write!(
                f,
                "to_star {to_star} is above the cap of {cap} for item level {item_level} under ruleset {}",
                ruleset.as_str()
            ),
            Error::FromAboveTo { from_star, to_star } => {
                write!(f, "from_star {from_star} is above to_star {to_star}")
            }
            Error::InvalidSpareCost { spare_cost } => {
                write!(
                    f,
                    "spare_cost {spare_cost} must be a number from 0 to {MAX_SPARE_COST:e}"
                )
            }
            Error::InvalidRuleSet { ruleset } => {
                write!(
                    f,
                    "the custom {} rule table is inconsistent (see RuleSet::check)",
                    ruleset.as_str()
                )
            }
            Error::Numerical { from_star, to_star } => write!(
                f,
                "the chain for {from_star}->{to_star} could not be solved numerically (engine bug)"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// A requested option that changes nothing for this request (accepted, reported).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Warning {
    /// Raised whenever star catch is on and changes nothing; the `starforce` operation reports it only
    /// when the request asked for star catch (a defaulted [`DEFAULT_STAR_CATCH`] is not a request).
    StarCatchNoEffect,
    SafeguardNoEffect,
    ThirtyOffNoEffect,
    BoomReductionNoEffect,
    FiveTenFifteenNoEffect,
    PlusOneNoEffect,
    MvpNoEffect,
    PcRoomNoEffect,
    /// `spare_cost > 0` but no reachable attempt can destroy the item.
    SpareCostNoEffect,
    /// The listed booms PMF ([`Report::listed_booms`]) was cut at [`BOOMS_PMF_WIDE_LEN`] entries because
    /// listing it until `P(more) < 1e-6` would take more than [`BOOMS_PMF_LISTED_MAX_LEN`]; its tail
    /// holds the rest.
    BoomsPmfTruncated,
}

impl Warning {
    /// Stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            Warning::StarCatchNoEffect => "star_catch_no_effect",
            Warning::SafeguardNoEffect => "safeguard_no_effect",
            Warning::ThirtyOffNoEffect => "thirty_off_no_effect",
            Warning::BoomReductionNoEffect => "boom_reduction_no_effect",
            Warning::FiveTenFifteenNoEffect => "five_ten_fifteen_no_effect",
            Warning::PlusOneNoEffect => "plus_one_no_effect",
            Warning::MvpNoEffect => "mvp_no_effect",
            Warning::PcRoomNoEffect => "pc_room_no_effect",
            Warning::SpareCostNoEffect => "spare_cost_no_effect",
            Warning::BoomsPmfTruncated => "booms_pmf_truncated",
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            Warning::StarCatchNoEffect => "star_catch changes no attempt in the requested range",
            Warning::SafeguardNoEffect => {
                "safeguard changes no attempt in the requested range (no reachable star where it is \
                 offered can destroy the item)"
            }
            Warning::ThirtyOffNoEffect => "thirty_off changes no attempt in the requested range",
            Warning::BoomReductionNoEffect => {
                "boom_reduction changes no attempt in the requested range (no reachable destroy chance \
                 at or below its highest star)"
            }
            Warning::FiveTenFifteenNoEffect => "five_ten_fifteen changes no attempt in the requested range",
            Warning::PlusOneNoEffect => "plus_one changes no attempt in the requested range",
            Warning::MvpNoEffect => "the mvp discount changes no attempt in the requested range",
            Warning::PcRoomNoEffect => "the pc_room discount changes no attempt in the requested range",
            Warning::SpareCostNoEffect => {
                "spare_cost has no effect: no reachable attempt can destroy the item"
            }
            Warning::BoomsPmfTruncated => {
                "booms_pmf lists only its first 256 entries (listing it until P(more) < 1e-6 would take \
                 more than 4096); booms_pmf_tail is the probability of more booms"
            }
        };
        f.write_str(what)
    }
}

/// The 5 reported cost quantiles.
pub const QUANTILE_LEVELS: [f64; 5] = [0.50, 0.75, 0.90, 0.95, 0.99];

/// The levels of the cost CDF (88, ascending, from 0.001 to 0.999): 0.001, 0.002, 0.005, 0.0075, 0.01,
/// every 1/80 from 0.0125 to 0.9875, then 0.99, 0.995, 0.998, 0.999. They contain every
/// [`QUANTILE_LEVELS`] value exactly (`k / 80.0` is correctly rounded, so `72.0 / 80.0 == 0.9`).
pub fn cdf_levels() -> Vec<f64> {
    let mut levels = vec![0.001, 0.002, 0.005, 0.0075, 0.01];
    levels.extend((1..80u32).map(|k| f64::from(k) / 80.0));
    levels.extend([0.99, 0.995, 0.998, 0.999]);
    levels
}

/// The listed booms PMF stops once `P(more)` is below this.
pub const BOOMS_PMF_LISTED_TAIL: f64 = 1e-6;
/// A PMF that needs more entries than this to reach [`BOOMS_PMF_LISTED_TAIL`] is "wide" (mean destroys
/// in the hundreds or more, e.g. 0→26★ and above at KMS) ...
pub const BOOMS_PMF_LISTED_MAX_LEN: usize = 4096;
/// ... and only its first this many entries are listed, with the rest as the tail and
/// [`Warning::BoomsPmfTruncated`], so that a 0→30★ response stays small.
pub const BOOMS_PMF_WIDE_LEN: usize = 256;

/// How much of `pmf` (with `tail = P(more)`) is listed: `(entries, P(more than listed), cut)`. Entries
/// until the remaining mass is below [`BOOMS_PMF_LISTED_TAIL`] if that takes at most
/// [`BOOMS_PMF_LISTED_MAX_LEN`] entries; otherwise the first [`BOOMS_PMF_WIDE_LEN`] (`cut`). The
/// remaining mass is summed from the far end (suffix sums), not taken as `1 − prefix`.
pub fn listed_booms(pmf: &[f64], tail: f64) -> (usize, f64, bool) {
    let mut rest = vec![tail; pmf.len() + 1];
    for k in (0..pmf.len()).rev() {
        rest[k] = rest[k + 1] + pmf[k];
    }
    match (1..=pmf.len()).find(|&n| rest[n] < BOOMS_PMF_LISTED_TAIL) {
        Some(n) if n <= BOOMS_PMF_LISTED_MAX_LEN => (n, rest[n], false),
        _ => {
            let n = BOOMS_PMF_WIDE_LEN.min(pmf.len());
            (n, rest[n], true)
        }
    }
}

/// Quantiles of the total attempt cost (see [`distribution`] for the error bound).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantiles {
    pub p50: f64,
    pub p75: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
}

/// One star of the range: its attempt and what the run spends there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StarSummary {
    pub star: u32,
    /// The normal attempt at this star (chance-time attempts, if any, succeed for sure).
    pub attempt: Attempt,
    /// Expected attempts made at this star (chance time included).
    pub expected_attempts: f64,
    /// Expected mesos spent on attempts at this star.
    pub expected_cost: f64,
}

/// Everything computed for a reachable target.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub moments: Moments,
    pub cost_quantiles: Quantiles,
    /// The grid the quantiles come from (`None` when there is nothing to do: `from_star == to_star`).
    pub grid: Option<Grid>,
    /// `P(0 destroys), P(1), …`, until the remaining mass is below [`BOOMS_PMF_TAIL`] or the length is
    /// [`BOOMS_PMF_MAX_LEN`]. Responses list the shorter [`Report::listed_booms`].
    pub booms_pmf: Vec<f64>,
    /// Probability of more destroys than `booms_pmf` lists.
    pub booms_pmf_tail: f64,
    /// `(mesos, p)` at every [`cdf_levels`] `p`: the least cost with `P(cost ≤ mesos) ≥ p`, read on the
    /// grid exactly as the quantiles (which are five of its points), so each `mesos` is within
    /// [`QUANTILE_REL_ERROR_BOUND`](distribution::QUANTILE_REL_ERROR_BOUND) of the true quantile;
    /// non-decreasing in `mesos` (a running maximum, which keeps that bound).
    pub cost_cdf: Vec<(f64, f64)>,
    /// The Pareto frontier of the per-star safeguard policies and the spare-price breakpoints.
    pub frontier: Frontier,
    /// Stars visited, ascending (those below `from_star` are reached through destroys or decreases).
    pub per_star: Vec<StarSummary>,
    pub advice: Advice,
}

impl Report {
    /// The booms PMF as responses list it ([`listed_booms`]): its entries and `P(more)`.
    pub fn listed_booms(&self) -> (&[f64], f64) {
        let (n, tail, _) = listed_booms(&self.booms_pmf, self.booms_pmf_tail);
        (&self.booms_pmf[..n], tail)
    }

    /// Every number finite (JSON has no NaN or infinity; a non-finite value is an engine bug).
    fn is_finite(&self) -> bool {
        let m = &self.moments;
        let q = &self.cost_quantiles;
        let a = &self.advice;
        [
            m.mean_cost,
            m.sd_cost,
            m.mean_booms,
            m.sd_booms,
            m.p_no_boom,
            m.mean_attempts,
            m.sd_attempts,
            m.mean_total_cost,
            q.p50,
            q.p75,
            q.p90,
            q.p95,
            q.p99,
            self.booms_pmf_tail,
            a.expected_total,
        ]
        .into_iter()
        .chain(self.booms_pmf.iter().copied())
        .chain(self.cost_cdf.iter().flat_map(|&(x, p)| [x, p]))
        .chain(
            self.frontier
                .policies
                .iter()
                .flat_map(|p| [p.mean_cost, p.mean_booms]),
        )
        .chain(self.frontier.breakpoints.iter().map(|b| b.spare_price))
        .chain(self.grid.iter().flat_map(|g| [g.step, g.noise_sd]))
        .chain(self.per_star.iter().flat_map(|s| {
            let t = &s.attempt;
            [
                t.success,
                t.maintain,
                t.decrease,
                t.destroy,
                t.cost,
                s.expected_attempts,
                s.expected_cost,
            ]
        }))
        .chain(
            a.stars
                .iter()
                .flat_map(|s| [s.expected_total_with, s.expected_total_without]),
        )
        .all(f64::is_finite)
    }
}

/// Whether the target can be reached.
#[derive(Debug, Clone, PartialEq)]
pub enum Reach<T> {
    Reachable(T),
    /// Some attempt on every path has zero success probability; `star` is the lowest such star.
    Unreachable {
        star: u32,
    },
}

/// The answer: the report (or why there is none) and the warnings.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub ruleset: RuleSetId,
    pub result: Reach<Box<Report>>,
    /// Sorted, without duplicates.
    pub warnings: Vec<Warning>,
}

fn validate<'a>(rules: &'a RuleSet, req: &Request) -> Result<Setup<'a>, Error> {
    if !rules.check() {
        return Err(Error::InvalidRuleSet { ruleset: rules.id });
    }
    if req.item_level > MAX_ITEM_LEVEL {
        return Err(Error::LevelOutOfRange {
            item_level: req.item_level,
        });
    }
    let cap = rules.max_star(req.item_level);
    if req.to_star > cap {
        return Err(Error::StarAboveCap {
            to_star: req.to_star,
            cap,
            item_level: req.item_level,
            ruleset: rules.id,
        });
    }
    if req.from_star > req.to_star {
        return Err(Error::FromAboveTo {
            from_star: req.from_star,
            to_star: req.to_star,
        });
    }
    if !(req.spare_cost.is_finite() && (0.0..=MAX_SPARE_COST).contains(&req.spare_cost)) {
        return Err(Error::InvalidSpareCost {
            spare_cost: req.spare_cost,
        });
    }
    Ok(Setup {
        rules,
        item_level: req.item_level,
        from_star: req.from_star,
        to_star: req.to_star,
        star_catch: req.star_catch,
        safeguard: if req.safeguard { u64::MAX } else { 0 },
        events: req.events,
        mvp: req.mvp,
        pc_room: req.pc_room,
    })
}

/// Options that change no reachable attempt. Toggling an option can only change the result through an
/// attempt the run can make, so comparing the attempts of the reachable states decides it exactly.
fn no_effect(setup: &Setup, chain: Option<&Chain>, spare_cost: f64) -> Vec<Warning> {
    let same = |other: Setup| {
        chain.is_none_or(|c| {
            let chance = setup.rules.chance_time_after;
            c.states.iter().all(|st| {
                let chance = chance.is_some_and(|n| st.counter >= n);
                setup.attempt(st.star, chance) == other.attempt(st.star, chance)
            })
        })
    };
    let mut out = Vec::new();
    let mut check = |on: bool, off: Setup, w: Warning| {
        if on && same(off) {
            out.push(w);
        }
    };
    let s = setup;
    let ev = |e: Events| Setup {
        events: e,
        ..s.clone()
    };
    check(
        s.star_catch,
        Setup {
            star_catch: false,
            ..s.clone()
        },
        Warning::StarCatchNoEffect,
    );
    check(
        s.safeguard != 0,
        Setup {
            safeguard: 0,
            ..s.clone()
        },
        Warning::SafeguardNoEffect,
    );
    let e = s.events;
    check(
        e.thirty_off,
        ev(Events {
            thirty_off: false,
            ..e
        }),
        Warning::ThirtyOffNoEffect,
    );
    check(
        e.boom_reduction,
        ev(Events {
            boom_reduction: false,
            ..e
        }),
        Warning::BoomReductionNoEffect,
    );
    check(
        e.five_ten_fifteen,
        ev(Events {
            five_ten_fifteen: false,
            ..e
        }),
        Warning::FiveTenFifteenNoEffect,
    );
    check(
        e.plus_one,
        ev(Events { plus_one: false, ..e }),
        Warning::PlusOneNoEffect,
    );
    check(
        s.mvp != Mvp::None,
        Setup {
            mvp: Mvp::None,
            ..s.clone()
        },
        Warning::MvpNoEffect,
    );
    check(
        s.pc_room,
        Setup {
            pc_room: false,
            ..s.clone()
        },
        Warning::PcRoomNoEffect,
    );
    let can_boom = chain.is_some_and(|c| c.attempts.iter().any(|a| a.destroy > 0.0));
    if spare_cost > 0.0 && !can_boom {
        out.push(Warning::SpareCostNoEffect);
    }
    out
}

fn per_star(chain: &Chain, setup: &Setup, visits: &[f64]) -> Vec<StarSummary> {
    let mut out: Vec<StarSummary> = Vec::new();
    for (i, st) in chain.states.iter().enumerate() {
        let cost = visits[i] * chain.attempts[i].cost;
        match out.last_mut() {
            Some(last) if last.star == st.star => {
                last.expected_attempts += visits[i];
                last.expected_cost += cost;
            }
            _ => out.push(StarSummary {
                star: st.star,
                attempt: setup.attempt(st.star, false),
                expected_attempts: visits[i],
                expected_cost: cost,
            }),
        }
    }
    out
}

/// The cheap path: exact moments only (a few small linear solves), for callers that value many items.
///
/// # Errors
/// [`Error`] for a request outside the rules (level, cap, `from_star > to_star`, spare cost).
pub fn expected(req: &Request) -> Result<Reach<Moments>, Error> {
    expected_with(req.ruleset.rules(), req)
}

/// [`expected`] under a custom rule table (a what-if patch); `req.ruleset` is ignored.
///
/// # Errors
/// As [`expected`].
pub fn expected_with(rules: &RuleSet, req: &Request) -> Result<Reach<Moments>, Error> {
    let setup = validate(rules, req)?;
    let Some(chain) = Chain::build(&setup) else {
        return Ok(Reach::Reachable(Moments::ZERO));
    };
    if let Some(star) = chain.dead_end() {
        return Ok(Reach::Unreachable { star });
    }
    let solved = moments::solve(&chain, req.spare_cost).ok_or(Error::Numerical {
        from_star: req.from_star,
        to_star: req.to_star,
    })?;
    Ok(Reach::Reachable(solved.moments))
}

/// A budget-and-spares question: attempt mesos at most `budget_mesos`, at most `spares` destroyed
/// items; `None` is unlimited (not both).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    pub budget_mesos: Option<f64>,
    pub spares: Option<u32>,
}

/// The planner's answer for the request's policy and the best per-star safeguard policy.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanReport {
    pub reach: PlanReach,
    /// The safeguard stars (ascending) of the allowed policy with the highest `p_reach`.
    pub best_safeguard_stars: Vec<u32>,
    pub best: PlanReach,
    /// Least budgets for `p_reach ≥` 0.5, 0.9, 0.99 given the spares (`None`: `P(destroys ≤ spares)` is
    /// below the level), and the cell width (mesos) they are read on.
    pub budget_for: [Option<f64>; 3],
    pub budget_step: f64,
}

/// The levels of [`PlanReport::budget_for`].
pub const BUDGET_FOR_LEVELS: [f64; 3] = [0.5, 0.9, 0.99];

/// Stars of `from..to` where the rule set offers safeguard: the per-star policies are their subsets.
pub fn safeguard_stars_allowed(rules: &RuleSet, req: &Request) -> Vec<u32> {
    (req.from_star..req.to_star)
        .filter(|s| rules.safeguard.stars.contains(s))
        .collect()
}

/// `p_reach` for `plan` (the method and its rigorous bound: module [`plan`](mod@plan)) under the
/// request's policy (`safeguard_stars` overrides `req.safeguard` when given), the best per-star policy
/// and `budget_for`.
///
/// # Errors
/// As [`compute`]; both limits absent is [`Error::Numerical`] (callers reject it first).
pub fn plan(req: &Request, plan: &Plan, safeguard_stars: Option<&[u32]>) -> Result<Reach<PlanReport>, Error> {
    let rules = req.ruleset.rules();
    let mut setup = validate(rules, req)?;
    let bug = Error::Numerical {
        from_star: req.from_star,
        to_star: req.to_star,
    };
    let mask = policy_mask;
    if let Some(stars) = safeguard_stars {
        setup.safeguard = mask(stars);
    }
    let allowed = safeguard_stars_allowed(rules, req);
    let requested: Vec<u32> = allowed
        .iter()
        .copied()
        .filter(|&s| setup.safeguard_at(s))
        .collect();
    let run = |setup: &Setup| -> Result<Reach<PlanReach>, Error> {
        let Some(chain) = Chain::build(setup) else {
            return Ok(Reach::Reachable(PlanReach {
                p_reach: 1.0,
                error_bound: 0.0,
                cells: 0,
            }));
        };
        if let Some(star) = chain.dead_end() {
            return Ok(Reach::Unreachable { star });
        }
        plan::p_reach(&chain, plan.budget_mesos, plan.spares)
            .map(Reach::Reachable)
            .ok_or(bug.clone())
    };
    let reach = match run(&setup)? {
        Reach::Reachable(r) => r,
        Reach::Unreachable { star } => return Ok(Reach::Unreachable { star }),
    };
    let (budget_for, budget_step) = match Chain::build(&setup) {
        None => ([Some(0.0); 3], 0.0),
        Some(chain) => {
            let mean = moments::solve(&chain, 0.0).ok_or(bug.clone())?.moments.mean_cost;
            let (b, h) =
                plan::budget_for(&chain, plan.spares, &BUDGET_FOR_LEVELS, 2.0 * mean).ok_or(bug.clone())?;
            ([b[0], b[1], b[2]], h)
        }
    };
    let (mut best_stars, mut best) = (requested, reach);
    // Every subset of the allowed stars (a handful: 2^3 in KMS), in a fixed order.
    for bits in 0u64..(1 << allowed.len().min(8)) {
        let stars: Vec<u32> = (0..allowed.len())
            .filter(|i| bits & 1 << i != 0)
            .map(|i| allowed[i])
            .collect();
        if stars == best_stars {
            continue;
        }
        let policy = Setup {
            safeguard: mask(&stars),
            ..setup.clone()
        };
        if let Reach::Reachable(r) = run(&policy)? {
            if r.p_reach > best.p_reach {
                (best_stars, best) = (stars, r);
            }
        }
    }
    Ok(Reach::Reachable(PlanReport {
        reach,
        best_safeguard_stars: best_stars,
        best,
        budget_for,
        budget_step,
    }))
}

/// Everything: exact moments, cost quantiles, booms PMF, per-star table and safeguard advice.
///
/// # Errors
/// [`Error`] for a request outside the rules (level, cap, `from_star > to_star`, spare cost).
pub fn compute(req: &Request) -> Result<Outcome, Error> {
    compute_with(req.ruleset.rules(), req, Precision::default())
}

/// [`compute`] under a custom rule table (a what-if patch; `req.ruleset` is ignored and the outcome
/// names `rules.id`) and a custom grid [`Precision`] (the documented error bound holds for the default).
///
/// # Errors
/// As [`compute`].
pub fn compute_with(rules: &RuleSet, req: &Request, precision: Precision) -> Result<Outcome, Error> {
    compute_setup(rules, req, validate(rules, req)?, precision)
}

/// The bit mask of a per-star safeguard policy.
fn policy_mask(stars: &[u32]) -> u64 {
    stars.iter().filter(|&&s| s < 64).fold(0u64, |m, &s| m | 1 << s)
}

/// [`expected`] with a per-star safeguard policy: safeguard at `safeguard_stars` (where the rule set
/// offers it) instead of `req.safeguard`.
///
/// # Errors
/// As [`expected`].
pub fn expected_policy(req: &Request, safeguard_stars: &[u32]) -> Result<Reach<Moments>, Error> {
    let mut setup = validate(req.ruleset.rules(), req)?;
    setup.safeguard = policy_mask(safeguard_stars);
    let Some(chain) = Chain::build(&setup) else {
        return Ok(Reach::Reachable(Moments::ZERO));
    };
    if let Some(star) = chain.dead_end() {
        return Ok(Reach::Unreachable { star });
    }
    let solved = moments::solve(&chain, req.spare_cost).ok_or(Error::Numerical {
        from_star: req.from_star,
        to_star: req.to_star,
    })?;
    Ok(Reach::Reachable(solved.moments))
}

/// [`compute`] with a per-star safeguard policy: safeguard at `safeguard_stars` (where the rule set
/// offers it) instead of `req.safeguard`.
///
/// # Errors
/// As [`compute`].
pub fn compute_policy(req: &Request, safeguard_stars: &[u32]) -> Result<Outcome, Error> {
    let rules = req.ruleset.rules();
    let mut setup = validate(rules, req)?;
    setup.safeguard = policy_mask(safeguard_stars);
    compute_setup(rules, req, setup, Precision::default())
}

fn compute_setup(
    rules: &RuleSet,
    req: &Request,
    setup: Setup,
    precision: Precision,
) -> Result<Outcome, Error> {
    let chain = Chain::build(&setup);
    let mut warnings = no_effect(&setup, chain.as_ref(), req.spare_cost);
    let bug = Error::Numerical {
        from_star: req.from_star,
        to_star: req.to_star,
    };
    let report = match &chain {
        None => Report {
            moments: Moments::ZERO,
            cost_quantiles: Quantiles {
                p50: 0.0,
                p75: 0.0,
                p90: 0.0,
                p95: 0.0,
                p99: 0.0,
            },
            grid: None,
            booms_pmf: vec![1.0],
            booms_pmf_tail: 0.0,
            cost_cdf: cdf_levels().into_iter().map(|p| (0.0, p)).collect(),
            frontier: frontier::frontier(&[PolicyMeans {
                safeguard_stars: Vec::new(),
                mean_cost: 0.0,
                mean_booms: 0.0,
            }]),
            per_star: Vec::new(),
            advice: Advice {
                stars: Vec::new(),
                expected_total: 0.0,
            },
        },
        Some(chain) => {
            if let Some(star) = chain.dead_end() {
                warnings.sort_unstable();
                return Ok(Outcome {
                    ruleset: rules.id,
                    result: Reach::Unreachable { star },
                    warnings,
                });
            }
            let solved = moments::solve(chain, req.spare_cost).ok_or(bug.clone())?;
            let m = solved.moments;
            let spread = (m.mean_cost, m.sd_cost);
            // One set of walks for the CDF's levels; the quantiles are five of its points.
            let levels = cdf_levels();
            let (mut cdf, grid) =
                distribution::cost_quantiles(chain, &solved.visits, spread, &levels, precision)
                    .map_err(|_| bug.clone())?;
            for i in 1..cdf.len() {
                cdf[i] = cdf[i].max(cdf[i - 1]);
            }
            let at = |p: f64| {
                levels
                    .iter()
                    .position(|&l| l == p)
                    .map(|i| cdf[i])
                    .ok_or(bug.clone())
            };
            let q = [at(0.5)?, at(0.75)?, at(0.9)?, at(0.95)?, at(0.99)?];
            let (booms_pmf, booms_pmf_tail) = moments::booms_pmf(chain).ok_or(bug.clone())?;
            if listed_booms(&booms_pmf, booms_pmf_tail).2 {
                warnings.push(Warning::BoomsPmfTruncated);
            }
            let allowed = safeguard_stars_allowed(rules, req);
            let policies = frontier::all_policies(&setup, &allowed).ok_or(bug.clone())?;
            Report {
                moments: m,
                cost_quantiles: Quantiles {
                    p50: q[0],
                    p75: q[1],
                    p90: q[2],
                    p95: q[3],
                    p99: q[4],
                },
                grid: Some(grid),
                booms_pmf,
                booms_pmf_tail,
                cost_cdf: cdf.into_iter().zip(levels.iter().copied()).collect(),
                frontier: frontier::frontier(&policies),
                per_star: per_star(chain, &setup, &solved.visits),
                advice: moments::advise(&setup, req.spare_cost).ok_or(bug.clone())?,
            }
        }
    };
    if !report.is_finite() {
        return Err(bug);
    }
    warnings.sort_unstable();
    Ok(Outcome {
        ruleset: rules.id,
        result: Reach::Reachable(Box::new(report)),
        warnings,
    })
}
