//! Potential (잠재능력) resets: how likely one cube or meso reset is to give the lines a user wants, and what
//! reaching them costs, including tier-ups on the way.
//!
//! Design in one paragraph: the facts (line tables per cube, grade, part and level band; tier-up rates and
//! pity; meso prices; per-item option limits) live in a versioned data file that the caller decodes with
//! [`Data::decode`]; the engine never reads files. Option strings become typed lines with [`parse_line`].
//! The probability that one attempt's three lines meet a [`Goal`] is exact: the three slots are enumerated
//! over classes of lines that are equivalent for the goal ([`enumerate`]). The number of attempts when the
//! grade can still tier up is an absorbing Markov chain over (grade, pity counter) ([`chain`]) with exact
//! means and quantiles.
//!
//! Model of one attempt (documented in the response `notes`): the grade may tier up (published rate, or the
//! pity), then three lines are drawn at the grade after the attempt; the attempt succeeds when those lines
//! meet the goal. Every result is kept: tier-ups are accepted (a black cube's option to keep the previous
//! result is not modelled), so a goal is about stats, not about a grade.

pub mod chain;
mod data;
pub mod enumerate;
mod goal;
mod line;
mod part;
pub mod plan;

pub use chain::{Chain, ChainError, ChainOutcome, Quantiles, Stage};
pub use data::{
    Band, CostRow, CubeInfo, Data, DataError, LimitRule, OptionInfo, Payment, PotentialKind, Row, SumOff,
    TierUp, FORMAT_VERSION, TEXT_FORMAT,
};
pub use goal::{Condition, Goal, GoalError};
pub use line::{parse_line, NonStatKind, ParsedLine, StatKind, StatLine};
pub use part::part_from_api;
pub use plan::{Budget, OptionError, Options, Plan, PlanUnit};

use core::fmt;

/// Stats whose lines some (older, or non-KMS) rules limited to 2 per item; the data limits none of them.
const UNLIMITED_BUT_ONCE_LIMITED: &[StatKind] = &[
    StatKind::BossPct,
    StatKind::IedPct,
    StatKind::DropPct,
    StatKind::MesoPct,
    StatKind::CooldownSec,
];

/// Highest item level a request may name (levels above 250 have no tables and give [`Error::NoTable`]).
pub const MAX_LEVEL: u32 = 300;

/// Potential grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grade {
    Rare,
    Epic,
    Unique,
    Legendary,
}

impl Grade {
    pub const ALL: [Grade; 4] = [Grade::Rare, Grade::Epic, Grade::Unique, Grade::Legendary];

    /// The Korean name used by the game, the Open API and the data (`레어`, `에픽`, `유니크`, `레전드리`).
    pub fn korean(self) -> &'static str {
        match self {
            Grade::Rare => "레어",
            Grade::Epic => "에픽",
            Grade::Unique => "유니크",
            Grade::Legendary => "레전드리",
        }
    }

    pub fn from_korean(s: &str) -> Option<Grade> {
        Grade::ALL.into_iter().find(|g| g.korean() == s)
    }

    pub fn next(self) -> Option<Grade> {
        Grade::ALL.get(self.index() + 1).copied()
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.korean())
    }
}

/// One question: starting at `grade` with `cube`, how likely and how costly is `goal`?
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// A cube name from the data (`black`, `red`, `additional`, `meso_reset_main`, ...).
    pub cube: String,
    /// A part name from the data (`무기`, `모자`, ...); see [`part_from_api`].
    pub part: String,
    /// Item level (the Open API's `item_base_option.base_equipment_level`).
    pub level: u32,
    /// The item's current potential grade.
    pub grade: Grade,
    pub goal: Goal,
}

