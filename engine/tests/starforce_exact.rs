//! Exact means and variances against the independent rational reference (`starforce_support`), and
//! closed forms. Tolerance policy: relative 1e-9 on means and standard deviations (the engine solves in
//! `f64`; the reference is exact), absolute 1e-12 on probabilities.
mod starforce_support;

use pve_engine::starforce::{compute, expected, Events, Moments, Mvp, Reach, Request, RuleSetId};
use starforce_support::{build, exact, f, Opts, Sys};

fn request(o: &Opts) -> Request {
    Request {
        ruleset: match o.sys {
            Sys::Kms => RuleSetId::Kms,
            Sys::Gms => RuleSetId::Gms,
            Sys::Savior => RuleSetId::Savior,
            Sys::PreSavior => RuleSetId::PreSavior,
        },
        star_catch: o.star_catch,
        safeguard: o.safeguard,
        events: Events {
            thirty_off: o.thirty_off,
            boom_reduction: o.boom_reduction,
            five_ten_fifteen: o.five_ten_fifteen,
            plus_one: o.plus_one,
        },
        mvp: match o.discount_pct {
            0 | 5 => Mvp::None,
            3 | 8 => Mvp::Silver,
            10 | 15 => Mvp::Diamond,
            other => panic!("no MVP grade gives {other}%"),
        },
        pc_room: matches!(o.discount_pct, 5 | 8 | 15),
        ..Request::new(o.level, o.from, o.to)
    }
}

fn moments(o: &Opts) -> Moments {
    match expected(&request(o)).unwrap() {
        Reach::Reachable(m) => m,
        Reach::Unreachable { star } => panic!("unreachable at {star}"),
    }
}

fn close(what: &str, o: &Opts, got: f64, want: f64, rel: f64) {
    let err = if want == 0.0 {
        got.abs()
    } else {
        ((got - want) / want).abs()
    };
    assert!(
        err <= rel,
        "{what} {o:?}: engine {got}, exact {want}, rel err {err:e}"
    );
}

/// Means, standard deviations and p_no_boom of one request against the exact reference.
fn check(o: Opts) {
    let e = exact(&build(&o));
    let m = moments(&o);
    close("mean_cost", &o, m.mean_cost, f(&e.mean_cost), 1e-9);
    close("sd_cost", &o, m.sd_cost, f(&e.var_cost).sqrt(), 1e-9);
    close("mean_booms", &o, m.mean_booms, f(&e.mean_booms), 1e-9);
    close("sd_booms", &o, m.sd_booms, f(&e.var_booms).sqrt(), 1e-9);
    close("mean_attempts", &o, m.mean_attempts, f(&e.mean_attempts), 1e-9);
    close("sd_attempts", &o, m.sd_attempts, f(&e.var_attempts).sqrt(), 1e-9);
    assert!((m.p_no_boom - f(&e.p_no_boom)).abs() <= 1e-12, "p_no_boom {o:?}");
}

fn o(sys: Sys, level: u32, from: u32, to: u32) -> Opts {
    Opts::new(sys, level, from, to)
}
fn sc(mut x: Opts) -> Opts {
    x.star_catch = true;
    x
}
fn sg(mut x: Opts) -> Opts {
    x.safeguard = true;
    x
}
fn ev(mut x: Opts, thirty_off: bool, boom_reduction: bool, five_ten_fifteen: bool, plus_one: bool) -> Opts {
    (x.thirty_off, x.boom_reduction, x.five_ten_fifteen, x.plus_one) =
        (thirty_off, boom_reduction, five_ten_fifteen, plus_one);
    x
}
fn disc(mut x: Opts, pct: i64) -> Opts {
    x.discount_pct = pct;
    x
}

#[test]
fn kms_against_exact_rationals() {
    use Sys::Kms;
    check(o(Kms, 200, 0, 1));
    check(o(Kms, 200, 0, 10));
    check(sc(sg(o(Kms, 200, 0, 22))));
    check(sc(o(Kms, 200, 0, 17)));
    check(sc(o(Kms, 150, 10, 20)));
    check(ev(o(Kms, 200, 15, 25), false, true, false, false));
    check(sg(ev(o(Kms, 250, 12, 18), false, false, true, false)));
    check(disc(ev(o(Kms, 200, 0, 12), true, false, false, true), 15));
    check(sg(o(Kms, 160, 17, 21)));
    check(disc(sc(sg(ev(o(Kms, 200, 14, 23), true, true, true, false))), 8));
    check(o(Kms, 138, 22, 26));
    check(o(Kms, 0, 0, 5));
    check(o(Kms, 300, 29, 30));
}

#[test]
fn gms_against_exact_rationals() {
    use Sys::Gms;
    check(sc(o(Gms, 200, 0, 22)));
    check(sg(ev(o(Gms, 200, 18, 24), false, true, false, false)));
    check(o(Gms, 250, 20, 26));
    check(disc(ev(o(Gms, 130, 5, 20), true, false, true, true), 3));
}

