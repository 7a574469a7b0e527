//! Request options beyond the goal (pity progress, Miracle Time, a cash cube's price) and the budget plan:
//! P(the goal is met within a budget) and the least budgets for 50/90/99 %.
//!
//! **Budget units.** The chain's cost CDF is exact on whole cost units ([`Chain::budget`]):
//! - cube items: one unit = one cube; `budget_cubes` is used as given, and `budget_mesos` (with
//!   `cube_price_mesos`) buys `floor(budget_mesos / cube_price_mesos)` cubes; `budget_for` in mesos is then
//!   the least number of cubes times the price (the least budget that buys them);
//! - meso resets: one unit = the greatest common divisor of the per-grade prices used (e.g. 2,250,000 mesos
//!   at level 200-249, prices 2:8:17:20 units), so `floor(budget_mesos / unit)` is exact: an attempt is
//!   affordable exactly when its whole price is.
//!
//! **Miracle Time (미라클 타임).** Tier-up probabilities are doubled during the event. Source:
//! <https://www.digitaltq.com/maplestory-double-miracle-time> ("doubles the tier-up rates of miracle cubes",
//! only cash-shop cubes — red, black, bonus potential, ... — and not Master Craftsman or Occult cubes).
//! Assumed here ([`MIRACLE_TIME`]): a doubled probability is capped at 1, the pity counts are unchanged, the
//! line tables are unchanged, the meso resets of KMS (which took the cash cubes' place) are affected like
//! the cubes whose tables they use, and 장인/명장/수상한 cubes are not affected (a request for them is refused).

use super::chain::{Chain, ChainError, BUDGET_TARGETS, MAX_UNIT_COST};
use crate::message::{Message, Param};

/// Which cubes Miracle Time affects (`true`) and the source of the rule; see the module docs.
pub const MIRACLE_TIME: &[(&str, bool)] = &[
    ("black", true),
    ("red", true),
    ("additional", true),
    ("white_additional", true),
    ("meso_reset_main", true),
    ("meso_reset_additional", true),
    ("master", false),
    ("meister", false),
    ("strange", false),
    ("strange_additional", false),
];

/// Where the Miracle Time rule comes from (a page a reader can open).
pub const MIRACLE_TIME_SOURCE: &str = "https://www.digitaltq.com/maplestory-double-miracle-time";

/// Miracle Time multiplies every tier-up probability by this, capped at 1.
pub const MIRACLE_TIME_FACTOR: f64 = 2.0;

/// Whether Miracle Time affects `cube` (`None` for a cube the table does not list).
pub fn miracle_time_applies(cube: &str) -> Option<bool> {
    MIRACLE_TIME.iter().find(|(c, _)| *c == cube).map(|&(_, a)| a)
}

/// A budget for [`Options::budget`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Budget {
    /// Mesos, `>= 0` and finite.
    Mesos(f64),
    /// Cubes (cube items only).
    Cubes(u64),
}

/// Everything a potential request may set besides the item and the goal. `Default` is the plain question.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Options {
    /// Attempts already made at the request's grade without a tier-up: `0..pity` of that grade.
    pub pity_progress: u32,
    /// Tier-up probabilities doubled (capped at 1), pity unchanged.
    pub miracle_time: bool,
    /// Price of one cube in mesos (cube items only): gives `mean_cost` and allows a meso budget.
    pub cube_price_mesos: Option<f64>,
    /// Answer P(goal within this budget) and the least budgets for 50/90/99 %.
    pub budget: Option<Budget>,
    /// With or without the attempt quantiles (a valuation's totals need only the means).
    pub detail: super::Detail,
}

/// The unit of [`Plan::budget_for`] (and of the budget given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanUnit {
    Mesos,
    Cubes,
}