/// A tier-up stage and its closed-form expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct TierUpStage {
    pub from: Grade,
    pub to: Grade,
    pub rate: f64,
    pub pity: Option<u32>,
    /// A caveat recorded with the data for this stage.
    pub note: Option<String>,
    /// [`chain::tier_up_mean_attempts`]: attempts to leave `from`, ignoring the lines.
    pub mean_attempts: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Level band of the tables used at the request's grade.
    pub band: (u32, u32),
    /// P(one attempt's lines meet the goal) at the request's grade, if the grade does not change.
    pub p_per_attempt: f64,
    /// The same for every grade this cube can reach from the request's grade.
    pub p_by_grade: Vec<(Grade, f64)>,
    /// P(the goal is ever met), counting tier-ups; below 1 only if the goal is lost by tiering up.
    pub eventual_success: f64,
    /// Set when no reachable grade can meet the goal.
    pub impossible: Option<Impossible>,
    /// Expected attempts until success; `None` when `eventual_success < 1`.
    pub mean_attempts: Option<f64>,
    pub quantiles: Quantiles,
    pub payment: Payment,
    /// Expected mesos (meso resets only).
    pub mean_cost: Option<f64>,
    /// Expected cubes (cube items only; equals `mean_attempts`).
    pub mean_cubes: Option<f64>,
    /// Tier-up stages from the request's grade to the cube's top grade.
    pub tier_up: Vec<TierUpStage>,
    pub notes: Vec<Note>,
    /// The answer to [`Options::budget`], if one was given.
    pub plan: Option<Plan>,
}

/// Why a goal cannot be met.
#[derive(Debug, Clone, PartialEq)]
pub struct Impossible {
    pub part: String,
    pub level: u32,
    pub grades: (Grade, Grade),
    /// Conditions that no three lines can meet even alone; empty when only their combination is impossible.
    pub unreachable_alone: Vec<Condition>,
}

impl fmt::Display for Impossible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (lo, hi) = self.grades;
        let grades = if lo == hi {
            format!("{lo}")
        } else {
            format!("{lo} to {hi}")
        };
        if self.unreachable_alone.is_empty() {
            write!(
                f,
                "each condition can be met alone, but no three lines of {} at level {} ({grades}) meet all \
                 of them together",
                self.part, self.level
            )
        } else {
            let list: Vec<String> = self.unreachable_alone.iter().map(|c| c.to_string()).collect();
            write!(
                f,
                "no three lines of {} at level {} ({grades}) can give {}",
                self.part,
                self.level,
                list.join("; ")
            )
        }
    }
}

