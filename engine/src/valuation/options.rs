//! The choices a valuation assumes. `Default` is the documented default of the request.

use crate::flame::{Assumptions, Convention, FlameKind};
use crate::potential::Grade;

/// Star force options, passed through to the star force engine.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StarforceOptions {}

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
    /// Meso resets for both potentials (so every potential cost is in mesos) starting at 레어, eternal
    /// flames scored with the KMS convention, boss flag unknown → not valued, no prices for cubes or flames.
    fn default() -> Self {
        Options {
            starforce: StarforceOptions::default(),
            potential: PotentialOptions {
                reset: "meso_reset_main".to_owned(),
                start_grade: Grade::Rare,
                cube_price_mesos: None,
            },
            additional_potential: PotentialOptions {
                reset: "meso_reset_additional".to_owned(),
                start_grade: Grade::Rare,
                cube_price_mesos: None,
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
