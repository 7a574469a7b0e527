//! Flame probabilities against independent references:
//! 1. the worked examples of FLAME_FACTS.md §5 / worked_examples.csv (exact rationals, computed there by
//!    a separate rational enumeration and cross-checked against brendonmay's calculator);
//! 2. a brute-force enumeration written here from the facts alone: every line count, every k-subset of
//!    the pool, every tier tuple, with its own value formulas and its own weight arithmetic. The engine
//!    groups options and convolves; this walks every outcome one by one. Both must agree exactly.
//! 3. the 26 published weapon ATT values of weapon_att_checks.csv.

use num_bigint::BigInt;
use num_rational::BigRational;
use pve_engine::flame::*;

/// "a/b", "a" or a decimal "a.b" as an exact BigRational.
fn rat(s: &str) -> BigRational {
    if let Some((n, d)) = s.split_once('/') {
        return BigRational::new(n.parse::<BigInt>().unwrap(), d.parse::<BigInt>().unwrap());
    }
    let (i, f) = s.split_once('.').unwrap_or((s, ""));
    let den = BigInt::from(10).pow(f.len() as u32);
    BigRational::new(format!("{i}{f}").parse::<BigInt>().unwrap(), den)
}

/// The same number as an (i128 numerator, i128 denominator) pair for the hot loop.
fn rat_i128(x: &BigRational) -> (i128, i128) {
    (x.numer().try_into().unwrap(), x.denom().try_into().unwrap())
}

fn engine_p(d: &ScoreDistribution, target: Rational) -> BigRational {
    let p = d.p_at_least(target);
    BigRational::new(BigInt::from(p.num()), BigInt::from(p.den()))
}

fn r(s: &str) -> Rational {
    Rational::parse(s).unwrap()
}

// ---------------------------------------------------------------------------------------------------
// 1. Worked examples (FLAME_FACTS §5): one flame on a Lv-200 boss armor piece (and Lv-160 non-boss), STR
//    class. kms_grade = STR + 4·ATT + 10·all%, kms_grade_sub01 = + 0.1·DEX, brendon_default = STR + DEX/12
//    + 3·ATT + 10·all%.