/// Assumptions and data caveats that apply to one result. `Display` gives the sentence for the response.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Note {
    /// Some stage has a pity count.
    PitySemantics,
    /// The request's grade is below the cube's top grade.
    TierUpsAccepted,
    /// A limit group occurs in the tables used.
    LineLimit { name: String, max: u8, source: String },
    /// The data records an assumption about this cube, or a caveat about a tier-up stage used.
    CubeAssumption {
        cube: String,
        /// `cube` (the cube's own record) or `tier_up` (a tier-up stage's caveat).
        about: &'static str,
        text: String,
    },
    /// A table used is a published table that does not sum to 1.
    PublishedSumOff { grade: Grade, slot: u8, sum: f64 },
    /// A table used was derived, not published for this part.
    DerivedTable { grade: Grade, source: String },
    /// Option strings the parser does not know occur in a table used; they count toward no goal.
    UnparsedLines { grade: Grade, count: usize },
    /// The goal sums 몬스터 방어율 무시.
    IedAdditive,
    /// Cube items have no price data.
    NoItemPrice { cube: String },
    /// The published sums above 1 made a probability exceed 1; it was capped at 1.
    ProbabilityCapped { grade: Grade, p: f64 },
    /// The goal counts lines that older rules limited per item but that no current KMS source limits.
    NotLimited { stats: Vec<StatKind> },
    /// The goal cannot be met at the current grade, only after tiering up to `first`.
    ReachableAfterTierUp { grade: Grade, first: Grade },
    /// The goal can be met below the top grade but not at it: tiering up may lose it for good.
    LostAtTopGrade { top: Grade, eventual_success: f64 },
    /// Miracle Time: tier-up probabilities doubled (capped at 1), pity unchanged; `source` is the rule's.
    MiracleTime { source: String },
    /// The request's grade starts with `progress` attempts already made toward its pity.
    PityProgress { grade: Grade, progress: u32, pity: u32 },
    /// A cube item priced by the request: `mean_cost` = `mean_cubes` × `price`.
    CubePrice { price: f64 },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::PitySemantics => write!(
                f,
                "pity: a pity count N means at most N attempts at that grade (the N-th attempt tiers up for \
                 certain), as in maple-hub; MapleGround instead forces it on attempt N+1. The counter is \
                 assumed to be 0 at the current grade"
            ),
            Note::TierUpsAccepted => write!(
                f,
                "tier-ups on the way are accepted and the lines are then drawn at the new grade (keeping the \
                 previous result, as a black cube allows, is not modelled)"
            ),
            Note::LineLimit { name, max, source } => write!(
                f,
                "per-item limit {name} (max {max}): a slot that would exceed it is redrawn, i.e. its table \
                 is renormalised over the allowed options. {source}"
            ),
            Note::CubeAssumption { text, .. } => f.write_str(text),
            Note::PublishedSumOff { grade, slot, sum } => write!(
                f,
                "the published {grade} slot {slot} table sums to {sum}, not 1 (probably a missing row); it \
                 is used as published, so probabilities may be understated"
            ),
            Note::DerivedTable { grade, source } => {
                write!(
                    f,
                    "the {grade} tables were not published for this part; they were derived: {source}"
                )
            }
            Note::UnparsedLines { grade, count } => write!(
                f,
                "{count} option string(s) in the {grade} tables are not understood by the parser and count \
                 toward no goal"
            ),
            Note::IedAdditive => write!(
                f,
                "ied_pct is summed over the lines as asked; in game 몬스터 방어율 무시 lines stack \
                 multiplicatively (1 - (1-a)(1-b)...)"
            ),
            Note::NoItemPrice { cube } => write!(
                f,
                "{cube} is a cube item: mean_cubes counts cubes; no price data exists, so mean_cost is null"
            ),
            Note::ProbabilityCapped { grade, p } => write!(
                f,
                "at {grade} the published tables (which may sum slightly above 1) gave a probability of {p}; \
                 it was capped at 1"
            ),
            Note::NotLimited { stats } => {
                let list: Vec<&str> = stats.iter().map(|s| s.key()).collect();
                write!(
                    f,
                    "no per-item limit is applied to {} lines: no current KMS source limits them (older rules \
                     allowed at most 2 boss/IED/drop lines per item); if the game still did, results needing \
                     three such lines would be overstated",
                    list.join(", ")
                )
            }
            Note::ReachableAfterTierUp { grade, first } => write!(
                f,
                "the goal cannot be met at {grade} (p_per_attempt is 0); it becomes possible from {first} on, \
                 so the attempts include the tier-ups"
            ),
            Note::LostAtTopGrade { top, eventual_success } => write!(
                f,
                "the goal cannot be met at {top}, where tier-ups end: it is met with probability \
                 {eventual_success} before that, so the mean is not finite"
            ),
            Note::MiracleTime { source } => write!(
                f,
                "Miracle Time: every tier-up probability is doubled (capped at 1); the pity counts and the \
                 line tables are unchanged (source: {source})"
            ),
            Note::PityProgress {
                grade,
                progress,
                pity,
            } => write!(
                f,
                "{progress} of the {pity} attempts of the pity at {grade} are already made: the counter \
                 starts at {progress} (not 0), so a tier-up is certain within {} more attempts",
                pity - progress
            ),
            Note::CubePrice { price } => write!(
                f,
                "mean_cost = mean_cubes × cube_price_mesos ({price} mesos per cube, as given)"
            ),
        }
    }
}

