//! The flame of one item: flames of the assumed kind until one reaches the item's current flame score.

use super::input::{Item, SetId};
use super::options::{FlameOptions, UnknownBoss};
use super::report::{FlameValue, Kind, NotValued, Quantiles, Reason};
use crate::flame::{self as fl, BossEvidence, Flammability, ItemKind, Reach, ScoreDistribution};
use crate::message::{Message, Param};

fn nv(reason: Reason, code: &'static str, params: Vec<(&'static str, Param)>, message: String) -> NotValued {
    NotValued {
        kind: Kind::Flame,
        reason,
        message: Message::new(code, params, message),
    }
}

/// The flame engine refused: its error's stable name, the English text for the details.
fn invalid(e: &super::input::InputIssue) -> NotValued {
    NotValued {
        kind: Kind::Flame,
        reason: Reason::InvalidInput,
        message: super::stars::invalid(e),
    }
}

fn rejected(e: fl::Error) -> NotValued {
    let code = match e {
        fl::Error::LevelOutOfRange { .. } => "level_out_of_range",
        fl::Error::BaseAttackZero => "base_attack_zero",
        fl::Error::BaseAttackOnNonWeapon => "base_attack_on_non_weapon",
        fl::Error::ZeroWeaponIsNeverBoss => "zero_weapon_is_never_boss",
        fl::Error::Overflow => "overflow",
        _ => "other",
    };
    nv(
        Reason::FlameRejected,
        "valuation.flame_rejected",
        vec![("error_code", code.into())],
        e.to_string(),
    )
}

/// Exact score distributions already computed for this character (the weights are the same for all its
/// items, so the flame item alone is the key).
#[derive(Default)]
pub(super) struct Cache {
    dists: Vec<(fl::Item, ScoreDistribution)>,
}

impl Cache {
    fn get(
        &mut self,
        item: fl::Item,
        opts: &FlameOptions,
        weights: &fl::ScoreWeights,
    ) -> Result<&ScoreDistribution, fl::Error> {
        let i = match self.dists.iter().position(|(k, _)| *k == item) {
            Some(i) => i,
            None => {
                let d = fl::score_distribution(opts.flame, &item, weights, &opts.assumptions)?;
                self.dists.push((item, d));
                self.dists.len() - 1
            }
        };
        Ok(&self.dists[i].1)
    }
}

const ARMOR_SLOTS: &[&str] = &[
    "모자",
    "상의",
    "하의",
    "한벌옷",
    "신발",
    "장갑",
    "망토",
    "어깨장식",
];

/// The class's flame score: its canonical name and its weights, or why the convention has none for it.
pub(super) struct Scoring<'a> {
    pub class: &'a str,
    pub weights: Result<fl::ScoreWeights, String>,
}

