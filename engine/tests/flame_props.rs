//! Invariants of the flame engine (proptest) and a seeded Monte Carlo check of the enumeration.
//!
//! - the distribution sums to exactly 1 and P(score ≥ x) is non-increasing in x;
//! - abyss ≥ eternal ≥ powerful for every target (each table stochastically dominates the next);
//! - a boss item ≥ the same non-boss item (more lines, higher tiers, non-negative weights);
//! - raising a weight never lowers P(score ≥ x);
//! - the quantiles of the number of flames are the smallest n with P(N ≤ n) ≥ q;
//! - sampling flames directly agrees with the exact probability within 5 standard errors.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};
use proptest::prelude::*;
use pve_engine::flame::*;

fn kind_strategy() -> impl Strategy<Value = ItemKind> {
    prop_oneof![
        Just(ItemKind::Armor),
        Just(ItemKind::Accessory),
        Just(ItemKind::Weapon),
        Just(ItemKind::ZeroWeapon)
    ]
}

fn item_strategy() -> impl Strategy<Value = Item> {
    (
        1u32..=MAX_LEVEL,
        kind_strategy(),
        any::<bool>(),
        1u32..=450,
        0u32..=450,
    )
        .prop_map(|(level, kind, boss, att, matt)| {
            let boss = if boss && kind != ItemKind::ZeroWeapon {
                Boss::Yes
            } else {
                Boss::No
            };
            let (att, matt) = if kind.is_weapon() { (att, matt) } else { (0, 0) };
            let matt = if kind == ItemKind::ZeroWeapon { 0 } else { matt };
            Item::new(level, kind, boss, att, matt).unwrap()
        })
}

/// Up to five non-zero weights, small fractions with denominators 1, 2, 3, 10, 12.
fn weights_strategy() -> impl Strategy<Value = Vec<(Stat, Rational)>> {
    proptest::collection::vec(
        (
            0usize..Stat::COUNT,
            1i64..=20,
            prop_oneof![Just(1u64), Just(2), Just(3), Just(10), Just(12)],
        ),
        1..=5,
    )
    .prop_map(|v| {
        let mut out: Vec<(Stat, Rational)> = Vec::new();
        for (i, n, d) in v {
            let s = Stat::ALL[i];
            if !out.iter().any(|(t, _)| *t == s) {
                out.push((s, Rational::new(n, d).unwrap()));
            }
        }
        out
    })
}

fn assumptions_strategy() -> impl Strategy<Value = Assumptions> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(a, b, c, d, e)| Assumptions {
            line_counts: if a {
                LineCounts::Gms
            } else {
                LineCounts::KmsOfficial
            },
            abyss_table: if b {
                AbyssTable::BrendonWorker
            } else {
                AbyssTable::Consensus
            },
            levels_201_to_249: if c {
                Levels201To249::Gms
            } else {
                Levels201To249::Kms
            },
            weapon_attack: if d {
                WeaponAttack::GmsFormula
            } else {
                WeaponAttack::Malib
            },
            def_below_140: if e {
                DefBelow140::OnePerTier
            } else {
                DefBelow140::SingleStat
            },
        })
}

fn big(p: Probability) -> BigRational {
    BigRational::new(BigInt::from(p.num()), BigInt::from(p.den()))
}

fn flame_strategy() -> impl Strategy<Value = FlameKind> {
    prop_oneof![
        Just(FlameKind::Powerful),
        Just(FlameKind::Eternal),
        Just(FlameKind::Black),
        Just(FlameKind::Abyss)
    ]
}

