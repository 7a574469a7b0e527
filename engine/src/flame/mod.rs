//! Bonus stats (추가옵션) from flames (환생의 불꽃): the exact probability that one flame reaches a flame
//! score, the expected number of flames and its quantiles.
//!
//! # Model (FLAME_FACTS.md; tables generated into [`tables`])
//! - A flame rolls `k` lines: always 4 on boss items, otherwise 1/2/3/4 at 40/40/16/4 % (official KMS;
//!   [`LineCounts`]).
//! - The `k` options are distinct, drawn uniformly without replacement from the item's pool: 19 options on
//!   weapons (…, boss% from Lv 90, damage%, all%) and on armor/accessories (…, ATT/MATT from Lv 60, speed,
//!   jump, all% from Lv 70); see [`Item::pool`].
//! - Each line rolls its own grade from the flame's table; tier = grade + 2 on boss items.
//! - A line's value depends on the option, the tier and the item level ([`Item::line_value`]); weapon
//!   ATT/MATT is `ceil(base × pct / 100)` in exact integer arithmetic ([`Item::weapon_attack`]).
//! - The score is linear in the stat totals with exact rational weights ([`ScoreWeights`]), either named
//!   ([`Convention`] × [`class_profile`]) or explicit.
//!
//! Everything the facts mark [UNCERTAIN] is a named field of [`Assumptions`] whose `Default` is the engine's
//! choice: official KMS line counts, the consensus abyss table, KMS (malib) values at Lv 201–249, the malib
//! weapon ATT table, and DEF = single stat below Lv 140.
//!
//! # Exactness
//! [`score_distribution`] enumerates line counts, line choices and tiers exactly (see `dist`): every
//! probability is an integer fraction, scores are integers in units of `1/scale` where `scale` is the common
//! denominator of the weights, and a score equal to the target counts as reaching it. Nothing depends on
//! floating-point ties, so the same inputs give the same bits on every platform.
//!
//! # API for other engine code
//! - score of current flame totals: [`ScoreWeights::score`] on [`FlameStats`];
//! - flames of kind K to reach a score S: [`flames_to_reach`] (or [`score_distribution`] then
//!   [`ScoreDistribution::reach`] to ask several targets);
//! - item helpers: [`flammability`], [`boss_by_name`], [`boss_from_stats`], [`weapon_attack_tier`],
//!   [`lazuli_to_lapis_base_attack`].

mod dist;
mod identify;
mod item;
mod rational;
mod score;
mod stat;
#[rustfmt::skip]
pub mod tables;

pub use dist::{
    flames_to_reach, score_distribution, Attempts, Probability, Quantiles, Reach, ScoreDistribution,
};
pub use identify::{
    boss_by_name, boss_from_stats, flammability, lazuli_to_lapis_base_attack, weapon_attack_tier,
    BossEvidence, Flammability,
};
pub use item::{
    AbyssTable, Assumptions, Boss, DefBelow140, FlameKind, Item, ItemKind, Levels201To249, LineCounts,
    LineOption, LineValue, WeaponAttack, MAX_LEVEL,
};
pub use rational::{Rational, MAX_DENOMINATOR, MAX_MAGNITUDE};
pub use score::{
    class_names, class_names_and_aliases, class_profile, target_units, ClassProfile, ClassStats, Convention,
    Overrides, Score, ScoreWeights, MAX_SCALE,
};
pub use stat::{FlameStats, Stat};
pub use tables::DATA_VERSION;

use std::fmt;

/// Why a flame computation could not be set up.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Item level outside `1..=250`.
    LevelOutOfRange { level: u32 },
    /// A weapon needs its base ATT (> 0) for the ATT/MATT line.
    BaseAttackZero,
    /// Base ATT/MATT was given for armor or an accessory.
    BaseAttackOnNonWeapon,
    /// Zero weapons are never boss items.
    ZeroWeaponIsNeverBoss,
    /// The class name is not one we know.
    UnknownClass { name: String },
    /// The stat name is not an `item_add_option` field.
    UnknownStat { name: String },
    /// A main or sub stat must be STR, DEX, INT or LUK.
    NotAMainStat { stat: Stat },
    /// The attack stat must be ATT or MATT.
    NotAnAttackStat { stat: Stat },
    /// A stat was named twice.
    DuplicateStat { stat: Stat },
    /// The named convention has no preset for this class.
    ConventionUndefinedForClass { convention: &'static str },
    /// An override that the class does not have (e.g. a sub-stat weight for Xenon).
    OverrideNotApplicable { what: &'static str },
    /// Weights must be ≥ 0.
    NegativeWeight { stat: Stat },
    /// Not a number: `"12"`, `"0.1"` or `"1/12"` expected.
    InvalidNumber { text: String },
    /// A fraction with denominator 0.
    ZeroDenominator,
    /// A number with more than 9 decimals, a denominator above [`MAX_DENOMINATOR`] or a magnitude above
    /// [`MAX_MAGNITUDE`].
    NumberOutOfRange { text: String },
    /// Score arithmetic overflowed (only with extreme weights).
    Overflow,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::LevelOutOfRange { level } => write!(f, "item level {level} is outside 1..={MAX_LEVEL}"),
            Error::BaseAttackZero => {
                f.write_str("a weapon needs base_attack > 0 for its ATT/MATT flame lines")
            }
            Error::BaseAttackOnNonWeapon => {
                f.write_str("base_attack/base_magic_attack apply to weapons only")
            }
            Error::ZeroWeaponIsNeverBoss => f.write_str("Zero weapons are never boss items"),
            Error::UnknownClass { name } => write!(
                f,
                "unknown class {name:?}: use a 4th-job KMS name as in the Open API (e.g. \"에반\") or an \
                 English alias (e.g. \"evan\"), or give main_stat/sub_stats/attack or explicit weights"
            ),
            Error::UnknownStat { name } => {
                write!(f, "unknown stat {name:?} (expected an item_add_option field)")
            }
            Error::NotAMainStat { stat } => write!(f, "{} cannot be a main or sub stat", stat.key()),
            Error::NotAnAttackStat { stat } => {
                write!(
                    f,
                    "{} is not an attack stat (attack_power or magic_power)",
                    stat.key()
                )
            }
            Error::DuplicateStat { stat } => write!(f, "stat {} is given twice", stat.key()),
            Error::ConventionUndefinedForClass { convention } => write!(
                f,
                "convention {convention} has no preset for this class; give explicit weights"
            ),
            Error::OverrideNotApplicable { what } => write!(f, "{what} does not apply to this class"),
            Error::NegativeWeight { stat } => write!(f, "weight of {} is negative", stat.key()),
            Error::InvalidNumber { text } => {
                write!(
                    f,
                    "{text:?} is not a number (expected e.g. \"12\", \"0.1\" or \"1/12\")"
                )
            }
            Error::ZeroDenominator => f.write_str("a fraction has denominator 0"),
            Error::NumberOutOfRange { text } => write!(
                f,
                "number {text} is out of range (at most 9 decimals, denominator <= {MAX_DENOMINATOR}, \
                 magnitude <= {MAX_MAGNITUDE})"
            ),
            Error::Overflow => f.write_str("score arithmetic overflowed; use smaller weights"),
        }
    }
}

impl std::error::Error for Error {}