/// A request the data cannot answer.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    UnknownCube {
        cube: String,
        known: Vec<String>,
    },
    UnknownPart {
        part: String,
        known: Vec<String>,
    },
    LevelOutOfRange {
        level: u32,
    },
    /// The cube cannot be used at this grade (e.g. 장인의 큐브 on a 레전드리 item).
    GradeAboveCubeMax {
        cube: String,
        grade: Grade,
        max: Grade,
    },
    /// No table for this cube, grade, part and level (a gap in the published data or a level with no item).
    NoTable {
        cube: String,
        grade: Grade,
        part: String,
        level: u32,
        bands: Vec<(u32, u32)>,
    },
    /// No meso price for a reset at this grade and level.
    NoCost {
        cube: String,
        grade: Grade,
        level: u32,
    },
    /// `tier_up` from a grade above the target.
    TierUpBackwards {
        from: Grade,
        to: Grade,
    },
    /// Every row of a slot was excluded by the per-item limits (bad data).
    NoAllowedLine {
        grade: Grade,
        slot: u8,
    },
    /// The chain rejected its inputs (bad data).
    Chain(ChainError),
    /// An option of [`Options`] cannot be used with this request.
    Option(OptionError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnknownCube { cube, known } => {
                write!(f, "unknown cube {cube:?}; expected one of {}", known.join(", "))
            }
            Error::UnknownPart { part, known } => {
                write!(f, "unknown part {part:?}; expected one of {}", known.join(", "))
            }
            Error::LevelOutOfRange { level } => write!(f, "level {level} is outside 0..={MAX_LEVEL}"),
            Error::GradeAboveCubeMax { cube, grade, max } => {
                write!(
                    f,
                    "{cube} cannot be used on a {grade} item (its top grade is {max})"
                )
            }
            Error::NoTable {
                cube,
                grade,
                part,
                level,
                bands,
            } => {
                let b: Vec<String> = bands
                    .iter()
                    .map(|&(lo, hi)| {
                        if lo == hi {
                            lo.to_string()
                        } else {
                            format!("{lo}-{hi}")
                        }
                    })
                    .collect();
                let have = if b.is_empty() {
                    "none".to_string()
                } else {
                    b.join(", ")
                };
                write!(
                    f,
                    "no {cube} line table for {part} {grade} at level {level} (levels with tables: {have})"
                )
            }
            Error::NoCost { cube, grade, level } => {
                write!(f, "no meso price for {cube} at {grade}, level {level}")
            }
            Error::TierUpBackwards { from, to } => write!(f, "cannot tier up from {from} down to {to}"),
            Error::NoAllowedLine { grade, slot } => {
                write!(
                    f,
                    "data error: every {grade} slot {slot} option is excluded by the per-item limits"
                )
            }
            Error::Chain(e) => write!(f, "data error: {e}"),
            Error::Option(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {}

impl From<ChainError> for Error {
    fn from(e: ChainError) -> Self {
        Error::Chain(e)
    }
}

/// The tables of one (cube, part, level) at one grade.
fn band<'d>(data: &'d Data, cube: &CubeInfo, part: u8, level: u32, grade: Grade) -> Result<&'d Band, Error> {
    let no_table = |bands: Vec<(u32, u32)>| Error::NoTable {
        cube: cube.name.clone(),
        grade,
        part: data.parts()[part as usize].clone(),
        level,
        bands,
    };
    let Some(lc) = data.line_cube_index(&cube.lines) else {
        return Err(no_table(Vec::new()));
    };
    data.band_for(lc, grade, part, level).ok_or_else(|| {
        no_table(
            data.bands_of(lc, grade, part)
                .iter()
                .map(|b| (b.level_min, b.level_max))
                .collect(),
        )
    })
}

fn slots<'d>(data: &'d Data, band: &Band) -> [&'d [Row]; 3] {
    band.slots.map(|t| data.tables()[t as usize].as_slice())
}

