//! Main and additional potential of one item: the cost to reach lines at least as good, on the stats that
//! matter for the class, from the grade the item is assumed to be obtained at.
//!
//! # The goal rule
//! For each goal stat of the class ([`Focus`]) in its fixed order, the target is the sum of the values of
//! the item's lines that count toward it (올스탯 lines count toward each main stat); every stat with a
//! non-zero sum becomes an `AtLeast` condition. The goal is their conjunction: "every stat that matters is
//! at least what the item has". Lines that count toward nothing are reported as not counted.
//!
//! With an empty goal (no line matters for the class) the cost is 0, with that reason: any lines are at
//! least as good. The grade alone is not valued (a goal is about stats; tier-ups on the way are accepted).

use super::class::Focus;
use super::input::{Item, Potential};
use super::options::PotentialOptions;
use super::report::{Kind, LineReport, LineUse, NotValued, PotentialValue, Quantiles, Reason, Unit};
use super::stars::invalid;
use crate::message::Message;
use crate::potential::{self as pot, Data, Goal, Note, ParsedLine, Payment, PotentialKind, StatKind};

/// Notes that hold for every item valued with the same reset: reported once per valuation, not per item.
fn is_global(note: &Note) -> bool {
    matches!(
        note,
        Note::PitySemantics
            | Note::TierUpsAccepted
            | Note::CubeAssumption { .. }
            | Note::IedAdditive
            | Note::NoItemPrice { .. }
            | Note::LineLimit { .. }
            | Note::NotLimited { .. }
    )
}

/// Split engine notes into the item's own and the valuation-wide ones.
fn sort_notes(notes: &[Note], item: &mut Vec<Message>, global: &mut Vec<Message>) {
    for n in notes {
        let m = Message::from(n);
        let list = if is_global(n) { &mut *global } else { &mut *item };
        if !list.contains(&m) {
            list.push(m);
        }
    }
}

fn nv(kind: Kind, reason: Reason, message: Message) -> NotValued {
    NotValued {
        kind,
        reason,
        message,
    }
}

fn quantiles(q: pot::Quantiles) -> Quantiles {
    let f = |x: Option<u64>| x.map(|n| n as f64);
    Quantiles {
        p50: f(q.p50),
        p90: f(q.p90),
        p99: f(q.p99),
    }
}

/// Each line's parse and use, and the goal `(stat, target)` pairs.
pub(super) fn read_lines(lines: &[String], focus: &Focus) -> (Vec<LineReport>, Vec<(StatKind, u32)>) {
    let mut reports = Vec::with_capacity(lines.len());
    let mut sums: Vec<(StatKind, u32)> = focus.stats.iter().map(|&s| (s, 0)).collect();
    for text in lines {
        let parsed = pot::parse_line(text);
        let used = match &parsed {
            ParsedLine::Stat(line) => {
                let counted: Vec<StatKind> = focus.counted(line.kind).collect();
                for (s, sum) in sums.iter_mut() {
                    if counted.contains(s) {
                        *sum += line.value;
                    }
                }
                if counted.is_empty() {
                    LineUse::NotCounted
                } else {
                    LineUse::Counted(counted)
                }
            }
            ParsedLine::NonStat(_) => LineUse::NonStat,
            ParsedLine::Unparsed(_) => LineUse::Unparsed,
        };
        reports.push(LineReport {
            text: text.clone(),
            parsed,
            used,
        });
    }
    sums.retain(|&(_, v)| v > 0);
    (reports, sums)
}

/// The engine refusals, as reasons; the ones a player can meet carry their own code and params, the others
/// (bad data) the error's stable name.
fn refusal(kind: Kind, e: pot::Error) -> NotValued {
    let reason = match &e {
        pot::Error::NoTable { .. } => Reason::MissingDataBand,
        pot::Error::NoCost { .. } => Reason::MissingPrice,
        pot::Error::GradeAboveCubeMax { .. } => Reason::ResetNotUsable,
        _ => Reason::EngineError,
    };
    let text = e.to_string();
    let g = |g: &pot::Grade| g.to_string().into();
    let (code, params): (&'static str, Vec<(&'static str, crate::message::Param)>) = match &e {
        pot::Error::NoTable {
            cube,
            grade,
            part,
            level,
            ..
        } => (
            "valuation.potential_no_table",
            vec![
                ("cube", cube.as_str().into()),
                ("grade", g(grade)),
                ("part", part.as_str().into()),
                ("level", (*level).into()),
            ],
        ),
        pot::Error::NoCost { cube, grade, level } => (
            "valuation.potential_no_cost",
            vec![
                ("cube", cube.as_str().into()),
                ("grade", g(grade)),
                ("level", (*level).into()),
            ],
        ),
        pot::Error::GradeAboveCubeMax { cube, grade, max } => (
            "valuation.potential_grade_above_reset",
            vec![
                ("cube", cube.as_str().into()),
                ("grade", g(grade)),
                ("max", g(max)),
            ],
        ),
        other => (
            "valuation.potential_refused",
            vec![("error_code", potential_error_code(other).into())],
        ),
    };
    nv(kind, reason, Message::new(code, params, text))
}

