//! The rule tables: cost formula, caps, and what a custom (what-if) table can and cannot do.
mod starforce_support;

use pve_engine::starforce::rules::{RuleSet, RuleSetId, KMS};
use pve_engine::starforce::{
    base_cost, compute_with, expected_with, max_star, Error, Precision, Reach, Request,
};
use starforce_support::Sys;

/// Every (rule set, level, star) base cost equals the test's own transcription of the formula.
#[test]
fn base_costs_match_the_formula_everywhere() {
    for (id, sys) in [
        (RuleSetId::Kms, Sys::Kms),
        (RuleSetId::Gms, Sys::Gms),
        (RuleSetId::Savior, Sys::Savior),
        (RuleSetId::PreSavior, Sys::PreSavior),
    ] {
        let rules = id.rules();
        for level in 0..=300 {
            for star in 0..rules.max_star {
                let want = starforce_support::base_cost(sys, level, star) as f64;
                assert_eq!(
                    rules.base_cost(level, star),
                    want,
                    "{} lvl {level} {star}★",
                    id.as_str()
                );
            }
        }
    }
}

/// One level, one star, one known base cost.
fn check_cost(id: RuleSetId, level: u32, star: u32, want: f64) {
    assert_eq!(
        id.rules().base_cost(level, star),
        want,
        "{} lvl {level} {star}★",
        id.as_str()
    );
}

#[test]
fn known_base_costs() {
    check_cost(RuleSetId::Kms, 200, 0, 223_200.0); // 1000 + 200³/36 = 223 222.2 → 223 200
    check_cost(RuleSetId::Gms, 200, 0, 321_000.0); // 1000 + 200³/25
    check_cost(RuleSetId::Kms, 10, 8, 1_300.0); // (1000 + 10³·9/36)/100 = 12.5 → half up → 13
    check_cost(RuleSetId::Kms, 150, 0, 94_800.0); // 947.5 → 948
    check_cost(RuleSetId::Kms, 0, 29, 1_000.0); // level < 10: L = 0
    check_cost(RuleSetId::Kms, 209, 0, 223_200.0); // L = floor(209/10)·10 = 200
    assert_eq!(base_cost(200, 17), KMS.base_cost(200, 17));
}

#[test]
fn caps_by_level() {
    for (level, kms, legacy) in [
        (0, 5, 5),
        (94, 5, 5),
        (95, 8, 8),
        (107, 8, 8),
        (108, 10, 10),
        (117, 10, 10),
        (118, 15, 15),
        (127, 15, 15),
        (128, 20, 20),
        (137, 20, 20),
        (138, 30, 25),
        (300, 30, 25),
    ] {
        assert_eq!(max_star(level), kms, "lvl {level}");
        assert_eq!(RuleSetId::Gms.rules().max_star(level), kms);
        assert_eq!(RuleSetId::Savior.rules().max_star(level), legacy);
        assert_eq!(RuleSetId::PreSavior.rules().max_star(level), legacy);
    }
}

const NO_SUCCESS_AT_20: [f64; 30] = {
    let mut s = [0.0; 30];
    let mut i = 0;
    while i < 30 {
        s[i] = KMS.success[i];
        i += 1;
    }
    s[20] = 0.0;
    s
};

/// A zero success rate on the way is reported as unreachable, never as an infinite or zero cost.
#[test]
fn a_zero_success_rate_makes_the_target_unreachable() {
    let table = RuleSet {
        success: &NO_SUCCESS_AT_20,
        ..KMS.clone()
    };
    let req = Request::new(200, 18, 22);
    assert_eq!(
        compute_with(&table, &req, Precision::default()).unwrap().result,
        Reach::Unreachable { star: 20 }
    );
    assert_eq!(
        expected_with(&table, &req).unwrap(),
        Reach::Unreachable { star: 20 }
    );
    // Below the dead star everything is fine.
    assert!(matches!(
        expected_with(&table, &Request::new(200, 12, 20)).unwrap(),
        Reach::Reachable(_)
    ));
}

#[test]
fn an_inconsistent_table_is_rejected() {
    let table = RuleSet {
        destroy_to: &[25; 30],
        ..KMS.clone()
    };
    assert_eq!(
        compute_with(&table, &Request::new(200, 0, 22), Precision::default()).unwrap_err(),
        Error::InvalidRuleSet {
            ruleset: RuleSetId::Kms
        }
    );
}

#[test]
fn requests_outside_the_rules_are_errors() {
    let err = |req: Request| pve_engine::starforce::compute(&req).unwrap_err();
    assert_eq!(
        err(Request::new(301, 0, 5)),
        Error::LevelOutOfRange { item_level: 301 }
    );
    assert!(matches!(
        err(Request::new(130, 0, 21)),
        Error::StarAboveCap { cap: 20, .. }
    ));
    assert_eq!(
        err(Request::new(200, 5, 4)),
        Error::FromAboveTo {
            from_star: 5,
            to_star: 4
        }
    );
    for spare_cost in [-1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            err(Request {
                spare_cost,
                ..Request::new(200, 0, 5)
            }),
            Error::InvalidSpareCost { .. }
        ));
    }
}
