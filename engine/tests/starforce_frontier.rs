//! The safeguard frontier and the spare-price breakpoints (issue 13), checked by brute force over every
//! allowed per-star policy (each solved on its own through `expected_policy`), and the event presets.
use proptest::prelude::*;
use pve_engine::starforce::rules::{SHINING, SHINING_5_10_15};
use pve_engine::starforce::{
    compute, expected_policy, safeguard_stars_allowed, Events, Frontier, Reach, Request, RuleSetId,
    EVENT_PRESETS,
};

/// `(stars, mean_cost, mean_booms)` of every allowed policy, each from its own full computation.
fn brute_force(req: &Request) -> Vec<(Vec<u32>, f64, f64)> {
    let allowed = safeguard_stars_allowed(req.ruleset.rules(), req);
    (0u32..1 << allowed.len())
        .map(|bits| {
            let stars: Vec<u32> = (0..allowed.len())
                .filter(|i| bits & (1 << i) != 0)
                .map(|i| allowed[i])
                .collect();
            let Reach::Reachable(m) = expected_policy(req, &stars).unwrap() else {
                panic!("unreachable")
            };
            (stars, m.mean_cost, m.mean_booms)
        })
        .collect()
}

fn frontier(req: &Request) -> Frontier {
    match compute(req).unwrap().result {
        Reach::Reachable(r) => r.frontier,
        Reach::Unreachable { .. } => panic!("unreachable"),
    }
}

fn dominated(p: (f64, f64), all: &[(Vec<u32>, f64, f64)]) -> bool {
    all.iter()
        .any(|q| q.1 <= p.0 && q.2 <= p.1 && (q.1 < p.0 || q.2 < p.1))
}

/// The cheapest total at spare price `s`, and whether `stars` attains it (relative slack 1e-12).
fn optimal_at(s: f64, stars: &[u32], all: &[(Vec<u32>, f64, f64)]) -> bool {
    let total = |q: &(Vec<u32>, f64, f64)| q.1 + s * q.2;
    let best = all.iter().map(total).fold(f64::INFINITY, f64::min);
    let mine = all.iter().find(|q| q.0 == stars).map(total).unwrap();
    mine <= best * (1.0 + 1e-12)
}

fn check(req: &Request) {
    let all = brute_force(req);
    let f = frontier(req);
    let what = format!("{req:?}");
    // Every member is a policy with exactly its own means, and none is dominated.
    for m in &f.policies {
        let q = all
            .iter()
            .find(|q| q.0 == m.safeguard_stars)
            .expect("a listed policy");
        assert_eq!(
            (m.mean_cost, m.mean_booms),
            (q.1, q.2),
            "{what}: means of {:?}",
            q.0
        );
        assert!(
            !dominated((m.mean_cost, m.mean_booms), &all),
            "{what}: {:?} dominated",
            q.0
        );
    }
    // Every non-dominated policy is a member: the all-on and all-off ones in particular.
    for q in &all {
        if !dominated((q.1, q.2), &all) {
            assert!(
                f.policies.iter().any(|m| m.safeguard_stars == q.0),
                "{what}: {:?} missing",
                q.0
            );
        }
    }
    // Ascending mean cost.
    assert!(f.policies.windows(2).all(|w| w[0].mean_cost <= w[1].mean_cost));
    // Breakpoints: positive, strictly increasing, chained, each side optimal just below / above.
    let b = &f.breakpoints;
    let first = b.first().map_or(&f.policies[0].safeguard_stars, |x| &x.below);
    assert!(optimal_at(0.0, first, &all), "{what}: cheapest at s = 0");
    for (i, x) in b.iter().enumerate() {
        assert!(x.spare_price > 0.0 && x.spare_price.is_finite(), "{what}");
        if i > 0 {
            assert!(b[i - 1].spare_price < x.spare_price, "{what}: not increasing");
            assert_eq!(b[i - 1].above, x.below, "{what}: not chained");
        }
        let lo = b.get(i.wrapping_sub(1)).map_or(0.0, |p| p.spare_price);
        let below = (x.spare_price * (1.0 - 1e-7)).max((lo + x.spare_price) / 2.0);
        let hi = b.get(i + 1).map_or(x.spare_price * 4.0, |n| n.spare_price);
        let above = (x.spare_price * (1.0 + 1e-7)).min((x.spare_price + hi) / 2.0);
        assert!(
            optimal_at(below, &x.below, &all),
            "{what}: below {} ",
            x.spare_price
        );
        assert!(
            optimal_at(above, &x.above, &all),
            "{what}: above {}",
            x.spare_price
        );
        assert_ne!(x.below, x.above, "{what}: a real change");
    }
    // Past the last breakpoint the last policy stays cheapest.
    let last = b.last().map_or(&f.policies[0].safeguard_stars, |x| &x.above);
    let far = b.last().map_or(1e12, |x| x.spare_price * 1e6);
    assert!(optimal_at(far, last, &all), "{what}: far right");
}