/// P(one attempt's lines meet `goal`) with the tables of `band`.
///
/// # Errors
/// [`Error::NoAllowedLine`] with inconsistent data.
pub fn band_probability(data: &Data, band: &Band, goal: &Goal) -> Result<f64, Error> {
    enumerate::goal_probability(data, slots(data, band), goal).map_err(|e| Error::NoAllowedLine {
        grade: band.grade,
        slot: e.slot,
    })
}

struct Resolved<'d> {
    cube: &'d CubeInfo,
    part: u8,
}

fn resolve<'d>(data: &'d Data, cube: &str, part: &str, level: u32) -> Result<Resolved<'d>, Error> {
    let cube = data.cube(cube).ok_or_else(|| Error::UnknownCube {
        cube: cube.to_string(),
        known: data.cubes().iter().map(|c| c.name.clone()).collect(),
    })?;
    let part = data.part_index(part).ok_or_else(|| Error::UnknownPart {
        part: part.to_string(),
        known: data.parts().to_vec(),
    })?;
    if level > MAX_LEVEL {
        return Err(Error::LevelOutOfRange { level });
    }
    Ok(Resolved { cube, part })
}

fn check_grade(cube: &CubeInfo, grade: Grade) -> Result<Grade, Error> {
    let max = cube.max_grade();
    if grade > max {
        return Err(Error::GradeAboveCubeMax {
            cube: cube.name.clone(),
            grade,
            max,
        });
    }
    Ok(max)
}

/// Price of one attempt at `grade`: mesos for meso resets, 1 (one cube) for cube items.
fn attempt_cost(data: &Data, cube: &CubeInfo, grade: Grade, level: u32) -> Result<f64, Error> {
    match cube.payment {
        Payment::Item => Ok(1.0),
        Payment::Meso => data
            .meso_cost(&cube.name, grade, level)
            .map(|m| m as f64)
            .ok_or_else(|| Error::NoCost {
                cube: cube.name.clone(),
                grade,
                level,
            }),
    }
}

fn stages(cube: &CubeInfo, from: Grade, to: Grade) -> Vec<TierUpStage> {
    let mut out = Vec::new();
    let mut g = from;
    while g < to {
        let (Some(t), Some(next)) = (cube.tier_up_from(g), g.next()) else {
            break;
        };
        out.push(TierUpStage {
            from: g,
            to: next,
            rate: t.rate,
            pity: t.pity,
            note: t.note.clone(),
            mean_attempts: chain::tier_up_mean_attempts(Stage {
                rate: t.rate,
                pity: t.pity,
            }),
        });
        g = next;
    }
    out
}

/// Probability, attempts and cost of reaching `req.goal` from `req.grade` with `req.cube`.
///
/// # Errors
/// [`Error`] for an unknown cube or part, a level above [`MAX_LEVEL`], a grade the cube cannot be used at,
/// or a (grade, part, level) with no table in the data. An unreachable goal is not an error: it is
/// [`Outcome::impossible`].
pub fn compute(data: &Data, req: &Request) -> Result<Outcome, Error> {
    compute_with(data, req, &Options::default())
}

/// What [`compute_with`] computes ([`Options::detail`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detail {
    /// Everything, the attempt quantiles included.
    #[default]
    Full,
    /// No attempt quantiles: [`Outcome::quantiles`] is `Quantiles::default()` (not computed). Every other
    /// field is the same, bit for bit. With tier-ups the quantiles are a forward walk over every attempt
    /// and pity counter, most of the time of a request (a valuation's totals need only the means).
    MeansOnly,
}

