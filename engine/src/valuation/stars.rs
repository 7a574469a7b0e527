//! Star force of one item: the cost from 0★ to its current stars, through the star force engine.

use super::input::{Item, SetId};
use super::options::StarforceOptions;
use super::report::{Kind, NotValued, Quantiles, Reason, StarforceValue};
use crate::message::Message;
use crate::starforce as sf;

/// Slots whose items cannot be star-forced (KMS): they report `not_starforceable` rather than a 0.
const NOT_STARFORCEABLE: &[&str] = &["엠블렘", "뱃지", "훈장", "포켓 아이템", "보조무기", "안드로이드"];

fn not_valued(reason: Reason, message: Message) -> NotValued {
    NotValued {
        kind: Kind::Starforce,
        reason,
        message,
    }
}

/// An input the engine could not read: the field, and what was found there (the English message also says
/// what was expected).
pub(super) fn invalid(issue: &super::input::InputIssue) -> Message {
    use super::input::Problem;
    let text = issue.to_string();
    match &issue.problem {
        Problem::Invalid { found, .. } => Message::new(
            "valuation.input_invalid",
            vec![
                ("field", issue.field.as_str().into()),
                ("found", found.as_str().into()),
            ],
            text,
        ),
        _ => Message::new(
            "valuation.input_missing",
            vec![("field", issue.field.as_str().into())],
            text,
        ),
    }
}

/// A stable name for a star force engine error, for messages (the English text has the details).
fn error_code(e: &sf::Error) -> &'static str {
    match e {
        sf::Error::LevelOutOfRange { .. } => "level_out_of_range",
        sf::Error::StarAboveCap { .. } => "star_above_cap",
        sf::Error::FromAboveTo { .. } => "from_above_to",
        sf::Error::InvalidSpareCost { .. } => "invalid_spare_cost",
        sf::Error::InvalidRuleSet { .. } => "invalid_ruleset",
        sf::Error::Numerical { .. } => "numerical",
    }
}

/// Value the star force of `item` (worn in `set`).
pub(super) fn value(item: &Item, set: SetId, opts: &StarforceOptions) -> Result<StarforceValue, NotValued> {
    let stars = item
        .stars
        .clone()
        .map_err(|e| not_valued(Reason::InvalidInput, invalid(&e)))?;
    if stars.star_scroll {
        return Err(not_valued(
            Reason::StarScroll,
            Message::new(
                "valuation.star_scroll",
                vec![("stars", stars.stars.into())],
                format!(
                    "{}★ from star scrolls (starforce_scroll_flag 사용, 놀라운 장비강화 주문서): the scroll path is \
                     not modelled",
                    stars.stars
                ),
            ),
        ));
    }
    let cannot =
        set.is_companion() || item.special_ring_level > 0 || NOT_STARFORCEABLE.contains(&item.slot.as_str());
    if stars.stars == 0 && cannot {
        let (code, params, what) = if set.is_companion() {
            (
                "valuation.not_starforceable_companion",
                vec![],
                "dragon and mechanic equipment".to_owned(),
            )
        } else if item.special_ring_level > 0 {
            (
                "valuation.not_starforceable_ring",
                vec![("level", item.special_ring_level.into())],
                format!("a special skill ring (level {})", item.special_ring_level),
            )
        } else {
            (
                "valuation.not_starforceable_slot",
                vec![("slot", item.slot.as_str().into())],
                format!("the {} slot", item.slot),
            )
        };
        return Err(not_valued(
            Reason::NotStarforceable,
            Message::new(code, params, format!("{what} cannot be star-forced (0★)")),
        ));
    }
    if item.name.starts_with("제네시스 ") && item.slot == "무기" {
        return Err(not_valued(
            Reason::FixedStars,
            Message::new(
                "valuation.fixed_stars_genesis",
                vec![("stars", stars.stars.into())],
                format!(
                    "Genesis weapons are liberated at 22★ and cannot be star-forced: the {}★ were not bought",
                    stars.stars
                ),
            ),
        ));
    }
    if item.name.starts_with("타일런트 ") {
        return Err(not_valued(
            Reason::SuperiorStarforce,
            Message::new(
                "valuation.superior_starforce",
                vec![],
                "superior (타일런트) star force has its own costs and rates, which are not modelled",
            ),
        ));
    }
    let level = item
        .level
        .clone()
        .map_err(|e| not_valued(Reason::InvalidInput, invalid(&e)))?;
    if stars.stars == 0 {
        return Ok(StarforceValue {
            from_star: 0,
            to_star: 0,
            mean_mesos: 0.0,
            mean_attempt_mesos: 0.0,
            sd_attempt_mesos: 0.0,
            quantiles_attempt_mesos: None,
            mean_attempts: 0.0,
            mean_booms: 0.0,
            p_no_boom: 1.0,
            zero_reason: Some(Message::new(
                "valuation.starforce_zero",
                vec![],
                "0★: no star force was applied",
            )),
        });
    }
    let req = sf::Request {
        item_level: level,
        from_star: 0,
        to_star: stars.stars,
        ruleset: opts.ruleset,
        star_catch: opts.star_catch,
        safeguard: opts.safeguard,
        events: opts.events,
        mvp: opts.mvp,
        pc_room: opts.pc_room,
        spare_cost: opts.spare_cost,
    };
    let what = format!("star force 0★→{}★", stars.stars);
    let unreachable = |star: u32| {
        not_valued(
            Reason::ImpossibleTarget,
            Message::new(
                "valuation.starforce_unreachable",
                vec![("stars", stars.stars.into()), ("star", star.into())],
                format!("{what}: unreachable, no attempt at {star}★ can succeed under these options"),
            ),
        )
    };
    let rejected = |e: sf::Error| {
        not_valued(
            Reason::StarforceRejected,
            Message::new(
                "valuation.starforce_rejected",
                vec![
                    ("stars", stars.stars.into()),
                    ("error_code", error_code(&e).into()),
                ],
                format!("{what}: {e}"),
            ),
        )
    };
    let (m, quantiles) = if opts.quantiles {
        match sf::compute(&req).map_err(rejected)?.result {
            sf::Reach::Reachable(r) => {
                let q = r.cost_quantiles;
                let quantiles = Quantiles {
                    p50: Some(q.p50),
                    p90: Some(q.p90),
                    p99: Some(q.p99),
                };
                (r.moments, Some(quantiles))
            }
            sf::Reach::Unreachable { star } => return Err(unreachable(star)),
        }
    } else {
        match sf::expected(&req).map_err(rejected)? {
            sf::Reach::Reachable(m) => (m, None),
            sf::Reach::Unreachable { star } => return Err(unreachable(star)),
        }
    };
    Ok(StarforceValue {
        from_star: 0,
        to_star: stars.stars,
        mean_mesos: m.mean_total_cost,
        mean_attempt_mesos: m.mean_cost,
        sd_attempt_mesos: m.sd_cost,
        quantiles_attempt_mesos: quantiles,
        mean_attempts: m.mean_attempts,
        mean_booms: m.mean_booms,
        p_no_boom: m.p_no_boom,
        zero_reason: None,
    })
}
