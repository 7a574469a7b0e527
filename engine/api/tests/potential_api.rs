//! `potential` through the one schema: response shape, error codes, and every potential line of the real
//! Open API fixtures.
use pve_api::potential::install_potential_data;
use pve_api::{handle, ErrorCode, Operation};
use pve_engine::potential::{parse_line, part_from_api, ParsedLine};
use serde_json::{json, Value};

const DATA: &[u8] = include_bytes!("../../data/potential.tsv");

fn run(request: Value) -> Result<Value, pve_api::ApiError> {
    install_potential_data(DATA).unwrap(); // decodes once; later calls only compare the version line
    handle(Operation::Potential, &request.to_string()).map(|s| serde_json::from_str(&s).unwrap())
}

/// One request → the expected error code.
fn check_err(request: Value, code: ErrorCode) {
    let e = run(request.clone()).expect_err(&request.to_string());
    assert_eq!(e.code, code, "{request}: {}", e.message);
}

fn req(cube: &str, part: &str, level: u32, grade: &str, goal: Value) -> Value {
    json!({"cube": cube, "part": part, "level": level, "grade": grade, "goal": goal})
}

#[test]
fn weapon_response_shape() {
    let r = run(req(
        "black",
        "무기",
        200,
        "레전드리",
        json!({"at_least": {"att_pct": 21, "boss_pct": 30}}),
    ))
    .unwrap();
    let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expect = vec![
        "attempt_quantiles",
        "band",
        "cube",
        "data_version",
        "engine_version",
        "eventual_success_probability",
        "grade",
        "impossible",
        "level",
        "mean_attempts",
        "mean_cost",
        "mean_cubes",
        "notes",
        "p_per_attempt",
        "p_per_attempt_by_grade",
        "part",
        "payment",
        "reason",
        "tier_up",
    ];
    expect.sort_unstable();
    assert_eq!(keys, expect);
    assert!(r["data_version"].as_str().unwrap().starts_with("kms-potential-"));
    assert_eq!(r["band"], json!({"level_min": 120, "level_max": 200}));
    assert_eq!(r["impossible"], json!(false));
    assert_eq!(r["reason"], Value::Null);
    let p = r["p_per_attempt"].as_f64().unwrap();
    assert!(p > 0.0 && p < 0.01, "{p}");
    assert_eq!(r["mean_attempts"].as_f64().unwrap(), 1.0 / p);
    assert_eq!(r["mean_cubes"], r["mean_attempts"]);
    assert_eq!(r["mean_cost"], Value::Null, "a cube item has no meso price");
    assert_eq!(r["payment"], json!("cube"));
    let q = &r["attempt_quantiles"];
    assert!(q["p50"].as_u64().unwrap() < q["p90"].as_u64().unwrap());
    let notes = r["notes"].as_array().unwrap();
    assert!(notes
        .iter()
        .any(|n| n["message"].as_str().unwrap().contains("mean_cost is null")));
    let unlimited = "no per-item limit is applied to boss_pct lines";
    assert!(notes
        .iter()
        .any(|n| n["message"].as_str().unwrap().starts_with(unlimited)));
}

#[test]
fn meso_reset_from_a_lower_grade_has_a_meso_cost_and_tier_up_stages() {
    let r = run(req(
        "meso_reset_main",
        "모자",
        160,
        "에픽",
        json!({"at_least": {"int_pct": 21}}),
    ))
    .unwrap();
    assert_eq!(r["payment"], json!("meso"));
    assert_eq!(r["mean_cubes"], Value::Null);
    assert!(r["mean_cost"].as_f64().unwrap() > r["mean_attempts"].as_f64().unwrap() * 17_000_000.0);
    let stages = r["tier_up"].as_array().unwrap();
    assert_eq!(stages.len(), 2);
    assert_eq!(stages[0]["from"], json!("에픽"));
    assert_eq!(stages[0]["pity"], json!(42));
    assert_eq!(r["p_per_attempt_by_grade"].as_array().unwrap().len(), 3);
    let notes = r["notes"].as_array().unwrap();
    assert!(notes
        .iter()
        .any(|n| n["message"].as_str().unwrap().starts_with("pity:")));
    // 3 × 6% INT at 에픽 cannot reach 21%: the first attempts only tier up.
    assert_eq!(r["p_per_attempt"], json!(0.0));
    assert!(notes
        .iter()
        .any(|n| n["message"].as_str().unwrap().contains("cannot be met at 에픽")));
}

