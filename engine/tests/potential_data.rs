//! The committed potential data file: every table, key and option string (issue 4, "the data test").
//!
//! - every (cube, grade, part, band, slot) table sums to 1 within 1e-4, or is one of the published
//!   deviations recorded in the file (and then it sums to the recorded value, and the record is not stale);
//! - no duplicate keys: band keys, option strings and deduplicated tables are unique;
//! - every option string parses to a typed stat line or to one of the known non-stat kinds;
//! - limit groups, prime flags, cube grade ranges and meso prices are consistent.
use pve_engine::potential::{Data, Grade, NonStatKind, ParsedLine, Payment, StatKind};
use std::collections::BTreeSet;
use std::sync::OnceLock;

const FILE: &[u8] = include_bytes!("../data/potential.tsv");
const TOLERANCE: f64 = 1e-4;

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| Data::decode(FILE).expect("the committed data file decodes"))
}

fn text() -> &'static str {
    std::str::from_utf8(FILE).unwrap()
}

fn records(tag: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    text()
        .lines()
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(move |f| f[0] == tag)
}

#[test]
fn every_table_sums_to_one_or_is_a_recorded_deviation() {
    let d = data();
    let mut used = vec![false; d.sum_off().len()];
    let mut checked = 0;
    for band in d.bands() {
        for slot in 1..=3u8 {
            let rows = &d.tables()[band.slots[slot as usize - 1] as usize];
            assert!(!rows.is_empty());
            let sum: f64 = rows.iter().map(|r| r.probability).sum();
            let recorded = d.sum_off().iter().position(|s| {
                (s.line_cube, s.grade, s.part, s.level_min, s.level_max, s.slot)
                    == (
                        band.line_cube,
                        band.grade,
                        band.part,
                        band.level_min,
                        band.level_max,
                        slot,
                    )
            });
            let key = format!(
                "{} {} {} {}-{} slot {slot}",
                d.line_cubes()[band.line_cube as usize],
                band.grade,
                d.parts()[band.part as usize],
                band.level_min,
                band.level_max
            );
            match recorded {
                None => assert!((sum - 1.0).abs() <= TOLERANCE, "{key} sums to {sum}"),
                Some(i) => {
                    used[i] = true;
                    let s = d.sum_off()[i].sum;
                    assert!((sum - s).abs() < 1e-9, "{key}: sums to {sum}, recorded {s}");
                    assert!(
                        (s - 1.0).abs() > TOLERANCE,
                        "{key}: recorded as off but sums to {s}"
                    );
                }
            }
            checked += 1;
        }
    }
    assert_eq!(
        checked, 24_825,
        "number of (cube, grade, part, band, slot) tables"
    );
    assert!(used.iter().all(|u| *u), "a sumoff record names no table");
    assert_eq!(d.sum_off().len(), 12);
}

#[test]
fn no_duplicate_keys() {
    let mut bands = BTreeSet::new();
    for f in records("band") {
        assert!(bands.insert(f[1..6].to_vec()), "duplicate band {:?}", &f[1..6]);
    }
    let mut strings = BTreeSet::new();
    for f in records("s") {
        assert!(strings.insert(f[2]), "duplicate option string {:?}", f[2]);
    }
    let mut tables = BTreeSet::new();
    for f in records("t") {
        assert!(tables.insert(f[1]), "duplicate table {:?}", f[1]);
    }
    let mut sources = BTreeSet::new();
    for f in records("source") {
        assert!(sources.insert(f[2]));
    }
    let d = data();
    assert_eq!(bands.len(), d.bands().len());
    assert_eq!(strings.len(), d.options().len());
    assert_eq!(tables.len(), d.tables().len());
}