/// Targets spread over the score range: a few fractions of the max score plus exact support points.
fn targets(d: &ScoreDistribution) -> Vec<Rational> {
    let max = d.max_score();
    let mut t: Vec<Rational> = (0..=8)
        .map(|i| Rational::new((max.units() * i / 8) as i64, max.scale()).unwrap())
        .collect();
    // About 24 support points, evenly spaced (exact scores: ties with the target count as reached).
    let scores: Vec<Score> = d.points().map(|(s, _)| s).collect();
    let step = (scores.len() / 24).max(1);
    t.extend(
        scores
            .iter()
            .step_by(step)
            .map(|s| Rational::new(s.units() as i64, s.scale()).unwrap()),
    );
    t.push(Rational::new(max.units() as i64 + 1, max.scale()).unwrap());
    t
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn distribution_sums_to_one_and_tail_is_monotone(
        item in item_strategy(), flame in flame_strategy(), w in weights_strategy(), a in assumptions_strategy(),
    ) {
        let weights = ScoreWeights::from_pairs(&w).unwrap();
        let d = score_distribution(flame, &item, &weights, &a).unwrap();
        // Exact: every point's reduced fraction scaled back to the common denominator, summed as integers.
        let den = d.denominator();
        let total: u128 = d.points().map(|(_, p)| p.num() * (den / p.den())).sum();
        prop_assert!(d.points().all(|(_, p)| den.is_multiple_of(p.den())));
        prop_assert_eq!(total, den);
        prop_assert!(d.points().all(|(_, p)| !p.is_zero()));
        let scores: Vec<i128> = d.points().map(|(s, _)| s.units()).collect();
        prop_assert!(scores.windows(2).all(|w| w[0] < w[1]));
        prop_assert_eq!(big(d.p_at_least(Rational::ZERO)), BigRational::one());
        let mut t = targets(&d);
        t.sort_by(|a, b| (a.num() as i128 * b.den() as i128).cmp(&(b.num() as i128 * a.den() as i128)));
        let ps: Vec<BigRational> = t.iter().map(|&x| big(d.p_at_least(x))).collect();
        prop_assert!(ps.windows(2).all(|w| w[0] >= w[1]), "P(score >= x) must not increase with x");
        prop_assert!(ps.last().unwrap().is_zero(), "nothing is above the max score");
        let mean = d.mean_score();
        prop_assert!(d.min_score().to_f64() <= mean && mean <= d.max_score().to_f64());
    }

    #[test]
    fn better_flames_dominate(item in item_strategy(), w in weights_strategy(), a in assumptions_strategy()) {
        let weights = ScoreWeights::from_pairs(&w).unwrap();
        let dist = |f| score_distribution(f, &item, &weights, &a).unwrap();
        let (pw, et, ab) = (dist(FlameKind::Powerful), dist(FlameKind::Eternal), dist(FlameKind::Abyss));
        for x in targets(&pw).into_iter().chain(targets(&et)).chain(targets(&ab)) {
            let (p, e, b) = (big(pw.p_at_least(x)), big(et.p_at_least(x)), big(ab.p_at_least(x)));
            prop_assert!(p <= e && e <= b, "powerful {} <= eternal {} <= abyss {} at {}", p, e, b, x);
        }
        prop_assert_eq!(dist(FlameKind::Black), et);
    }

    #[test]
    fn boss_items_dominate(
        level in 1u32..=MAX_LEVEL, weapon in any::<bool>(), att in 1u32..=450,
        flame in flame_strategy(), w in weights_strategy(), a in assumptions_strategy(),
    ) {
        let make = |boss| if weapon { Item::weapon(level, boss, att, 0) } else { Item::armor(level, boss) }.unwrap();
        let weights = ScoreWeights::from_pairs(&w).unwrap();
        let boss = score_distribution(flame, &make(Boss::Yes), &weights, &a).unwrap();
        let other = score_distribution(flame, &make(Boss::No), &weights, &a).unwrap();
        for x in targets(&boss).into_iter().chain(targets(&other)) {
            prop_assert!(big(boss.p_at_least(x)) >= big(other.p_at_least(x)), "at {}", x);
        }
    }

    #[test]
    fn raising_a_weight_never_lowers_the_chance(
        item in item_strategy(), flame in flame_strategy(), w in weights_strategy(), i in 0usize..Stat::COUNT,
        extra in 1i64..=10,
    ) {
        let a = Assumptions::default();
        let low = ScoreWeights::from_pairs(&w).unwrap();
        let stat = Stat::ALL[i];
        let mut w2: Vec<(Stat, Rational)> = w.iter().copied().filter(|(s, _)| *s != stat).collect();
        let old = low.weight(stat);
        let raised = Rational::new(old.num() + extra * old.den() as i64, old.den()).unwrap();
        w2.push((stat, raised));
        let high = ScoreWeights::from_pairs(&w2).unwrap();
        let dl = score_distribution(flame, &item, &low, &a).unwrap();
        let dh = score_distribution(flame, &item, &high, &a).unwrap();
        for x in targets(&dl).into_iter().chain(targets(&dh)) {
            prop_assert!(big(dh.p_at_least(x)) >= big(dl.p_at_least(x)), "at {}", x);
        }
    }

    #[test]
    fn dense_and_sparse_paths_agree(item in item_strategy(), flame in flame_strategy(), w in weights_strategy()) {
        // Multiplying every weight by 10^5 multiplies every score by 10^5: the same probabilities at scaled
        // targets, but a score range far beyond the dense DP's width, so the sparse path computes it.
        let a = Assumptions::default();
        let scaled: Vec<(Stat, Rational)> =
            w.iter().map(|&(s, r)| (s, Rational::new(r.num() * 100_000, r.den()).unwrap())).collect();
        let d1 = score_distribution(flame, &item, &ScoreWeights::from_pairs(&w).unwrap(), &a).unwrap();
        let d2 = score_distribution(flame, &item, &ScoreWeights::from_pairs(&scaled).unwrap(), &a).unwrap();
        prop_assert_eq!(d1.denominator(), d2.denominator());
        let p1: Vec<(f64, Probability)> = d1.points().map(|(s, p)| (s.to_f64(), p)).collect();
        let p2: Vec<(f64, Probability)> = d2.points().map(|(s, p)| (s.to_f64() / 100_000.0, p)).collect();
        prop_assert_eq!(p1.len(), p2.len());
        for ((s1, q1), (s2, q2)) in p1.iter().zip(&p2) {
            prop_assert!((s1 - s2).abs() <= 1e-9 * s1.abs().max(1.0));
            prop_assert_eq!(q1, q2);
        }
    }

    #[test]
    fn quantiles_are_the_smallest_n(x in 0i64..=180, flame in flame_strategy()) {
        let hero = class_profile("hero").unwrap().stats;
        let w = ScoreWeights::for_class(&hero, Convention::KmsGrade, Overrides::default()).unwrap();
        let item = Item::armor(200, Boss::Yes).unwrap();
        let d = score_distribution(flame, &item, &w, &Assumptions::default()).unwrap();
        match d.reach(Rational::integer(x).unwrap()) {
            Reach::Impossible { max_score } => prop_assert!(max_score.to_f64() < x as f64),
            Reach::Possible(att) => {
                let p = att.p();
                prop_assert!((att.mean() - 1.0 / p).abs() <= 1e-12 * att.mean());
                prop_assert!((att.sd() - (1.0 - p).sqrt() / p).abs() <= 1e-9 * att.mean());
                for q in [0.5, 0.9, 0.99] {
                    let n = att.quantile(q);
                    prop_assert!(n >= 1.0 && n == n.floor() && n < 1e9);
                    // P(N <= n) = 1 - (1-p)^n, evaluated here with powi (the engine uses expm1/log1p).
                    let cdf = |n: f64| 1.0 - (1.0 - p).powi(n as i32);
                    prop_assert!(cdf(n) >= q - 1e-12, "q={} n={} cdf={}", q, n, cdf(n));
                    prop_assert!(n == 1.0 || cdf(n - 1.0) < q + 1e-12, "q={} n={} cdf(n-1)={}", q, n, cdf(n - 1.0));
                }
            }
        }
    }

    #[test]
    fn every_json_number_in_range_is_read_within_half_a_billionth(x in -1e9f64..=1e9) {
        let (r, rounded) = Rational::from_f64_rounded(x).unwrap();
        // The shortest decimal form is within half an ulp of x; rounding it moves at most 5e-10.
        let ulp = f64::EPSILON * x.abs();
        prop_assert!((r.to_f64() - x).abs() <= 5e-10 + ulp, "{x} read as {r}");
        prop_assert_eq!(rounded, Rational::from_f64(x).is_err());
        if !rounded {
            prop_assert_eq!(Rational::from_f64(x).unwrap(), r);
        }
    }

    #[test]
    fn rationals_round_trip(n in -1_000_000i64..=1_000_000, d in 1u64..=1_000_000) {
        let r = Rational::new(n, d).unwrap();
        prop_assert_eq!(Rational::parse(&r.to_string()).unwrap(), r);
        // Decimal input is exact: n/1000 written as a decimal string.
        let dec = format!("{}{}.{:03}", if n < 0 { "-" } else { "" }, n.abs() / 1000, n.abs() % 1000);
        prop_assert_eq!(Rational::parse(&dec).unwrap(), Rational::new(n, 1000).unwrap());
        prop_assert_eq!(Rational::from_f64(n as f64 / 1000.0).unwrap(), Rational::new(n, 1000).unwrap());
    }
}