#[test]
fn savior_against_exact_rationals() {
    use Sys::Savior;
    check(sc(sg(o(Savior, 150, 10, 18))));
    check(ev(o(Savior, 200, 14, 19), false, false, true, false));
    check(o(Savior, 200, 20, 23));
    check(sc(ev(o(Savior, 140, 15, 20), false, true, false, false)));
}

#[test]
fn pre_savior_against_exact_rationals() {
    use Sys::PreSavior;
    check(sc(o(PreSavior, 150, 5, 14)));
    check(sg(o(PreSavior, 200, 10, 16)));
    check(sc(sg(ev(o(PreSavior, 200, 9, 17), false, true, false, true))));
    check(disc(o(PreSavior, 160, 20, 23), 10));
}

/// Targets reached once in 10⁵–10⁷ climbs make `I − Q` ill-conditioned; the engine's cancellation-free
/// elimination must still match the exact values to 1e-9 (plain LU lost ~2e-9 on the Savior case).
#[test]
fn ill_conditioned_targets_keep_relative_accuracy() {
    check(o(Sys::Kms, 200, 0, 30));
    check(o(Sys::Savior, 200, 18, 25));
}

/// The larger grid (slow in a debug build): every rule set, more levels and ranges, all option mixes.
#[test]
#[ignore = "slow exact-rational grid; run with --ignored (release recommended)"]
fn wide_grid_against_exact_rationals() {
    for sys in [Sys::Kms, Sys::Gms, Sys::Savior, Sys::PreSavior] {
        let top = if matches!(sys, Sys::Kms | Sys::Gms) {
            30
        } else {
            25
        };
        for level in [120, 135, 200] {
            let cap = match level {
                120 => 15,
                135 => 20,
                _ => top,
            };
            for (from, to) in [(0, 15), (10, 20), (12, 22), (17, 25), (20, 30)] {
                if to > cap {
                    continue;
                }
                for mask in 0..16u32 {
                    let mut x = ev(
                        o(sys, level, from, to),
                        mask & 4 != 0,
                        mask & 8 != 0,
                        mask & 4 != 0,
                        false,
                    );
                    x.star_catch = mask & 1 != 0;
                    x.safeguard = mask & 2 != 0;
                    check(x);
                }
            }
        }
    }
}

// ---- closed forms -----------------------------------------------------------------------------------

/// One star without destroy: attempts are geometric, cost = c · attempts.
#[test]
fn single_star_is_geometric() {
    for (star, p) in [(0u32, 0.95), (9, 0.55), (14, 0.30)] {
        let m = moments(&o(Sys::Kms, 200, star, star + 1));
        let c = pve_engine::starforce::base_cost(200, star);
        assert!((m.mean_attempts - 1.0 / p).abs() < 1e-12);
        assert!((m.mean_cost - c / p).abs() / (c / p) < 1e-12);
        assert!((m.sd_cost - c * (1.0_f64 - p).sqrt() / p).abs() / m.sd_cost < 1e-12);
        assert_eq!(m.mean_booms, 0.0);
    }
}

/// KMS restores to 12★: from at most 12★, a run is a geometric number of failed climbs from 12★, each
/// surviving every star s with probability p_s / (p_s + d_s).
#[test]
fn kms_booms_are_geometric_from_12() {
    let success = [0.40, 0.35, 0.30, 0.30, 0.30, 0.15, 0.15, 0.15, 0.30, 0.15, 0.15];
    let destroy = [
        0.0, 0.0, 0.0, 0.021, 0.021, 0.068, 0.068, 0.085, 0.105, 0.1275, 0.17,
    ];
    for to in 13..=22u32 {
        let a: f64 = (12..to as usize)
            .map(|s| success[s - 12] / (success[s - 12] + destroy[s - 12]))
            .product();
        for from in [0, 12] {
            let m = moments(&o(Sys::Kms, 200, from, to));
            assert!((m.p_no_boom - a).abs() < 1e-12, "{from}->{to}");
            assert!((m.mean_booms - (1.0 - a) / a).abs() / ((1.0 - a) / a).max(1e-300) < 1e-10);
            let Reach::Reachable(r) = compute(&request(&o(Sys::Kms, 200, from, to))).unwrap().result else {
                panic!()
            };
            for (k, pk) in r.booms_pmf.iter().enumerate() {
                let want = (1.0 - a).powi(k as i32) * a;
                assert!((pk - want).abs() < 1e-12, "{from}->{to} P(B={k}) {pk} vs {want}");
            }
            assert!(r.booms_pmf_tail < 1e-9);
        }
    }
}

/// Without destroys, the expected cost is additive over consecutive ranges.
#[test]
fn mean_cost_is_additive_without_destroys() {
    let whole = moments(&o(Sys::Kms, 180, 0, 15)).mean_cost;
    let parts: f64 = [(0, 5), (5, 11), (11, 15)]
        .iter()
        .map(|&(a, b)| moments(&o(Sys::Kms, 180, a, b)).mean_cost)
        .sum();
    assert!((whole - parts).abs() / whole < 1e-12);
}
