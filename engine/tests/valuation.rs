//! Character valuation (issue 5, second half): what is valued and what is reported, per item; wiring
//! against the engines and independent references; totals and deduplication.
//!
//! The data-driven cases use one `check(class, item, options, expect)` helper. `expect` lists each kind as
//! `sf=…`, `pot=…`, `add=…`, `flame=…` where `v` is a valued non-zero mean, `0` a valued zero (which must
//! carry its reason) and anything else the `reason_code`s of the kind's `not_valued` entries, joined by `+`
//! (`v+unparsed_line`: valued, and one line reported).
use pve_engine::flame::{FlameKind, FlameStats, Stat};
use pve_engine::potential::{self as pot, Data, Grade};
use pve_engine::starforce as sf;
use pve_engine::valuation::{
    self as va, Character, FlameInput, InputIssue, Item, ItemValuation, Kind, Options, Potential, SetId,
    Stars, UnknownBoss,
};
use std::sync::OnceLock;

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| Data::decode(include_bytes!("../data/potential.tsv")).expect("the data decodes"))
}

/// An item with nothing on it: 0★, no potential, no flame.
fn bare(slot: &str, part: &str, name: &str, level: u32) -> Item {
    Item {
        slot: slot.into(),
        part: part.into(),
        name: name.into(),
        identity_issue: None,
        level: Ok(level),
        stars: Ok(Stars {
            stars: 0,
            star_scroll: false,
        }),
        potential: Ok(None),
        additional: Ok(None),
        flame: Ok(FlameInput {
            stats: FlameStats::default(),
            base_attack: 0,
            base_magic_attack: 0,
        }),
        special_ring_level: 0,
    }
}

fn stars(mut item: Item, n: u32) -> Item {
    item.stars = Ok(Stars {
        stars: n,
        star_scroll: false,
    });
    item
}

fn pot_lines(grade: Grade, lines: &[&str]) -> Option<Potential> {
    Some(Potential {
        grade,
        lines: lines.iter().map(|s| s.to_string()).collect(),
    })
}

fn main_pot(mut item: Item, grade: Grade, lines: &[&str]) -> Item {
    item.potential = Ok(pot_lines(grade, lines));
    item
}

fn add_pot(mut item: Item, grade: Grade, lines: &[&str]) -> Item {
    item.additional = Ok(pot_lines(grade, lines));
    item
}

fn flame(mut item: Item, stats: &[(Stat, u32)]) -> Item {
    let f = item.flame.as_mut().unwrap();
    f.stats = FlameStats::from_pairs(stats);
    item
}

fn hat() -> Item {
    bare("모자", "모자", "에테르넬 메이지햇", 250)
}

fn one(class: Option<&str>, item: Item) -> Character {
    Character {
        class: class.map(str::to_owned),
        sets: vec![(SetId::Equipped, vec![item])],
    }
}