/// The answer to a budget.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub unit: PlanUnit,
    /// The budget as given (mesos or cubes).
    pub budget: f64,
    /// Mesos per cost unit (the cube price, or the meso grid of the reset prices); `None` for cube budgets.
    pub unit_mesos: Option<f64>,
    /// Whole units the budget buys: `floor(budget / unit_mesos)`, or the cubes given.
    pub budget_units: u64,
    /// P(the goal is met with total cost <= budget), tier-ups included.
    pub p_reach: f64,
    /// The least budget (in `unit`) reaching 50, 90 and 99 %; `None` where no budget does.
    pub budget_for: [Option<f64>; 3],
    /// Probability mass left out of the exact computation (rounding aside).
    pub error_bound: f64,
    pub notes: Vec<Message>,
}

/// Why an option cannot be used with this request.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum OptionError {
    /// `pity_progress` not below the pity of the request's grade (or non-zero where there is none).
    PityProgress {
        grade: super::Grade,
        progress: u32,
        pity: Option<u32>,
    },
    /// Miracle Time does not affect this cube.
    MiracleTimeNotApplicable { cube: String },
    /// `cube_price_mesos` for a meso reset (it has its own prices).
    CubePriceForMesoReset { cube: String },
    /// `cube_price_mesos` not positive and finite.
    CubePriceOutOfRange { price: f64 },
    /// A negative or non-finite budget.
    BudgetOutOfRange { budget: f64 },
    /// `budget_mesos` for a cube item without `cube_price_mesos`.
    MesoBudgetWithoutPrice { cube: String },
    /// `budget_cubes` for a meso reset.
    CubeBudgetForMesoReset { cube: String },
    /// The per-grade prices have no common unit the exact computation can use.
    PriceGrid { unit: u64, max_units: u64 },
}

impl core::fmt::Display for OptionError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            OptionError::PityProgress { grade, progress, pity } => match pity {
                Some(n) => write!(
                    f,
                    "pity_progress {progress} is out of range at {grade}: its pity is {n}, so 0..={} attempts \
                     can have been made there without a tier-up",
                    n - 1
                ),
                None => write!(
                    f,
                    "pity_progress {progress} is out of range: {grade} has no pity with this cube, so it must be 0"
                ),
            },
            OptionError::MiracleTimeNotApplicable { cube } => write!(
                f,
                "miracle_time does not apply to {cube}: Miracle Time doubles the tier-up rates of the cash cubes \
                 and the meso resets only ({MIRACLE_TIME_SOURCE})"
            ),
            OptionError::CubePriceForMesoReset { cube } => write!(
                f,
                "cube_price_mesos is for cube items; {cube} is a meso reset with its own prices"
            ),
            OptionError::CubePriceOutOfRange { price } => {
                write!(f, "cube_price_mesos {price} must be positive and finite")
            }
            OptionError::BudgetOutOfRange { budget } => {
                write!(f, "plan budget {budget} must be finite and at least 0")
            }
            OptionError::MesoBudgetWithoutPrice { cube } => write!(
                f,
                "plan.budget_mesos needs a meso price: {cube} is a cube item, so give cube_price_mesos or use \
                 plan.budget_cubes"
            ),
            OptionError::CubeBudgetForMesoReset { cube } => write!(
                f,
                "plan.budget_cubes is for cube items; {cube} is a meso reset, so use plan.budget_mesos"
            ),
            OptionError::PriceGrid { unit, max_units } => write!(
                f,
                "the reset prices are multiples of only {unit} mesos ({max_units} units per attempt, above \
                 {MAX_UNIT_COST}); the exact budget computation cannot use them"
            ),
        }
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// How a budget maps onto the chain's cost units.
pub(crate) struct Units {
    pub unit: PlanUnit,
    pub unit_mesos: Option<f64>,
    pub per_attempt: Vec<u64>,
    pub budget: f64,
    pub budget_units: u64,
}

