//! What a valuation returns: per item, per set (equipped, presets, dragon/mechanic) and in total.

use super::input::SetId;
use crate::flame::{FlameKind, ItemKind as FlameItemKind};
use crate::message::Message;
use crate::potential::{Condition, Grade, ParsedLine};
use core::fmt;

/// The four things an item is valued for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Starforce,
    Potential,
    AdditionalPotential,
    Flame,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::Starforce,
        Kind::Potential,
        Kind::AdditionalPotential,
        Kind::Flame,
    ];

    /// The response key.
    pub fn key(self) -> &'static str {
        match self {
            Kind::Starforce => "starforce",
            Kind::Potential => "potential",
            Kind::AdditionalPotential => "additional_potential",
            Kind::Flame => "flame",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// What a mean is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unit {
    Mesos,
    /// Cube items (a cube has no meso price in the data).
    Cubes,
    /// Flames of the assumed kind.
    Flames,
}

impl Unit {
    pub fn key(self) -> &'static str {
        match self {
            Unit::Mesos => "mesos",
            Unit::Cubes => "cubes",
            Unit::Flames => "flames",
        }
    }
}

/// Why something was not valued. [`Reason::code`] is stable; clients match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// An upstream field is missing or malformed.
    InvalidInput,
    /// The class is not one the engine knows, so the stats that matter are unknown.
    UnknownClass,
    /// The scoring convention has no preset for this class.
    ScoreUndefined,
    /// The slot cannot be star-forced (emblem, badge, medal, pocket, secondary, special ring, ...).
    NotStarforceable,
    /// Enhanced with star scrolls (놀라운 장비강화 주문서); that path is not modelled.
    StarScroll,
    /// The item comes with its stars (Genesis weapons are liberated at 22★ and cannot be enhanced).
    FixedStars,
    /// Superior (타일런트) star force is not modelled.
    SuperiorStarforce,
    /// The star force engine rejected the item (e.g. more stars than the level allows).
    StarforceRejected,
    /// The item has no (main / additional) potential.
    NoPotential,
    /// The slot has no potential tables (badge, medal, pocket, companion equipment).
    NoPotentialTable,
    /// The data has no table for this cube, grade, part and level band.
    MissingDataBand,
    /// The data has no meso price for this reset at this grade and level.
    MissingPrice,
    /// The assumed cube or reset cannot be used at this grade.
    ResetNotUsable,
    /// A potential line the parser does not understand (reported; it is not part of the goal).
    UnparsedLine,
    /// No outcome reaches the target (lines, or flame score).
    ImpossibleTarget,
    /// The target is reached with probability below 1 (a tier-up can lose it): the mean is infinite.
    InfiniteMean,
    /// The item cannot carry flames.
    NotFlammable,
    /// Whether the item can carry flames is not known.
    FlammabilityUnknown,
    /// Boss or not decides the flame model, and nothing tells it.
    BossUnknown,
    /// The item can carry flames but has none (all `item_add_option` totals are 0).
    NoFlame,
    /// The flame adds nothing the class's score counts.
    FlameScoreZero,
    /// The flame engine rejected the item (level, base attack, ...).
    FlameRejected,
    /// Any other engine refusal (a data error): a bug or a data gap, never silent.
    EngineError,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::InvalidInput => "invalid_input",
            Reason::UnknownClass => "unknown_class",
            Reason::ScoreUndefined => "score_undefined",
            Reason::NotStarforceable => "not_starforceable",
            Reason::StarScroll => "star_scroll_not_modelled",
            Reason::FixedStars => "fixed_stars",
            Reason::SuperiorStarforce => "superior_starforce_not_modelled",
            Reason::StarforceRejected => "starforce_rejected",
            Reason::NoPotential => "no_potential",
            Reason::NoPotentialTable => "no_potential_table",
            Reason::MissingDataBand => "missing_data_band",
            Reason::MissingPrice => "missing_price",
            Reason::ResetNotUsable => "reset_not_usable",
            Reason::UnparsedLine => "unparsed_line",
            Reason::ImpossibleTarget => "impossible_target",
            Reason::InfiniteMean => "infinite_mean",
            Reason::NotFlammable => "not_flammable",
            Reason::FlammabilityUnknown => "flammability_unknown",
            Reason::BossUnknown => "boss_unknown",
            Reason::NoFlame => "no_flame",
            Reason::FlameScoreZero => "flame_score_zero",
            Reason::FlameRejected => "flame_rejected",
            Reason::EngineError => "engine_error",
        }
    }
}

