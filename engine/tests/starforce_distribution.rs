//! The cost quantiles and the booms PMF against independent references.
//!
//! * Exact: with a custom rule table whose attempts all cost 1000 mesos (divisors so large that the level
//!   term vanishes) every total is an integer number of mesos, so the test's own DP on the integer
//!   lattice is exact. These distributions are the lumpiest there are (pure attempt counts), the hard
//!   case for a grid. Claim checked: relative error ≤ `QUANTILE_REL_ERROR_BOUND` (0.1%).
//! * Monte Carlo (seeded SplitMix64, realistic costs): at each level p the engine's quantile q must
//!   satisfy `F̂(q·(1 + 0.001)) ≥ p − 3σ` and `F̂(q·(1 − 0.001)) ≤ p + 3σ`, `σ = √(p(1 − p)/n)`, i.e. q is
//!   within 0.1% of a p-quantile up to sampling error; booms PMF entries within 3σ. The default run uses
//!   20 000 runs per case; `monte_carlo_tight` (ignored, run with `--release -- --ignored`) uses
//!   2 000 000 runs, where 3σ at p50 is 0.1%.
//! * Calibration (ignored, minutes in release): a sweep of rule sets × levels × ranges × options against
//!   the same computation with a 32× larger grid budget; it prints the worst error it finds.
mod starforce_support;

use pve_engine::starforce::distribution::QUANTILE_REL_ERROR_BOUND;
use pve_engine::starforce::rules::{self, CostRule, RuleSet};
use pve_engine::starforce::{
    compute, compute_with, Events, Precision, Reach, Report, Request, RuleSetId, QUANTILE_LEVELS,
};
use starforce_support::{build, f, FloatChain, Opts, SplitMix64, Sys};

const HUGE: [f64; 30] = [1e300; 30];