pub(super) fn value(
    item: &Item,
    set: SetId,
    scoring: Option<&Scoring<'_>>,
    opts: &FlameOptions,
    cache: &mut Cache,
) -> Result<FlameValue, NotValued> {
    if set.is_companion() {
        return Err(nv(
            Reason::NotFlammable,
            "valuation.flame_companion",
            vec![],
            "dragon and mechanic equipment cannot carry flames".to_owned(),
        ));
    }
    match fl::flammability(&item.slot, &item.name) {
        Flammability::Flammable => {}
        Flammability::NotFlammable => {
            return Err(nv(
                Reason::NotFlammable,
                "valuation.flame_not_flammable",
                vec![("slot", item.slot.as_str().into())],
                format!("items in the {} slot cannot carry flames", item.slot),
            ))
        }
        Flammability::Unknown => {
            return Err(nv(
                Reason::FlammabilityUnknown,
                "valuation.flame_flammability_unknown",
                vec![("slot", item.slot.as_str().into())],
                format!(
                    "whether items in the {} slot can carry flames is not known",
                    item.slot
                ),
            ))
        }
    }
    let input = *item.flame.as_ref().map_err(invalid)?;
    if input.stats.nonzero().next().is_none() {
        return Err(nv(
            Reason::NoFlame,
            "valuation.flame_none",
            vec![],
            "item_add_option is all 0: the item has no flame".to_owned(),
        ));
    }
    let Some(scoring) = scoring else {
        return Err(nv(
            Reason::UnknownClass,
            "valuation.flame_unknown_class",
            vec![],
            "the class is unknown, so the flame score is too".to_owned(),
        ));
    };
    let weights = scoring.weights.as_ref().map_err(|e| {
        nv(
            Reason::ScoreUndefined,
            "valuation.flame_score_undefined",
            vec![
                ("class", scoring.class.into()),
                ("convention", opts.convention.key().into()),
            ],
            e.clone(),
        )
    })?;
    let score = weights.score(&input.stats);
    if score.units() == 0 {
        let stats: Vec<String> = input
            .stats
            .nonzero()
            .map(|(s, v)| format!("{} {v}", s.key()))
            .collect();
        return Err(nv(
            Reason::FlameScoreZero,
            "valuation.flame_score_zero",
            vec![
                ("stats", stats.join(", ").into()),
                ("class", scoring.class.into()),
            ],
            format!(
                "the flame ({}) adds nothing the {} score counts",
                stats.join(", "),
                scoring.class
            ),
        ));
    }
    let level = item.level.clone().map_err(|e| invalid(&e))?;

    let zero = scoring.class == "제로" && item.slot == "무기";
    let kind = if zero {
        ItemKind::ZeroWeapon
    } else if item.slot == "무기" {
        ItemKind::Weapon
    } else if ARMOR_SLOTS.contains(&item.slot.as_str()) {
        ItemKind::Armor
    } else {
        ItemKind::Accessory
    };
    let (boss, boss_from) = if zero {
        (fl::Boss::No, "zero_weapon")
    } else {
        match (
            fl::boss_by_name(&item.name, kind),
            fl::boss_from_stats(kind, &input.stats),
        ) {
            (BossEvidence::Boss, _) => (fl::Boss::Yes, "name"),
            (BossEvidence::NotBoss, _) => (fl::Boss::No, "name"),
            (BossEvidence::Unknown, BossEvidence::Boss) => (fl::Boss::Yes, "flame_stats"),
            (BossEvidence::Unknown, BossEvidence::NotBoss) => (fl::Boss::No, "flame_stats"),
            (BossEvidence::Unknown, BossEvidence::Unknown) => match opts.unknown_boss {
                UnknownBoss::AssumeBoss => (fl::Boss::Yes, "option"),
                UnknownBoss::AssumeNotBoss => (fl::Boss::No, "option"),
                UnknownBoss::NotValued => {
                    return Err(nv(
                        Reason::BossUnknown,
                        "valuation.flame_boss_unknown",
                        vec![("name", item.name.as_str().into())],
                        format!(
                            "{} is not on the boss item list and its flame does not show a boss-only or \
                             non-boss-only tier; set options.flame.unknown_boss to value it",
                            item.name
                        ),
                    ))
                }
            },
        }
    };
    let fl_item = match kind {
        ItemKind::ZeroWeapon => {
            let lapis = fl::lazuli_to_lapis_base_attack(input.base_attack).ok_or_else(|| {
                nv(
                    Reason::FlameRejected,
                    "valuation.flame_no_lapis_pair",
                    vec![("base_attack", input.base_attack.into())],
                    format!("Lazuli base ATT {} has no known Lapis pair", input.base_attack),
                )
            })?;
            fl::Item::zero_weapon(level, lapis)
        }
        ItemKind::Weapon => fl::Item::weapon(level, boss, input.base_attack, input.base_magic_attack),
        _ => fl::Item::new(level, kind, boss, 0, 0),
    }
    .map_err(rejected)?;
    let dist = cache.get(fl_item, opts, weights).map_err(rejected)?;
    // The item's score and the distribution come from the same weights, so they share their units; the
    // score itself can be above any Rational (a fuzzed 10^9 stat).
    assert_eq!(
        score.scale(),
        dist.scale(),
        "a flame score and its distribution have different units (a bug)"
    );
    let target = score;
    match dist.reach_units(score.units()) {
        Reach::Impossible { max_score } => Err(nv(
            Reason::ImpossibleTarget,
            "valuation.flame_impossible",
            vec![
                ("score", target.to_string().into()),
                ("flame", opts.flame.key().into()),
                ("max_score", max_score.to_f64().into()),
            ],
            format!(
                "the flame score {target} is above the best one {} flame can give ({}): the flame did not \
                 come from this kind of flame",
                opts.flame.key(),
                max_score.to_f64()
            ),
        )),
        Reach::Possible(a) => {
            let q = a.quantiles();
            let mean = a.mean();
            Ok(FlameValue {
                flame: opts.flame,
                item_kind: kind,
                boss: boss == fl::Boss::Yes,
                boss_from,
                score: score.to_f64(),
                score_exact: target.to_string(),
                p_per_flame: a.p(),
                p_per_flame_exact: a.p_exact().to_string(),
                mean_flames: mean,
                sd_flames: a.sd(),
                quantiles_flames: Quantiles {
                    p50: Some(q.p50),
                    p90: Some(q.p90),
                    p99: Some(q.p99),
                },
                mean_mesos: opts.price_mesos.map(|p| p * mean),
            })
        }
    }
}