#[test]
fn a_json_number_is_read_to_nine_decimals() {
    let r = |x: f64| Rational::from_f64_rounded(x).unwrap();
    assert_eq!(r(0.125), (Rational::new(1, 8).unwrap(), false));
    assert_eq!(
        r(0.123456789),
        (Rational::new(123_456_789, 1_000_000_000).unwrap(), false)
    );
    assert_eq!(
        r(0.1234567891),
        (Rational::new(123_456_789, 1_000_000_000).unwrap(), true)
    );
    assert_eq!(
        r(0.1234567895),
        (Rational::new(12_345_679, 100_000_000).unwrap(), true)
    );
    assert_eq!(r(-5e-10), (Rational::new(-1, 1_000_000_000).unwrap(), true));
    assert_eq!(r(1.5e-10), (Rational::ZERO, true));
    assert_eq!(r(5e-324), (Rational::ZERO, true));
    assert_eq!(r(1.0000000000000002), (Rational::ONE, true));
    assert_eq!(r(1e9), (Rational::integer(1_000_000_000).unwrap(), false));
    for bad in [
        1.000_000_000_000_000_1e9,
        1e112,
        -2e9,
        f64::NAN,
        f64::NEG_INFINITY,
    ] {
        assert!(Rational::from_f64_rounded(bad).is_err(), "{bad}");
    }
}

