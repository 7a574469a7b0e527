//! The potential budget plan (issue 13) against independent references: the geometric closed form, a small
//! chain computed by hand, the attempt quantiles of the existing forward recursion, property tests, and a
//! seeded Monte Carlo of the whole process (tier-up with pity, Miracle Time, per-grade meso prices).
//!
//! Tolerance policy: closed forms agree to 1e-12 absolute; Monte Carlo within 5 standard errors plus the
//! reported error bound.
use proptest::prelude::*;
use pve_engine::potential::chain::BUDGET_TARGETS;
use pve_engine::potential::{
    compute, compute_with, Budget, Chain, Data, Error, Goal, Grade, OptionError, Options, PlanUnit, Request,
    Stage, StatKind,
};
use std::sync::OnceLock;

fn data() -> &'static Data {
    static D: OnceLock<Data> = OnceLock::new();
    D.get_or_init(|| Data::decode(include_bytes!("../data/potential.tsv")).unwrap())
}

fn chain(stages: &[(f64, Option<u32>)], p: &[f64]) -> Chain {
    let stages = stages.iter().map(|&(rate, pity)| Stage { rate, pity }).collect();
    Chain::new(stages, p.to_vec(), vec![1.0; p.len()]).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

/// No tier-up: P(N <= n) = 1 - (1 - p)^n and budget_for(q) = the least n with that >= q.
#[test]
fn geometric_closed_form() {
    for p in [0.5, 0.1, 0.013, 1e-4, 1.0] {
        let c = chain(&[], &[p]);
        for n in [0u64, 1, 2, 7, 50, 1000, 123_456] {
            let out = c.budget(&[1], n).unwrap();
            let exact = 1.0 - (1.0 - p).powi(n as i32);
            assert!(
                close(out.p_reach, exact),
                "p {p} n {n}: {} vs {exact}",
                out.p_reach
            );
            for (b, &q) in out.budget_for.iter().zip(&BUDGET_TARGETS) {
                // Smallest n with 1 - (1-p)^n >= q, by direct search.
                let mut m = 0u64;
                while 1.0 - (1.0 - p).powi(m as i32) < q {
                    m += 1;
                }
                assert_eq!(*b, Some(m), "p {p} q {q}");
            }
        }
    }
    // p = 0: never.
    let out = chain(&[], &[0.0]).budget(&[1], 1000).unwrap();
    assert_eq!(out.p_reach, 0.0);
    assert_eq!(out.budget_for, [None; 3]);
}

/// Rate 0.5, pity 2, p = 0.2 at grade 0 and 0.6 at grade 1 (by hand):
/// attempt 1 succeeds w.p. 0.5·0.6 + 0.5·0.2 = 0.4; then 0.2 is at grade 1 and 0.4 at grade 0 with the
/// counter at 1, whose next attempt tiers up for certain: attempt 2 adds 0.2·0.6 + 0.4·0.6 = 0.36, so
/// F(2) = 0.76 and then F(n) = 1 - 0.24·0.4^(n-2).
#[test]
fn small_chain_by_hand() {
    let c = chain(&[(0.5, Some(2))], &[0.2, 0.6]);
    let f = |n: u64| c.budget(&[1, 1], n).unwrap().p_reach;
    assert!(close(f(0), 0.0));
    assert!(close(f(1), 0.4));
    assert!(close(f(2), 0.76));
    for n in 2..40 {
        assert!(close(f(n), 1.0 - 0.24 * 0.4f64.powi(n as i32 - 2)), "n {n}");
    }
    // p50: F(2) = 0.76; p90: F(3) = 0.904; p99: F(5) = 0.98464 < 0.99 <= F(6) = 0.993856.
    assert_eq!(
        c.budget(&[1, 1], 0).unwrap().budget_for,
        [Some(2), Some(3), Some(6)]
    );

    // Costs 1 at grade 0 and 2 at grade 1 (an attempt is paid at the grade it is made at): success costs 1
    // (0.4), 2 (the forced tier-up from counter 1: 0.4·0.6 = 0.24) or 3 (0.2·0.6 = 0.12); then 0.16 waits at
    // grade 1 having spent 2 and 0.08 having spent 3, each succeeding every 2 units w.p. 0.6.
    let g = |x: u64| c.budget(&[1, 2], x).unwrap().p_reach;
    let tail = |x: u64| {
        let k = |w: u64| if x >= w { ((x - w) / 2) as i32 } else { 0 };
        0.76 + 0.16 * (1.0 - 0.4f64.powi(k(2))) + 0.08 * (1.0 - 0.4f64.powi(k(3)))
    };
    assert!(close(g(1), 0.4));
    assert!(close(g(2), 0.64));
    assert!(close(g(3), 0.76));
    for x in 3..60 {
        assert!(close(g(x), tail(x)), "x {x}: {} vs {}", g(x), tail(x));
    }
    // F(4) = 0.856, F(5) = 0.904, F(6) = 0.9424, ...; p99 where tail(x) >= 0.99 first.
    let p99 = (3..).find(|&x| tail(x) >= 0.99).unwrap();
    assert_eq!(
        c.budget(&[1, 2], 0).unwrap().budget_for,
        [Some(2), Some(5), Some(p99)]
    );

    // Counter already at 1: the first attempt tiers up for certain, so F(n) = 1 - 0.4^n.
    let c1 = c.clone().with_progress(1).unwrap();
    for n in 0..30 {
        assert!(close(
            c1.budget(&[1, 1], n).unwrap().p_reach,
            1.0 - 0.4f64.powi(n as i32)
        ));
    }
    assert!(c.clone().with_progress(2).is_err());
    assert!(chain(&[(0.5, None)], &[0.2, 0.6]).with_progress(1).is_err());
    assert!(chain(&[(0.5, None)], &[0.2, 0.6]).with_progress(0).is_ok());
}

/// With one unit per attempt the budget CDF is the attempt CDF: budget_for equals the attempt quantiles of
/// the existing recursion, on real chains (black cube from 레어, with and without pity progress).
#[test]
fn cube_budget_for_equals_attempt_quantiles() {
    let d = data();
    for (grade, goal, progress) in [
        (Grade::Rare, vec![(StatKind::AttPct, 21)], 0),
        (Grade::Epic, vec![(StatKind::AttPct, 12)], 30),
        (
            Grade::Unique,
            vec![(StatKind::BossPct, 30), (StatKind::AttPct, 9)],
            100,
        ),
        (Grade::Legendary, vec![(StatKind::AttPct, 33)], 0),
    ] {
        let req = Request {
            cube: "black".into(),
            part: "무기".into(),
            level: 200,
            grade,
            goal: Goal::new(&goal, &[]).unwrap(),
        };
        let opts = Options {
            pity_progress: progress,
            budget: Some(Budget::Cubes(100)),
            ..Options::default()
        };
        let out = compute_with(d, &req, &opts).unwrap();
        let plan = out.plan.unwrap();
        assert_eq!(plan.unit, PlanUnit::Cubes);
        let q = out.quantiles;
        let want = [q.p50, q.p90, q.p99].map(|x| x.map(|n| n as f64));
        assert_eq!(plan.budget_for, want, "{grade:?} {goal:?}");
    }
}

/// Error cases of the options, each explicit.
#[test]
fn options_are_validated() {
    let d = data();
    let req = |cube: &str, grade| Request {
        cube: cube.into(),
        part: "무기".into(),
        level: 200,
        grade,
        goal: Goal::new(&[(StatKind::AttPct, 21)], &[]).unwrap(),
    };
    let opt = |f: fn(&mut Options)| {
        let mut o = Options::default();
        f(&mut o);
        o
    };
    let err = |cube, grade, o: Options| match compute_with(d, &req(cube, grade), &o) {
        Err(Error::Option(e)) => e,
        other => panic!("{other:?}"),
    };
    // Black 유니크 → 레전드리 has pity 107: 0..=106 allowed.
    assert!(compute_with(d, &req("black", Grade::Unique), &opt(|o| o.pity_progress = 106)).is_ok());
    assert!(matches!(
        err("black", Grade::Unique, opt(|o| o.pity_progress = 107)),
        OptionError::PityProgress { pity: Some(107), .. }
    ));
    assert!(matches!(
        err("black", Grade::Legendary, opt(|o| o.pity_progress = 1)),
        OptionError::PityProgress { pity: None, .. }
    ));
    assert!(matches!(
        err("master", Grade::Rare, opt(|o| o.miracle_time = true)),
        OptionError::MiracleTimeNotApplicable { .. }
    ));
    assert!(matches!(
        err(
            "meso_reset_main",
            Grade::Rare,
            opt(|o| o.cube_price_mesos = Some(1.0))
        ),
        OptionError::CubePriceForMesoReset { .. }
    ));
    assert!(matches!(
        err("black", Grade::Rare, opt(|o| o.cube_price_mesos = Some(0.0))),
        OptionError::CubePriceOutOfRange { .. }
    ));
    assert!(matches!(
        err("black", Grade::Rare, opt(|o| o.budget = Some(Budget::Mesos(1e9)))),
        OptionError::MesoBudgetWithoutPrice { .. }
    ));
    assert!(matches!(
        err(
            "meso_reset_main",
            Grade::Rare,
            opt(|o| o.budget = Some(Budget::Cubes(10)))
        ),
        OptionError::CubeBudgetForMesoReset { .. }
    ));
    assert!(matches!(
        err(
            "meso_reset_main",
            Grade::Rare,
            opt(|o| o.budget = Some(Budget::Mesos(-1.0)))
        ),
        OptionError::BudgetOutOfRange { .. }
    ));
}

/// A meso budget for a priced cube item buys floor(budget / price) cubes; budget_for is cubes × price.
#[test]
fn meso_budget_for_a_priced_cube() {
    let d = data();
    let req = Request {
        cube: "black".into(),
        part: "무기".into(),
        level: 200,
        grade: Grade::Legendary,
        goal: Goal::new(&[(StatKind::AttPct, 21)], &[]).unwrap(),
    };
    let price = 12_000_000.0;
    let with = |budget| Options {
        cube_price_mesos: Some(price),
        budget: Some(budget),
        ..Options::default()
    };
    let by_mesos = compute_with(d, &req, &with(Budget::Mesos(price * 57.0 + price - 1.0))).unwrap();
    let by_cubes = compute_with(d, &req, &with(Budget::Cubes(57))).unwrap();
    let (m, c) = (by_mesos.plan.unwrap(), by_cubes.plan.unwrap());
    assert_eq!(m.budget_units, 57);
    assert_eq!(m.p_reach, c.p_reach);
    assert_eq!(m.budget_for, c.budget_for.map(|b| b.map(|n| n * price)));
    assert_eq!(by_mesos.mean_cost, by_mesos.mean_cubes.map(|n| n * price));
    assert!(compute(d, &req).unwrap().mean_cost.is_none());
}

/// Seeded Monte Carlo of the whole process for one realistic case: 잠재능력 재설정 on a level 200 weapon
/// from 레어 with 3 attempts already made at 레어, in Miracle Time, goal 공격력 +21%, budget 30억. Every
/// attempt pays its grade's price; 100,000 runs, seed 7, xorshift64*. p_reach must agree within 5 standard
/// errors plus the error bound, and the empirical CDF at each budget_for (and one unit below) likewise.
#[test]
fn monte_carlo_meso_reset_with_miracle_time_and_pity_progress() {
    let d = data();
    let req = Request {
        cube: "meso_reset_main".into(),
        part: "무기".into(),
        level: 200,
        grade: Grade::Rare,
        goal: Goal::new(&[(StatKind::AttPct, 21)], &[]).unwrap(),
    };
    let budget = 3e9;
    let opts = Options {
        pity_progress: 3,
        miracle_time: true,
        budget: Some(Budget::Mesos(budget)),
        ..Options::default()
    };
    let out = compute_with(d, &req, &opts).unwrap();
    let plan = out.plan.clone().unwrap();
    let p: Vec<f64> = out.p_by_grade.iter().map(|&(_, p)| p).collect();
    let stages: Vec<(f64, u32)> = out.tier_up.iter().map(|s| (s.rate, s.pity.unwrap())).collect();
    // Miracle Time doubled the published 15 % / 3.5 % / 1.4 %.
    let rates: Vec<f64> = stages.iter().map(|s| s.0).collect();
    assert_eq!(rates, vec![0.150000001275 * 2.0, 0.07, 0.028]);
    let prices: Vec<f64> = Grade::ALL
        .iter()
        .map(|&g| d.meso_cost("meso_reset_main", g, 200).unwrap() as f64)
        .collect();

    let mut state: u64 = 7;
    let mut uniform = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    };
    const RUNS: usize = 100_000;
    let mut costs = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let (mut grade, mut counter, mut cost) = (0usize, 3u32, 0.0);
        loop {
            cost += prices[grade];
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
        costs.push(cost);
    }
    let cdf = |x: f64| costs.iter().filter(|&&c| c <= x).count() as f64 / RUNS as f64;
    let tol = |q: f64| 5.0 * (q * (1.0 - q) / RUNS as f64).sqrt() + plan.error_bound;
    let mc = cdf(budget);
    println!(
        "MC p_reach {mc} ± {} (1 se), exact {}, budget_for {:?}",
        (mc * (1.0 - mc) / RUNS as f64).sqrt(),
        plan.p_reach,
        plan.budget_for
    );
    assert!(
        (mc - plan.p_reach).abs() < tol(plan.p_reach),
        "MC {mc} vs exact {}",
        plan.p_reach
    );
    let unit = plan.unit_mesos.unwrap();
    assert_eq!(unit, 2_250_000.0);
    for (b, &q) in plan.budget_for.iter().zip(&BUDGET_TARGETS) {
        let b = b.unwrap();
        assert!(cdf(b) >= q - tol(q), "P(cost <= {b}) = {} < {q}", cdf(b));
        assert!(
            cdf(b - unit) < q + tol(q),
            "P(cost <= {}) = {} >= {q}",
            b - unit,
            cdf(b - unit)
        );
    }
}

