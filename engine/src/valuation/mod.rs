//! Character valuation: what the equipment a character wears cost to make, item by item, per preset and
//! in total, by orchestrating the star force, potential and flame engines.
//!
//! # What is valued, per item
//! - **star force**: the expected meso cost from 0★ to the item's stars ([`crate::starforce`]). Items
//!   enhanced with star scrolls, Genesis weapons (liberated at 22★), superior items and slots that cannot
//!   be star-forced are reported, not valued. 0★ is a real 0 and says so (`zero_reason`).
//! - **potential / additional potential**: the expected cost, with the assumed reset, to reach lines at
//!   least as good as the item's on the stats that matter for the class, starting from the grade the item
//!   is assumed to be obtained at (see [`cubes`] for the goal rule and [`class`] for the stats).
//! - **flame**: the expected number of flames of the assumed kind until one reaches the item's current
//!   flame score (the class's score, [`crate::flame`]).
//!
//! Anything that cannot be valued is a [`NotValued`] entry `{kind, reason, message}` on the item; a kind is
//! either valued or has such an entry, so nothing is ever silently 0.
//!
//! # Sets and totals
//! Each list of the response (equipped, presets 1–3, dragon, mechanic) is a set; a set's summary sums its
//! items' means by kind. Presets share items, so items are deduplicated: two entries are the same item when
//! everything the valuation reads is equal ([`Item::same_as`]). The total counts every distinct item once
//! — or as many times as it is worn at once in one set (two identical rings). Means add up; quantiles do
//! not, so sums carry means only and quantiles stay on the items.
//!
//! # Errors
//! Only options the data cannot honour fail the whole valuation ([`Error`]). Everything about the items is
//! per-item reporting.

mod class;
mod cubes;
mod flames;
mod input;
mod options;
mod report;
mod stars;

pub use class::Focus;
pub use input::{Character, Field, FlameInput, InputIssue, Item, Potential, Problem, SetId, Stars};
pub use options::{FlameOptions, Options, PotentialOptions, StarforceOptions, UnknownBoss};
pub use report::{
    ClassInfo, FlameValue, ItemValuation, Kind, KindSummary, LineReport, LineUse, NotValued, PotentialValue,
    Quantiles, Reason, SetEntry, SetValuation, StarforceValue, Summary, Unit, Valuation,
};

use crate::flame as fl;
use crate::potential::{Data, PotentialKind};
use core::fmt;

/// Options the data cannot honour.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The reset is not in the potential data.
    UnknownReset { reset: String, known: Vec<String> },
    /// The reset rerolls the other potential (e.g. `additional` given for the main potential).
    WrongPotential { reset: String, main: bool },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnknownReset { reset, known } => {
                write!(f, "unknown reset {reset:?}; expected one of {}", known.join(", "))
            }
            Error::WrongPotential { reset, main } => {
                let (is, want) = if *main {
                    ("additional", "main")
                } else {
                    ("main", "additional")
                };
                write!(
                    f,
                    "{reset:?} rerolls the {is} potential, not the {want} potential"
                )
            }
        }
    }
}

impl std::error::Error for Error {}

/// Value a character's equipment.
///
/// # Errors
/// [`Error`] when a reset in `options` is unknown to `data` or rerolls the other potential.
pub fn value(character: &Character, options: &Options, data: &Data) -> Result<Valuation, Error> {
    cubes::check_reset(data, PotentialKind::Main, &options.potential.reset)?;
    cubes::check_reset(
        data,
        PotentialKind::Additional,
        &options.additional_potential.reset,
    )?;

    let profile = character.class.as_deref().and_then(|c| fl::class_profile(c).ok());
    let focus = profile.as_ref().map(|p| Focus::new(p.name, &p.stats));
    let scoring = profile.as_ref().map(|p| flames::Scoring {
        class: p.name,
        weights: fl::ScoreWeights::for_class(&p.stats, options.flame.convention, fl::Overrides::default())
            .map_err(|e| e.to_string()),
    });
    let class = ClassInfo {
        given: character.class.clone(),
        name: profile.as_ref().map(|p| p.name),
        potential_stats: focus
            .as_ref()
            .map_or_else(Vec::new, |f| f.stats.iter().map(|s| s.key()).collect()),
        flame_weights: match scoring.as_ref().map(|s| &s.weights) {
            Some(Ok(w)) => w.nonzero().map(|(s, r)| (s.key(), r.to_string())).collect(),
            _ => Vec::new(),
        },
    };

    let mut distinct: Vec<(&Item, SetId)> = Vec::new();
    let mut sets = Vec::with_capacity(character.sets.len());
    for (set, items) in &character.sets {
        let mut entries = Vec::with_capacity(items.len());
        for item in items {
            let index = match distinct
                .iter()
                .position(|(d, s)| d.same_as(item) && s.is_companion() == set.is_companion())
            {
                Some(i) => i,
                None => {
                    distinct.push((item, *set));
                    distinct.len() - 1
                }
            };
            entries.push(SetEntry {
                slot: item.slot.clone(),
                item: index,
            });
        }
        sets.push((*set, entries));
    }

    let units = Units::new(options, data);
    let mut ctx = Context {
        focus: focus.as_ref(),
        scoring: scoring.as_ref(),
        options,
        data,
        cache: flames::Cache::default(),
        notes: Vec::new(),
    };
    let items: Vec<ItemValuation> = distinct
        .iter()
        .map(|&(item, set)| value_item(item, set, &mut ctx))
        .collect();
    let notes = ctx.notes;

    let sets: Vec<SetValuation> = sets
        .into_iter()
        .map(|(set, entries)| {
            let summary = summarize(&items, entries.iter().map(|e| e.item), units);
            SetValuation {
                set,
                entries,
                summary,
            }
        })
        .collect();
    // Total: every distinct item, as many times as it is worn at once in one set.
    let mut multiplicity = vec![0u32; items.len()];
    for s in &sets {
        let mut count = vec![0u32; items.len()];
        for e in &s.entries {
            count[e.item] += 1;
        }
        for (m, c) in multiplicity.iter_mut().zip(count) {
            *m = (*m).max(c);
        }
    }
    let total_items = multiplicity
        .iter()
        .enumerate()
        .flat_map(|(i, &m)| std::iter::repeat_n(i, m as usize));
    let total = summarize(&items, total_items, units);
    Ok(Valuation {
        class,
        items,
        sets,
        total,
        notes,
    })
}