#[test]
fn rational_parse_rejects_garbage() {
    for bad in [
        "",
        "abc",
        "1/0",
        "1.2.3",
        "--1",
        "0x10",
        "1e5",
        "1/-2",
        "12345678901.5",
        "0.0000000001",
        " 3 / 6 ",
        "3 /6",
        " 1",
        "1/+-2",
        "1000000000.5",
        "2000000000/4",
        "1/2000000000",
    ] {
        assert!(Rational::parse(bad).is_err(), "{bad:?} must be rejected");
    }
    assert!(Rational::from_f64(f64::NAN).is_err());
    assert!(Rational::from_f64(f64::INFINITY).is_err());
    assert_eq!(Rational::parse("3/6").unwrap(), Rational::new(1, 2).unwrap());
    assert_eq!(
        Rational::parse("-0003/+06").unwrap(),
        Rational::new(-1, 2).unwrap()
    );
    assert_eq!(Rational::parse("1000000000/1000000000").unwrap(), Rational::ONE);
    assert_eq!(
        Rational::parse("1000000000.000").unwrap(),
        Rational::integer(1_000_000_000).unwrap()
    );
    assert_eq!(Rational::parse("+.5").unwrap(), Rational::new(1, 2).unwrap());
}

// ---------------------------------------------------------------------------------------------------
// Seeded Monte Carlo: sample flames the way the game rolls them and compare with the exact tail.

