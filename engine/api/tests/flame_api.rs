//! `POST /v1/flame` / `pve flame`: request shapes, responses and error codes.

use pve_api::{handle, ErrorCode, Operation};
use serde_json::{json, Value};

fn ok(req: Value) -> Value {
    let out = handle(Operation::Flame, &req.to_string()).unwrap_or_else(|e| panic!("{req}: {e}"));
    serde_json::from_str(&out).unwrap()
}

/// One helper for the error cases: the request must fail with `code` and a message containing `needle`.
fn err(req: &str, code: ErrorCode, needle: &str) {
    let e = handle(Operation::Flame, req).expect_err(req);
    assert_eq!(e.code, code, "{req}: {}", e.message);
    assert!(
        e.message.contains(needle),
        "{req}: message {:?} lacks {needle:?}",
        e.message
    );
}

fn base() -> Value {
    json!({"flame":"eternal","item":{"level":200,"boss":true,"kind":"armor"},"score":{"class":"히어로"},"target_score":120})
}

fn with(mut v: Value, path: &[&str], value: Value) -> Value {
    let mut cur = &mut v;
    for p in &path[..path.len() - 1] {
        cur = cur.get_mut(*p).unwrap();
    }
    cur.as_object_mut()
        .unwrap()
        .insert(path[path.len() - 1].to_owned(), value);
    v
}

#[test]
fn the_issue_example() {
    let r = ok(base());
    // FLAME_FACTS §5: P(STR + 4·ATT + 10·all% >= 120) = 295552881/12920000000 = 2.288 %.
    assert_eq!(r["p_success_exact"], "295552881/12920000000");
    assert_eq!(r["p_success"], r["p_per_attempt"]);
    let p = r["p_success"].as_f64().unwrap();
    assert_eq!(p, 295552881.0 / 12920000000.0);
    assert_eq!(r["mean_flames"].as_f64().unwrap(), 12920000000.0 / 295552881.0);
    assert_eq!(r["impossible"], false);
    assert_eq!(r["reason"], Value::Null);
    assert_eq!(r["engine_version"], pve_api::ENGINE_VERSION);
    assert!(r["data_version"].as_str().unwrap().starts_with("flame-facts-"));
    assert_eq!(r["item"]["pool"].as_array().unwrap().len(), 19);
    assert_eq!(r["item"]["line_count_percent"], json!([0, 0, 0, 100]));
    assert_eq!(r["item"]["tiers"][0], json!({"tier": 4, "percent": 29}));
    assert_eq!(
        r["score"]["weights"],
        json!({"str":"1","attack_power":"4","all_stat":"10","boss_damage":"14","damage":"14"})
    );
    assert_eq!(r["score"]["convention"], "kms_grade");
    assert_eq!(
        r["assumptions"],
        json!({"line_counts":"kms_official","abyss_table":"consensus","levels_201_249":"kms",
               "weapon_attack":"malib","def_below_140":"single_stat"})
    );
    // Quantiles: smallest n with 1-(1-p)^n >= q.
    for (q, key) in [(0.5, "p50"), (0.9, "p90"), (0.99, "p99")] {
        let n = r["flame_quantiles"][key].as_f64().unwrap();
        assert!(
            1.0 - (1.0 - p).powf(n) >= q && 1.0 - (1.0 - p).powf(n - 1.0) < q,
            "{key} = {n}"
        );
    }
    assert!((r["mean_score"].as_f64().unwrap() - 45.08).abs() < 0.005);
}