/// `base` with every attempt costing 1000 mesos.
fn unit_cost(base: &RuleSet) -> RuleSet {
    RuleSet {
        cost: CostRule {
            divisors: &HUGE[..base.max_star as usize],
            ..base.cost.clone()
        },
        ..base.clone()
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

fn quantiles(r: &Report) -> [f64; 5] {
    let q = r.cost_quantiles;
    [q.p50, q.p75, q.p90, q.p95, q.p99]
}

/// Exact quantiles on the integer lattice of the reference chain (all costs integer mesos).
fn lattice_quantiles(o: &Opts) -> [f64; 5] {
    let chain = build(o);
    let costs: Vec<u64> = chain.cost.iter().map(|c| f(c) as u64).collect();
    assert!(
        chain.cost.iter().zip(&costs).all(|(c, &u)| f(c) == u as f64),
        "integer costs"
    );
    let unit = costs.iter().fold(0, |g, &c| gcd(g, c));
    let step: Vec<usize> = costs.iter().map(|&c| (c / unit) as usize).collect();
    let n = chain.states.len();
    // p[x][i] = P(a run from state i costs x units).
    let mut p: Vec<Vec<f64>> = Vec::new();
    let (mut cdf, mut out, mut x) = (0.0, [0.0; 5], 0usize);
    let mut found = 0;
    while found < 5 {
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
        while found < 5 && cdf >= QUANTILE_LEVELS[found] - 1e-9 {
            out[found] = (x as u64 * unit) as f64;
            found += 1;
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

/// Engine quantiles under the unit-cost table against the exact lattice.
fn check_lattice(o: Opts) {
    let base = match o.sys {
        Sys::Kms => &rules::KMS,
        Sys::Gms => &rules::GMS,
        Sys::Savior => &rules::SAVIOR,
        Sys::PreSavior => &rules::PRE_SAVIOR,
    };
    let table = unit_cost(base);
    let req = Request {
        star_catch: o.star_catch,
        safeguard: o.safeguard,
        events: Events {
            thirty_off: o.thirty_off,
            plus_one: o.plus_one,
            five_ten_fifteen: o.five_ten_fifteen,
            boom_reduction: o.boom_reduction,
        },
        ..Request::new(o.level, o.from, o.to)
    };
    let got = quantiles(&report(Some(&table), &req));
    let want = lattice_quantiles(&Opts { unit_cost: true, ..o });
    for k in 0..5 {
        let rel = ((got[k] - want[k]) / want[k]).abs();
        assert!(
            rel <= QUANTILE_REL_ERROR_BOUND,
            "{o:?} p{}: engine {} exact {} rel {rel:e}",
            QUANTILE_LEVELS[k],
            got[k],
            want[k]
        );
    }
}

fn o(sys: Sys, from: u32, to: u32) -> Opts {
    Opts::new(sys, 200, from, to)
}

#[test]
fn lumpy_distributions_match_the_exact_lattice() {
    check_lattice(o(Sys::Kms, 0, 1));
    check_lattice(o(Sys::Kms, 0, 10));
    check_lattice(o(Sys::Kms, 10, 15));
    check_lattice(o(Sys::Kms, 15, 16));
    check_lattice(o(Sys::Kms, 12, 22));
    check_lattice(Opts {
        star_catch: true,
        safeguard: true,
        ..o(Sys::Kms, 14, 19)
    });
    check_lattice(Opts {
        thirty_off: true,
        plus_one: true,
        ..o(Sys::Kms, 0, 12)
    });
    check_lattice(Opts {
        five_ten_fifteen: true,
        boom_reduction: true,
        ..o(Sys::Kms, 9, 21)
    });
    check_lattice(o(Sys::Gms, 17, 24));
    check_lattice(Opts {
        safeguard: true,
        ..o(Sys::Savior, 10, 20)
    });
    check_lattice(o(Sys::PreSavior, 10, 17));
}

/// Regression: one star at 50% success has `P(≤ 2 attempts) = 0.75` exactly; rounding in the last bit
/// once pushed p75 to the next atom (3 attempts, +50%).
#[test]
fn a_plateau_at_a_level_resolves_to_the_lower_atom() {
    check_lattice(o(Sys::Kms, 10, 11));
    let c = pve_engine::starforce::base_cost(160, 10);
    let q = quantiles(&report(None, &Request::new(160, 10, 11)));
    assert!(
        (q[1] - 2.0 * c).abs() / (2.0 * c) <= QUANTILE_REL_ERROR_BOUND,
        "p75 {} vs {}",
        q[1],
        2.0 * c
    );
}

// ---- Monte Carlo ------------------------------------------------------------------------------------

fn ruleset(sys: Sys) -> RuleSetId {
    match sys {
        Sys::Kms => RuleSetId::Kms,
        Sys::Gms => RuleSetId::Gms,
        Sys::Savior => RuleSetId::Savior,
        Sys::PreSavior => RuleSetId::PreSavior,
    }
}

fn monte_carlo(o: Opts, runs: usize, seed: u64) {
    let req = Request {
        ruleset: ruleset(o.sys),
        star_catch: o.star_catch,
        safeguard: o.safeguard,
        ..Request::new(o.level, o.from, o.to)
    };
    let r = report(None, &req);
    let chain = FloatChain::from(&build(&o));
    let mut rng = SplitMix64(seed);
    let mut costs = Vec::with_capacity(runs);
    let mut booms = vec![0usize; r.booms_pmf.len() + 1];
    for _ in 0..runs {
        let (c, b) = chain.run(&mut rng);
        costs.push(c);
        booms[(b as usize).min(r.booms_pmf.len())] += 1;
    }
    costs.sort_by(f64::total_cmp);
    let n = runs as f64;
    let ecdf = |x: f64| costs.partition_point(|&c| c <= x) as f64 / n;
    let eps = QUANTILE_REL_ERROR_BOUND;
    for (q, p) in quantiles(&r).into_iter().zip(QUANTILE_LEVELS) {
        let sigma = (p * (1.0 - p) / n).sqrt();
        let (lo, hi) = (ecdf(q * (1.0 - eps)), ecdf(q * (1.0 + eps)));
        assert!(
            hi >= p - 3.0 * sigma && lo <= p + 3.0 * sigma,
            "{o:?} p{p}: q {q}, F̂ [{lo}, {hi}] σ {sigma}"
        );
    }
    for (k, &pk) in r.booms_pmf.iter().enumerate().take(6) {
        let got = booms[k] as f64 / n;
        let sigma = (pk * (1.0 - pk) / n).sqrt().max(1.0 / n);
        assert!(
            (got - pk).abs() <= 3.0 * sigma,
            "{o:?} P(B={k}): engine {pk}, sampled {got}"
        );
    }
    let mean = costs.iter().sum::<f64>() / n;
    let m = r.moments;
    assert!(
        (mean - m.mean_cost).abs() <= 4.0 * m.sd_cost / n.sqrt(),
        "{o:?} mean {mean} vs {}",
        m.mean_cost
    );
}

#[test]
fn monte_carlo_quick() {
    monte_carlo(o(Sys::Kms, 12, 20), 20_000, 1);
    monte_carlo(
        Opts {
            star_catch: true,
            safeguard: true,
            ..o(Sys::Kms, 15, 21)
        },
        20_000,
        2,
    );
    monte_carlo(o(Sys::Gms, 18, 23), 20_000, 3);
    monte_carlo(
        Opts {
            star_catch: true,
            ..Opts::new(Sys::Savior, 150, 12, 20)
        },
        20_000,
        4,
    );
    monte_carlo(Opts::new(Sys::PreSavior, 150, 10, 18), 20_000, 5);
}

#[test]
#[ignore = "2e6 runs per case; run with cargo test --release -- --ignored"]
fn monte_carlo_tight() {
    monte_carlo(
        Opts {
            star_catch: true,
            safeguard: true,
            ..o(Sys::Kms, 0, 22)
        },
        2_000_000,
        11,
    );
    monte_carlo(o(Sys::Kms, 17, 22), 2_000_000, 12);
    monte_carlo(o(Sys::Gms, 20, 24), 2_000_000, 13);
    monte_carlo(
        Opts {
            star_catch: true,
            ..Opts::new(Sys::Savior, 150, 0, 22)
        },
        1_000_000,
        14,
    );
    monte_carlo(
        Opts {
            star_catch: true,
            ..Opts::new(Sys::PreSavior, 150, 0, 20)
        },
        1_000_000,
        15,
    );
    monte_carlo(o(Sys::Kms, 0, 15), 2_000_000, 16);
}

/// Every rule set, levels 100–250, many ranges, four option mixes: the default grid against a 32× finer
/// one, at every level of the cost CDF (the bound `cost_cdf_error_bound` reports for each of them, not only
/// the five quantiles). Last run (before committing, issue 16): 5 424 requests × 88 levels, worst relative
/// error 8.9e-4, 1 468 s in release on a loaded machine (the five quantile levels alone: 5.9e-4).
#[test]
#[ignore = "calibration sweep, several minutes in release: cargo test --release -- --ignored calibration"]
fn calibration_against_a_finer_grid() {
    let fine = Precision {
        cell_state_budget: Precision::default().cell_state_budget * 32,
    };
    let (mut worst, mut count) = (0.0f64, 0);
    for id in RuleSetId::ALL {
        for level in [100u32, 130, 160, 200, 250] {
            let cap = id.rules().max_star(level);
            for from in [0u32, 5, 10, 12, 15, 17, 20, 22] {
                for to in [
                    1u32, 3, 5, 8, 10, 11, 12, 13, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 30,
                ] {
                    if to > cap || from >= to {
                        continue;
                    }
                    for mix in 0..4 {
                        let req = Request {
                            ruleset: id,
                            star_catch: mix & 1 == 1,
                            safeguard: mix & 2 == 2,
                            events: Events {
                                plus_one: mix == 3 && from < 8,
                                five_ten_fifteen: mix == 1 && to > 15,
                                ..Events::default()
                            },
                            ..Request::new(level, from, to)
                        };
                        let at = |p: Precision| match compute_with(id.rules(), &req, p).unwrap().result {
                            Reach::Reachable(r) => r.cost_cdf,
                            Reach::Unreachable { .. } => unreachable!(),
                        };
                        // Every point of the CDF (its levels hold the five quantiles' exactly): the
                        // documented bound is `cost_cdf_error_bound` as well.
                        let (got, want) = (at(Precision::default()), at(fine));
                        for (&(g, p), &(w, _)) in got.iter().zip(&want) {
                            let rel = ((g - w) / w).abs();
                            assert!(rel <= QUANTILE_REL_ERROR_BOUND, "{req:?} p{p}: {g} vs {w}");
                            worst = worst.max(rel);
                        }
                        count += 1;
                    }
                }
            }
        }
    }
    println!("{count} requests, worst relative quantile error {worst:e}");
}