#[test]
fn a_goal_lost_by_tiering_up_has_no_finite_mean() {
    // Flat STR lines exist only in 레어/에픽 weapon tables; black cubes tier up until 레전드리.
    let r = run(req(
        "black",
        "무기",
        200,
        "레어",
        json!({"at_least": {"str": 12}}),
    ))
    .unwrap();
    assert_eq!(r["impossible"], json!(false));
    let q = r["eventual_success_probability"].as_f64().unwrap();
    assert!(q > 0.0 && q < 1.0, "{q}");
    assert_eq!(r["mean_attempts"], Value::Null);
    assert_eq!(r["mean_cubes"], Value::Null);
    assert!(r["notes"].as_array().unwrap().iter().any(|n| n["message"]
        .as_str()
        .unwrap()
        .contains("cannot be met at 레전드리")));
}

#[test]
fn impossible_goal_is_explicit() {
    // 피격 후 무적시간 may appear at most once per item.
    let r = run(req(
        "black",
        "상의",
        200,
        "레전드리",
        json!({"lines": {"invincible_after_hit_sec": 2}}),
    ))
    .unwrap();
    assert_eq!(r["impossible"], json!(true));
    assert!(r["reason"].as_str().unwrap().contains("invincible_after_hit_sec"));
    assert_eq!(r["p_per_attempt"], json!(0.0));
    assert_eq!(r["mean_attempts"], Value::Null);
    assert_eq!(
        r["attempt_quantiles"],
        json!({"p50": null, "p90": null, "p99": null})
    );
    assert_eq!(r["eventual_success_probability"], json!(0.0));
}

#[test]
fn bad_requests_have_specific_codes() {
    let goal = || json!({"at_least": {"att_pct": 21}});
    check_err(
        req("blue", "무기", 200, "레전드리", goal()),
        ErrorCode::UnknownVariant,
    );
    check_err(
        req("black", "weapon", 200, "레전드리", goal()),
        ErrorCode::UnknownVariant,
    );
    check_err(
        req("black", "무기", 200, "legendary", goal()),
        ErrorCode::UnknownVariant,
    );
    check_err(
        req(
            "black",
            "무기",
            200,
            "레전드리",
            json!({"at_least": {"attack": 21}}),
        ),
        ErrorCode::UnknownVariant,
    );
    check_err(
        req("black", "무기", 200, "레전드리", json!({"lines": {"bossdmg": 1}})),
        ErrorCode::UnknownVariant,
    );
    check_err(
        req("black", "무기", 301, "레전드리", goal()),
        ErrorCode::OutOfRange,
    );
    check_err(
        json!({"cube": "black", "part": "무기", "level": -1, "grade": "레전드리", "goal": goal()}),
        ErrorCode::OutOfRange,
    );
    check_err(
        req("black", "무기", 200, "레전드리", json!({"lines": {"att_pct": 4}})),
        ErrorCode::OutOfRange,
    );
    check_err(
        req(
            "black",
            "무기",
            200,
            "레전드리",
            json!({"at_least": {"att_pct": 0}}),
        ),
        ErrorCode::OutOfRange,
    );
    check_err(
        req("black", "무기", 200, "레전드리", json!({})),
        ErrorCode::MissingField,
    );
    check_err(
        req("black", "무기", 200, "레전드리", json!({"at_most": {}})),
        ErrorCode::UnknownField,
    );
    check_err(
        json!({"cube": "black", "part": "무기", "level": 200, "grade": "레전드리"}),
        ErrorCode::MissingField,
    );
    check_err(
        json!({"cube": "black", "part": "무기", "level": 200, "grade": "레전드리", "goal": goal(), "x": 1}),
        ErrorCode::UnknownField,
    );
    check_err(
        json!({"cube": "black", "part": "무기", "level": "200", "grade": "레전드리", "goal": goal()}),
        ErrorCode::InvalidType,
    );
    // 장인의 큐브 cannot be used on a 레전드리 item.
    check_err(
        req("master", "무기", 200, "레전드리", goal()),
        ErrorCode::InvalidCombination,
    );
    // No emblem at level 50; no tables above 250; a published gap (additional 얼굴장식 201-250).
    check_err(req("black", "엠블렘", 50, "레전드리", goal()), ErrorCode::NoData);
    check_err(req("black", "무기", 260, "레전드리", goal()), ErrorCode::NoData);
    check_err(
        req("additional", "얼굴장식", 250, "레전드리", goal()),
        ErrorCode::NoData,
    );
    let e = handle(Operation::Potential, "{").unwrap_err();
    assert_eq!(e.code, ErrorCode::MalformedJson);
}