fn check(flame: &str, item: &str, score_def: &str, x: i64, expect: &str) {
    let flame = match flame {
        "eternal" => FlameKind::Eternal,
        "powerful" => FlameKind::Powerful,
        "abyss" => FlameKind::Abyss,
        other => panic!("unknown flame {other}"),
    };
    let item = match item {
        "boss200" => Item::armor(200, Boss::Yes).unwrap(),
        "nonboss160" => Item::armor(160, Boss::No).unwrap(),
        other => panic!("unknown item {other}"),
    };
    let hero = class_profile("히어로").unwrap().stats;
    let weights = match score_def {
        "kms_grade" => ScoreWeights::for_class(&hero, Convention::KmsGrade, Overrides::default()),
        "kms_grade_sub01" => {
            ScoreWeights::for_class(&hero, Convention::MapleExpectation, Overrides::default())
        }
        "brendon_default" => ScoreWeights::for_class(&hero, Convention::BrendonGms, Overrides::default()),
        other => panic!("unknown score {other}"),
    }
    .unwrap();
    // One distribution per (flame, item, score): the cases differ mostly in X.
    type Key = (FlameKind, Item, ScoreWeights);
    thread_local! {
        static CACHE: std::cell::RefCell<Vec<(Key, ScoreDistribution)>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    let key = (flame, item, weights);
    let d = CACHE.with_borrow_mut(|cache| {
        if let Some((_, d)) = cache.iter().find(|(k, _)| *k == key) {
            return d.clone();
        }
        let d = score_distribution(flame, &item, &weights, &Assumptions::default()).unwrap();
        cache.push((key, d.clone()));
        d
    });
    let got = engine_p(&d, Rational::integer(x).unwrap());
    assert_eq!(got, rat(expect), "{flame:?} {item:?} {score_def} X={x}");
}

#[test]
fn worked_examples_of_flame_facts() {
    check("eternal", "boss200", "kms_grade", 60, "2148797/6460000");
    check("eternal", "boss200", "kms_grade", 80, "219575751/1292000000");
    check("eternal", "boss200", "kms_grade", 100, "8519899733/129200000000");
    check("eternal", "boss200", "kms_grade", 120, "295552881/12920000000");
    check("eternal", "boss200", "kms_grade", 140, "1207200827/193800000000");
    check("eternal", "boss200", "kms_grade", 160, "2989667/2850000000");
    check("eternal", "boss200", "kms_grade", 180, "2034893/15504000000");
    check(
        "eternal",
        "boss200",
        "kms_grade_sub01",
        60,
        "16829309617/48450000000",
    );
    check(
        "eternal",
        "boss200",
        "kms_grade_sub01",
        80,
        "23576487481/129200000000",
    );
    check(
        "eternal",
        "boss200",
        "kms_grade_sub01",
        100,
        "13940485453/193800000000",
    );
    check(
        "eternal",
        "boss200",
        "kms_grade_sub01",
        120,
        "3238144779/129200000000",
    );
    check(
        "eternal",
        "boss200",
        "kms_grade_sub01",
        140,
        "2705581241/387600000000",
    );
    check(
        "eternal",
        "boss200",
        "kms_grade_sub01",
        160,
        "154637667/129200000000",
    );
    check(
        "eternal",
        "boss200",
        "kms_grade_sub01",
        180,
        "3770477/25840000000",
    );
    check(
        "eternal",
        "boss200",
        "brendon_default",
        60,
        "10630524401/32300000000",
    );
    check(
        "eternal",
        "boss200",
        "brendon_default",
        80,
        "66690420901/387600000000",
    );
    check(
        "eternal",
        "boss200",
        "brendon_default",
        100,
        "25821660029/387600000000",
    );
    check(
        "eternal",
        "boss200",
        "brendon_default",
        120,
        "2227946453/96900000000",
    );
    check(
        "eternal",
        "boss200",
        "brendon_default",
        140,
        "2471327083/387600000000",
    );
    check(
        "eternal",
        "boss200",
        "brendon_default",
        160,
        "21356213/20400000000",
    );
    check(
        "eternal",
        "boss200",
        "brendon_default",
        180,
        "50468281/387600000000",
    );
    check("powerful", "boss200", "kms_grade", 60, "1284521/4845000");
    check("powerful", "boss200", "kms_grade", 80, "11258111/96900000");
    check("powerful", "boss200", "kms_grade", 100, "46927637/1211250000");
    check("powerful", "boss200", "kms_grade", 120, "264675283/24225000000");
    check("powerful", "boss200", "kms_grade", 140, "27610333/12112500000");
    check("powerful", "boss200", "kms_grade", 160, "3259213/12112500000");
    check("powerful", "boss200", "kms_grade", 180, "41209/2018750000");
    check("abyss", "boss200", "kms_grade", 60, "3647743/9690000");
    check("abyss", "boss200", "kms_grade", 80, "550253/2422500");
    check("abyss", "boss200", "kms_grade", 100, "70545049/775200000");
    check("abyss", "boss200", "kms_grade", 120, "7040109503/193800000000");
    check("abyss", "boss200", "kms_grade", 140, "30631409/2584000000");
    check("abyss", "boss200", "kms_grade", 160, "228267023/96900000000");
    check("abyss", "boss200", "kms_grade", 180, "56523579/129200000000");
    check("eternal", "nonboss160", "kms_grade", 20, "21579989/85500000");
    check(
        "eternal",
        "nonboss160",
        "kms_grade",
        40,
        "550312826419/9690000000000",
    );
    check(
        "eternal",
        "nonboss160",
        "kms_grade",
        60,
        "161500740641/29070000000000",
    );
    check("eternal", "nonboss160", "kms_grade", 80, "364424071/969000000000");
}

#[test]
fn worked_example_mean_score_and_expected_uses() {
    // FLAME_FACTS §5: mean score (kms_grade) = 45.08; 1/P at X = 120 is 43.7.
    let hero = class_profile("hero").unwrap().stats;
    let w = ScoreWeights::for_class(&hero, Convention::KmsGrade, Overrides::default()).unwrap();
    let item = Item::armor(200, Boss::Yes).unwrap();
    let d = score_distribution(FlameKind::Eternal, &item, &w, &Assumptions::default()).unwrap();
    assert!((d.mean_score() - 45.08).abs() < 0.005, "{}", d.mean_score());
    let Reach::Possible(a) = d.reach(Rational::integer(120).unwrap()) else {
        panic!("reachable")
    };
    assert!((a.mean() - 43.7).abs() < 0.05, "{}", a.mean());
    // The black flame uses the eternal table: same distribution.
    let b = score_distribution(FlameKind::Black, &item, &w, &Assumptions::default()).unwrap();
    assert_eq!(b, d);
}

// ---------------------------------------------------------------------------------------------------
// 2. Brute force, written from FLAME_FACTS §1–§2 only.

/// One outcome line: which stats it adds, by tier. Stat names are the Open API keys.
type LineFn = Box<dyn Fn(u32) -> Vec<(&'static str, u64)>>;

struct RefCase {
    /// The pool, one entry per option.
    pool: Vec<LineFn>,
    /// (tier, percent) of one line.
    tiers: Vec<(u32, u64)>,
    /// percent of 1..=4 lines.
    lines: [u64; 4],
    /// weights as (stat, numerator, denominator).
    weights: Vec<(&'static str, i128, i128)>,
}

fn single(l: u32) -> u64 {
    u64::from(if l >= 250 { l / 20 } else { l / 20 + 1 })
}
fn dual(l: u32) -> u64 {
    u64::from(l / 40 + 1)
}
fn hp(l: u32) -> u64 {
    u64::from(if l < 10 {
        3
    } else if l >= 250 {
        700
    } else {
        l / 10 * 30
    })
}

/// The pool of FLAME_FACTS §2 with the level restrictions. `weapon_att[t]` is the weapon ATT line at tier t.
fn ref_pool(l: u32, weapon: Option<[u64; 8]>) -> Vec<LineFn> {
    let mut p: Vec<LineFn> = Vec::new();
    for s in ["str", "dex", "int", "luk"] {
        p.push(Box::new(move |t| vec![(s, single(l) * u64::from(t))]));
    }
    for (a, b) in [
        ("str", "dex"),
        ("str", "int"),
        ("str", "luk"),
        ("dex", "int"),
        ("dex", "luk"),
        ("int", "luk"),
    ] {
        p.push(Box::new(move |t| {
            vec![(a, dual(l) * u64::from(t)), (b, dual(l) * u64::from(t))]
        }));
    }
    p.push(Box::new(move |t| vec![("max_hp", hp(l) * u64::from(t))]));
    p.push(Box::new(move |t| vec![("max_mp", hp(l) * u64::from(t))]));
    p.push(Box::new(move |t| {
        vec![("equipment_level_decrease", (5 * u64::from(t)).min(u64::from(l)))]
    }));
    p.push(Box::new(move |t| vec![("armor", single(l) * u64::from(t))]));
    match weapon {
        Some(att) => {
            p.push(Box::new(move |t| vec![("attack_power", att[t as usize])]));
            p.push(Box::new(move |t| vec![("magic_power", att[t as usize])]));
            if l >= 90 {
                p.push(Box::new(|t| vec![("boss_damage", 2 * u64::from(t))]));
            }
            p.push(Box::new(|t| vec![("damage", u64::from(t))]));
            p.push(Box::new(|t| vec![("all_stat", u64::from(t))]));
        }
        None => {
            if l >= 60 {
                p.push(Box::new(|t| vec![("attack_power", u64::from(t))]));
                p.push(Box::new(|t| vec![("magic_power", u64::from(t))]));
            }
            p.push(Box::new(|t| vec![("speed", u64::from(t))]));
            p.push(Box::new(|t| vec![("jump", u64::from(t))]));
            if l >= 70 {
                p.push(Box::new(|t| vec![("all_stat", u64::from(t))]));
            }
        }
    }
    p
}

fn combinations(n: usize, k: usize, f: &mut dyn FnMut(&[usize])) {
    fn rec(start: usize, n: usize, k: usize, cur: &mut Vec<usize>, f: &mut dyn FnMut(&[usize])) {
        if cur.len() == k {
            f(cur);
            return;
        }
        for i in start..n {
            cur.push(i);
            rec(i + 1, n, k, cur, f);
            cur.pop();
        }
    }
    rec(0, n, k, &mut Vec::new(), f)
}

fn binom(n: usize, k: usize) -> i128 {
    (0..k).fold(1i128, |a, i| a * (n - i) as i128 / (i as i128 + 1))
}

/// P(score >= x) for each x, walking every outcome.
fn brute_force(case: &RefCase, xs: &[BigRational]) -> Vec<BigRational> {
    // Score as an integer over D = product of the weight denominators (not reduced: independent of the
    // engine's lcm scale).
    let d: i128 = case.weights.iter().map(|w| w.2).product();
    let weight = |stat: &str| -> i128 {
        case.weights
            .iter()
            .find(|w| w.0 == stat)
            .map_or(0, |w| w.1 * (d / w.2))
    };
    // Line score table: [option][tier index] -> (units, percent)
    let table: Vec<Vec<(i64, i64)>> = case
        .pool
        .iter()
        .map(|f| {
            case.tiers
                .iter()
                .map(|&(t, pct)| {
                    let units: i128 = f(t).iter().map(|&(s, v)| weight(s) * v as i128).sum();
                    (i64::try_from(units).unwrap(), pct as i64)
                })
                .collect()
        })
        .collect();
    // units/d >= xn/xd  <=>  units >= ceil(xn·d/xd): one integer comparison per outcome and target.
    let thresholds: Vec<i64> = xs
        .iter()
        .map(|x| {
            let (xn, xd) = rat_i128(x);
            i64::try_from((xn * d).div_euclid(xd) + i128::from((xn * d).rem_euclid(xd) != 0)).unwrap()
        })
        .collect();
    let n = case.pool.len();
    let mut result = vec![BigRational::from_integer(0.into()); xs.len()];
    for k in 1..=4usize {
        if case.lines[k - 1] == 0 {
            continue;
        }
        let mut sums = vec![0i64; xs.len()];
        combinations(n, k, &mut |subset| {
            let lines: Vec<&Vec<(i64, i64)>> = subset.iter().map(|&o| &table[o]).collect();
            let mut idx = [0usize; 4];
            loop {
                let mut units = 0i64;
                let mut prob = 1i64;
                for (line, &i) in lines.iter().zip(&idx) {
                    let (u, p) = line[i];
                    units += u;
                    prob *= p;
                }
                for (sum, &t) in sums.iter_mut().zip(&thresholds) {
                    if units >= t {
                        *sum += prob;
                    }
                }
                // odometer over the k tier indices
                let mut j = 0;
                loop {
                    if j == k {
                        return;
                    }
                    idx[j] += 1;
                    if idx[j] < case.tiers.len() {
                        break;
                    }
                    idx[j] = 0;
                    j += 1;
                }
            }
        });
        let den = BigInt::from(100) * BigInt::from(binom(n, k)) * BigInt::from(100i128.pow(k as u32));
        for (i, s) in sums.iter().enumerate() {
            result[i] += BigRational::new(BigInt::from(*s) * BigInt::from(case.lines[k - 1]), den.clone());
        }
    }
    result
}

fn compare(case: RefCase, flame: FlameKind, item: Item, assumptions: Assumptions, targets: &[&str]) {
    let pairs: Vec<(Stat, Rational)> = case
        .weights
        .iter()
        .map(|&(s, n, d)| {
            (
                Stat::parse(s).unwrap(),
                Rational::new(n as i64, d as u64).unwrap(),
            )
        })
        .collect();
    let weights = ScoreWeights::from_pairs(&pairs).unwrap();
    let dist = score_distribution(flame, &item, &weights, &assumptions).unwrap();
    // The last target, 0, checks the reference itself: every outcome succeeds (non-negative weights).
    let mut xs: Vec<BigRational> = targets.iter().map(|t| rat(t)).collect();
    xs.push(rat("0"));
    let want = brute_force(&case, &xs);
    assert_eq!(want[targets.len()], rat("1"), "reference probabilities sum to 1");
    for (t, w) in targets.iter().zip(&want) {
        assert_eq!(engine_p(&dist, r(t)), *w, "{flame:?} {item:?} target {t}");
    }
}

const BOSS_ABYSS: [(u32, u64); 3] = [(5, 63), (6, 34), (7, 3)];
const BOSS_LINES: [u64; 4] = [0, 0, 0, 100];
const KMS_LINES: [u64; 4] = [40, 40, 16, 4];

#[test]
fn brute_force_boss_armor_sub_stat_ties() {
    // 0.1·DEX makes many exact ties at round targets (brendonmay's float bug (g)). Abyss (3 tiers) keeps the
    // walk at 3876·3^4 outcomes; the eternal table on this item is covered by the worked examples.
    let case = RefCase {
        pool: ref_pool(200, None),
        tiers: BOSS_ABYSS.to_vec(),
        lines: BOSS_LINES,
        weights: vec![
            ("str", 1, 1),
            ("dex", 1, 10),
            ("attack_power", 4, 1),
            ("all_stat", 10, 1),
        ],
    };
    let item = Item::armor(200, Boss::Yes).unwrap();
    compare(
        case,
        FlameKind::Abyss,
        item,
        Assumptions::default(),
        &["60", "100", "120", "241/2", "150.6"],
    );
}

#[test]
fn brute_force_non_boss_magician_powerful() {
    // Non-boss Lv 160, powerful (grades 1-4), 40/40/16/4 lines, INT + 4·MATT + 10·all%.
    let case = RefCase {
        pool: ref_pool(160, None),
        tiers: vec![(1, 20), (2, 30), (3, 36), (4, 14)],
        lines: KMS_LINES,
        weights: vec![("int", 1, 1), ("magic_power", 4, 1), ("all_stat", 10, 1)],
    };
    let item = Item::accessory(160, Boss::No).unwrap();
    compare(
        case,
        FlameKind::Powerful,
        item,
        Assumptions::default(),
        &["1", "20", "45", "70", "100"],
    );
}

#[test]
fn brute_force_low_level_pools_and_caps() {
    // Lv 65: ATT/MATT in the pool, all% not (18 options); brendon-style 1/12 sub weight.
    let case = RefCase {
        pool: ref_pool(65, None),
        tiers: vec![(2, 29), (3, 45), (4, 25), (5, 1)],
        lines: KMS_LINES,
        weights: vec![("luk", 1, 1), ("dex", 1, 12), ("attack_power", 3, 1)],
    };
    let item = Item::armor(65, Boss::No).unwrap();
    assert_eq!(item.pool().len(), 18);
    compare(
        case,
        FlameKind::Eternal,
        item,
        Assumptions::default(),
        &["10", "16", "22.5", "30", "40"],
    );

    // Lv 12: no ATT/MATT/all% (16 options); level reduction capped at the item level; HP 30/tier.
    let case = RefCase {
        pool: ref_pool(12, None),
        tiers: vec![(1, 20), (2, 30), (3, 36), (4, 14)],
        lines: KMS_LINES,
        weights: vec![
            ("str", 1, 1),
            ("max_hp", 1, 10),
            ("speed", 1, 1),
            ("jump", 1, 1),
            ("armor", 1, 1),
            ("equipment_level_decrease", 1, 1),
        ],
    };
    let item = Item::armor(12, Boss::No).unwrap();
    assert_eq!(item.pool().len(), 16);
    compare(
        case,
        FlameKind::Powerful,
        item,
        Assumptions::default(),
        &["5", "12", "20", "30", "45"],
    );
}

#[test]
fn brute_force_boss_weapon() {
    // Arcane 1H sword, base ATT 283, Lv 200 boss: published ATT per tier 3..7 = 51/75/103/136/175
    // (weapon_att_checks.csv). A physical weapon's MATT line equals its ATT line. Abyss: tiers 5-7.
    let att = [0, 0, 0, 51, 75, 103, 136, 175];
    let case = RefCase {
        pool: ref_pool(200, Some(att)),
        tiers: BOSS_ABYSS.to_vec(),
        lines: BOSS_LINES,
        weights: vec![
            ("str", 1, 1),
            ("attack_power", 4, 1),
            ("magic_power", 1, 2),
            ("boss_damage", 14, 1),
            ("damage", 14, 1),
            ("all_stat", 10, 1),
        ],
    };
    let item = Item::weapon(200, Boss::Yes, 283, 0).unwrap();
    compare(
        case,
        FlameKind::Abyss,
        item,
        Assumptions::default(),
        &["300", "500", "700", "800", "1000"],
    );
}

#[test]
fn brute_force_non_boss_weapon_abyss_gms_lines() {
    // Non-boss Lv 85 weapon, base 100: no boss% (18 options). malib v = 3: ceil(100·3·{3.63,5.325,7.32}/100)
    // = 11, 16, 22 at tiers 3..5 (abyss has grades 3..5 only). GMS line counts 40/40/15/5.
    let att = [0, 0, 0, 11, 16, 22, 0, 0];
    let case = RefCase {
        pool: ref_pool(85, Some(att)),
        tiers: vec![(3, 63), (4, 34), (5, 3)],
        lines: [40, 40, 15, 5],
        weights: vec![
            ("dex", 1, 1),
            ("attack_power", 4, 1),
            ("damage", 14, 1),
            ("all_stat", 10, 1),
        ],
    };
    let item = Item::weapon(85, Boss::No, 100, 0).unwrap();
    assert_eq!(item.pool().len(), 18);
    let a = Assumptions {
        line_counts: LineCounts::Gms,
        ..Assumptions::default()
    };
    compare(case, FlameKind::Abyss, item, a, &["20", "44", "64", "100", "150"]);
}

#[test]
fn brute_force_demon_avenger_lv250_brendon_abyss() {
    // HP/17.5 + 4·ATT on a Lv-250 boss armor piece (HP 700/tier), abyss per brendonmay's worker.js.
    let case = RefCase {
        pool: ref_pool(250, None),
        tiers: vec![(4, 1), (5, 63), (6, 34), (7, 2)],
        lines: BOSS_LINES,
        weights: vec![("max_hp", 2, 35), ("attack_power", 4, 1)],
    };
    let item = Item::armor(250, Boss::Yes).unwrap();
    let a = Assumptions {
        abyss_table: AbyssTable::BrendonWorker,
        ..Assumptions::default()
    };
    compare(case, FlameKind::Abyss, item, a, &["200", "240", "280", "300"]);
}

// ---------------------------------------------------------------------------------------------------
// 3. Weapon ATT values: weapon_att_checks.csv (published KMS values; all must match both models).

fn check_att(base: u32, level: u32, boss: bool, tier: u32, published: u32) {
    for model in [WeaponAttack::Malib, WeaponAttack::GmsFormula] {
        let a = Assumptions {
            weapon_attack: model,
            ..Assumptions::default()
        };
        let item = if boss {
            Item::weapon(level, Boss::Yes, base, base)
        } else {
            Item::zero_weapon(level, base)
        }
        .unwrap();
        assert_eq!(
            item.weapon_attack(Stat::AttackPower, tier, &a),
            published,
            "{base} {level} t{tier} {model:?}"
        );
        assert_eq!(
            weapon_attack_tier(&item, Stat::AttackPower, published, &a),
            Some(tier)
        );
    }
}

#[test]
fn weapon_attack_matches_published_values() {
    check_att(283, 200, true, 7, 175);
    check_att(283, 200, true, 6, 136);
    check_att(283, 200, true, 5, 103);
    check_att(283, 200, true, 4, 75);
    check_att(283, 200, true, 3, 51);
    check_att(353, 200, true, 7, 218);
    check_att(353, 200, true, 6, 170);
    check_att(353, 200, true, 5, 129);
    check_att(353, 200, true, 4, 94);
    check_att(353, 200, true, 3, 64);
    check_att(205, 160, true, 7, 106);
    check_att(205, 160, true, 6, 82);
    check_att(205, 160, true, 5, 63);
    check_att(205, 160, true, 4, 46);
    check_att(205, 160, true, 3, 31);
    check_att(300, 150, true, 7, 123);
    check_att(300, 150, true, 6, 96);
    check_att(300, 150, true, 5, 73);
    check_att(300, 150, true, 4, 53);
    check_att(300, 150, true, 3, 36);
    check_att(340, 200, true, 7, 210);
    check_att(297, 200, false, 5, 131);
    check_att(297, 200, false, 4, 95);
    check_att(297, 200, false, 3, 65);
    check_att(297, 200, false, 2, 40);
    check_att(297, 200, false, 1, 18);
}

fn check_att_model(model: WeaponAttack, level: u32, boss: Boss, base: u32, tiers: &[u32]) {
    let a = Assumptions {
        weapon_attack: model,
        ..Assumptions::default()
    };
    let item = Item::weapon(level, boss, base, 0).unwrap();
    let first = if boss == Boss::Yes { 3 } else { 1 };
    let got: Vec<u32> = (first..first + 5)
        .map(|t| item.weapon_attack(Stat::AttackPower, t, &a))
        .collect();
    assert_eq!(got, tiers, "{model:?} Lv{level} {boss:?} base {base}");
}

#[test]
fn weapon_attack_models_where_they_differ() {
    // weapon_att_percent.csv, value = ceil(base·pct/100) with base 100 (so value = ceil(pct)).
    // Lv-250 boss: formula B = 7 (21, 30.8, 42.35, 55.902, 71.7409 %) vs malib v = 6 (18 … 61.4988 %).
    check_att_model(
        WeaponAttack::GmsFormula,
        250,
        Boss::Yes,
        100,
        &[21, 31, 43, 56, 72],
    );
    check_att_model(WeaponAttack::Malib, 250, Boss::Yes, 100, &[18, 27, 37, 48, 62]);
    // Non-boss Lv 200 (non-Zero): formula 6, 13.2, 21.78, 31.944, 43.923 % vs malib 4, 8.888, 14.52, 21.3, 29.28 %.
    check_att_model(WeaponAttack::GmsFormula, 200, Boss::No, 100, &[6, 14, 22, 32, 44]);
    check_att_model(WeaponAttack::Malib, 200, Boss::No, 100, &[4, 9, 15, 22, 30]);
    // Exact ceil at an integer percentage: Fafnir 150 t3 = 12 % of 300 = 36 exactly (no float drift).
    check_att_model(WeaponAttack::Malib, 150, Boss::Yes, 300, &[36, 53, 73, 96, 123]);
}

#[test]
fn matt_line_uses_the_larger_base() {
    // Genesis staff (Open API fixture): base ATT 251, MATT 406; flame MATT 250 = tier 7 of base 406.
    let a = Assumptions::default();
    let staff = Item::weapon(200, Boss::Yes, 251, 406).unwrap();
    assert_eq!(staff.weapon_attack(Stat::MagicPower, 7, &a), 250);
    assert_eq!(staff.weapon_attack(Stat::AttackPower, 7, &a), 155); // ceil(251·0.614988)
    assert_eq!(weapon_attack_tier(&staff, Stat::MagicPower, 250, &a), Some(7));
    assert_eq!(weapon_attack_tier(&staff, Stat::MagicPower, 249, &a), None);
}