/// What every item's valuation shares.
struct Context<'a> {
    focus: Option<&'a Focus>,
    scoring: Option<&'a flames::Scoring<'a>>,
    options: &'a Options,
    data: &'a Data,
    cache: flames::Cache,
    notes: Vec<crate::message::Message>,
}

fn value_item(item: &Item, set: SetId, ctx: &mut Context<'_>) -> ItemValuation {
    let options = ctx.options;
    let mut out = ItemValuation {
        slot: item.slot.clone(),
        part: item.part.clone(),
        name: item.name.clone(),
        level: item.level.as_ref().ok().copied(),
        stars: item.stars.as_ref().ok().map(|s| s.stars),
        starforce: None,
        potential: None,
        additional_potential: None,
        flame: None,
        not_valued: Vec::new(),
    };
    if let Some(issue) = &item.identity_issue {
        for kind in Kind::ALL {
            out.not_valued.push(NotValued {
                kind,
                reason: Reason::InvalidInput,
                message: stars::invalid(issue),
            });
        }
        return out;
    }
    match stars::value(item, set, &options.starforce) {
        Ok(v) => out.starforce = Some(v),
        Err(e) => out.not_valued.push(e),
    }
    for (kind, field, opts) in [
        (Kind::Potential, &item.potential, &options.potential),
        (
            Kind::AdditionalPotential,
            &item.additional,
            &options.additional_potential,
        ),
    ] {
        let (v, mut nv) = match field {
            Ok(p) => cubes::value(kind, item, p.as_ref(), ctx.focus, opts, ctx.data, &mut ctx.notes),
            Err(e) => (
                None,
                vec![NotValued {
                    kind,
                    reason: Reason::InvalidInput,
                    message: stars::invalid(e),
                }],
            ),
        };
        out.not_valued.append(&mut nv);
        match kind {
            Kind::Potential => out.potential = v,
            _ => out.additional_potential = v,
        }
    }
    match flames::value(item, set, ctx.scoring, &options.flame, &mut ctx.cache) {
        Ok(v) => out.flame = Some(v),
        Err(e) => out.not_valued.push(e),
    }
    out
}

/// The unit of each kind, from the options.
#[derive(Clone, Copy)]
struct Units([Unit; 4]);

impl Units {
    fn new(options: &Options, data: &Data) -> Units {
        let cube = |o: &PotentialOptions| match data.cube(&o.reset).map(|c| c.payment) {
            Some(crate::potential::Payment::Item) => Unit::Cubes,
            _ => Unit::Mesos,
        };
        Units([
            Unit::Mesos,
            cube(&options.potential),
            cube(&options.additional_potential),
            Unit::Flames,
        ])
    }

    fn of(self, kind: Kind) -> Unit {
        self.0[kind as usize]
    }
}

fn summarize(items: &[ItemValuation], which: impl Iterator<Item = usize>, units: Units) -> Summary {
    let which: Vec<usize> = which.collect();
    let mut by_kind: Vec<KindSummary> = Kind::ALL
        .iter()
        .map(|&kind| {
            let unit = units.of(kind);
            KindSummary {
                kind,
                unit,
                mean: None,
                mean_mesos: None,
                valued: 0,
                not_valued: 0,
            }
        })
        .collect();
    let (mut full, mut partly, mut none) = (0, 0, 0);
    for &i in &which {
        let item = &items[i];
        let mut valued_kinds = 0;
        for ks in by_kind.iter_mut() {
            match item.mean(ks.kind) {
                Some((mean, _)) => {
                    valued_kinds += 1;
                    ks.valued += 1;
                    ks.mean = Some(ks.mean.unwrap_or(0.0) + mean);
                    if let Some(m) = item.mean_mesos(ks.kind) {
                        ks.mean_mesos = Some(ks.mean_mesos.unwrap_or(0.0) + m);
                    }
                }
                None => ks.not_valued += 1,
            }
        }
        match valued_kinds {
            0 => none += 1,
            n if n == Kind::ALL.len() => full += 1,
            _ => partly += 1,
        }
    }
    let meso_sums: Vec<f64> = by_kind.iter().filter_map(|k| k.mean_mesos).collect();
    let mean_mesos = (!meso_sums.is_empty()).then(|| meso_sums.iter().sum());
    let mesos_exclude = by_kind
        .iter()
        .filter(|k| k.mean_mesos.is_none())
        .map(|k| k.kind)
        .collect();
    Summary {
        items: which.len() as u32,
        by_kind,
        mean_mesos,
        mesos_exclude,
        items_fully_valued: full,
        items_partly_valued: partly,
        items_not_valued: none,
    }
}