#[test]
fn same_request_same_bytes() {
    install_potential_data(DATA).unwrap();
    let body = req(
        "red",
        "장갑",
        200,
        "유니크",
        json!({"lines": {"crit_dmg_pct": 2}}),
    )
    .to_string();
    let a = handle(Operation::Potential, &body).unwrap();
    let b = handle(Operation::Potential, &body).unwrap();
    assert_eq!(a, b);
}

#[test]
fn installing_again_and_bad_bytes() {
    install_potential_data(DATA).unwrap();
    install_potential_data(DATA).expect("the same version again is a no-op");
    let e = install_potential_data(b"not a data file").unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidData);
    // Another version, truncated: decoded, and rejected as invalid (not as a version clash).
    let text = std::str::from_utf8(DATA)
        .unwrap()
        .replacen("version\tkms-potential-", "version\tother-", 1);
    let truncated = &text.as_bytes()[..text.len() / 2];
    assert_eq!(
        install_potential_data(truncated).unwrap_err().code,
        ErrorCode::InvalidData
    );
    // Another version, complete: a clash with the installed one.
    assert_eq!(
        install_potential_data(text.as_bytes()).unwrap_err().code,
        ErrorCode::InvalidCombination
    );
}

/// Every potential string in the real Open API responses parses, every worn part maps, and each item's
/// own first line is reachable on its own tables (it was rolled there).
#[test]
fn open_api_fixtures() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/nexon");
    let files = ["evan_equip.json", "mechanic_equip.json"];
    if !dir.join(files[0]).exists() {
        eprintln!("SKIPPED: {} not found", dir.display());
        return;
    }
    let mut strings = 0;
    let mut items = 0;
    for f in files {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(dir.join(f)).unwrap()).unwrap();
        for list in v.as_object().unwrap().values().filter_map(Value::as_array) {
            for item in list {
                for key in [
                    "potential_option_1",
                    "potential_option_2",
                    "potential_option_3",
                    "additional_potential_option_1",
                    "additional_potential_option_2",
                    "additional_potential_option_3",
                ] {
                    if let Some(s) = item[key].as_str() {
                        strings += 1;
                        assert!(
                            !matches!(parse_line(s), ParsedLine::Unparsed(_)),
                            "{f}: {key} {s:?} does not parse"
                        );
                    }
                }
                for (cube, grade_key, line_key) in [
                    ("black", "potential_option_grade", "potential_option_1"),
                    (
                        "additional",
                        "additional_potential_option_grade",
                        "additional_potential_option_1",
                    ),
                ] {
                    let (Some(grade), Some(line)) = (item[grade_key].as_str(), item[line_key].as_str())
                    else {
                        continue;
                    };
                    let part = item["item_equipment_part"].as_str().unwrap();
                    let slot = item["item_equipment_slot"].as_str().unwrap();
                    let mapped =
                        part_from_api(part, slot).unwrap_or_else(|| panic!("{part}/{slot} has potential"));
                    let level = item["item_base_option"]["base_equipment_level"].as_u64().unwrap();
                    let ParsedLine::Stat(stat) = parse_line(line) else {
                        continue;
                    };
                    let goal = json!({"at_least": {stat.kind.key(): stat.value}});
                    let r = run(req(cube, mapped, level as u32, grade, goal.clone()))
                        .unwrap_or_else(|e| panic!("{f}: {cube} {part} {level} {grade} {goal}: {e}"));
                    assert!(
                        r["p_per_attempt"].as_f64().unwrap() > 0.0,
                        "{f}: {cube} {part} {level} {grade} {line}"
                    );
                    items += 1;
                }
            }
        }
    }
    assert!(
        strings > 400 && items > 200,
        "{strings} strings, {items} items checked"
    );
}

