//! Property tests: invariants over random requests (every rule set, level, range and option mix).
use proptest::prelude::*;
use pve_engine::starforce::{compute, expected, Events, Moments, Mvp, Reach, Report, Request, RuleSetId};

fn any_request(max_to: u32) -> impl Strategy<Value = Request> {
    let ids = prop::sample::select(RuleSetId::ALL.to_vec());
    let mvps = prop::sample::select(vec![Mvp::None, Mvp::Silver, Mvp::Gold, Mvp::Diamond, Mvp::Red]);
    let spare = prop_oneof![Just(0.0), 0.0..2e10];
    (
        ids,
        0u32..=300,
        any::<(u32, u32)>(),
        any::<[bool; 7]>(),
        mvps,
        spare,
    )
        .prop_map(move |(ruleset, level, (a, b), flags, mvp, spare_cost)| {
            let cap = ruleset.rules().max_star(level).min(max_to);
            let to = a % (cap + 1);
            let from = b % (to + 1);
            Request {
                ruleset,
                star_catch: flags[0],
                safeguard: flags[1],
                events: Events {
                    thirty_off: flags[2],
                    boom_reduction: flags[3],
                    five_ten_fifteen: flags[4],
                    plus_one: flags[5],
                },
                mvp,
                pc_room: flags[6],
                spare_cost,
                ..Request::new(level, from, to)
            }
        })
}

fn moments(req: &Request) -> Moments {
    match expected(req).unwrap() {
        Reach::Reachable(m) => m,
        Reach::Unreachable { star } => panic!("built-in tables always reach the target ({star})"),
    }
}

fn report(req: &Request) -> Report {
    match compute(req).unwrap().result {
        Reach::Reachable(r) => *r,
        Reach::Unreachable { star } => panic!("built-in tables always reach the target ({star})"),
    }
}

/// `a <= b` up to floating-point noise.
fn le(a: f64, b: f64) -> bool {
    a <= b + 1e-10 * b.abs().max(1.0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn report_is_consistent(req in any_request(22)) {
        let r = report(&req);
        let m = r.moments;
        prop_assert_eq!(moments(&req), m, "the cheap path gives the same moments, bit for bit");
        for s in &r.per_star {
            let a = s.attempt;
            for p in [a.success, a.maintain, a.decrease, a.destroy] {
                prop_assert!((0.0..=1.0).contains(&p), "{:?}", s);
            }
            prop_assert!((a.success + a.maintain + a.decrease + a.destroy - 1.0).abs() < 1e-12, "{:?}", s);
            prop_assert!(a.cost > 0.0 && s.expected_attempts > 0.0);
        }
        prop_assert!((0.0..=1.0).contains(&m.p_no_boom));
        prop_assert!(m.sd_cost >= 0.0 && m.sd_booms >= 0.0 && m.sd_attempts >= 0.0);
        prop_assert!(le((m.mean_total_cost - m.mean_cost - req.spare_cost * m.mean_booms).abs(), 1e-6 * m.mean_total_cost));
        let q = r.cost_quantiles;
        let qs = [0.0, q.p50, q.p75, q.p90, q.p95, q.p99];
        prop_assert!(qs.windows(2).all(|w| w[0] <= w[1]), "quantiles {:?}", qs);
        prop_assert_eq!(r.booms_pmf[0], m.p_no_boom);
        prop_assert!(r.booms_pmf.iter().all(|p| (0.0..=1.0).contains(p)));
        let mass: f64 = r.booms_pmf.iter().sum::<f64>() + r.booms_pmf_tail;
        prop_assert!((mass - 1.0).abs() < 1e-9, "booms pmf mass {}", mass);
        let mean_from_pmf: f64 = r.booms_pmf.iter().enumerate().map(|(k, p)| k as f64 * p).sum();
        prop_assert!(r.booms_pmf_tail > 1e-6 || (mean_from_pmf - m.mean_booms).abs() <= 1e-6 * m.mean_booms.max(1.0));
        // The requested safeguard policy is one of those the advice compares.
        prop_assert!(le(r.advice.expected_total, m.mean_total_cost));
        for s in &r.advice.stars {
            let best = s.expected_total_with.min(s.expected_total_without);
            prop_assert!((best - r.advice.expected_total).abs() <= 1e-9 * best);
        }
    }

    #[test]
    fn star_catching_never_raises_the_mean_cost(req in any_request(30)) {
        let on = moments(&Request { star_catch: true, ..req.clone() });
        let off = moments(&Request { star_catch: false, ..req });
        prop_assert!(le(on.mean_cost, off.mean_cost), "{} > {}", on.mean_cost, off.mean_cost);
        prop_assert!(le(on.mean_attempts, off.mean_attempts));
    }

    #[test]
    fn safeguard_never_raises_booms(req in any_request(30)) {
        let on = moments(&Request { safeguard: true, ..req.clone() });
        let off = moments(&Request { safeguard: false, ..req });
        prop_assert!(le(on.mean_booms, off.mean_booms), "{} > {}", on.mean_booms, off.mean_booms);
        prop_assert!(le(off.p_no_boom, on.p_no_boom));
    }

    #[test]
    fn boom_reduction_never_raises_booms(req in any_request(30)) {
        let on = moments(&Request { events: Events { boom_reduction: true, ..req.events }, ..req.clone() });
        let off = moments(&Request { events: Events { boom_reduction: false, ..req.events }, ..req });
        prop_assert!(le(on.mean_booms, off.mean_booms));
    }

    #[test]
    fn discounts_never_raise_the_mean_cost(req in any_request(30)) {
        let full = moments(&Request { mvp: Mvp::None, pc_room: false, events: Events { thirty_off: false, ..req.events }, ..req.clone() });
        let cheap = moments(&Request { events: Events { thirty_off: true, ..req.events }, ..req });
        prop_assert!(le(cheap.mean_cost, full.mean_cost));
    }
}