/// Real goals whose per-attempt probability does not fall with the grade (the usual case; the properties
/// below need it: a tier-up that lowered the probability could make an earlier tier-up worse).
fn nondecreasing(p: &[(Grade, f64)]) -> bool {
    p.windows(2).all(|w| w[0].1 <= w[1].1)
}

/// Random chains: 0-3 stages with or without pity, success probabilities nondecreasing in the grade.
fn chain_strategy() -> impl Strategy<Value = (Vec<(f64, Option<u32>)>, Vec<f64>)> {
    (0usize..=3).prop_flat_map(|k| {
        let stages = proptest::collection::vec((0.01f64..1.0, proptest::option::of(1u32..40)), k);
        let p = proptest::collection::vec(0.001f64..0.6, k + 1).prop_map(|mut p| {
            p.sort_by(f64::total_cmp);
            p
        });
        (stages, p)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    /// More budget never lowers p_reach; budget_for is monotone in p and consistent with p_reach.
    #[test]
    fn p_reach_monotone_and_budget_for_consistent(
        (stages, p) in chain_strategy(),
        costs in proptest::collection::vec(1u64..6, 4),
        budget in 0u64..400,
        extra in 1u64..50,
        progress in 0u32..40,
    ) {
        let c = chain(&stages, &p);
        let c = match stages.first().and_then(|s| s.1) {
            Some(n) => c.with_progress(progress % n).unwrap(),
            None => c,
        };
        let costs = &costs[..p.len()];
        let a = c.budget(costs, budget).unwrap();
        let b = c.budget(costs, budget + extra).unwrap();
        prop_assert!(b.p_reach >= a.p_reach, "{} < {}", b.p_reach, a.p_reach);
        prop_assert!((0.0..=1.0 + 1e-12).contains(&a.p_reach));
        let bf = a.budget_for;
        prop_assert!(bf[0] <= bf[1] && bf[1] <= bf[2], "{:?}", bf);
        for (x, &q) in bf.iter().zip(&BUDGET_TARGETS) {
            let x = x.unwrap(); // p > 0 at the top: every target is reached
            prop_assert!(c.budget(costs, x).unwrap().p_reach >= q);
            if x > 0 {
                prop_assert!(c.budget(costs, x - 1).unwrap().p_reach < q);
            }
        }
    }

    /// Pity progress never lengthens the expected attempts; Miracle Time (rates doubled, capped at 1) never
    /// raises the expected cost at a constant price per attempt; neither lowers p_reach at a budget.
    #[test]
    fn progress_and_miracle_time_help((stages, p) in chain_strategy(), budget in 0u64..300) {
        let c = chain(&stages, &p);
        let base = c.solve().mean_attempts.unwrap();
        let ones = vec![1; p.len()];
        if let Some(n) = stages.first().and_then(|s| s.1) {
            let mut prev = base;
            let mut prev_reach = c.budget(&ones, budget).unwrap().p_reach;
            for k in 1..n {
                let ck = c.clone().with_progress(k).unwrap();
                let m = ck.solve().mean_attempts.unwrap();
                prop_assert!(m <= prev * (1.0 + 1e-12), "progress {}: {} > {}", k, m, prev);
                let r = ck.budget(&ones, budget).unwrap().p_reach;
                prop_assert!(r >= prev_reach - 1e-12, "progress {}: p_reach {} < {}", k, r, prev_reach);
                prev = m;
                prev_reach = r;
            }
        }
        let doubled: Vec<(f64, Option<u32>)> = stages.iter().map(|&(r, n)| ((r * 2.0).min(1.0), n)).collect();
        let cm = chain(&doubled, &p);
        let (cost, cost_m) = (c.solve().mean_cost.unwrap(), cm.solve().mean_cost.unwrap());
        prop_assert!(cost_m <= cost * (1.0 + 1e-12), "{} > {}", cost_m, cost);
        let (r, rm) = (c.budget(&ones, budget).unwrap().p_reach, cm.budget(&ones, budget).unwrap().p_reach);
        prop_assert!(rm >= r - 1e-12, "{} < {}", rm, r);
    }
}

/// The same properties on the real data, for cube items and goals whose probability does not fall with the
/// grade: pity progress never lengthens the expected cubes, Miracle Time never raises them.
#[test]
fn progress_and_miracle_time_on_real_data() {
    let d = data();
    let mut checked = 0;
    for cube in ["black", "red", "additional"] {
        for (part, goal) in [
            ("무기", vec![(StatKind::AttPct, 21)]),
            ("모자", vec![(StatKind::StrPct, 18)]),
            ("장갑", vec![(StatKind::CritDmgPct, 8)]),
            ("무기", vec![(StatKind::BossPct, 30), (StatKind::AttPct, 9)]),
        ] {
            let req = Request {
                cube: cube.into(),
                part: part.into(),
                level: 200,
                grade: Grade::Rare,
                goal: Goal::new(&goal, &[]).unwrap(),
            };
            let plain = compute(d, &req).unwrap();
            if !nondecreasing(&plain.p_by_grade) || plain.mean_cubes.is_none() {
                continue;
            }
            let pity = plain.tier_up[0].pity.unwrap();
            let mut prev = plain.mean_cubes.unwrap();
            for k in [1, pity / 2, pity - 1] {
                let o = Options {
                    pity_progress: k,
                    ..Options::default()
                };
                let m = compute_with(d, &req, &o).unwrap().mean_cubes.unwrap();
                assert!(
                    m <= prev * (1.0 + 1e-12),
                    "{cube} {part} progress {k}: {m} > {prev}"
                );
                prev = m;
            }
            let o = Options {
                miracle_time: true,
                ..Options::default()
            };
            let m = compute_with(d, &req, &o).unwrap().mean_cubes.unwrap();
            assert!(m <= plain.mean_cubes.unwrap(), "{cube} {part} miracle: {m}");
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} cases checked");
}