#[test]
fn responses_are_deterministic_bytes() {
    let a = handle(Operation::Flame, &base().to_string()).unwrap();
    let b = handle(Operation::Flame, &base().to_string()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn score_forms_agree() {
    // The same score by class, by stats and by explicit weights (armor: boss/damage weights are irrelevant).
    let by_class = ok(base());
    let by_stats = ok(with(
        base(),
        &["score"],
        json!({"main_stat":"str","sub_stats":["dex"]}),
    ));
    let by_weights = ok(with(
        base(),
        &["score"],
        json!({"weights":{"str":1,"attack_power":"4","all_stat":10.0}}),
    ));
    for r in [&by_stats, &by_weights] {
        assert_eq!(r["p_success_exact"], by_class["p_success_exact"]);
    }
    // Brendon's default via convention and via explicit fraction weights (worked example, X = 100).
    let bren = ok(with(
        with(
            base(),
            &["score"],
            json!({"class":"hero","convention":"brendon_gms"}),
        ),
        &["target_score"],
        json!(100),
    ));
    assert_eq!(bren["p_success_exact"], "25821660029/387600000000");
    let explicit = ok(with(
        with(
            base(),
            &["score"],
            json!({"weights":{"str":1,"dex":"1/12","attack_power":3,"all_stat":10}}),
        ),
        &["target_score"],
        json!("100"),
    ));
    assert_eq!(explicit["p_success_exact"], bren["p_success_exact"]);
    // 0.1 as a JSON number is exactly 1/10 (worked example kms_grade_sub01, X = 60).
    let sub = ok(with(
        with(base(), &["score"], json!({"class":"hero","sub_stat_weight":0.1})),
        &["target_score"],
        json!(60),
    ));
    assert_eq!(sub["p_success_exact"], "16829309617/48450000000");
    assert_eq!(sub["score"]["weights"]["dex"], "1/10");
}

#[test]
fn magician_uses_magic_attack() {
    let r = ok(with(base(), &["score"], json!({"class":"에반"})));
    assert_eq!(r["score"]["weights"]["int"], "1");
    assert_eq!(r["score"]["weights"]["magic_power"], "4");
    assert!(r["score"]["weights"].get("attack_power").is_none());
    let r = ok(with(base(), &["score"], json!({"main_stat":"int"})));
    assert_eq!(r["score"]["weights"]["magic_power"], "4");
}

#[test]
fn impossible_target_is_explicit() {
    let r = ok(with(base(), &["target_score"], json!(1000)));
    assert_eq!(r["impossible"], true);
    assert_eq!(r["p_success"], 0.0);
    assert_eq!(r["p_success_exact"], "0/1");
    assert_eq!(r["mean_flames"], Value::Null);
    assert_eq!(r["flame_quantiles"], Value::Null);
    assert!(r["reason"].as_str().unwrap().contains("above the best score"));
    // Exactly the max score is reachable (inclusive target).
    let max = r["max_score"].as_f64().unwrap();
    let r = ok(with(base(), &["target_score"], json!(max)));
    assert_eq!(r["impossible"], false);
    assert!(r["p_success"].as_f64().unwrap() > 0.0);
}

#[test]
fn trivial_target_is_certain() {
    let r = ok(with(base(), &["target_score"], json!(0)));
    assert_eq!(r["p_success_exact"], "1/1");
    assert_eq!(r["mean_flames"], 1.0);
    assert_eq!(r["flame_quantiles"], json!({"p50":1.0,"p90":1.0,"p99":1.0}));
}

#[test]
fn weapons_need_their_base_attack() {
    let weapon = json!({"flame":"eternal","item":{"level":200,"boss":true,"kind":"weapon","base_attack":283},
                        "score":{"class":"hero"},"target_score":700});
    let r = ok(weapon.clone());
    assert_eq!(r["item"]["pool"].as_array().unwrap().len(), 19);
    assert!(r["item"]["pool"]
        .as_array()
        .unwrap()
        .contains(&json!("boss_damage")));
    assert!(r["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["message"].as_str().unwrap().contains("boss% and damage% 14")));
    assert!(r["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["message"].as_str().unwrap().contains("weapon_attack=malib")));
    // Max: 4·175 (ATT t7) + 14·14 (boss t7) + 14·7 (damage t7) + 77 (STR t7) = 1071.
    assert_eq!(r["max_score"], 1071.0);
    err(
        r#"{"flame":"eternal","item":{"level":200,"boss":true,"kind":"weapon"},"score":{"class":"hero"},"target_score":1}"#,
        ErrorCode::MissingField,
        "item.base_attack",
    );
    err(
        r#"{"flame":"eternal","item":{"level":200,"boss":true,"kind":"armor","base_attack":3},"score":{"class":"hero"},"target_score":1}"#,
        ErrorCode::InvalidCombination,
        "weapons only",
    );
    // Zero weapons: boss may be omitted (never boss) but not true.
    let zero = json!({"flame":"abyss","item":{"level":200,"kind":"zero_weapon","base_attack":297},
                      "score":{"class":"제로"},"target_score":500});
    assert_eq!(ok(zero)["item"]["boss"], false);
    err(
        r#"{"flame":"abyss","item":{"level":200,"boss":true,"kind":"zero_weapon","base_attack":297},"score":{"class":"zero"},"target_score":1}"#,
        ErrorCode::InvalidCombination,
        "never boss",
    );
}

#[test]
fn current_flame_is_scored_and_can_be_the_target() {
    // Evan's Eternel hat (Open API fixture): INT 130, DEX 28, LUK 42, all 5 -> 130 + 50 = 180.
    let req = json!({"flame":"abyss","item":{"level":250,"boss":true,"kind":"armor"},"score":{"class":"에반"},
                     "current":{"str":"0","dex":"28","int":"130","luk":"42","max_hp":"0","max_mp":"0",
                                "attack_power":"0","magic_power":"0","armor":"0","speed":"0","jump":"0",
                                "boss_damage":"0","damage":"0","all_stat":"5","equipment_level_decrease":0}});
    let r = ok(req.clone());
    assert_eq!(r["current_score"], 180.0);
    assert_eq!(r["target_score"], 180.0);
    assert!(r["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["message"].as_str().unwrap().contains("current flame score")));
    let r2 = ok(with(req, &["target_score"], json!(200)));
    assert_eq!(r2["current_score"], 180.0);
    assert_eq!(r2["target_score"], 200.0);
    assert!(r2["p_success"].as_f64() < r["p_success"].as_f64());
}

#[test]
fn assumptions_are_named_parameters() {
    let non_boss = with(base(), &["item", "boss"], json!(false));
    let kms = ok(non_boss.clone());
    assert!(kms["notes"].as_array().unwrap().iter().any(|n| n["message"]
        .as_str()
        .unwrap()
        .contains("line_counts=kms_official")));
    let gms = ok(with(non_boss, &["assumptions"], json!({"line_counts":"gms"})));
    assert_eq!(gms["item"]["line_count_percent"], json!([40, 40, 15, 5]));
    assert_eq!(gms["assumptions"]["line_counts"], "gms");
    assert!(
        gms["p_success"].as_f64() > kms["p_success"].as_f64(),
        "more 4-line flames under GMS"
    );
    let worker = ok(with(
        with(base(), &["flame"], json!("abyss")),
        &["assumptions"],
        json!({"abyss_table":"brendon_worker"}),
    ));
    assert_eq!(worker["item"]["tiers"][0], json!({"tier": 4, "percent": 1}));
    let black = ok(with(base(), &["flame"], json!("black")));
    assert_eq!(black["p_success_exact"], ok(base())["p_success_exact"]);
    assert!(black["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["message"].as_str().unwrap().contains("black flame")));
}

#[test]
fn distribution_on_request() {
    assert_eq!(ok(base())["distribution"], Value::Null);
    let r = ok(with(base(), &["include_distribution"], json!(true)));
    let d = r["distribution"].as_array().unwrap();
    let total: f64 = d.iter().map(|p| p["p"].as_f64().unwrap()).sum();
    assert!((total - 1.0).abs() < 1e-12);
    let tail: f64 = d
        .iter()
        .filter(|p| p["score"].as_f64().unwrap() >= 120.0)
        .map(|p| p["p"].as_f64().unwrap())
        .sum();
    assert!((tail - r["p_success"].as_f64().unwrap()).abs() < 1e-15);
}

#[test]
fn errors_have_specific_codes() {
    use ErrorCode::*;
    let b = base();
    err("{", MalformedJson, "");
    err(
        &with(b.clone(), &["extra"], json!(1)).to_string(),
        UnknownField,
        "extra",
    );
    err(
        &with(b.clone(), &["item", "color"], json!("red")).to_string(),
        UnknownField,
        "color",
    );
    err(
        &with(b.clone(), &["score", "main"], json!("str")).to_string(),
        UnknownField,
        "main",
    );
    err(
        &with(b.clone(), &["assumptions"], json!({"lines":"gms"})).to_string(),
        UnknownField,
        "lines",
    );
    err(
        &with(b.clone(), &["current"], json!({"strength": 1})).to_string(),
        UnknownField,
        "current.strength",
    );
    err(
        &with(b.clone(), &["flame"], json!("golden")).to_string(),
        UnknownVariant,
        "golden",
    );
    err(
        &with(b.clone(), &["item", "kind"], json!("ring")).to_string(),
        UnknownVariant,
        "ring",
    );
    err(
        &with(b.clone(), &["score", "class"], json!("파이터")).to_string(),
        UnknownVariant,
        "파이터",
    );
    err(
        &with(b.clone(), &["score", "convention"], json!("mine")).to_string(),
        UnknownVariant,
        "mine",
    );
    err(
        &with(b.clone(), &["assumptions"], json!({"weapon_attack":"x"})).to_string(),
        UnknownVariant,
        "x",
    );
    err(
        &with(b.clone(), &["score"], json!({"weights":{"power":1}})).to_string(),
        UnknownVariant,
        "power",
    );
    err(
        r#"{"item":{"level":200,"boss":true,"kind":"armor"},"score":{"class":"hero"},"target_score":1}"#,
        MissingField,
        "flame",
    );
    err(
        &with(b.clone(), &["item"], json!({"level":200,"kind":"armor"})).to_string(),
        MissingField,
        "item.boss",
    );
    let mut no_target = b.clone();
    no_target.as_object_mut().unwrap().remove("target_score");
    err(&no_target.to_string(), MissingField, "target_score");
    err(
        &with(b.clone(), &["item", "level"], json!(251)).to_string(),
        OutOfRange,
        "251",
    );
    err(
        &with(b.clone(), &["item", "level"], json!(0)).to_string(),
        OutOfRange,
        "level 0",
    );
    err(
        &with(b.clone(), &["item", "level"], json!("200")).to_string(),
        InvalidType,
        "",
    );
    err(
        &with(b.clone(), &["target_score"], json!("ten")).to_string(),
        InvalidType,
        "target_score",
    );
    err(
        &with(b.clone(), &["target_score"], json!("1/0")).to_string(),
        OutOfRange,
        "denominator 0",
    );
    err(
        &with(b.clone(), &["score"], json!({"weights":{"str":-1}})).to_string(),
        OutOfRange,
        "negative",
    );
    err(
        &with(b.clone(), &["current"], json!({"str":"1.5"})).to_string(),
        OutOfRange,
        "current.str",
    );
    err(
        &with(b.clone(), &["current"], json!({"str":"-3"})).to_string(),
        OutOfRange,
        "current.str",
    );
    err(
        &with(b.clone(), &["score"], json!({})).to_string(),
        InvalidCombination,
        "exactly one",
    );
    err(
        &with(b.clone(), &["score"], json!({"class":"hero","main_stat":"str"})).to_string(),
        InvalidCombination,
        "exactly one",
    );
    err(
        &with(
            b.clone(),
            &["score"],
            json!({"weights":{"str":1},"convention":"kms_grade"}),
        )
        .to_string(),
        InvalidCombination,
        "explicit",
    );
    err(
        &with(b.clone(), &["score"], json!({"class":"hero","sub_stats":["dex"]})).to_string(),
        InvalidCombination,
        "main_stat",
    );
    err(
        &with(b.clone(), &["score"], json!({"main_stat":"max_hp"})).to_string(),
        InvalidCombination,
        "main or sub",
    );
    err(
        &with(b.clone(), &["score"], json!({"main_stat":"str","attack":"str"})).to_string(),
        InvalidCombination,
        "attack stat",
    );
    err(
        &with(
            b.clone(),
            &["score"],
            json!({"main_stat":"str","sub_stats":["str"]}),
        )
        .to_string(),
        InvalidCombination,
        "twice",
    );
    err(
        &with(
            b.clone(),
            &["score"],
            json!({"class":"xenon","convention":"brendon_gms"}),
        )
        .to_string(),
        InvalidCombination,
        "brendon_gms",
    );
    err(
        &with(b, &["score"], json!({"class":"xenon","sub_stat_weight":1})).to_string(),
        InvalidCombination,
        "sub_stat_weight",
    );
}

/// Found by schemathesis (issue 14): a `current` flame whose score is above 10^9 (every stat may be up to
/// 10^9 in the document) is the target as it is, exactly, not refused as out of range.
#[test]
fn a_current_score_above_any_rational_is_still_the_exact_target() {
    let req = json!({"flame":"eternal","item":{"level":200,"boss":true,"kind":"armor"},
                     "score":{"weights":{"str":"1/39","boss_damage":350142740}},
                     "current":{"str":1000000000,"boss_damage":516}});
    let r = ok(req);
    // 10^9/39 + 350142740·516 = (10^9 + 39·180673653840)/39.
    let units: i128 = 1_000_000_000 + 39 * 350_142_740 * 516;
    assert_eq!(r["target_score_exact"], format!("{units}/39"));
    assert_eq!(r["current_score"], r["target_score"]);
    // (serde_json without float_roundtrip may read the text back one ulp off, so not bit for bit here.)
    let current = r["current_score"].as_f64().unwrap();
    assert!(
        (current - units as f64 / 39.0).abs() <= 1e-15 * current,
        "{current}"
    );
    // Far above anything one flame gives: impossible, with the reason, not an error.
    assert_eq!(r["impossible"], true);
    assert_eq!(r["impossible_reason"]["code"], "flame.impossible");
    assert_eq!(r["p_success"], 0.0);
}

/// Weights whose exact common denominator is above 10^9 are each read to the nearest billionth, with the
/// `flame.weights_rounded` note and the weights used in `score.weights` (they had been a 400 that the
/// document could not describe).
#[test]
fn weights_beyond_one_common_denominator_are_rounded_and_said_so() {
    let rounded = ok(
        json!({"flame":"eternal","item":{"level":200,"boss":true,"kind":"armor"},
        "score":{"weights":{"str":"1/999999937","dex":"1/999999929","int":"1/3"}},"target_score":"1/1000"}),
    );
    assert_eq!(rounded["score"]["weights"]["str"], "1/1000000000");
    assert_eq!(rounded["score"]["weights"]["dex"], "1/1000000000");
    assert_eq!(rounded["score"]["weights"]["int"], "333333333/1000000000");
    let notes = rounded["notes"].as_array().unwrap();
    assert!(notes.iter().any(|n| n["code"] == "flame.weights_rounded"));
    // The same as asking for the rounded weights themselves, apart from that note.
    let direct = ok(
        json!({"flame":"eternal","item":{"level":200,"boss":true,"kind":"armor"},
        "score":{"weights":{"str":"0.000000001","dex":"0.000000001","int":"0.333333333"}},"target_score":"1/1000"}),
    );
    assert_eq!(direct["p_success_exact"], rounded["p_success_exact"]);
    assert_eq!(direct["mean_score"], rounded["mean_score"]);
    assert!(!direct["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["code"] == "flame.weights_rounded"));
    // Weights that share a denominator within 10^9 stay exact.
    let exact = ok(
        json!({"flame":"eternal","item":{"level":200,"boss":true,"kind":"armor"},
        "score":{"weights":{"str":"1/12","dex":"2/35"}},"target_score":10}),
    );
    assert_eq!(exact["score"]["weights"]["dex"], "2/35");
    assert!(!exact["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["code"] == "flame.weights_rounded"));
}

/// The largest weights and stats the document admits: no overflow, a finite mean score.
#[test]
fn extreme_weights_within_the_document_are_computed() {
    let r = ok(
        json!({"flame":"black","item":{"level":250,"boss":true,"kind":"weapon","base_attack":4294967295u32},
        "score":{"weights":{"attack_power":1000000000,"max_hp":"999999999/1000000000","boss_damage":"1/999999937"}},
        "current":{"attack_power":1000000000,"max_hp":1000000000,"boss_damage":1000000000},
        "include_distribution":true}),
    );
    assert!(r["mean_score"].as_f64().unwrap().is_finite());
    assert!(r["mean_score"].as_f64().unwrap() > 0.0);
}