/// [`compute`] with [`Options`]: pity progress at the request's grade, Miracle Time, a cube price, a
/// budget ([`Outcome::plan`]), and with or without the attempt quantiles ([`Options::detail`]).
///
/// # Errors
/// As [`compute`], and [`Error::Option`] for an option this request cannot use (see [`OptionError`]).
pub fn compute_with(data: &Data, req: &Request, opts: &Options) -> Result<Outcome, Error> {
    let Resolved { cube, part } = resolve(data, &req.cube, &req.part, req.level)?;
    let max = check_grade(cube, req.grade)?;
    if opts.miracle_time && plan::miracle_time_applies(&cube.name) != Some(true) {
        return Err(Error::Option(OptionError::MiracleTimeNotApplicable {
            cube: cube.name.clone(),
        }));
    }
    if let Some(price) = opts.cube_price_mesos {
        if cube.payment == Payment::Meso {
            return Err(Error::Option(OptionError::CubePriceForMesoReset {
                cube: cube.name.clone(),
            }));
        }
        if !(price > 0.0 && price.is_finite()) {
            return Err(Error::Option(OptionError::CubePriceOutOfRange { price }));
        }
    }
    let mut tier_up = stages(cube, req.grade, max);
    if opts.miracle_time {
        for s in &mut tier_up {
            s.rate = (s.rate * plan::MIRACLE_TIME_FACTOR).min(1.0);
            s.mean_attempts = chain::tier_up_mean_attempts(Stage {
                rate: s.rate,
                pity: s.pity,
            });
        }
    }
    let first_pity = tier_up.first().and_then(|s| s.pity);
    let progress_ok = match first_pity {
        Some(n) => opts.pity_progress < n,
        None => opts.pity_progress == 0,
    };
    if !progress_ok {
        return Err(Error::Option(OptionError::PityProgress {
            grade: req.grade,
            progress: opts.pity_progress,
            pity: first_pity,
        }));
    }
    let grades: Vec<Grade> = Grade::ALL
        .into_iter()
        .filter(|g| *g >= req.grade && *g <= max)
        .collect();
    let mut notes = Vec::new();
    let mut bands = Vec::with_capacity(grades.len());
    let mut p_by_grade = Vec::with_capacity(grades.len());
    for &g in &grades {
        let b = band(data, cube, part, req.level, g)?;
        let mut p = band_probability(data, b, &req.goal)?;
        if p > 1.0 {
            notes.push(Note::ProbabilityCapped { grade: g, p });
            p = 1.0;
        }
        bands.push(b);
        p_by_grade.push((g, p));
    }
    let costs = grades
        .iter()
        .map(|&g| attempt_cost(data, cube, g, req.level))
        .collect::<Result<Vec<f64>, Error>>()?;
    let chain = Chain::new(
        tier_up
            .iter()
            .map(|s| Stage {
                rate: s.rate,
                pity: s.pity,
            })
            .collect(),
        p_by_grade.iter().map(|&(_, p)| p).collect(),
        costs,
    )?
    .with_progress(opts.pity_progress)?;
    let solved = match opts.detail {
        Detail::Full => chain.solve(),
        Detail::MeansOnly => chain.solve_means(),
    };

    let impossible = if solved.eventual_success > 0.0 {
        None
    } else {
        let mut unreachable_alone = Vec::new();
        for (i, &c) in req.goal.conditions().iter().enumerate() {
            let single = req.goal.single(i);
            let mut reachable = false;
            for b in &bands {
                reachable |= band_probability(data, b, &single)? > 0.0;
            }
            if !reachable {
                unreachable_alone.push(c);
            }
        }
        Some(Impossible {
            part: req.part.clone(),
            level: req.level,
            grades: (req.grade, max),
            unreachable_alone,
        })
    };

    if tier_up.iter().any(|s| s.pity.is_some()) {
        notes.push(Note::PitySemantics);
    }
    if !tier_up.is_empty() {
        notes.push(Note::TierUpsAccepted);
    }
    notes.extend(cube_notes(cube, &tier_up));
    if opts.miracle_time {
        notes.push(Note::MiracleTime {
            source: plan::MIRACLE_TIME_SOURCE.to_string(),
        });
    }
    if let (Some(pity), p @ 1..) = (first_pity, opts.pity_progress) {
        notes.push(Note::PityProgress {
            grade: req.grade,
            progress: p,
            pity,
        });
    }
    match (cube.payment, opts.cube_price_mesos) {
        (Payment::Item, None) => notes.push(Note::NoItemPrice {
            cube: cube.name.clone(),
        }),
        (Payment::Item, Some(price)) => notes.push(Note::CubePrice { price }),
        (Payment::Meso, _) => {}
    }
    if impossible.is_none() {
        let first = p_by_grade.iter().find(|(_, p)| *p > 0.0).map(|&(g, _)| g);
        if let Some(first) = first.filter(|&g| g != req.grade) {
            notes.push(Note::ReachableAfterTierUp {
                grade: req.grade,
                first,
            });
        }
        if p_by_grade.last().is_some_and(|&(_, p)| p == 0.0) {
            notes.push(Note::LostAtTopGrade {
                top: max,
                eventual_success: solved.eventual_success,
            });
        }
    }
    let mut unlimited: Vec<StatKind> = req.goal.conditions().iter().map(|c| c.stat()).collect();
    unlimited.retain(|s| UNLIMITED_BUT_ONCE_LIMITED.contains(s));
    unlimited.sort_unstable();
    unlimited.dedup();
    if !unlimited.is_empty() {
        notes.push(Note::NotLimited { stats: unlimited });
    }
    if req.goal.conditions().iter().any(|c| c.stat() == StatKind::IedPct) {
        notes.push(Note::IedAdditive);
    }
    notes.extend(table_notes(data, &bands));

    let mean_attempts = solved.mean_attempts;
    let (mean_cost, mean_cubes) = match cube.payment {
        Payment::Meso => (solved.mean_cost, None),
        Payment::Item => (
            opts.cube_price_mesos.and_then(|c| mean_attempts.map(|m| m * c)),
            mean_attempts,
        ),
    };
    let plan = match opts.budget {
        None => None,
        Some(budget) => {
            let prices = match cube.payment {
                Payment::Item => None,
                Payment::Meso => Some(
                    grades
                        .iter()
                        .map(|&g| {
                            data.meso_cost(&cube.name, g, req.level)
                                .ok_or_else(|| Error::NoCost {
                                    cube: cube.name.clone(),
                                    grade: g,
                                    level: req.level,
                                })
                        })
                        .collect::<Result<Vec<u64>, Error>>()?,
                ),
            };
            let units = plan::units(
                &cube.name,
                budget,
                prices.as_deref(),
                opts.cube_price_mesos,
                grades.len(),
            )
            .map_err(Error::Option)?;
            Some(plan::plan(
                &chain,
                units,
                opts.cube_price_mesos.is_some(),
                solved.eventual_success,
            )?)
        }
    };
    Ok(Outcome {
        band: (bands[0].level_min, bands[0].level_max),
        p_per_attempt: p_by_grade[0].1,
        p_by_grade,
        eventual_success: solved.eventual_success,
        impossible,
        mean_attempts,
        quantiles: solved.quantiles,
        payment: cube.payment,
        mean_cost,
        mean_cubes,
        tier_up,
        notes,
        plan,
    })
}

