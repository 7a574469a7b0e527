//! The cost CDF and the listed booms PMF (issue 13) against independent references.
//!
//! * Exact: under a rule table whose attempts all cost 1000 mesos, the test's own DP on the integer
//!   lattice of the reference chain (`starforce_support`, no engine code) gives every quantile exactly;
//!   each CDF point's mesos must be within `QUANTILE_REL_ERROR_BOUND` (0.1%) of it, at all 88 levels.
//! * Monte Carlo (seeded SplitMix64, realistic costs, 20 000 runs): at each point `(x, p)`,
//!   `F̂(x·(1 + 0.001)) ≥ p − 4σ − 1/n` and `F̂(x·(1 − 0.001)) ≤ p + 4σ + 1/n`, `σ = √(p(1 − p)/n)`
//!   (4σ: 88 correlated points per case).
//! * Properties: at least 64 points, `p` from ≤ 0.001 to ≥ 0.999 strictly ascending, `mesos`
//!   non-decreasing, the five quantiles among the points bit for bit; the listed booms PMF follows its
//!   documented rule.
mod starforce_support;

use pve_engine::starforce::distribution::QUANTILE_REL_ERROR_BOUND;
use pve_engine::starforce::rules::{self, CostRule, RuleSet};
use pve_engine::starforce::{
    cdf_levels, compute, compute_with, listed_booms, Events, Precision, Reach, Report, Request, RuleSetId,
    Warning, BOOMS_PMF_LISTED_MAX_LEN, BOOMS_PMF_LISTED_TAIL, BOOMS_PMF_WIDE_LEN,
};
use starforce_support::{build, f, FloatChain, Opts, SplitMix64, Sys};

const HUGE: [f64; 30] = [1e300; 30];

fn table(sys: Sys) -> &'static RuleSet {
    match sys {
        Sys::Kms => &rules::KMS,
        Sys::Gms => &rules::GMS,
        Sys::Savior => &rules::SAVIOR,
        Sys::PreSavior => &rules::PRE_SAVIOR,
    }
}

fn ruleset(sys: Sys) -> RuleSetId {
    match sys {
        Sys::Kms => RuleSetId::Kms,
        Sys::Gms => RuleSetId::Gms,
        Sys::Savior => RuleSetId::Savior,
        Sys::PreSavior => RuleSetId::PreSavior,
    }
}

fn request(o: &Opts) -> Request {
    Request {
        ruleset: ruleset(o.sys),
        star_catch: o.star_catch,
        safeguard: o.safeguard,
        events: Events {
            thirty_off: o.thirty_off,
            boom_reduction: o.boom_reduction,
            five_ten_fifteen: o.five_ten_fifteen,
            plus_one: o.plus_one,
        },
        ..Request::new(o.level, o.from, o.to)
    }
}

fn report(rules: Option<&RuleSet>, req: &Request) -> Report {
    let out = match rules {
        Some(r) => compute_with(r, req, Precision::default()),
        None => compute(req),
    };
    match out.unwrap().result {
        Reach::Reachable(r) => *r,
        Reach::Unreachable { star } => panic!("unreachable at {star}"),
    }
}

/// The documented shape, and the quantiles among the points.
fn check_shape(r: &Report, what: &str) {
    let c = &r.cost_cdf;
    assert!(c.len() >= 64, "{what}: {} points", c.len());
    assert!(c[0].1 <= 0.001 && c[c.len() - 1].1 >= 0.999, "{what}: endpoints");
    for w in c.windows(2) {
        assert!(w[0].1 < w[1].1, "{what}: p not ascending {w:?}");
        assert!(w[0].0 <= w[1].0, "{what}: mesos decreasing {w:?}");
    }
    assert!(c.iter().all(|&(x, _)| x >= 0.0 && x.is_finite()));
    let q = r.cost_quantiles;
    for (want, p) in [
        (q.p50, 0.5),
        (q.p75, 0.75),
        (q.p90, 0.9),
        (q.p95, 0.95),
        (q.p99, 0.99),
    ] {
        let at = c
            .iter()
            .find(|pt| pt.1 == p)
            .unwrap_or_else(|| panic!("{what}: no point at {p}"));
        assert_eq!(
            at.0.to_bits(),
            want.to_bits(),
            "{what}: point at {p} vs cost_quantiles"
        );
    }
}

