//! Property tests of the potential engine: bounds and monotonicity of the per-attempt probability on real
//! tables, the tier-up chain against the closed form with pity, geometric quantiles, and a seeded Monte
//! Carlo run of the full chain (tier-up + lines).
use proptest::prelude::*;
use pve_engine::potential::{
    band_probability, chain::tier_up_mean_attempts, compute, Chain, Data, Goal, Grade, Request, Stage,
    StatKind,
};
use std::sync::OnceLock;

fn data() -> &'static Data {
    static D: OnceLock<Data> = OnceLock::new();
    D.get_or_init(|| Data::decode(include_bytes!("../data/potential.tsv")).unwrap())
}

/// Stats that occur on many parts, so random goals are often (not always) reachable.
const STATS: &[StatKind] = &[
    StatKind::StrPct,
    StatKind::IntPct,
    StatKind::AllStatPct,
    StatKind::AttPct,
    StatKind::MattPct,
    StatKind::BossPct,
    StatKind::IedPct,
    StatKind::CritDmgPct,
    StatKind::CooldownSec,
    StatKind::MaxHpPct,
    StatKind::DamagePct,
    StatKind::MesoPct,
    StatKind::InvincibleAfterHitSec,
];

/// Published tables deviate from 1 by at most 1.2e-5 each (0.96 below); never renormalised.
const SUM_SLACK: f64 = 1e-4;

/// (at_least, lines) of a goal.
type GoalSpec = (Vec<(StatKind, u32)>, Vec<(StatKind, u32)>);

fn goal_strategy() -> impl Strategy<Value = GoalSpec> {
    let at_least = proptest::collection::btree_map(0..STATS.len(), 1u32..40, 0..=3);
    let lines = proptest::collection::btree_map(0..STATS.len(), 1u32..=3, 0..=1);
    (at_least, lines)
        .prop_filter("non-empty goal", |(a, l)| !a.is_empty() || !l.is_empty())
        .prop_map(|(a, l)| {
            (
                a.into_iter().map(|(i, v)| (STATS[i], v)).collect(),
                l.into_iter().map(|(i, v)| (STATS[i], v)).collect(),
            )
        })
}

fn leq(harder: f64, easier: f64) -> bool {
    harder <= easier * (1.0 + 1e-12) + 1e-300
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn probability_is_bounded_and_monotone(
        band in 0..data().bands().len(),
        (at_least, lines) in goal_strategy(),
        which in 0usize..4,
        bump in 1u32..10,
        extra in 0..STATS.len(),
    ) {
        let d = data();
        let band = &d.bands()[band];
        let goal = Goal::new(&at_least, &lines).unwrap();
        let p = band_probability(d, band, &goal).unwrap();
        prop_assert!((0.0..=1.0 + SUM_SLACK).contains(&p), "p = {}", p);

        // A higher target on one condition is never more likely.
        let mut harder_a = at_least.clone();
        let mut harder_l = lines.clone();
        if !harder_a.is_empty() && (which % 2 == 0 || harder_l.is_empty()) {
            let i = which % harder_a.len();
            harder_a[i].1 += bump;
        } else {
            let i = which % harder_l.len();
            harder_l[i].1 = (harder_l[i].1 + 1).min(3);
        }
        let harder = Goal::new(&harder_a, &harder_l).unwrap();
        let ph = band_probability(d, band, &harder).unwrap();
        prop_assert!(leq(ph, p), "harder target: {} > {}", ph, p);

        // One more condition is never more likely.
        let stat = STATS[extra];
        if !at_least.iter().any(|&(s, _)| s == stat) {
            let mut more = at_least.clone();
            more.push((stat, 1));
            let pm = band_probability(d, band, &Goal::new(&more, &lines).unwrap()).unwrap();
            prop_assert!(leq(pm, p), "extra condition: {} > {}", pm, p);
        }
    }

    #[test]
    fn tier_up_chain_matches_the_closed_form_with_pity(
        stages in proptest::collection::vec((0.001f64..=1.0, proptest::option::of(1u32..300), 0.0f64..1e8), 1..=3),
    ) {
        let st: Vec<Stage> = stages.iter().map(|&(rate, pity, _)| Stage { rate, pity }).collect();
        let mut p = vec![0.0; st.len()];
        p.push(1.0);
        let mut cost: Vec<f64> = stages.iter().map(|s| s.2).collect();
        cost.push(0.0);
        let out = Chain::new(st.clone(), p, cost).unwrap().solve();
        let closed: f64 = st.iter().map(|&s| tier_up_mean_attempts(s)).sum();
        let closed_cost: f64 = st.iter().zip(&stages).map(|(&s, x)| tier_up_mean_attempts(s) * x.2).sum();
        let mean = out.mean_attempts.unwrap();
        prop_assert!(((mean - closed) / closed).abs() < 1e-9, "chain {} closed {}", mean, closed);
        let mc = out.mean_cost.unwrap();
        prop_assert!((mc - closed_cost).abs() <= 1e-9 * closed_cost.max(1.0), "cost {} closed {}", mc, closed_cost);
        prop_assert_eq!(out.eventual_success, 1.0);
        let q = out.quantiles;
        let (a, b, c) = (q.p50.unwrap(), q.p90.unwrap(), q.p99.unwrap());
        prop_assert!(1 <= a && a <= b && b <= c);
        if let Some(max) = st.iter().map(|s| s.pity.map(u64::from)).sum::<Option<u64>>() {
            prop_assert!(c <= max, "p99 {} above the pity bound {}", c, max);
        }
        prop_assert!((st.len() as u64) <= a);
    }

    #[test]
    fn top_grade_is_geometric(p in 0.001f64..=1.0) {
        let out = Chain::new(vec![], vec![p], vec![1.0]).unwrap().solve();
        prop_assert_eq!(out.mean_attempts, Some(1.0 / p));
        // Smallest n with 1 - (1-p)^n >= q, by repeated multiplication (not libm).
        let smallest = |q: f64| {
            let (mut n, mut s) = (0u64, 1.0f64);
            while s > 1.0 - q {
                s *= 1.0 - p;
                n += 1;
            }
            n
        };
        prop_assert_eq!(out.quantiles.p50, Some(smallest(0.5)));
        prop_assert_eq!(out.quantiles.p90, Some(smallest(0.9)));
        prop_assert_eq!(out.quantiles.p99, Some(smallest(0.99)));
    }
}

