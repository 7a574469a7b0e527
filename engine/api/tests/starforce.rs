//! `starforce` through the JSON schema: every error code, the warnings, the response shape.
use pve_api::{handle, ErrorCode, Operation};
use serde_json::Value;

fn ok(body: &str) -> Value {
    let out = handle(Operation::Starforce, body).unwrap_or_else(|e| panic!("{body}: {e}"));
    serde_json::from_str(&out).unwrap()
}

/// One request, one expected error code.
fn check_error(body: &str, code: ErrorCode) {
    match handle(Operation::Starforce, body) {
        Ok(out) => panic!("{body} should fail with {}, got {out}", code.as_str()),
        Err(e) => assert_eq!(e.code, code, "{body}: {}", e.message),
    }
}

#[test]
fn every_error_code() {
    use ErrorCode::*;
    check_error("{", MalformedJson);
    check_error("", MalformedJson);
    check_error(r#"{"item_level":"200","from_star":0,"to_star":22}"#, InvalidType);
    check_error(
        r#"{"item_level":200,"from_star":0,"to_star":22,"star_catch":"yes"}"#,
        InvalidType,
    );
    check_error(
        r#"{"item_level":200,"from_star":0,"to_star":22,"ruleset":null}"#,
        InvalidType,
    );
    check_error(
        r#"{"item_level":200,"from_star":0,"to_star":22,"mvp":5}"#,
        InvalidType,
    );
    check_error(
        r#"{"item_level":200,"from_star":0,"to_star":22,"x":1}"#,
        UnknownField,
    );
    check_error(
        r#"{"item_level":200,"from_star":0,"to_star":22,"events":{"double_stars":true}}"#,
        UnknownField,
    );
    check_error(r#"{"item_level":200,"from_star":0}"#, MissingField);
    check_error(r#"{"from_star":0,"to_star":5}"#, MissingField);
    check_error(r#"{"item_level":301,"from_star":0,"to_star":5}"#, OutOfRange);
    check_error(r#"{"item_level":-1,"from_star":0,"to_star":5}"#, OutOfRange);
    check_error(r#"{"item_level":200,"from_star":0,"to_star":31}"#, OutOfRange);
    check_error(r#"{"item_level":130,"from_star":0,"to_star":21}"#, OutOfRange);
    check_error(
        r#"{"item_level":200,"from_star":0,"to_star":26,"ruleset":"savior"}"#,
        OutOfRange,
    );
    check_error(
        r#"{"item_level":200,"from_star":0,"to_star":22,"spare_cost":-1}"#,
        OutOfRange,
    );
    check_error(
        r#"{"item_level":200,"from_star":0,"to_star":22,"ruleset":"tms"}"#,
        UnknownVariant,
    );
    check_error(
        r#"{"item_level":200,"from_star":0,"to_star":22,"mvp":"bronze"}"#,
        UnknownVariant,
    );
    check_error(
        r#"{"item_level":200,"from_star":23,"to_star":22}"#,
        InvalidCombination,
    );
}

#[test]
fn the_cap_depends_on_level_and_ruleset() {
    ok(r#"{"item_level":94,"from_star":0,"to_star":5}"#);
    check_error(
        r#"{"item_level":94,"from_star":0,"to_star":6}"#,
        ErrorCode::OutOfRange,
    );
    ok(r#"{"item_level":137,"from_star":19,"to_star":20}"#);
    check_error(
        r#"{"item_level":137,"from_star":0,"to_star":21}"#,
        ErrorCode::OutOfRange,
    );
    ok(r#"{"item_level":200,"from_star":24,"to_star":25,"ruleset":"pre_savior"}"#);
    ok(r#"{"item_level":0,"from_star":0,"to_star":1}"#);
}

/// One request, the warning codes it must carry (sorted as the engine sorts them).
fn check_warnings(body: &str, codes: &[&str]) {
    let v = ok(body);
    let got: Vec<&str> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert_eq!(got, codes, "{body}");
    for w in v["warnings"].as_array().unwrap() {
        assert!(!w["message"].as_str().unwrap().is_empty());
    }
}

#[test]
fn options_without_effect_are_named() {
    check_warnings(
        r#"{"item_level":200,"from_star":0,"to_star":22,"star_catch":true,"safeguard":true}"#,
        &[],
    );
    check_warnings(
        r#"{"item_level":200,"from_star":0,"to_star":15,"safeguard":true}"#,
        &["safeguard_no_effect"],
    );
    // From 18★ a destroy brings the item back to 12★, so 15–17★ are on the way and safeguard matters.
    check_warnings(
        r#"{"item_level":200,"from_star":18,"to_star":22,"safeguard":true}"#,
        &[],
    );
    check_warnings(
        r#"{"item_level":200,"from_star":12,"to_star":15,"spare_cost":1e9}"#,
        &["spare_cost_no_effect"],
    );
    check_warnings(
        r#"{"item_level":200,"from_star":17,"to_star":18,"safeguard":true,"star_catch":true,"events":{"boom_reduction":true}}"#,
        &["boom_reduction_no_effect"],
    );
    check_warnings(
        r#"{"item_level":200,"from_star":22,"to_star":25,"events":{"boom_reduction":true}}"#,
        &[],
    );
    check_warnings(
        r#"{"item_level":200,"from_star":11,"to_star":15,"events":{"five_ten_fifteen":true,"plus_one":true}}"#,
        &["five_ten_fifteen_no_effect", "plus_one_no_effect"],
    );
    check_warnings(
        r#"{"item_level":200,"from_star":10,"to_star":11,"events":{"plus_one":true}}"#,
        &["plus_one_no_effect"],
    );
    check_warnings(
        r#"{"item_level":200,"from_star":10,"to_star":12,"events":{"plus_one":true}}"#,
        &[],
    );
    check_warnings(
        r#"{"item_level":200,"from_star":22,"to_star":23,"mvp":"gold","pc_room":true}"#,
        &[],
    );
    check_warnings(
        r#"{"item_level":200,"from_star":17,"to_star":18,"mvp":"gold","pc_room":true,"safeguard":true}"#,
        &["mvp_no_effect", "pc_room_no_effect"],
    );
    check_warnings(
        r#"{"item_level":200,"from_star":7,"to_star":7,"star_catch":true,"safeguard":true,"events":{"thirty_off":true},"mvp":"red","spare_cost":5}"#,
        &[
            "star_catch_no_effect",
            "safeguard_no_effect",
            "thirty_off_no_effect",
            "mvp_no_effect",
            "spare_cost_no_effect",
        ],
    );
    check_warnings(
        r#"{"item_level":200,"from_star":0,"to_star":30}"#,
        &["booms_pmf_truncated"],
    );
}

#[test]
fn the_response_has_the_contract_fields() {
    let v = ok(
        r#"{"item_level":200,"from_star":0,"to_star":22,"ruleset":"kms","star_catch":true,"safeguard":true,
        "events":{"thirty_off":false,"boom_reduction":false,"five_ten_fifteen":false,"plus_one":false},
        "mvp":"none","pc_room":false,"spare_cost":0}"#,
    );
    for key in [
        "engine_version",
        "ruleset",
        "request",
        "impossible",
        "mean_cost",
        "sd_cost",
        "mean_booms",
        "sd_booms",
        "p_no_boom",
        "mean_attempts",
        "mean_total_cost",
        "cost_quantiles",
        "booms_pmf",
        "booms_pmf_tail",
        "per_star",
        "advice",
        "warnings",
        "distribution",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    for key in ["p50", "p75", "p90", "p95", "p99"] {
        assert!(v["cost_quantiles"][key].as_f64().unwrap() > 0.0);
    }
    assert_eq!(v["impossible"], false);
    assert_eq!(v["ruleset"], "kms");
    let stars: Vec<u64> = v["per_star"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["star"].as_u64().unwrap())
        .collect();
    assert_eq!(stars, (0..22).collect::<Vec<u64>>());
    let star = &v["per_star"][15];
    for key in [
        "success",
        "maintain",
        "destroy",
        "attempt_cost",
        "expected_attempts",
        "expected_cost",
    ] {
        assert!(star[key].is_number(), "per_star missing {key}");
    }
    assert_eq!(star["destroy"], 0.0, "safeguard at 15★");
    assert_eq!(v["advice"]["stars"].as_array().unwrap().len(), 3);
    assert!(v["advice"]["expected_total"].as_f64().unwrap() <= v["mean_total_cost"].as_f64().unwrap());
    // Defaults are echoed.
    let d = ok(r#"{"item_level":200,"from_star":0,"to_star":10}"#);
    assert_eq!(d["request"]["ruleset"], "kms");
    assert_eq!(d["request"]["mvp"], "none");
    assert_eq!(d["request"]["events"]["plus_one"], false);
    assert_eq!(d["request"]["spare_cost"], 0.0);
}

#[test]
fn mean_total_cost_counts_spare_items() {
    let v = ok(r#"{"item_level":200,"from_star":15,"to_star":22,"spare_cost":3e9}"#);
    let (mean, booms, total) = (
        v["mean_cost"].as_f64().unwrap(),
        v["mean_booms"].as_f64().unwrap(),
        v["mean_total_cost"].as_f64().unwrap(),
    );
    assert!(booms > 1.0);
    assert!((total - (mean + 3e9 * booms)).abs() <= 1e-9 * total);
}

#[test]
fn legacy_rulesets_report_decreases() {
    let v = ok(r#"{"item_level":150,"from_star":10,"to_star":17,"ruleset":"pre_savior"}"#);
    let star = v["per_star"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["star"] == 13)
        .unwrap();
    assert!((star["decrease"].as_f64().unwrap() - 0.637).abs() < 1e-12);
    assert!((star["destroy"].as_f64().unwrap() - 0.013).abs() < 1e-12);
    assert_eq!(v["ruleset"], "pre_savior");
}

#[test]
fn same_request_same_bytes() {
    let body = r#"{"item_level":160,"from_star":12,"to_star":21,"ruleset":"gms","star_catch":true,"spare_cost":1e9}"#;
    assert_eq!(
        handle(Operation::Starforce, body).unwrap(),
        handle(Operation::Starforce, body).unwrap()
    );
}

#[test]
fn nothing_to_do_is_zero_not_missing() {
    let v = ok(r#"{"item_level":200,"from_star":22,"to_star":22}"#);
    assert_eq!(v["mean_cost"], 0.0);
    assert_eq!(v["booms_pmf"], serde_json::json!([1.0]));
    assert_eq!(v["distribution"], Value::Null);
    assert_eq!(v["per_star"], serde_json::json!([]));
}

/// Issue 13: the planner's request fields, their errors, and the response's `plan`.
#[test]
fn plan_and_safeguard_stars() {
    use ErrorCode::*;
    let base = r#""item_level":200,"from_star":15,"to_star":18"#;
    check_error(&format!(r#"{{{base},"plan":{{}}}}"#), InvalidCombination);
    check_error(&format!(r#"{{{base},"plan":{{"budget_mesos":-1}}}}"#), OutOfRange);
    check_error(&format!(r#"{{{base},"plan":{{"spares":-1}}}}"#), OutOfRange);
    check_error(
        &format!(r#"{{{base},"plan":{{"spares":1,"x":0}}}}"#),
        UnknownField,
    );
    check_error(&format!(r#"{{{base},"safeguard_stars":[14]}}"#), OutOfRange);
    check_error(
        &format!(r#"{{{base},"safeguard":true,"safeguard_stars":[15]}}"#),
        InvalidCombination,
    );
    // No plan → no `plan` field and the request echo is unchanged.
    let plain = ok(&format!("{{{base}}}"));
    assert!(plain.get("plan").is_none());
    assert!(plain["request"].get("plan").is_none());
    // safeguard_stars = every allowed star is the same as safeguard: true.
    let all = ok(&format!(r#"{{{base},"safeguard_stars":[15,16,17]}}"#));
    let short = ok(&format!(r#"{{{base},"safeguard":true}}"#));
    assert_eq!(all["mean_cost"], short["mean_cost"]);
    // Unlimited budget: P(destroyed ≤ spares) = booms_pmf prefix; best policy ≥ request's.
    let r = ok(&format!(r#"{{{base},"plan":{{"spares":1}}}}"#));
    let pmf: f64 = r["booms_pmf"].as_array().unwrap()[..2]
        .iter()
        .map(|v| v.as_f64().unwrap())
        .sum();
    let p = &r["plan"];
    assert!((p["p_reach"].as_f64().unwrap() - pmf).abs() < 1e-12);
    assert!(p["best_policy"]["p_reach"].as_f64().unwrap() >= p["p_reach"].as_f64().unwrap());
    assert_eq!(
        p["best_policy"]["safeguard_stars"],
        serde_json::json!([15, 16, 17])
    );
    let with_budget = ok(&format!(r#"{{{base},"plan":{{"budget_mesos":2e9,"spares":1}}}}"#));
    let q = &with_budget["plan"];
    assert!(q["error_bound"].as_f64().unwrap() <= 1e-3);
    assert!(q["p_reach"].as_f64().unwrap() <= p["p_reach"].as_f64().unwrap() + 1e-3);
    assert!(q["budget_for"]["p50"].is_number());
}
