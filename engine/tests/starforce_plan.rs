//! The budget-and-spares planner (issue 13) against an independent seeded Monte Carlo of the reference
//! chain (`starforce_support`, built without engine code), a closed form, and its invariants.
mod starforce_support;

use proptest::prelude::*;
use pve_engine::starforce::{compute, plan, Events, Plan, PlanReport, Reach, Request, RuleSetId};
use starforce_support::{build, FloatChain, Opts, SplitMix64, Sys};

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

fn planned(req: &Request, p: Plan) -> PlanReport {
    match plan(req, &p, None).unwrap() {
        Reach::Reachable(r) => r,
        Reach::Unreachable { star } => panic!("unreachable at {star}"),
    }
}

fn mean_cost(req: &Request) -> f64 {
    match compute(req).unwrap().result {
        Reach::Reachable(r) => r.moments.mean_cost,
        Reach::Unreachable { .. } => panic!("unreachable"),
    }
}

/// One simulated run under the plan: reached the target within the budget and the spares?
fn run_plan(chain: &FloatChain, rng: &mut SplitMix64, budget: f64, spares: u64) -> bool {
    let (mut at, mut cost, mut booms) = (chain.start, 0.0, 0);
    loop {
        cost += chain.cost[at];
        if cost > budget {
            return false;
        }
        let u = rng.unit();
        let out = &chain.edges[at];
        let e = out.iter().find(|e| u < e.1).unwrap_or(out.last().unwrap());
        booms += u64::from(e.2);
        if booms > spares {
            return false;
        }
        match e.0 {
            Some(j) => at = j,
            None => return true,
        }
    }
}

/// Cases: options, a budget as a multiple of the mean cost, spares (`None` = unlimited).
fn cases() -> Vec<(Opts, f64, Option<u32>)> {
    let o = |sys, level, from, to| Opts::new(sys, level, from, to);
    vec![
        (o(Sys::Kms, 200, 12, 17), 1.0, Some(0)),
        (o(Sys::Kms, 200, 12, 17), 0.7, Some(1)),
        (
            Opts {
                star_catch: true,
                safeguard: true,
                ..o(Sys::Kms, 160, 10, 22)
            },
            1.5,
            Some(2),
        ),
        (
            Opts {
                boom_reduction: true,
                thirty_off: true,
                ..o(Sys::Gms, 200, 15, 22)
            },
            0.8,
            Some(1),
        ),
        (o(Sys::Kms, 150, 0, 17), 1.2, None),
        (o(Sys::Kms, 200, 15, 20), 1.0, Some(3)),
    ]
}

fn monte_carlo(runs: usize, seed: u64) {
    for (k, (o, scale, spares)) in cases().into_iter().enumerate() {
        let req = request(&o);
        let budget = scale * mean_cost(&req);
        let r = planned(
            &req,
            Plan {
                budget_mesos: Some(budget),
                spares,
            },
        );
        let chain = FloatChain::from(&build(&o));
        let mut rng = SplitMix64(seed + k as u64);
        let hits = (0..runs)
            .filter(|_| run_plan(&chain, &mut rng, budget, spares.map_or(u64::MAX, u64::from)))
            .count();
        let n = runs as f64;
        let got = hits as f64 / n;
        let p = r.reach.p_reach;
        let se = (p * (1.0 - p) / n).sqrt().max(1.0 / n);
        assert!(
            r.reach.error_bound <= 1e-3,
            "{o:?}: bound {}",
            r.reach.error_bound
        );
        assert!(
            (got - p).abs() <= 5.0 * se + r.reach.error_bound,
            "{o:?} budget {budget} spares {spares:?}: engine {p} ± {}, sampled {got} (se {se})",
            r.reach.error_bound
        );
        assert!(r.best.p_reach >= p, "best policy below the request's");
    }
}

#[test]
fn p_reach_matches_monte_carlo() {
    monte_carlo(20_000, 13);
}

#[test]
#[ignore = "10^6 runs per case; run with --ignored"]
fn p_reach_matches_monte_carlo_million() {
    monte_carlo(1_000_000, 1013);
}

/// One star (KMS 0→1, success 95%, nothing else than maintain): `P(reach within ⌊b/c⌋ attempts)
/// = 1 − 0.05^⌊b/c⌋`.
#[test]
fn one_star_closed_form() {
    let req = Request::new(200, 0, 1);
    let c = mean_cost(&req) * 0.95; // mean attempts 1/0.95
    for attempts in 1..=4 {
        let budget = (attempts as f64 + 0.5) * c;
        let r = planned(
            &req,
            Plan {
                budget_mesos: Some(budget),
                spares: Some(0),
            },
        );
        let exact = 1.0 - 0.05f64.powi(attempts);
        assert!(
            (r.reach.p_reach - exact).abs() <= r.reach.error_bound + 1e-12,
            "{attempts}: {} vs {exact}",
            r.reach.p_reach
        );
        assert!(
            r.reach.error_bound < 1e-9,
            "a half-cell margin leaves no rounding doubt"
        );
    }
}