#[test]
fn every_option_string_parses() {
    let d = data();
    let mut kinds_seen = BTreeSet::new();
    let mut unparsed = Vec::new();
    for o in d.options() {
        match &o.parsed {
            ParsedLine::Stat(s) => assert!(s.value > 0, "{:?} parses to a zero value", o.text),
            ParsedLine::NonStat(k) => {
                kinds_seen.insert(*k);
            }
            ParsedLine::Unparsed(s) => unparsed.push(s.clone()),
        }
    }
    assert!(unparsed.is_empty(), "unparsed option strings: {unparsed:?}");
    // The non-stat list is closed and not stale: every kind occurs in the data.
    assert_eq!(
        kinds_seen.len(),
        NonStatKind::ALL.len(),
        "non-stat kinds seen: {kinds_seen:?}"
    );
    assert_eq!(d.options().len(), 703);
}

#[test]
fn limit_groups_agree_with_the_parser() {
    let d = data();
    for o in d.options() {
        let group = o.limit.map(|l| d.limits()[l as usize].name.as_str());
        let expect = match o.parsed {
            ParsedLine::NonStat(NonStatKind::UsableSkill) => Some("decent_skill"),
            ParsedLine::Stat(s) if s.kind == StatKind::InvincibleAfterHitSec => Some("invincible_after_hit"),
            ParsedLine::NonStat(NonStatKind::IgnoreDamagePctOnHit | NonStatKind::InvincibleOnHit) => {
                Some("on_hit_guard")
            }
            _ => None,
        };
        assert_eq!(group, expect, "{:?}", o.text);
    }
}

#[test]
fn prime_rows_follow_the_published_layout() {
    // Slot 1 holds only prime rows; slots 2 and 3 end with the slot-1 options in the same order.
    let d = data();
    for band in d.bands() {
        let [t1, t2, t3] = band.slots.map(|t| &d.tables()[t as usize]);
        assert!(t1.iter().all(|r| r.prime));
        for t in [t2, t3] {
            let primes: Vec<u32> = t.iter().filter(|r| r.prime).map(|r| r.option).collect();
            let first: Vec<u32> = t1.iter().map(|r| r.option).collect();
            assert_eq!(primes, first);
            assert!(t[t.len() - t1.len()..].iter().all(|r| r.prime));
        }
    }
}

#[test]
fn cubes_tier_up_where_their_tables_are() {
    let d = data();
    for cube in d.cubes() {
        let lc = d.line_cube_index(&cube.lines).unwrap();
        for g in Grade::ALL {
            let has_tables = d.bands().iter().any(|b| b.line_cube == lc && b.grade == g);
            assert_eq!(has_tables, g <= cube.max_grade(), "{} {g}", cube.name);
            if let Some(t) = cube.tier_up_from(g) {
                assert!(t.rate > 0.0 && t.rate < 1.0, "{} {g}", cube.name);
            }
        }
    }
    let max = |c: &str| d.cube(c).unwrap().max_grade();
    assert_eq!(max("black"), Grade::Legendary);
    assert_eq!(max("master"), Grade::Unique);
    assert_eq!(max("strange"), Grade::Epic);
    assert_eq!(
        d.cube("black").unwrap().tier_up_from(Grade::Unique).unwrap().pity,
        Some(107)
    );
}

#[test]
fn meso_resets_have_a_current_price_at_every_level_and_grade() {
    let d = data();
    for cube in d.cubes().iter().filter(|c| c.payment == Payment::Meso) {
        for g in Grade::ALL {
            for level in 0..=300 {
                assert!(
                    d.meso_cost(&cube.name, g, level).is_some(),
                    "{} {g} {level}",
                    cube.name
                );
            }
        }
    }
    assert_eq!(
        d.meso_cost("meso_reset_main", Grade::Legendary, 200),
        Some(45_000_000)
    );
    assert_eq!(
        d.meso_cost("meso_reset_additional", Grade::Rare, 160),
        Some(13_812_500)
    );
}

#[test]
fn version_names_date_and_content_hash() {
    let d = data();
    let v = d.version();
    let rest = v.strip_prefix("kms-potential-").expect(v);
    let (date, hash) = rest.split_at(10);
    assert!(date.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 {
        b == b'-'
    } else {
        b.is_ascii_digit()
    }));
    let hash = hash.strip_prefix('-').expect(v);
    assert_eq!(hash.len(), 12);
    assert!(hash
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
}