/// Exact quantiles at `levels` on the integer lattice of the reference chain (all costs integer mesos).
fn lattice_quantiles(o: &Opts, levels: &[f64]) -> Vec<f64> {
    let chain = build(o);
    let costs: Vec<u64> = chain.cost.iter().map(|c| f(c) as u64).collect();
    assert!(chain.cost.iter().zip(&costs).all(|(c, &u)| f(c) == u as f64));
    let unit = costs.iter().fold(0, |g, &c| gcd(g, c));
    let step: Vec<usize> = costs.iter().map(|&c| (c / unit) as usize).collect();
    let n = chain.states.len();
    let mut p: Vec<Vec<f64>> = Vec::new();
    let (mut cdf, mut out, mut x) = (0.0, Vec::new(), 0usize);
    while out.len() < levels.len() {
        let row: Vec<f64> = (0..n)
            .map(|i| {
                if x < step[i] {
                    return 0.0;
                }
                chain.edges[i]
                    .iter()
                    .map(|e| {
                        let pe = f(&e.p);
                        match e.to {
                            None => pe * f64::from(u8::from(x == step[i])),
                            Some(j) => pe * p[x - step[i]][j],
                        }
                    })
                    .sum()
            })
            .collect();
        cdf += row[chain.start];
        p.push(row);
        while out.len() < levels.len() && cdf >= levels[out.len()] - 1e-9 {
            out.push((x as u64 * unit) as f64);
        }
        x += 1;
    }
    out
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn check_lattice(o: Opts) {
    let base = table(o.sys);
    let unit = RuleSet {
        cost: CostRule {
            divisors: &HUGE[..base.max_star as usize],
            ..base.cost.clone()
        },
        ..base.clone()
    };
    let r = report(Some(&unit), &request(&o));
    check_shape(&r, &format!("{o:?}"));
    let levels: Vec<f64> = r.cost_cdf.iter().map(|pt| pt.1).collect();
    let want = lattice_quantiles(&Opts { unit_cost: true, ..o }, &levels);
    for (&(got, p), want) in r.cost_cdf.iter().zip(want) {
        let rel = ((got - want) / want).abs();
        assert!(
            rel <= QUANTILE_REL_ERROR_BOUND,
            "{o:?} p{p}: engine {got} exact {want} rel {rel:e}"
        );
    }
}

fn o(sys: Sys, from: u32, to: u32) -> Opts {
    Opts::new(sys, 200, from, to)
}

#[test]
fn every_point_matches_the_exact_lattice() {
    check_lattice(o(Sys::Kms, 0, 1));
    check_lattice(o(Sys::Kms, 0, 10));
    check_lattice(o(Sys::Kms, 10, 11));
    check_lattice(o(Sys::Kms, 15, 16));
    check_lattice(o(Sys::Kms, 12, 20));
    check_lattice(Opts {
        star_catch: true,
        safeguard: true,
        ..o(Sys::Kms, 14, 19)
    });
    check_lattice(Opts {
        five_ten_fifteen: true,
        boom_reduction: true,
        thirty_off: true,
        ..o(Sys::Kms, 9, 18)
    });
    check_lattice(o(Sys::Gms, 17, 21));
    check_lattice(o(Sys::PreSavior, 10, 16));
}

fn monte_carlo(o: Opts, runs: usize, seed: u64) {
    let r = report(None, &request(&o));
    check_shape(&r, &format!("{o:?}"));
    let chain = FloatChain::from(&build(&o));
    let mut rng = SplitMix64(seed);
    let mut costs: Vec<f64> = (0..runs).map(|_| chain.run(&mut rng).0).collect();
    costs.sort_by(f64::total_cmp);
    let n = runs as f64;
    let ecdf = |x: f64| costs.partition_point(|&c| c <= x) as f64 / n;
    let eps = QUANTILE_REL_ERROR_BOUND;
    for &(x, p) in &r.cost_cdf {
        let band = 4.0 * (p * (1.0 - p) / n).sqrt() + 1.0 / n;
        let (lo, hi) = (ecdf(x * (1.0 - eps)), ecdf(x * (1.0 + eps)));
        assert!(
            hi >= p - band && lo <= p + band,
            "{o:?} p{p}: x {x}, F̂ [{lo}, {hi}] band {band}"
        );
    }
}

#[test]
fn every_point_matches_monte_carlo() {
    monte_carlo(o(Sys::Kms, 12, 18), 20_000, 131);
    monte_carlo(
        Opts {
            star_catch: true,
            safeguard: true,
            ..Opts::new(Sys::Kms, 160, 10, 21)
        },
        20_000,
        132,
    );
    monte_carlo(
        Opts {
            thirty_off: true,
            boom_reduction: true,
            ..o(Sys::Gms, 15, 21)
        },
        20_000,
        133,
    );
    monte_carlo(o(Sys::PreSavior, 10, 17), 20_000, 134);
}

#[test]
#[ignore = "10^6 runs per case; run with --release -- --ignored"]
fn every_point_matches_monte_carlo_million() {
    monte_carlo(o(Sys::Kms, 0, 22), 1_000_000, 231);
    monte_carlo(o(Sys::Gms, 12, 22), 1_000_000, 232);
}

/// Nothing to do: every point at 0 mesos.
#[test]
fn nothing_to_do_is_a_point_mass_at_zero() {
    let r = report(None, &Request::new(200, 17, 17));
    check_shape(&r, "17->17");
    assert!(r.cost_cdf.iter().all(|pt| pt.0 == 0.0));
    assert_eq!(cdf_levels().len(), r.cost_cdf.len());
}

/// Heavy tails and long ranges keep the shape (and the walks converge within their limits).
#[test]
fn long_ranges_keep_the_shape() {
    for (level, from, to, sys) in [
        (200, 0, 22, RuleSetId::Kms),
        (250, 0, 30, RuleSetId::Kms),
        (160, 0, 25, RuleSetId::Gms),
        (200, 24, 25, RuleSetId::PreSavior),
        (150, 0, 22, RuleSetId::Savior),
    ] {
        let req = Request {
            ruleset: sys,
            ..Request::new(level, from, to)
        };
        check_shape(&report(None, &req), &format!("{sys:?} {level} {from}->{to}"));
    }
}

/// The listed booms PMF: to `P(more) < 1e-6` when that takes at most 4096 entries, else the first 256
/// with the warning; the listed entries are the engine's PMF's first entries and the tail is the rest.
#[test]
fn listed_booms_follow_their_rule() {
    for (from, to) in [(12, 17), (0, 22), (22, 25), (0, 26), (0, 30), (5, 10)] {
        let out = compute(&Request::new(200, from, to)).unwrap();
        let Reach::Reachable(r) = out.result else { panic!() };
        let (listed, tail) = r.listed_booms();
        assert_eq!(listed, &r.booms_pmf[..listed.len()], "{from}->{to}: a prefix");
        let rest: f64 = r.booms_pmf[listed.len()..].iter().sum::<f64>() + r.booms_pmf_tail;
        assert!(
            (tail - rest).abs() <= 1e-12,
            "{from}->{to}: tail {tail} vs {rest}"
        );
        let warned = out.warnings.contains(&Warning::BoomsPmfTruncated);
        if warned {
            assert_eq!(listed.len(), BOOMS_PMF_WIDE_LEN, "{from}->{to}");
            // Listing to 1e-6 would have needed more than the limit.
            let mass: f64 = r.booms_pmf[..BOOMS_PMF_LISTED_MAX_LEN.min(r.booms_pmf.len())]
                .iter()
                .sum();
            assert!(1.0 - mass >= BOOMS_PMF_LISTED_TAIL * 0.999, "{from}->{to}");
        } else {
            assert!(tail < BOOMS_PMF_LISTED_TAIL, "{from}->{to}: tail {tail}");
            assert!(listed.len() <= BOOMS_PMF_LISTED_MAX_LEN);
            // Not one entry more than needed.
            let before = tail + listed[listed.len() - 1];
            assert!(
                listed.len() == 1 || before >= BOOMS_PMF_LISTED_TAIL,
                "{from}->{to}"
            );
        }
        assert_eq!(warned, to >= 26, "{from}->{to}: warning");
    }
    // The rule on its own: a geometric PMF with ratio 1/2 lists 20 entries (2^-20 < 1e-6 ≤ 2^-19).
    let pmf: Vec<f64> = (0..40).map(|k| 0.5f64.powi(k + 1)).collect();
    let (n, tail, cut) = listed_booms(&pmf, 0.5f64.powi(40));
    assert_eq!((n, cut), (20, false));
    assert!((tail - 0.5f64.powi(20)).abs() < 1e-18);
}