#[test]
fn kms_gms_and_legacy_cases() {
    check(&Request::new(200, 0, 22));
    check(&Request::new(160, 15, 18));
    check(&Request {
        star_catch: true,
        ..Request::new(250, 12, 25)
    });
    check(&Request {
        ruleset: RuleSetId::Gms,
        ..Request::new(200, 14, 22)
    });
    check(&Request {
        ruleset: RuleSetId::PreSavior,
        ..Request::new(150, 10, 20)
    });
    check(&Request {
        ruleset: RuleSetId::Savior,
        ..Request::new(150, 14, 18)
    });
    // No destroy left to prevent (5/10/15 certain at 15★): equal means, all listed, no breakpoint.
    let r = Request {
        events: Events {
            five_ten_fifteen: true,
            ..Events::default()
        },
        ..Request::new(200, 15, 16)
    };
    check(&r);
    let f = frontier(&r);
    assert_eq!(f.policies.len(), 2);
    assert!(f.breakpoints.is_empty());
    // Nothing to do: one empty policy.
    let f = frontier(&Request::new(200, 18, 18));
    assert_eq!(f.policies.len(), 1);
    assert!(f.breakpoints.is_empty());
}

/// The advice (cheapest policy at the request's spare cost) is the envelope's policy at that price.
#[test]
fn the_advice_sits_on_the_envelope() {
    for spare in [0.0, 2e9, 5e9, 7e9, 1e11] {
        let req = Request {
            spare_cost: spare,
            ..Request::new(200, 12, 22)
        };
        let Reach::Reachable(r) = compute(&req).unwrap().result else {
            panic!()
        };
        let advised: Vec<u32> = r
            .advice
            .stars
            .iter()
            .filter(|s| s.use_safeguard)
            .map(|s| s.star)
            .collect();
        let b = &r.frontier.breakpoints;
        let on = b
            .iter()
            .rev()
            .find(|x| x.spare_price < spare)
            .map_or(b.first().map_or(Vec::new(), |x| x.below.clone()), |x| {
                x.above.clone()
            });
        assert_eq!(advised, on, "spare {spare}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn frontier_and_breakpoints_by_brute_force(
        sys in 0usize..4, level in prop::sample::select(vec![140u32, 160, 200, 250]),
        from in 8u32..20, span in 1u32..8, catch in any::<bool>(), boom in any::<bool>(),
        off in any::<bool>(),
    ) {
        let ruleset = RuleSetId::ALL[sys];
        let cap = ruleset.rules().max_star(level);
        let to = (from + span).min(cap);
        prop_assume!(from < to);
        let req = Request {
            ruleset,
            star_catch: catch,
            events: Events { boom_reduction: boom, thirty_off: off, ..Events::default() },
            ..Request::new(level, from, to)
        };
        check(&req);
    }
}

/// The presets are the documented toggles, with sources a reader can open.
#[test]
fn shining_presets_are_data_with_sources() {
    assert_eq!(EVENT_PRESETS, [SHINING, SHINING_5_10_15]);
    assert_eq!(
        (
            SHINING.name,
            SHINING.thirty_off,
            SHINING.boom_reduction,
            SHINING.five_ten_fifteen
        ),
        ("shining", true, true, false)
    );
    assert_eq!(
        (
            SHINING_5_10_15.name,
            SHINING_5_10_15.thirty_off,
            SHINING_5_10_15.boom_reduction,
            SHINING_5_10_15.five_ten_fifteen
        ),
        ("shining_5_10_15", true, true, true)
    );
    for p in EVENT_PRESETS {
        assert!(!p.sources.is_empty());
        assert!(p.sources.iter().any(|s| s.starts_with("https://")), "{}", p.name);
        assert!(p.name_ko.starts_with("샤이닝 스타포스"));
    }
    // The toggles' numbers are the rule table's: 30% off and destroy × 0.7 at ≤ 21★.
    let ev = &RuleSetId::Kms.rules().events;
    assert_eq!(
        (
            ev.thirty_off_factor,
            ev.boom_reduction_factor,
            ev.boom_reduction_max_star
        ),
        (0.7, 0.7, 21)
    );
}