/// The cube's recorded assumption and the distinct caveats of the stages used.
fn cube_notes(cube: &CubeInfo, stages: &[TierUpStage]) -> Vec<Note> {
    let mut out: Vec<Note> = Vec::new();
    let own = cube.note.iter().map(|n| ("cube", n));
    let staged = stages
        .iter()
        .filter_map(|s| s.note.as_ref())
        .map(|n| ("tier_up", n));
    for (about, n) in own.chain(staged) {
        let note = Note::CubeAssumption {
            cube: cube.name.clone(),
            about,
            text: n.clone(),
        };
        if !out.contains(&note) {
            out.push(note);
        }
    }
    out
}

/// Notes about the tables used: limits that occur in them, published sums off 1, derived tables, unparsed
/// strings. In grade order, then a fixed order per grade.
fn table_notes(data: &Data, bands: &[&Band]) -> Vec<Note> {
    let mut notes = Vec::new();
    let mut limits_seen = vec![false; data.limits().len()];
    for b in bands {
        let mut unparsed = 0;
        for (slot, rows) in slots(data, b).into_iter().enumerate() {
            for r in rows {
                let o = &data.options()[r.option as usize];
                if let Some(l) = o.limit {
                    limits_seen[l as usize] = true;
                }
                if matches!(o.parsed, ParsedLine::Unparsed(_)) {
                    unparsed += 1;
                }
            }
            if let Some(sum) = data.sum_off_for(b, slot as u8 + 1) {
                notes.push(Note::PublishedSumOff {
                    grade: b.grade,
                    slot: slot as u8 + 1,
                    sum,
                });
            }
        }
        let source = &data.sources()[b.source as usize];
        if source.starts_with("derived") {
            notes.push(Note::DerivedTable {
                grade: b.grade,
                source: source.clone(),
            });
        }
        if unparsed > 0 {
            notes.push(Note::UnparsedLines {
                grade: b.grade,
                count: unparsed,
            });
        }
    }
    for (l, seen) in data.limits().iter().zip(limits_seen) {
        if seen {
            notes.push(Note::LineLimit {
                name: l.name.clone(),
                max: l.max,
                source: l.note.clone(),
            });
        }
    }
    notes
}