/// Seeded Monte Carlo of the whole process (tier-up with pity, then lines) against the exact chain.
/// 200,000 runs, seed 42, xorshift64*; the mean must be within 4 standard errors and the empirical CDF at
/// the exact quantiles within 4 binomial standard errors.
#[test]
fn monte_carlo_agrees_with_the_exact_chain() {
    let d = data();
    let goal = Goal::new(&[(StatKind::AttPct, 12)], &[]).unwrap();
    let out = compute(
        d,
        &Request {
            cube: "black".into(),
            part: "무기".into(),
            level: 200,
            grade: Grade::Epic,
            goal,
        },
    )
    .unwrap();
    let p: Vec<f64> = out.p_by_grade.iter().map(|&(_, p)| p).collect();
    let stages: Vec<(f64, u32)> = out.tier_up.iter().map(|s| (s.rate, s.pity.unwrap())).collect();
    assert_eq!(p.len(), 3);
    assert!(
        p[0] > 0.0,
        "the goal must be reachable at every grade for this check"
    );

    let mut state: u64 = 42;
    let mut uniform = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    };
    const RUNS: usize = 200_000;
    let mut samples = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let (mut grade, mut counter, mut n) = (0usize, 0u32, 0u64);
        loop {
            n += 1;
            if grade < stages.len() {
                let (rate, pity) = stages[grade];
                counter += 1;
                if counter == pity || uniform() < rate {
                    grade += 1;
                    counter = 0;
                }
            }
            if uniform() < p[grade] {
                break;
            }
        }
        samples.push(n as f64);
    }
    let mean = samples.iter().sum::<f64>() / RUNS as f64;
    let var = samples.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (RUNS - 1) as f64;
    let se = (var / RUNS as f64).sqrt();
    let exact = out.mean_attempts.unwrap();
    assert!(
        (mean - exact).abs() < 4.0 * se,
        "MC mean {mean} ± {se}, exact {exact}"
    );
    for (q, n) in [
        (0.5, out.quantiles.p50),
        (0.9, out.quantiles.p90),
        (0.99, out.quantiles.p99),
    ] {
        let n = n.unwrap() as f64;
        let cdf = |m: f64| samples.iter().filter(|&&x| x <= m).count() as f64 / RUNS as f64;
        let tol = 4.0 * (q * (1.0 - q) / RUNS as f64).sqrt();
        assert!(cdf(n) >= q - tol, "P(N <= {n}) = {} < {q}", cdf(n));
        assert!(
            cdf(n - 1.0) < q + tol,
            "P(N <= {}) = {} >= {q}",
            n - 1.0,
            cdf(n - 1.0)
        );
    }
}

/// `tier_up` on real data: the sum of the closed forms, bounded by the pity counts, meso costs per grade.
#[test]
fn tier_up_on_real_data() {
    use pve_engine::potential::tier_up;
    let d = data();
    let t = tier_up(d, "meso_reset_main", 200, Grade::Rare, Grade::Legendary).unwrap();
    assert_eq!(t.stages.len(), 3);
    assert_eq!(t.max_attempts, Some(10 + 42 + 107));
    let closed: f64 = [(0.150000001275, 10), (0.035, 42), (0.014, 107)]
        .iter()
        .map(|&(rate, pity)| {
            tier_up_mean_attempts(Stage {
                rate,
                pity: Some(pity),
            })
        })
        .sum();
    assert!((t.mean_attempts - closed).abs() < 1e-12 * closed);
    // Mesos at 200-249: 4.5M at 레어, 18M at 에픽, 38.25M at 유니크, times the expected attempts at each.
    let cost: f64 = t
        .stages
        .iter()
        .zip([4_500_000.0, 18_000_000.0, 38_250_000.0])
        .map(|(s, c)| s.mean_attempts * c)
        .sum();
    let got = t.mean_cost.unwrap();
    assert!((got - cost).abs() < 1e-9 * cost, "{got} vs {cost}");
    let q = t.quantiles;
    assert!(q.p50 <= q.p90 && q.p90 <= q.p99 && q.p99 <= Some(159));

    let none = tier_up(d, "black", 200, Grade::Unique, Grade::Unique).unwrap();
    assert_eq!(none.mean_attempts, 0.0);
    assert_eq!(none.quantiles.p99, Some(0));
    assert!(tier_up(d, "black", 200, Grade::Legendary, Grade::Epic).is_err());
    assert!(tier_up(d, "strange", 200, Grade::Rare, Grade::Unique).is_err());
    // No pity: no bound.
    assert_eq!(
        tier_up(d, "meister", 200, Grade::Rare, Grade::Legendary)
            .unwrap()
            .max_attempts,
        None
    );
}