/// `req` with extra top-level fields (issue 13 options).
fn with(mut r: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        r[k] = v.clone();
    }
    r
}

/// Issue 13: every bad plan / option is a specific 4xx code.
#[test]
fn plan_and_option_error_codes() {
    let goal = || json!({"at_least": {"att_pct": 21}});
    let black = |grade: &str, extra: Value| with(req("black", "무기", 200, grade, goal()), extra);
    let reset = |extra: Value| with(req("meso_reset_main", "무기", 200, "레어", goal()), extra);
    use ErrorCode::*;
    for (request, code) in [
        // both budgets, or neither
        (
            black(
                "레전드리",
                json!({"plan": {"budget_cubes": 10, "budget_mesos": 1e9}}),
            ),
            InvalidCombination,
        ),
        (black("레전드리", json!({"plan": {}})), InvalidCombination),
        (black("레전드리", json!({"plan": {"budget": 10}})), UnknownField),
        // negative, fractional, wrong type
        (
            black("레전드리", json!({"plan": {"budget_cubes": -1}})),
            OutOfRange,
        ),
        (
            black("레전드리", json!({"plan": {"budget_cubes": 1.5}})),
            OutOfRange,
        ),
        (reset(json!({"plan": {"budget_mesos": -1}})), OutOfRange),
        (
            black("레전드리", json!({"plan": {"budget_cubes": "10"}})),
            InvalidType,
        ),
        // a meso budget needs a price; a cube budget is for cube items
        (
            black("레전드리", json!({"plan": {"budget_mesos": 1e9}})),
            InvalidCombination,
        ),
        (reset(json!({"plan": {"budget_cubes": 10}})), InvalidCombination),
        // cube price: cube items only, positive
        (reset(json!({"cube_price_mesos": 1e7})), InvalidCombination),
        (black("레전드리", json!({"cube_price_mesos": 0})), OutOfRange),
        (black("레전드리", json!({"cube_price_mesos": -5})), OutOfRange),
        // pity progress: below the pity of the current grade (black 유니크: 107), none at the top grade
        (black("유니크", json!({"pity_progress": 107})), OutOfRange),
        (black("유니크", json!({"pity_progress": -1})), OutOfRange),
        (black("레전드리", json!({"pity_progress": 1})), OutOfRange),
        (
            with(
                req("meister", "무기", 200, "레어", goal()),
                json!({"pity_progress": 1}),
            ),
            OutOfRange,
        ),
        // Miracle Time does not affect 장인/명장/수상한 cubes
        (
            with(
                req("master", "무기", 200, "레어", goal()),
                json!({"miracle_time": true}),
            ),
            InvalidCombination,
        ),
        (
            with(
                req("strange", "무기", 200, "레어", goal()),
                json!({"miracle_time": true}),
            ),
            InvalidCombination,
        ),
        (black("레전드리", json!({"miracle_time": 1})), InvalidType),
    ] {
        check_err(request, code);
    }
    // The boundary values are accepted.
    run(black("유니크", json!({"pity_progress": 106}))).unwrap();
    run(black(
        "레전드리",
        json!({"pity_progress": 0, "plan": {"budget_cubes": 0}}),
    ))
    .unwrap();
    run(reset(json!({"plan": {"budget_mesos": 0}}))).unwrap();
}