/// One thing about an item that was not valued, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct NotValued {
    pub kind: Kind,
    pub reason: Reason,
    /// The detail: a catalogued code, its params and a sentence for humans (may change; the code may not).
    pub message: Message,
}

/// Quantiles of a count (attempts, flames) or of mesos: the smallest n with P(X ≤ n) ≥ q. `None` when the
/// distribution never reaches q.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantiles {
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
}

/// Star force from 0★ to the item's stars.
#[derive(Debug, Clone, PartialEq)]
pub struct StarforceValue {
    pub from_star: u32,
    pub to_star: u32,
    /// What the sums use: attempt mesos plus `spare_cost × mean_booms`.
    pub mean_mesos: f64,
    /// Mesos spent on attempts (discounts, events and safeguard surcharges included).
    pub mean_attempt_mesos: f64,
    pub sd_attempt_mesos: f64,
    /// Quantiles of the attempt mesos, when asked for (`options.starforce.quantiles`).
    pub quantiles_attempt_mesos: Option<Quantiles>,
    pub mean_attempts: f64,
    pub mean_booms: f64,
    pub p_no_boom: f64,
    /// Set exactly when `mean_mesos` is 0: why it is 0.
    pub zero_reason: Option<Message>,
}

/// What the valuation did with one potential line.
#[derive(Debug, Clone, PartialEq)]
pub enum LineUse {
    /// The line counts toward these goal stats.
    Counted(Vec<crate::potential::StatKind>),
    /// A stat line that does not matter for the class.
    NotCounted,
    /// A recognised proc/skill/emote line (no stat to sum).
    NonStat,
    /// The parser does not know the line (also listed in `not_valued`).
    Unparsed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LineReport {
    pub text: String,
    pub parsed: ParsedLine,
    pub used: LineUse,
}

/// Main or additional potential: the cost to reach lines at least as good from the start grade.
#[derive(Debug, Clone, PartialEq)]
pub struct PotentialValue {
    pub grade: Grade,
    /// Where the resets start: the assumed grade an item is obtained at, or the item's grade if lower.
    pub start_grade: Grade,
    /// The cube or reset name in the data (`meso_reset_main`, `black`, ...).
    pub reset: String,
    pub unit: Unit,
    pub lines: Vec<LineReport>,
    /// Conjunction of `AtLeast` conditions; empty when no line matters for the class (then the cost is 0,
    /// with `zero_reason`).
    pub goal: Vec<Condition>,
    /// Level band of the tables used at the start grade (`None` with an empty goal).
    pub band: Option<(u32, u32)>,
    /// P(one attempt meets the goal) at the item's grade (`None` with an empty goal).
    pub p_per_attempt_at_grade: Option<f64>,
    pub mean_attempts: f64,
    /// `None` when not asked for (`PotentialOptions::quantiles` false).
    pub quantiles_attempts: Option<Quantiles>,
    /// Mean in `unit`.
    pub mean: f64,
    /// Mean in mesos: the mean itself for meso resets, cubes × the given cube price, else `None`.
    pub mean_mesos: Option<f64>,
    /// Set exactly when `mean` is 0.
    pub zero_reason: Option<Message>,
    pub notes: Vec<Message>,
}

/// The flame: flames of the assumed kind until one reaches the item's current score.
#[derive(Debug, Clone, PartialEq)]
pub struct FlameValue {
    pub flame: FlameKind,
    pub item_kind: FlameItemKind,
    pub boss: bool,
    /// How the boss flag was decided: `name` (boss item list), `flame_stats` (a tier only one kind
    /// reaches), `option` (the request's `unknown_boss`), `zero_weapon`.
    pub boss_from: &'static str,
    pub score: f64,
    /// Exact score (`"185"`, `"241/2"`).
    pub score_exact: String,
    pub p_per_flame: f64,
    pub p_per_flame_exact: String,
    pub mean_flames: f64,
    pub sd_flames: f64,
    pub quantiles_flames: Quantiles,
    /// `mean_flames` × the given flame price, else `None`.
    pub mean_mesos: Option<f64>,
}

/// One distinct item and its valuation.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemValuation {
    pub slot: String,
    pub part: String,
    pub name: String,
    pub level: Option<u32>,
    pub stars: Option<u32>,
    pub starforce: Option<StarforceValue>,
    pub potential: Option<PotentialValue>,
    pub additional_potential: Option<PotentialValue>,
    pub flame: Option<FlameValue>,
    /// Everything not valued, in kind order. A kind is either valued or has an entry here (an unparsed line
    /// adds an entry even when the rest of its potential is valued).
    pub not_valued: Vec<NotValued>,
}