/// Tier-up expectations from `from` to `to` with `cube`, ignoring the lines.
#[derive(Debug, Clone, PartialEq)]
pub struct TierUpOutcome {
    pub stages: Vec<TierUpStage>,
    /// Sum of the stages' closed forms.
    pub mean_attempts: f64,
    /// With pity on every stage, the most attempts it can take.
    pub max_attempts: Option<u64>,
    pub quantiles: Quantiles,
    /// Expected mesos (meso resets only).
    pub mean_cost: Option<f64>,
    pub notes: Vec<Note>,
}

/// Attempts (and mesos) to tier up from `from` to `to`.
///
/// # Errors
/// [`Error`] for an unknown cube, a level above [`MAX_LEVEL`], `to` below `from`, or `to` above the cube's
/// top grade.
pub fn tier_up(data: &Data, cube: &str, level: u32, from: Grade, to: Grade) -> Result<TierUpOutcome, Error> {
    let cube = data.cube(cube).ok_or_else(|| Error::UnknownCube {
        cube: cube.to_string(),
        known: data.cubes().iter().map(|c| c.name.clone()).collect(),
    })?;
    if level > MAX_LEVEL {
        return Err(Error::LevelOutOfRange { level });
    }
    if to < from {
        return Err(Error::TierUpBackwards { from, to });
    }
    check_grade(cube, to)?;
    let stages = stages(cube, from, to);
    let mut costs = Vec::with_capacity(stages.len() + 1);
    for s in &stages {
        costs.push(attempt_cost(data, cube, s.from, level)?);
    }
    costs.push(0.0);
    let mut p = vec![0.0; stages.len()];
    p.push(1.0);
    let chain = Chain::new(
        stages
            .iter()
            .map(|s| Stage {
                rate: s.rate,
                pity: s.pity,
            })
            .collect(),
        p,
        costs,
    )?;
    let mut solved = chain.solve();
    if stages.is_empty() {
        // Already at `to`: no attempt is needed (the chain counts the attempt that would succeed).
        solved.quantiles = Quantiles {
            p50: Some(0),
            p90: Some(0),
            p99: Some(0),
        };
        solved.mean_cost = Some(0.0);
    }
    let max_attempts = stages.iter().map(|s| s.pity.map(u64::from)).sum::<Option<u64>>();
    let mut notes = Vec::new();
    if stages.iter().any(|s| s.pity.is_some()) {
        notes.push(Note::PitySemantics);
    }
    notes.extend(cube_notes(cube, &stages));
    Ok(TierUpOutcome {
        mean_attempts: stages.iter().map(|s| s.mean_attempts).sum(),
        max_attempts,
        quantiles: solved.quantiles,
        mean_cost: match cube.payment {
            Payment::Meso => solved.mean_cost,
            Payment::Item => None,
        },
        stages,
        notes,
    })
}