/// Issue 13: the plan's shape, and its numbers against the response's own attempt quantiles.
#[test]
fn plan_response() {
    let goal = json!({"at_least": {"att_pct": 21}});
    let plain = run(req("black", "무기", 200, "유니크", goal.clone())).unwrap();
    assert!(plain.get("plan").is_none(), "no plan without a request plan");
    assert_eq!(plain["mean_cost"], Value::Null);

    let r = run(with(
        req("black", "무기", 200, "유니크", goal.clone()),
        json!({"plan": {"budget_cubes": 200}, "cube_price_mesos": 1e7}),
    ))
    .unwrap();
    let plan = &r["plan"];
    let mut keys: Vec<&str> = plan.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "budget",
            "budget_for",
            "budget_units",
            "error_bound",
            "notes",
            "p_reach",
            "unit",
            "unit_mesos"
        ]
    );
    assert_eq!(plan["unit"], "cubes");
    assert_eq!(plan["budget_units"], 200);
    let p = plan["p_reach"].as_f64().unwrap();
    assert!(p > 0.0 && p < 1.0);
    // One cube per attempt: budget_for is the attempt quantiles.
    for q in ["p50", "p90", "p99"] {
        assert_eq!(
            plan["budget_for"][q].as_f64(),
            r["attempt_quantiles"][q].as_f64(),
            "{q}"
        );
    }
    let priced = r["notes"].as_array().unwrap();
    assert!(priced
        .iter()
        .any(|n| n["code"] == "potential.cube_price" && n["params"]["price"] == 1e7));
    assert!(!priced.iter().any(|n| n["code"] == "potential.no_item_price"));
    // mean_cost = mean_cubes × price.
    let mc = r["mean_cubes"].as_f64().unwrap();
    assert!((r["mean_cost"].as_f64().unwrap() - mc * 1e7).abs() <= 1e-6 * mc * 1e7);
    let codes: Vec<&str> = plan["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["potential.plan_method"]);

    // A meso reset: mesos on the price grid, budget_for in mesos.
    let r = run(with(
        req("meso_reset_main", "무기", 200, "레어", goal.clone()),
        json!({"plan": {"budget_mesos": 3e9}, "miracle_time": true, "pity_progress": 3}),
    ))
    .unwrap();
    let plan = &r["plan"];
    assert_eq!(plan["unit"], "mesos");
    assert_eq!(plan["unit_mesos"], 2_250_000.0);
    assert_eq!(plan["budget_units"], 1333);
    let codes: Vec<&str> = plan["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["potential.plan_meso_units", "potential.plan_method"]);
    assert!(
        r["tier_up"][0]["probability"].as_f64().unwrap() > 0.3,
        "Miracle Time doubles 15 %"
    );
    let codes: Vec<&str> = r["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"potential.miracle_time"), "{codes:?}");
    let pity = r["notes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["code"] == "potential.pity_progress")
        .unwrap();
    assert_eq!(
        pity["params"],
        json!({"grade": "레어", "progress": 3, "pity": 10})
    );

    // A goal lost at the top grade (flat STR exists only at 레어/에픽): budgets above the eventual
    // probability are null, one note each, and p_reach never exceeds the eventual probability.
    let r = run(with(
        req("black", "무기", 200, "레어", json!({"at_least": {"str": 12}})),
        json!({"plan": {"budget_cubes": 100000}}),
    ))
    .unwrap();
    let eventual = r["eventual_success_probability"].as_f64().unwrap();
    let plan = &r["plan"];
    assert!(plan["p_reach"].as_f64().unwrap() <= eventual + 1e-12);
    let nulls = ["p50", "p90", "p99"]
        .iter()
        .filter(|q| plan["budget_for"][**q].is_null())
        .count();
    let expect = [0.5, 0.9, 0.99].iter().filter(|&&q| q > eventual).count();
    assert!(expect > 0, "eventual {eventual}");
    assert_eq!(nulls, expect);
    let unreachable = plan["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["code"] == "potential.plan_unreachable")
        .count();
    assert_eq!(unreachable, expect);
}