/// splitmix64: a tiny seeded generator, enough for sampling here.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n // bias < n / 2^64: negligible here
    }

    /// Index drawn from integer percents.
    fn pick(&mut self, percents: &[u32]) -> usize {
        let mut r = self.below(100) as u32;
        for (i, &p) in percents.iter().enumerate() {
            if r < p {
                return i;
            }
            r -= p;
        }
        unreachable!("percents sum to 100")
    }
}

fn sample_score(rng: &mut Rng, item: &Item, flame: FlameKind, w: &ScoreWeights, a: &Assumptions) -> Score {
    let lines = item.line_counts(a).lines_percent;
    let k = rng.pick(&lines) + 1;
    let mut pool = item.pool();
    let tiers = item.tiers(flame, a);
    let tier_pct: Vec<u32> = tiers.iter().map(|t| t.1).collect();
    let mut stats = FlameStats::default();
    for i in 0..k {
        // partial Fisher-Yates: k distinct options, uniform
        let j = i + rng.below((pool.len() - i) as u64) as usize;
        pool.swap(i, j);
        let tier = tiers[rng.pick(&tier_pct)].0;
        match item.line_value(pool[i], tier, a) {
            LineValue::One(s, v) => stats.set(s, stats.get(s) + v),
            LineValue::Two(s, t, v) => {
                stats.set(s, stats.get(s) + v);
                stats.set(t, stats.get(t) + v);
            }
        }
    }
    w.score(&stats)
}

fn monte_carlo(samples: u32, seed: u64) {
    let mut rng = Rng(seed);
    let a = Assumptions::default();
    let cases = [
        (
            Item::armor(200, Boss::Yes).unwrap(),
            FlameKind::Eternal,
            "hero",
            &[60i64, 100, 140][..],
        ),
        (
            Item::armor(160, Boss::No).unwrap(),
            FlameKind::Powerful,
            "evan",
            &[10, 25, 40][..],
        ),
        (
            Item::weapon(200, Boss::Yes, 283, 0).unwrap(),
            FlameKind::Abyss,
            "hero",
            &[600, 800, 1000][..],
        ),
    ];
    for (item, flame, class, xs) in cases {
        let stats = class_profile(class).unwrap().stats;
        let w = ScoreWeights::for_class(&stats, Convention::MapleExpectation, Overrides::default()).unwrap();
        let d = score_distribution(flame, &item, &w, &a).unwrap();
        let draws: Vec<Score> = (0..samples)
            .map(|_| sample_score(&mut rng, &item, flame, &w, &a))
            .collect();
        for &x in xs {
            let x = Rational::integer(x).unwrap();
            let p = d.p_at_least(x).to_f64();
            let hits = draws.iter().filter(|s| s.at_least(x)).count() as f64;
            let p_hat = hits / f64::from(samples);
            let se = (p * (1.0 - p) / f64::from(samples)).sqrt();
            assert!(
                (p_hat - p).abs() <= 5.0 * se + 1e-12,
                "{flame:?} {class} x={x}: sampled {p_hat} vs exact {p} (5 se = {})",
                5.0 * se
            );
        }
    }
}

/// 20,000 flames per case, seed 42; tolerance 5 standard errors of the exact p (a false alarm is ~6e-7).
#[test]
fn monte_carlo_agrees_with_enumeration() {
    monte_carlo(20_000, 42);
}

/// 2,000,000 flames per case, seed 7 (slow in debug builds): `cargo test --release -- --ignored`.
#[test]
#[ignore]
fn monte_carlo_agrees_with_enumeration_large() {
    monte_carlo(2_000_000, 7);
}