/// Two stars with destroys, no budget: `P(destroys ≤ s)` from the booms PMF; zero spares is
/// `p_no_boom`.
#[test]
fn unlimited_budget_is_destroy_probability() {
    let req = Request::new(200, 15, 17);
    let out = compute(&req).unwrap();
    let Reach::Reachable(rep) = out.result else {
        panic!()
    };
    for s in 0..4u32 {
        let r = planned(
            &req,
            Plan {
                budget_mesos: None,
                spares: Some(s),
            },
        );
        let want: f64 = rep.booms_pmf.iter().take(s as usize + 1).sum();
        assert!((r.reach.p_reach - want).abs() <= 1e-12 + r.reach.error_bound);
    }
    let zero = planned(
        &req,
        Plan {
            budget_mesos: None,
            spares: Some(0),
        },
    );
    assert!((zero.reach.p_reach - rep.moments.p_no_boom).abs() < 1e-12);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// More budget or more spares never lowers `p_reach` (beyond the two bounds); a huge budget
    /// gives `P(destroys ≤ spares)`.
    #[test]
    fn monotone_in_budget_and_spares(
        from in 10u32..18, span in 1u32..5, scale in 0.2f64..3.0, spares in 0u32..3,
        catch in any::<bool>(), guard in any::<bool>(),
    ) {
        let req = Request { star_catch: catch, safeguard: guard, ..Request::new(200, from, from + span) };
        let b = scale * mean_cost(&req);
        let at = |budget: Option<f64>, spares: Option<u32>| planned(&req, Plan { budget_mesos: budget, spares }).reach;
        let base = at(Some(b), Some(spares));
        for more in [at(Some(b * 1.3), Some(spares)), at(Some(b), Some(spares + 1)), at(Some(b), None)] {
            prop_assert!(more.p_reach + more.error_bound + base.error_bound >= base.p_reach);
        }
        let huge = at(Some(b * 1e4), Some(spares));
        let none = at(None, Some(spares));
        prop_assert!((huge.p_reach - none.p_reach).abs() <= huge.error_bound + none.error_bound + 1e-9);
    }
}

/// `budget_for` is monotone in the level, `p_reach` at it reaches the level (within the bound and one
/// lattice cell), and a level above `P(destroys ≤ spares)` has none.
#[test]
fn budget_for_is_monotone_and_consistent() {
    for (req, spares) in [
        (Request::new(200, 12, 17), Some(0)),
        (Request::new(200, 15, 22), Some(2)),
        (
            Request {
                star_catch: true,
                ..Request::new(160, 0, 18)
            },
            None,
        ),
    ] {
        let r = planned(
            &req,
            Plan {
                budget_mesos: Some(mean_cost(&req)),
                spares,
            },
        );
        let cap = planned(
            &req,
            Plan {
                budget_mesos: None,
                spares: spares.or(Some(u32::MAX / 2)),
            },
        )
        .reach
        .p_reach;
        let mut last = 0.0;
        for (b, p) in r.budget_for.iter().zip([0.5, 0.9, 0.99]) {
            match b {
                None => assert!(cap < p + 1e-6, "{req:?}: no budget for {p} but cap {cap}"),
                Some(b) => {
                    assert!(*b >= last, "{req:?}: budget_for not monotone");
                    last = *b;
                    let at = planned(
                        &req,
                        Plan {
                            budget_mesos: Some(b + r.budget_step),
                            spares,
                        },
                    )
                    .reach;
                    assert!(
                        at.p_reach + at.error_bound >= p - 2e-3,
                        "{req:?}: p_reach {} at budget_for({p})",
                        at.p_reach
                    );
                }
            }
        }
    }
}

/// A chain of millions of attempts (0→30 at level 250: every attempt costs at least one cell of the ceil
/// lattice, so no grid within the work limit closes the bracket). The planner still answers, never
/// an error: its bracket (clipped by Cantelli's inequality on the exact moments) contains the grid
/// distribution's own `P(C ≤ q) = p` at the quantiles it reports, a budget far above the bulk is
/// certain, one far below it is impossible, and `budget_for` has every level, in order, above the
/// distribution's quantile minus its documented error (it reads a rigorous bracket, so it errs high).
#[test]
fn many_attempts_are_bracketed_and_budget_for_ends() {
    let req = Request::new(250, 0, 30);
    let Reach::Reachable(rep) = compute(&req).unwrap().result else {
        panic!("0->30 at 250 is reachable")
    };
    assert!(rep.moments.mean_attempts > 1e6, "{}", rep.moments.mean_attempts);
    let q = rep.cost_quantiles;
    for (budget, p) in [(q.p50, 0.5), (q.p90, 0.9), (q.p99, 0.99)] {
        let r = planned(
            &req,
            Plan {
                budget_mesos: Some(budget),
                spares: None,
            },
        );
        // The distribution's quantile is itself within 0.1%: allow the CDF's change over that span.
        let slack = 0.02;
        assert!(
            (r.reach.p_reach - p).abs() <= r.reach.error_bound + slack,
            "budget {budget}: p_reach {} ± {} vs {p}",
            r.reach.p_reach,
            r.reach.error_bound
        );
        assert!(r.reach.error_bound <= 0.5);
        let mut last = 0.0;
        for (b, level) in r.budget_for.iter().zip([q.p50, q.p90, q.p99]) {
            let b = b.expect("no spares limit: every level has a budget");
            assert!(
                b >= last && b >= level * (1.0 - 1e-3),
                "budget_for {b} vs quantile {level}"
            );
            last = b;
        }
    }
    let huge = planned(
        &req,
        Plan {
            budget_mesos: Some(1e300),
            spares: None,
        },
    );
    assert!(
        huge.reach.p_reach > 1.0 - 1e-9 && huge.reach.error_bound < 1e-9,
        "{huge:?}"
    );
    let tiny = planned(
        &req,
        Plan {
            budget_mesos: Some(rep.moments.mean_cost * 1e-6),
            spares: None,
        },
    );
    assert!(tiny.reach.p_reach < 1e-6, "{tiny:?}");
}
