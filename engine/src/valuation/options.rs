//! The choices a valuation assumes. `Default` is the documented default of the request.

use crate::flame::{Assumptions, Convention, FlameKind};
use crate::potential::Grade;
use crate::starforce::{Events, Mvp, RuleSetId};

/// Star force options, passed to the star force engine for every item (its `Request` without the level
/// and stars). `Default` is all off: KMS rules, no option, no spare cost; the valuation's default
/// ([`Options::default`]), like the `starforce` operation's, turns star catch on
/// ([`DEFAULT_STAR_CATCH`](crate::starforce::DEFAULT_STAR_CATCH)).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StarforceOptions {
    pub ruleset: RuleSetId,
    pub star_catch: bool,
    /// Safeguard at every star where the rule set offers it.
    pub safeguard: bool,
    pub events: Events,
    pub mvp: Mvp,
    pub pc_room: bool,
    /// Mesos to replace one destroyed item; the item's mean adds `spare_cost × mean booms`.
    pub spare_cost: f64,
    /// Also compute cost quantiles per item (the star force engine's grid: about 1–3 ms per item, against
    /// microseconds for the moments alone).
    pub quantiles: bool,
}

/// Which reset a potential valuation assumes.
#[derive(Debug, Clone, PartialEq)]
pub struct PotentialOptions {
    /// A cube or reset name of the potential data (`meso_reset_main`, `black`, `red`, `additional`, ...).
    pub reset: String,
    /// The grade an item is assumed to be obtained at; the resets start there (or at the item's grade if
    /// that is lower).
    pub start_grade: Grade,
    /// Price of one cube in mesos, for cube items (`None`: count cubes only).
    pub cube_price_mesos: Option<f64>,
    /// Also compute each item's attempt quantiles (`true` by default). The means, hence every sum, are
    /// the same bits either way; with tier-ups the quantiles are most of a valuation's time.
    pub quantiles: bool,
}

/// What to do when nothing tells whether an item is a boss item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownBoss {
    /// Report the flame as not valued (`boss_unknown`).
    #[default]
    NotValued,
    AssumeBoss,
    AssumeNotBoss,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FlameOptions {
    pub flame: FlameKind,
    pub convention: Convention,
    pub assumptions: Assumptions,
    pub unknown_boss: UnknownBoss,
    /// Price of one flame in mesos (`None`: count flames only).
    pub price_mesos: Option<f64>,
}

/// Everything a valuation assumes.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub starforce: StarforceOptions,
    pub potential: PotentialOptions,
    pub additional_potential: PotentialOptions,
    pub flame: FlameOptions,
}

impl Default for Options {
    /// Star catch on (every other star force option off), meso resets for both potentials (so every potential cost is in mesos) starting at 레어, eternal
    /// flames scored with the KMS convention, boss flag unknown → not valued, no prices for cubes or flames.
    fn default() -> Self {
        Options {
            // Star catch on: players enhance with it (issue 15), and the page's star force tab starts so.
            starforce: StarforceOptions {
                star_catch: crate::starforce::DEFAULT_STAR_CATCH,
                ..StarforceOptions::default()
            },
            potential: PotentialOptions {
                reset: "meso_reset_main".to_owned(),
                start_grade: Grade::Rare,
                cube_price_mesos: None,
                quantiles: true,
            },
            additional_potential: PotentialOptions {
                reset: "meso_reset_additional".to_owned(),
                start_grade: Grade::Rare,
                cube_price_mesos: None,
                quantiles: true,
            },
            flame: FlameOptions {
                flame: FlameKind::Eternal,
                convention: Convention::KmsGrade,
                assumptions: Assumptions::default(),
                unknown_boss: UnknownBoss::NotValued,
                price_mesos: None,
            },
        }
    }
}
