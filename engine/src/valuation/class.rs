//! "The stats that matter for the character's class", for potential lines.
//!
//! The class comes from the flame module's table ([`crate::flame::class_profile`]: Open API class name →
//! main stat(s) and attack stat), so both valuations agree on what a class is. From it:
//!
//! - main stat: `%`, flat and "per 9 levels" lines of each main stat (Xenon: STR, DEX and LUK; Demon
//!   Avenger: max HP `%` and flat). 올스탯 lines count toward every main stat
//!   ([`StatKind::counts_toward`]);
//! - attack: ATT `%` and flat ATT, or MATT for magicians;
//! - for every class: boss damage, ignore defense (summed, as the potential goals do), damage, critical
//!   damage, skill cooldown, meso and item drop.
//!
//! Every other line (sub stats, HP/MP for non-DA classes, DEF, speed, jump, critical rate, proc effects, ...)
//! is reported as "not counted for this class" and does not enter the goal.

use crate::flame::{ClassStats, Stat};
use crate::potential::StatKind;

/// What a class's potential goal is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Focus {
    /// Canonical KMS class name.
    pub class: &'static str,
    /// The stats a goal is summed on, in a fixed order (main stats, attack, then the shared ones).
    pub stats: Vec<StatKind>,
}

const SHARED: [StatKind; 7] = [
    StatKind::BossPct,
    StatKind::IedPct,
    StatKind::DamagePct,
    StatKind::CritDmgPct,
    StatKind::CooldownSec,
    StatKind::MesoPct,
    StatKind::DropPct,
];

fn main_stat_kinds(stat: Stat) -> [StatKind; 3] {
    match stat {
        Stat::Str => [StatKind::StrPct, StatKind::Str, StatKind::StrPer9Lv],
        Stat::Dex => [StatKind::DexPct, StatKind::Dex, StatKind::DexPer9Lv],
        Stat::Int => [StatKind::IntPct, StatKind::Int, StatKind::IntPer9Lv],
        // ClassStats::standard only admits STR/DEX/INT/LUK as a main stat.
        _ => [StatKind::LukPct, StatKind::Luk, StatKind::LukPer9Lv],
    }
}

impl Focus {
    /// The focus of a class profile.
    pub fn new(class: &'static str, stats: &ClassStats) -> Focus {
        let mut out = Vec::new();
        let attack_magic = match stats {
            ClassStats::Standard { main, attack, .. } => {
                out.extend(main_stat_kinds(*main));
                *attack == Stat::MagicPower
            }
            ClassStats::Xenon => {
                for s in [Stat::Str, Stat::Dex, Stat::Luk] {
                    out.extend(main_stat_kinds(s));
                }
                false
            }
            ClassStats::DemonAvenger => {
                out.extend([StatKind::MaxHpPct, StatKind::MaxHp]);
                false
            }
        };
        if attack_magic {
            out.extend([StatKind::MattPct, StatKind::Matt]);
        } else {
            out.extend([StatKind::AttPct, StatKind::Att]);
        }
        out.extend(SHARED);
        Focus { class, stats: out }
    }

    /// The goal stats a line of `kind` counts toward (empty: the line does not matter for this class).
    pub fn counted(&self, kind: StatKind) -> impl Iterator<Item = StatKind> + '_ {
        self.stats.iter().copied().filter(move |&s| kind.counts_toward(s))
    }
}