/// A stable name for a potential engine error (bad data or a bug, never the player's input).
fn potential_error_code(e: &pot::Error) -> &'static str {
    match e {
        pot::Error::UnknownCube { .. } => "unknown_cube",
        pot::Error::UnknownPart { .. } => "unknown_part",
        pot::Error::LevelOutOfRange { .. } => "level_out_of_range",
        pot::Error::GradeAboveCubeMax { .. } => "grade_above_cube_max",
        pot::Error::NoTable { .. } => "no_table",
        pot::Error::NoCost { .. } => "no_cost",
        pot::Error::TierUpBackwards { .. } => "tier_up_backwards",
        pot::Error::NoAllowedLine { .. } => "no_allowed_line",
        pot::Error::Chain(_) => "chain",
        pot::Error::Option(_) => "option",
    }
}

/// A stable name for a goal error.
fn goal_error_code(e: &pot::GoalError) -> &'static str {
    match e {
        pot::GoalError::Empty => "empty",
        pot::GoalError::ZeroTarget { .. } => "zero_target",
        pot::GoalError::TooManyLines { .. } => "too_many_lines",
        pot::GoalError::Duplicate { .. } => "duplicate",
    }
}

/// Value one potential. Returns the value (if any) and the not-valued entries (unparsed lines are reported
/// even when the rest is valued).
pub(super) fn value(
    kind: Kind,
    item: &Item,
    potential: Option<&Potential>,
    focus: Option<&Focus>,
    opts: &PotentialOptions,
    data: &Data,
    global_notes: &mut Vec<Message>,
) -> (Option<PotentialValue>, Vec<NotValued>) {
    let which = if kind == Kind::Potential {
        "potential"
    } else {
        "additional potential"
    };
    let Some(potential) = potential else {
        return (
            None,
            vec![nv(
                kind,
                Reason::NoPotential,
                Message::new(
                    "valuation.no_potential",
                    vec![],
                    format!("the item has no {which}"),
                ),
            )],
        );
    };
    let mut out = Vec::new();
    // Report unparsed lines first, whatever happens next: every line is parsed or reported.
    for (i, text) in potential.lines.iter().enumerate() {
        if let ParsedLine::Unparsed(_) = pot::parse_line(text) {
            out.push(nv(
                kind,
                Reason::UnparsedLine,
                Message::new(
                    "valuation.unparsed_line",
                    vec![("index", (i + 1).into()), ("line", text.as_str().into())],
                    format!(
                        "line {} {text:?} is not understood; it is not part of the goal",
                        i + 1
                    ),
                ),
            ));
        }
    }
    let fail = |mut out: Vec<NotValued>, e: NotValued| {
        out.insert(0, e);
        (None, out)
    };
    let Some(part) = pot::part_from_api(&item.part, &item.slot) else {
        let e = nv(
            kind,
            Reason::NoPotentialTable,
            Message::new(
                "valuation.no_potential_table",
                vec![("slot", item.slot.as_str().into())],
                format!("the {} slot has no potential tables", item.slot),
            ),
        );
        return fail(out, e);
    };
    let level = match &item.level {
        Ok(l) => *l,
        Err(e) => return fail(out, nv(kind, Reason::InvalidInput, invalid(e))),
    };
    let Some(focus) = focus else {
        let e = nv(
            kind,
            Reason::UnknownClass,
            Message::new(
                "valuation.unknown_class",
                vec![],
                "the class is unknown, so the stats that matter are too",
            ),
        );
        return fail(out, e);
    };
    let (lines, sums) = read_lines(&potential.lines, focus);
    let start = opts.start_grade.min(potential.grade);
    let mut notes = Vec::new();
    if start < opts.start_grade {
        notes.push(Message::new(
            "valuation.start_below_assumed",
            vec![
                ("grade", potential.grade.to_string().into()),
                ("start_grade", opts.start_grade.to_string().into()),
            ],
            format!(
                "the item is {} (below the assumed start grade {}), so the resets start at {}",
                potential.grade, opts.start_grade, potential.grade
            ),
        ));
    }
    let Some(cube) = data.cube(&opts.reset) else {
        return fail(
            out,
            nv(
                kind,
                Reason::EngineError,
                Message::new(
                    "valuation.unknown_reset",
                    vec![("reset", opts.reset.as_str().into())],
                    format!("unknown reset {:?}", opts.reset),
                ),
            ),
        );
    };
    let unit = match cube.payment {
        Payment::Meso => Unit::Mesos,
        Payment::Item => Unit::Cubes,
    };
    let to_mesos = |mean: f64| match unit {
        Unit::Mesos => Some(mean),
        _ => opts.cube_price_mesos.map(|p| p * mean),
    };

    if sums.is_empty() {
        // Any lines are at least as good as lines that do not matter: there is nothing to reach.
        let value = PotentialValue {
            grade: potential.grade,
            start_grade: start,
            reset: opts.reset.clone(),
            unit,
            lines,
            goal: Vec::new(),
            band: None,
            p_per_attempt_at_grade: None,
            mean_attempts: 0.0,
            quantiles_attempts: opts.quantiles.then_some(Quantiles {
                p50: Some(0.0),
                p90: Some(0.0),
                p99: Some(0.0),
            }),
            mean: 0.0,
            mean_mesos: to_mesos(0.0),
            zero_reason: Some(Message::new(
                "valuation.potential_zero",
                vec![("class", focus.class.into())],
                format!(
                    "no line matters for {}: any lines are at least as good, so there is nothing to reach",
                    focus.class
                ),
            )),
            notes,
        };
        return (Some(value), out);
    }

    let goal = match Goal::new(&sums, &[]) {
        Ok(g) => g,
        Err(e) => {
            let m = Message::new(
                "valuation.goal_rejected",
                vec![("error_code", goal_error_code(&e).into())],
                e.to_string(),
            );
            return fail(out, nv(kind, Reason::EngineError, m));
        }
    };
    let req = pot::Request {
        cube: opts.reset.clone(),
        part: part.to_owned(),
        level,
        grade: start,
        goal,
    };
    let detail = if opts.quantiles {
        pot::Detail::Full
    } else {
        pot::Detail::MeansOnly
    };
    let options = pot::Options {
        detail,
        ..pot::Options::default()
    };
    let res = match pot::compute_with(data, &req, &options) {
        Ok(r) => r,
        Err(e) => return fail(out, refusal(kind, e)),
    };
    if let Some(imp) = &res.impossible {
        let m = imp.message("valuation.potential_impossible");
        return fail(out, nv(kind, Reason::ImpossibleTarget, m));
    }
    let Some(mean_attempts) = res.mean_attempts else {
        let e = nv(
            kind,
            Reason::InfiniteMean,
            Message::new(
                "valuation.infinite_mean",
                vec![("eventual_success", res.eventual_success.into())],
                format!(
                    "the lines are reached with probability {} only (tier-ups can lose them): the mean is \
                     infinite",
                    res.eventual_success
                ),
            ),
        );
        return fail(out, e);
    };
    let mean = match unit {
        Unit::Mesos => match res.mean_cost {
            Some(c) => c,
            None => {
                return fail(
                    out,
                    nv(
                        kind,
                        Reason::MissingPrice,
                        Message::new("valuation.no_meso_cost", vec![], "the reset has no meso cost"),
                    ),
                )
            }
        },
        _ => mean_attempts,
    };
    sort_notes(&res.notes, &mut notes, global_notes);
    let value = PotentialValue {
        grade: potential.grade,
        start_grade: start,
        reset: opts.reset.clone(),
        unit,
        lines,
        goal: req.goal.conditions().to_vec(),
        band: Some(res.band),
        p_per_attempt_at_grade: res
            .p_by_grade
            .iter()
            .find(|(g, _)| *g == potential.grade)
            .map(|p| p.1),
        mean_attempts,
        quantiles_attempts: opts.quantiles.then(|| quantiles(res.quantiles)),
        mean,
        mean_mesos: to_mesos(mean),
        zero_reason: None,
        notes,
    };
    (Some(value), out)
}

/// Check that `reset` exists and rerolls the `kind` potential.
pub(super) fn check_reset(data: &Data, kind: PotentialKind, reset: &str) -> Result<(), super::Error> {
    let Some(cube) = data.cube(reset) else {
        return Err(super::Error::UnknownReset {
            reset: reset.to_owned(),
            known: data
                .cubes()
                .iter()
                .filter(|c| c.potential == kind)
                .map(|c| c.name.clone())
                .collect(),
        });
    };
    if cube.potential != kind {
        return Err(super::Error::WrongPotential {
            reset: reset.to_owned(),
            main: kind == PotentialKind::Main,
        });
    }
    Ok(())
}