impl ItemValuation {
    /// The mean of `kind` in its unit, if valued.
    pub fn mean(&self, kind: Kind) -> Option<(f64, Unit)> {
        match kind {
            Kind::Starforce => self.starforce.as_ref().map(|s| (s.mean_mesos, Unit::Mesos)),
            Kind::Potential => self.potential.as_ref().map(|p| (p.mean, p.unit)),
            Kind::AdditionalPotential => self.additional_potential.as_ref().map(|p| (p.mean, p.unit)),
            Kind::Flame => self.flame.as_ref().map(|f| (f.mean_flames, Unit::Flames)),
        }
    }

    /// The mean of `kind` in mesos, if valued and priced.
    pub fn mean_mesos(&self, kind: Kind) -> Option<f64> {
        match kind {
            Kind::Starforce => self.starforce.as_ref().map(|s| s.mean_mesos),
            Kind::Potential => self.potential.as_ref().and_then(|p| p.mean_mesos),
            Kind::AdditionalPotential => self.additional_potential.as_ref().and_then(|p| p.mean_mesos),
            Kind::Flame => self.flame.as_ref().and_then(|f| f.mean_mesos),
        }
    }

    pub fn is_valued(&self, kind: Kind) -> bool {
        self.mean(kind).is_some()
    }

    /// Sum of the means that are in mesos; `None` when none is.
    pub fn total_mesos(&self) -> Option<f64> {
        Kind::ALL
            .iter()
            .filter_map(|&k| self.mean_mesos(k))
            .reduce(|a, b| a + b)
    }
}

/// Sums of one kind over a set of items.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KindSummary {
    pub kind: Kind,
    pub unit: Unit,
    /// Sum of the valued means, in `unit`; `None` when no item of the set has this kind valued.
    pub mean: Option<f64>,
    /// The same in mesos; `None` also when `unit` is not mesos and no price was given.
    pub mean_mesos: Option<f64>,
    /// Items where this kind is valued / not valued.
    pub valued: u32,
    pub not_valued: u32,
}

/// Sums over a set of items.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Item count (an item worn twice counts twice).
    pub items: u32,
    pub by_kind: Vec<KindSummary>,
    /// Sum of the kinds' `mean_mesos`; `None` when no kind has one (nothing valued in mesos).
    pub mean_mesos: Option<f64>,
    /// Kinds left out of `mean_mesos`: counted in cubes or flames without a price, or nothing valued.
    pub mesos_exclude: Vec<Kind>,
    /// Items with every kind valued / some / none.
    pub items_fully_valued: u32,
    pub items_partly_valued: u32,
    pub items_not_valued: u32,
}

/// One slot of a set and the distinct item worn there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetEntry {
    pub slot: String,
    /// Index into [`Valuation::items`].
    pub item: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SetValuation {
    pub set: SetId,
    pub entries: Vec<SetEntry>,
    pub summary: Summary,
}

/// The class as the valuation understood it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassInfo {
    /// As given (`character_class`).
    pub given: Option<String>,
    /// Canonical KMS name, when known.
    pub name: Option<&'static str>,
    /// Goal stats of the potential rule (keys), empty when the class is unknown.
    pub potential_stats: Vec<&'static str>,
    /// The flame score weights as `(stat, exact weight)`, empty when unknown.
    pub flame_weights: Vec<(&'static str, String)>,
}

/// The whole valuation.
#[derive(Debug, Clone, PartialEq)]
pub struct Valuation {
    pub class: ClassInfo,
    /// Distinct items, in order of first appearance (equipped first).
    pub items: Vec<ItemValuation>,
    pub sets: Vec<SetValuation>,
    /// Every distinct item once; an item worn twice in one set (two identical rings) counts twice.
    pub total: Summary,
    /// Assumptions of the engines that apply to many items (pity semantics, data caveats, ...), each once,
    /// in order of first appearance.
    pub notes: Vec<Message>,
}