/// Convert `budget` to whole units: `prices` are the per-grade meso prices of a meso reset (`None` for a
/// cube item, whose unit is one cube).
pub(crate) fn units(
    cube: &str,
    budget: Budget,
    prices: Option<&[u64]>,
    cube_price: Option<f64>,
    grades: usize,
) -> Result<Units, OptionError> {
    let check = |b: f64| {
        if b.is_finite() && b >= 0.0 {
            Ok(b)
        } else {
            Err(OptionError::BudgetOutOfRange { budget: b })
        }
    };
    match (budget, prices, cube_price) {
        (Budget::Cubes(n), None, _) => Ok(Units {
            unit: PlanUnit::Cubes,
            unit_mesos: None,
            per_attempt: vec![1; grades],
            budget: n as f64,
            budget_units: n,
        }),
        (Budget::Cubes(_), Some(_), _) => Err(OptionError::CubeBudgetForMesoReset { cube: cube.into() }),
        (Budget::Mesos(_), None, None) => Err(OptionError::MesoBudgetWithoutPrice { cube: cube.into() }),
        (Budget::Mesos(b), None, Some(price)) => {
            let b = check(b)?;
            Ok(Units {
                unit: PlanUnit::Mesos,
                unit_mesos: Some(price),
                per_attempt: vec![1; grades],
                budget: b,
                budget_units: libm::floor(b / price) as u64,
            })
        }
        (Budget::Mesos(b), Some(prices), _) => {
            let b = check(b)?;
            let unit = prices.iter().fold(0, |g, &p| gcd(g, p)).max(1);
            let per_attempt: Vec<u64> = prices.iter().map(|&p| p / unit).collect();
            let max_units = per_attempt.iter().copied().max().unwrap_or(1);
            if max_units > MAX_UNIT_COST || per_attempt.contains(&0) {
                return Err(OptionError::PriceGrid { unit, max_units });
            }
            Ok(Units {
                unit: PlanUnit::Mesos,
                unit_mesos: Some(unit as f64),
                per_attempt,
                budget: b,
                budget_units: libm::floor(b / unit as f64) as u64,
            })
        }
    }
}

/// The plan on `chain` with `units`; `eventual_success` = P(the goal is ever met), for the notes.
pub(crate) fn plan(
    chain: &Chain,
    units: Units,
    cube_price: bool,
    eventual_success: f64,
) -> Result<Plan, ChainError> {
    let out = chain.budget(&units.per_attempt, units.budget_units)?;
    let scale = units.unit_mesos.unwrap_or(1.0);
    let budget_for = out.budget_for.map(|b| b.map(|n| n as f64 * scale));
    let mut notes = Vec::new();
    let text = |v: f64| Param::Num(v);
    match (units.unit_mesos, cube_price) {
        (Some(price), true) => notes.push(Message::new(
            "potential.plan_cube_price",
            vec![("price", text(price)), ("cubes", Param::Int(units.budget_units as i64))],
            format!(
                "budget_mesos buys floor(budget / cube_price_mesos) = {} cubes at {price} mesos each; budget_for \
                 is the least number of cubes times the price",
                units.budget_units
            ),
        )),
        (Some(unit), false) => notes.push(Message::new(
            "potential.plan_meso_units",
            vec![("unit", text(unit)), ("units", Param::Int(units.budget_units as i64))],
            format!(
                "the reset prices are whole multiples of {unit} mesos, so the budget is counted exactly in \
                 those units: floor(budget / {unit}) = {}",
                units.budget_units
            ),
        )),
        (None, _) => {}
    }
    for (b, &t) in out.budget_for.iter().zip(&BUDGET_TARGETS) {
        if b.is_none() {
            notes.push(Message::new(
                "potential.plan_unreachable",
                vec![("p", text(t)), ("eventual_success", text(eventual_success))],
                format!(
                    "no budget reaches probability {t}: the goal is ever met with probability \
                     {eventual_success}, so budget_for for {t} is null"
                ),
            ));
        }
    }
    notes.push(Message::new(
        "potential.plan_method",
        vec![("error_bound", text(out.error_bound))],
        format!(
            "p_reach and budget_for are exact, tier-ups and pity included: the cost distribution is propagated \
             over (grade, pity counter) one cost unit at a time, and the top grade's geometric tail is summed in \
             closed form; probability mass left out: {} (rounding aside)",
            out.error_bound
        ),
    ));
    Ok(Plan {
        unit: units.unit,
        budget: units.budget,
        unit_mesos: units.unit_mesos,
        budget_units: units.budget_units,
        p_reach: out.p_reach,
        budget_for,
        error_bound: out.error_bound,
        notes,
    })
}