fn describe(v: &ItemValuation) -> String {
    let label = |k: Kind| match k {
        Kind::Starforce => "sf",
        Kind::Potential => "pot",
        Kind::AdditionalPotential => "add",
        Kind::Flame => "flame",
    };
    Kind::ALL
        .iter()
        .map(|&k| {
            let mut parts: Vec<String> = Vec::new();
            if let Some((mean, _)) = v.mean(k) {
                parts.push(if mean == 0.0 { "0" } else { "v" }.to_owned());
            }
            parts.extend(
                v.not_valued
                    .iter()
                    .filter(|n| n.kind == k)
                    .map(|n| n.reason.code().to_owned()),
            );
            format!("{}={}", label(k), parts.join("+"))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every kind is valued or reported; a valued 0 says why; means are finite and ≥ 0; every reason and note is
/// a catalogued code with exactly its catalogued params.
fn assert_never_silent(v: &ItemValuation) {
    let notes = [&v.potential, &v.additional_potential]
        .into_iter()
        .flatten()
        .flat_map(|p| p.notes.iter().chain(p.zero_reason.iter()));
    let star_zero = v.starforce.iter().flat_map(|s| s.zero_reason.iter());
    for m in v
        .not_valued
        .iter()
        .map(|n| &n.message)
        .chain(notes)
        .chain(star_zero)
    {
        assert!(
            m.is_catalogued(),
            "{}: {m:?} is not in the catalogue as emitted",
            v.name
        );
    }
    for k in Kind::ALL {
        match v.mean(k) {
            Some((mean, _)) => {
                assert!(mean.is_finite() && mean >= 0.0, "{} {k}: mean {mean}", v.name);
                if mean == 0.0 {
                    let reason = match k {
                        Kind::Starforce => v.starforce.as_ref().unwrap().zero_reason.clone(),
                        Kind::Potential => v.potential.as_ref().unwrap().zero_reason.clone(),
                        Kind::AdditionalPotential => {
                            v.additional_potential.as_ref().unwrap().zero_reason.clone()
                        }
                        Kind::Flame => None,
                    };
                    assert!(reason.is_some(), "{} {k}: a 0 without a reason", v.name);
                }
            }
            None => assert!(
                v.not_valued.iter().any(|n| n.kind == k),
                "{} {k}: neither valued nor reported",
                v.name
            ),
        }
    }
}

fn check_with(class: Option<&str>, item: Item, options: &Options, expect: &str) {
    let v = va::value(&one(class, item), options, data()).expect("valid options");
    let got = describe(&v.items[0]);
    assert_never_silent(&v.items[0]);
    for m in &v.notes {
        assert!(m.is_catalogued(), "{m:?} is not in the catalogue as emitted");
    }
    assert_eq!(got, expect, "{:#?}", v.items[0].not_valued);
}

fn check(item: Item, expect: &str) {
    check_with(Some("에반"), item, &Options::default(), expect);
}

const NOTHING: &str = "pot=no_potential add=no_potential";

#[test]
fn what_is_valued_and_what_is_reported() {
    // Star force.
    check(stars(hat(), 22), &format!("sf=v {NOTHING} flame=no_flame"));
    check(hat(), &format!("sf=0 {NOTHING} flame=no_flame"));
    check(
        bare("엠블렘", "엠블렘", "미트라의 분노 : 마법사", 200),
        &format!("sf=not_starforceable {NOTHING} flame=not_flammable"),
    );
    check(
        bare("뱃지", "뱃지", "칠요의 뱃지", 100),
        &format!("sf=not_starforceable {NOTHING} flame=not_flammable"),
    );
    check(
        bare("훈장", "훈장", "칠요의 몬스터파커", 100),
        &format!("sf=not_starforceable {NOTHING} flame=flammability_unknown"),
    );
    check(
        stars(bare("무기", "스태프", "제네시스 스태프", 200), 22),
        &format!("sf=fixed_stars {NOTHING} flame=no_flame"),
    );
    check(
        stars(bare("모자", "모자", "타일런트 하데스 부츠", 150), 10),
        &format!("sf=superior_starforce_not_modelled {NOTHING} flame=no_flame"),
    );
    let mut scrolled = bare("반지3", "반지", "마이스터링", 140);
    scrolled.stars = Ok(Stars {
        stars: 12,
        star_scroll: true,
    });
    check(
        scrolled,
        &format!("sf=star_scroll_not_modelled {NOTHING} flame=not_flammable"),
    );
    check(
        stars(bare("기계 심장", "기계 심장", "슈페리얼 리튬 하트", 80), 8),
        &format!("sf=starforce_rejected {NOTHING} flame=not_flammable"),
    );
    let mut special = bare("반지1", "반지", "컨티뉴어스 링", 110);
    special.special_ring_level = 4;
    check(
        special,
        &format!("sf=not_starforceable {NOTHING} flame=not_flammable"),
    );
    let mut bad = hat();
    bad.stars = Err(InputIssue::invalid(
        "starforce",
        "\"x\"",
        "a non-negative integer",
    ));
    check(bad, &format!("sf=invalid_input {NOTHING} flame=no_flame"));

    // Potential.
    let legendary_cd = |i| {
        main_pot(
            i,
            Grade::Legendary,
            &["스킬 재사용 대기시간 -2초", "INT +9%", "최대 HP +12%"],
        )
    };
    check(legendary_cd(hat()), "sf=0 pot=v add=no_potential flame=no_flame");
    check(
        main_pot(
            hat(),
            Grade::Legendary,
            &["INT +12%", "INT +9%", "새로운 옵션 +3"],
        ),
        "sf=0 pot=v+unparsed_line add=no_potential flame=no_flame",
    );
    check(
        main_pot(hat(), Grade::Legendary, &["INT +30%", "INT +30%", "INT +30%"]),
        "sf=0 pot=impossible_target add=no_potential flame=no_flame",
    );
    // No line matters for Evan: any lines are at least as good, a real 0 with its reason.
    check(
        main_pot(hat(), Grade::Legendary, &["STR +12%", "DEX +9%", "방어력 +9%"]),
        "sf=0 pot=0 add=no_potential flame=no_flame",
    );
    check(
        add_pot(hat(), Grade::Unique, &["INT +7%", "마력 +10", "최대 HP +200"]),
        "sf=0 pot=no_potential add=v flame=no_flame",
    );
    // 엠블렘 has tables at 60, 100 and 120-200 only.
    check(
        main_pot(
            bare("엠블렘", "엠블렘", "엠블렘", 110),
            Grade::Legendary,
            &["마력 +12%", "마력 +9%", "마력 +9%"],
        ),
        "sf=not_starforceable pot=missing_data_band add=no_potential flame=not_flammable",
    );
    check(
        main_pot(bare("뱃지", "뱃지", "뱃지", 100), Grade::Epic, &["INT +6%"]),
        "sf=not_starforceable pot=no_potential_table add=no_potential flame=not_flammable",
    );
    let mut bad = hat();
    bad.potential = Err(InputIssue::invalid(
        "potential_option_grade",
        "\"신화\"",
        "a grade",
    ));
    check(bad, "sf=0 pot=invalid_input add=no_potential flame=no_flame");

    // Flame (Evan: INT + 4 MATT + 10 all%).
    check(
        flame(hat(), &[(Stat::Int, 130), (Stat::AllStat, 5)]),
        &format!("sf=0 {NOTHING} flame=v"),
    );
    check(
        flame(hat(), &[(Stat::Str, 60), (Stat::Jump, 5)]),
        &format!("sf=0 {NOTHING} flame=flame_score_zero"),
    );
    check(
        flame(hat(), &[(Stat::Int, 400)]),
        &format!("sf=0 {NOTHING} flame=impossible_target"),
    );
    check(
        flame(bare("반지1", "반지", "마이스터링", 140), &[(Stat::Int, 30)]),
        &format!("sf=0 {NOTHING} flame=not_flammable"),
    );
    let plain_belt = || {
        flame(
            bare("벨트", "벨트", "평범한 벨트", 140),
            &[(Stat::Int, 24), (Stat::Luk, 8)],
        )
    };
    check(plain_belt(), &format!("sf=0 {NOTHING} flame=boss_unknown"));
    let mut assume = Options::default();
    assume.flame.unknown_boss = UnknownBoss::AssumeNotBoss;
    check_with(
        Some("에반"),
        plain_belt(),
        &assume,
        &format!("sf=0 {NOTHING} flame=v"),
    );
    let mut bad = hat();
    bad.flame = Err(InputIssue::invalid(
        "item_add_option.int",
        "-3",
        "a non-negative integer",
    ));
    check(bad, &format!("sf=0 {NOTHING} flame=invalid_input"));

    // Unknown class: star force is still valued; potential and flame are not.
    let item = flame(legendary_cd(stars(hat(), 17)), &[(Stat::Int, 100)]);
    check_with(
        Some("모험가"),
        item.clone(),
        &Options::default(),
        "sf=v pot=unknown_class add=no_potential flame=unknown_class",
    );
    check_with(
        None,
        item,
        &Options::default(),
        "sf=v pot=unknown_class add=no_potential flame=unknown_class",
    );

    // An unreadable identity: nothing is valued, everything says why.
    let mut anon = hat();
    anon.identity_issue = Some(InputIssue::missing("item_equipment_slot"));
    check(
        anon,
        "sf=invalid_input pot=invalid_input add=invalid_input flame=invalid_input",
    );
}

/// The star force of an item is the engine's answer from 0★ with the options passed through; its mean
/// adds the spare cost of the expected destroys.
#[test]
fn star_force_is_the_engine_cost_from_zero() {
    let with = Options {
        starforce: va::StarforceOptions {
            ruleset: sf::RuleSetId::Kms,
            star_catch: true,
            safeguard: true,
            events: sf::Events {
                thirty_off: true,
                ..sf::Events::default()
            },
            mvp: sf::Mvp::Gold,
            pc_room: true,
            spare_cost: 2e9,
            quantiles: false,
        },
        ..Options::default()
    };
    for opts in [Options::default(), with] {
        for (level, n) in [(250, 22), (200, 17), (160, 12), (140, 10), (75, 5)] {
            let item = stars(bare("모자", "모자", "모자", level), n);
            let v = va::value(&one(Some("에반"), item), &opts, data()).unwrap();
            let o = &opts.starforce;
            let req = sf::Request {
                star_catch: o.star_catch,
                safeguard: o.safeguard,
                events: o.events,
                mvp: o.mvp,
                pc_room: o.pc_room,
                spare_cost: o.spare_cost,
                ..sf::Request::new(level, 0, n)
            };
            let sf::Reach::Reachable(m) = sf::expected(&req).unwrap() else {
                panic!("Lv {level} {n}★")
            };
            let got = v.items[0].starforce.as_ref().unwrap();
            assert_eq!(
                (got.mean_attempt_mesos, got.mean_booms),
                (m.mean_cost, m.mean_booms),
                "Lv {level} {n}★"
            );
            assert_eq!(
                got.mean_mesos,
                m.mean_cost + o.spare_cost * m.mean_booms,
                "Lv {level} {n}★"
            );
            assert!(got.quantiles_attempt_mesos.is_none());
        }
    }
}

#[test]
fn star_force_quantiles_on_request() {
    let mut opts = Options::default();
    opts.starforce.quantiles = true;
    let v = va::value(
        &one(Some("에반"), stars(bare("모자", "모자", "모자", 200), 17)),
        &opts,
        data(),
    )
    .unwrap();
    let s = v.items[0].starforce.as_ref().unwrap();
    let q = s.quantiles_attempt_mesos.unwrap();
    let (p50, p90, p99) = (q.p50.unwrap(), q.p90.unwrap(), q.p99.unwrap());
    assert!(0.0 < p50 && p50 <= p90 && p90 <= p99, "{q:?}");
    assert!(
        p50 < s.mean_attempt_mesos * 2.0 && p99 > s.mean_attempt_mesos,
        "{q:?} vs {}",
        s.mean_attempt_mesos
    );
}

/// An independent solver of the reset chain, written from the model in `potential::chain`'s docs: at grade
/// g an attempt costs price[g]; it tiers up with rate r[g], or for certain on the N[g]-th attempt at g (pity);
/// then the lines are drawn at the new grade and meet the goal with p[new grade]. Backward recursion over
/// (grade, attempts made at the grade). Rates and pity: tier_up.csv (meso_reset_main = black cube); prices:
/// costs.csv, Lv 200–249; p per grade: the potential engine's probability on each grade's band.
fn chain_mean_cost(price: [f64; 4], rate: [f64; 3], pity: [u32; 3], p: [f64; 4]) -> f64 {
    // e_next: expected cost from grade g+1 with a fresh counter.
    let mut e_next = price[3] / p[3];
    for g in (0..3).rev() {
        let n = pity[g] as usize;
        // e[c]: expected cost at grade g after c failed attempts at g.
        let mut e_c = 0.0;
        for c in (0..n).rev() {
            let up = if c + 1 == n { 1.0 } else { rate[g] };
            let stay = price[g] + up * (1.0 - p[g + 1]) * e_next + (1.0 - up) * (1.0 - p[g]) * e_c;
            e_c = stay;
        }
        e_next = e_c;
    }
    e_next
}

#[test]
fn tier_ups_match_an_independent_chain_solver() {
    let d = data();
    let cube = d.cube("meso_reset_main").unwrap();
    let lc = d.line_cube_index(&cube.lines).unwrap();
    let part = d.part_index("모자").unwrap();
    for (lines, goal) in [
        (
            &["INT +12%", "INT +9%", "최대 HP +12%"][..],
            pot::Goal::new(&[(pot::StatKind::IntPct, 21)], &[]).unwrap(),
        ),
        (
            &["INT +6%"][..],
            pot::Goal::new(&[(pot::StatKind::IntPct, 6)], &[]).unwrap(),
        ),
        (
            &["스킬 재사용 대기시간 -1초", "INT +9%"][..],
            pot::Goal::new(
                &[(pot::StatKind::IntPct, 9), (pot::StatKind::CooldownSec, 1)],
                &[],
            )
            .unwrap(),
        ),
    ] {
        let p = Grade::ALL
            .map(|g| pot::band_probability(d, d.band_for(lc, g, part, 200).unwrap(), &goal).unwrap());
        let want = chain_mean_cost(
            [4_500_000.0, 18_000_000.0, 38_250_000.0, 45_000_000.0],
            [0.150000001275, 0.035, 0.014],
            [10, 42, 107],
            p,
        );
        let item = main_pot(bare("모자", "모자", "모자", 200), Grade::Legendary, lines);
        let v = va::value(&one(Some("에반"), item), &Options::default(), data()).unwrap();
        let got = v.items[0].potential.as_ref().unwrap();
        assert_eq!(got.goal, goal.conditions().to_vec());
        assert!(
            (got.mean - want).abs() <= 1e-9 * want,
            "{lines:?}: {} vs {want}",
            got.mean
        );
    }
}

/// Starting at the item's own grade (legendary), the attempts are geometric: mean = price / p, where p is
/// the potential engine's probability of the goal on the band's tables.
#[test]
fn at_the_top_grade_the_cost_is_price_over_p() {
    let mut opts = Options::default();
    opts.potential.start_grade = Grade::Legendary;
    let item = main_pot(
        bare("모자", "모자", "모자", 200),
        Grade::Legendary,
        &["INT +12%", "INT +9%", "올스탯 +6%"],
    );
    let v = va::value(&one(Some("에반"), item), &opts, data()).unwrap();
    let p = v.items[0].potential.as_ref().unwrap();
    let goal = pot::Goal::new(&[(pot::StatKind::IntPct, 27)], &[]).unwrap();
    let d = data();
    let cube = d.cube("meso_reset_main").unwrap();
    let lc = d.line_cube_index(&cube.lines).unwrap();
    let band = d
        .band_for(lc, Grade::Legendary, d.part_index("모자").unwrap(), 200)
        .unwrap();
    let prob = pot::band_probability(d, band, &goal).unwrap();
    let want = 45_000_000.0 / prob;
    assert_eq!(
        p.goal,
        goal.conditions().to_vec(),
        "INT 12+9 and all-stat 6 count toward int_pct 27"
    );
    assert!((p.mean - want).abs() <= 1e-9 * want, "{} vs {want}", p.mean);
}

/// FLAME_FACTS §2 at Lv 250: single stat 12/tier, dual 7/tier, ATT/MATT and all% 1/tier; 19 options on armor;
/// a boss item rolls 4 distinct options, each at tier 3–7 with the eternal table 0/29/45/25/1 %. An
/// independent brute-force enumeration (every 4-subset × every tier vector) of P(INT + 4·MATT + 10·all% ≥ 180).
#[test]
fn eternel_hat_flame_matches_an_independent_enumeration() {
    // Evan score per tier t of each of the 19 options: INT 12t, STR+INT/DEX+INT/INT+LUK 7t, MATT 4t, all% 10t.
    let per_tier: [u64; 19] = [0, 0, 12, 0, 0, 7, 0, 7, 0, 7, 0, 0, 0, 0, 0, 4, 0, 0, 10];
    let tiers = [(3u64, 0u64), (4, 29), (5, 45), (6, 25), (7, 1)];
    let (mut hit, mut total) = (0u128, 0u128);
    for a in 0..19 {
        for b in a + 1..19 {
            for c in b + 1..19 {
                for d in c + 1..19 {
                    for &(ta, pa) in &tiers {
                        for &(tb, pb) in &tiers {
                            for &(tc, pc) in &tiers {
                                for &(td, pd) in &tiers {
                                    let w = u128::from(pa * pb * pc * pd);
                                    let s = per_tier[a] * ta
                                        + per_tier[b] * tb
                                        + per_tier[c] * tc
                                        + per_tier[d] * td;
                                    total += w;
                                    if s >= 180 {
                                        hit += w;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let item = flame(
        hat(),
        &[
            (Stat::Dex, 28),
            (Stat::Int, 130),
            (Stat::Luk, 42),
            (Stat::AllStat, 5),
        ],
    );
    let v = va::value(&one(Some("에반"), item), &Options::default(), data()).unwrap();
    let f = v.items[0].flame.as_ref().unwrap();
    assert_eq!((f.score, f.boss, f.flame), (180.0, true, FlameKind::Eternal));
    let (n, d) = f.p_per_flame_exact.split_once('/').unwrap();
    let (n, d): (u128, u128) = (n.parse().unwrap(), d.parse().unwrap());
    assert_eq!(n * total, hit * d, "{hit}/{total} vs {n}/{d}");
    assert!((f.mean_flames - total as f64 / hit as f64).abs() < 1e-9 * f.mean_flames);
}

#[test]
fn sets_share_items_and_totals_count_them_once() {
    let a = stars(hat(), 22);
    let b = main_pot(
        stars(bare("장갑", "장갑", "아케인셰이드 메이지글러브", 200), 17),
        Grade::Epic,
        &["INT +6%"],
    );
    let ring = stars(bare("반지1", "반지", "마이스터링", 140), 10);
    let mut ring4 = ring.clone();
    ring4.slot = "반지4".into();
    let character = Character {
        class: Some("에반".into()),
        sets: vec![
            (
                SetId::Equipped,
                vec![a.clone(), b.clone(), ring.clone(), ring4.clone()],
            ),
            (SetId::Preset(1), vec![a.clone(), b.clone(), ring.clone(), ring4]),
            (SetId::Preset(2), vec![a, ring]),
        ],
    };
    let v = va::value(&character, &Options::default(), data()).unwrap();
    assert_eq!(v.items.len(), 3, "the hat, the gloves and one ring (worn twice)");
    let sf = |s: &va::Summary| s.by_kind[0].mean.unwrap();
    let item_sf = |i: usize| v.items[i].starforce.as_ref().unwrap().mean_mesos;
    assert_eq!(v.sets[0].summary, v.sets[1].summary);
    assert_eq!(sf(&v.sets[2].summary), item_sf(0) + item_sf(2));
    // The ring is worn twice at once, so the total has it twice; nothing else is counted twice.
    assert_eq!(v.total.items, 4);
    // Summed in the order the total takes them (0, 1, 2, 2), so that the comparison can be exact.
    assert_eq!(sf(&v.total), item_sf(0) + item_sf(1) + item_sf(2) + item_sf(2));
    assert_eq!(v.total, v.sets[0].summary);
}

#[test]
fn options_the_data_cannot_honour_fail() {
    let c = one(Some("에반"), hat());
    let mut o = Options::default();
    o.potential.reset = "gold".into();
    assert!(matches!(
        va::value(&c, &o, data()),
        Err(va::Error::UnknownReset { .. })
    ));
    let mut o = Options::default();
    o.potential.reset = "additional".into();
    assert!(matches!(
        va::value(&c, &o, data()),
        Err(va::Error::WrongPotential { .. })
    ));
    let mut o = Options::default();
    o.additional_potential.reset = "black".into();
    assert!(matches!(
        va::value(&c, &o, data()),
        Err(va::Error::WrongPotential { .. })
    ));
}

#[test]
fn cube_items_are_counted_in_cubes_and_priced_on_request() {
    let item = main_pot(
        stars(hat(), 22),
        Grade::Legendary,
        &["INT +12%", "INT +9%", "최대 HP +12%"],
    );
    let mut o = Options::default();
    o.potential.reset = "black".into();
    let v = va::value(&one(Some("에반"), item.clone()), &o, data()).unwrap();
    let p = v.items[0].potential.as_ref().unwrap();
    assert_eq!(
        (p.unit, p.mean_mesos, p.mean),
        (va::Unit::Cubes, None, p.mean_attempts)
    );
    assert!(v.total.mesos_exclude.contains(&Kind::Potential));
    o.potential.cube_price_mesos = Some(1_000_000.0);
    let v = va::value(&one(Some("에반"), item), &o, data()).unwrap();
    let p = v.items[0].potential.as_ref().unwrap();
    assert_eq!(p.mean_mesos, Some(p.mean_attempts * 1_000_000.0));
    assert!(!v.total.mesos_exclude.contains(&Kind::Potential));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    const SLOTS: &[(&str, &str, &str)] = &[
        ("모자", "모자", "에테르넬 메이지햇"),
        ("장갑", "장갑", "아케인셰이드 메이지글러브"),
        ("반지2", "반지", "마이스터링"),
        ("펜던트", "펜던트", "데이브레이크 펜던트"),
        ("엠블렘", "엠블렘", "미트라의 분노 : 마법사"),
        ("훈장", "훈장", "칠요의 몬스터파커"),
        ("벨트", "벨트", "골든 클로버 벨트"),
    ];
    const LINES: &[&str] = &[
        "INT +12%",
        "INT +9%",
        "INT +6%",
        "올스탯 +9%",
        "마력 +12%",
        "마력 +10",
        "보스 몬스터 데미지 +30%",
        "스킬 재사용 대기시간 -1초",
        "크리티컬 데미지 +8%",
        "STR +12%",
        "최대 HP +12%",
        "캐릭터 기준 9레벨 당 INT +2",
        "아이템 드롭률 +20%",
        "알 수 없는 옵션",
    ];

    fn arb_item() -> impl Strategy<Value = Item> {
        (
            0..SLOTS.len(),
            prop::sample::select(vec![100u32, 140, 160, 200, 250]),
            0u32..=25,
            proptest::option::of((0usize..4, prop::collection::vec(0..LINES.len(), 1..=3))),
            proptest::option::of((0usize..4, prop::collection::vec(0..LINES.len(), 1..=3))),
            prop::collection::vec((0usize..Stat::COUNT, 0u32..120), 0..4),
        )
            .prop_map(|(s, level, n, main, add, fl)| {
                let (slot, part, name) = SLOTS[s];
                let mut item = stars(bare(slot, part, name, level), n);
                let p = |(g, ls): (usize, Vec<usize>)| Potential {
                    grade: Grade::ALL[g],
                    lines: ls.into_iter().map(|i| LINES[i].to_owned()).collect(),
                };
                item.potential = Ok(main.map(p));
                item.additional = Ok(add.map(p));
                let pairs: Vec<(Stat, u32)> = fl.into_iter().map(|(i, v)| (Stat::ALL[i], v)).collect();
                flame(item, &pairs)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20))]

        /// Never a silent 0; every potential line is parsed or reported; sums are the items' sums.
        #[test]
        fn never_silent_and_sums_add_up(items in prop::collection::vec(arb_item(), 1..6)) {
            let c = Character { class: Some("에반".into()), sets: vec![(SetId::Equipped, items.clone())] };
            let v = va::value(&c, &Options::default(), data()).unwrap();
            for it in &v.items {
                assert_never_silent(it);
            }
            for (entry, item) in v.sets[0].entries.iter().zip(&items) {
                let iv = &v.items[entry.item];
                for (kind, p) in [(Kind::Potential, &item.potential), (Kind::AdditionalPotential, &item.additional)] {
                    let Ok(Some(p)) = p else { continue };
                    for line in &p.lines {
                        let parsed = !matches!(pot::parse_line(line), pot::ParsedLine::Unparsed(_));
                        let reported = iv.not_valued.iter().any(|n| n.kind == kind && n.message.message.contains(&format!("{line:?}")));
                        prop_assert!(parsed || reported, "{line} on {}", iv.name);
                    }
                }
            }
            for ks in &v.sets[0].summary.by_kind {
                let sum: f64 = v.sets[0].entries.iter().filter_map(|e| v.items[e.item].mean(ks.kind)).map(|m| m.0).sum();
                let n = v.sets[0].entries.iter().filter(|e| v.items[e.item].is_valued(ks.kind)).count() as u32;
                prop_assert_eq!(ks.valued, n);
                prop_assert_eq!(ks.valued + ks.not_valued, items.len() as u32);
                match ks.mean {
                    Some(m) => prop_assert!((m - sum).abs() <= 1e-9 * sum.max(1.0)),
                    None => prop_assert_eq!(n, 0),
                }
            }
        }

        /// Presets that repeat the equipped set change nothing in the total.
        #[test]
        fn repeating_a_set_as_a_preset_keeps_the_total(items in prop::collection::vec(arb_item(), 1..5)) {
            let alone = Character { class: Some("에반".into()), sets: vec![(SetId::Equipped, items.clone())] };
            let twice = Character {
                class: Some("에반".into()),
                sets: vec![(SetId::Equipped, items.clone()), (SetId::Preset(1), items.iter().rev().cloned().collect())],
            };
            let a = va::value(&alone, &Options::default(), data()).unwrap();
            let b = va::value(&twice, &Options::default(), data()).unwrap();
            prop_assert_eq!(a.items.len(), b.items.len());
            prop_assert_eq!(a.total.by_kind.iter().map(|k| (k.valued, k.not_valued)).collect::<Vec<_>>(),
                            b.total.by_kind.iter().map(|k| (k.valued, k.not_valued)).collect::<Vec<_>>());
            for (x, y) in a.total.by_kind.iter().zip(&b.total.by_kind) {
                match (x.mean, y.mean) {
                    (Some(x), Some(y)) => prop_assert!((x - y).abs() <= 1e-9 * x.max(1.0)),
                    (x, y) => prop_assert_eq!(x, y),
                }
            }
        }

        /// More stars never cost less. A stricter goal (one more line that counts) never costs less: every
        /// attempt that meets it meets the weaker goal too.
        #[test]
        fn monotone(level in prop::sample::select(vec![140u32, 160, 200, 250]), n in 1u32..22,
                    lines in prop::collection::vec(0..LINES.len() - 1, 1..=2), extra in 0usize..9) {
            let lines: Vec<&str> = lines.into_iter().map(|i| LINES[i]).collect();
            let item = |n, lines: &[&str]| main_pot(stars(bare("모자", "모자", "모자", level), n), Grade::Legendary, lines);
            let run = |n, lines: &[&str]| va::value(&one(Some("에반"), item(n, lines)), &Options::default(), data()).unwrap().items.remove(0);
            let (lo, hi) = (run(n, &lines), run(n + 1, &lines));
            prop_assert!(hi.starforce.unwrap().mean_mesos >= lo.starforce.unwrap().mean_mesos);
            // LINES[0..9] all count for Evan.
            let mut stricter = lines.clone();
            stricter.push(LINES[extra]);
            if let (Some(weak), Some(strict)) = (lo.potential, run(n, &stricter).potential) {
                prop_assert!(strict.mean >= weak.mean * (1.0 - 1e-12), "{stricter:?}: {} < {}", strict.mean, weak.mean);
            }
        }
    }
}
