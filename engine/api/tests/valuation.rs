//! `valuation` on the two real Open API responses (issue 5): golden files a reviewer can read, the "never a
//! silent 0" and "every potential line parsed or reported" checks, the two request shapes, and every error
//! path of the schema.
//!
//! Golden files: `tests/golden/valuation_<fixture>.json`, the pretty-printed response with default options.
//! When an engine's numbers change on purpose, regenerate them with
//! `UPDATE_GOLDEN=1 cargo test -p pve-api --test valuation` and review the diff.
use pve_api::valuation::{handle_with, ValuationResponse};
use pve_api::ErrorCode;
use pve_engine::potential::Data;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::OnceLock;

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| Data::decode(include_bytes!("../../data/potential.tsv")).expect("the data decodes"))
}

const FIXTURES: [&str; 2] = ["evan", "mechanic"];

fn fixture(name: &str) -> String {
    // The shared directory sits next to the repository; PVE_SHARED_DIR names it for worktrees elsewhere.
    let shared = std::env::var_os("PVE_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let path = shared.join(format!("fixtures/nexon/{name}_equip.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn raw(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

fn value(json: &str) -> ValuationResponse {
    handle_with(json, data()).unwrap_or_else(|e| panic!("{e}"))
}

fn pretty(r: &ValuationResponse) -> String {
    serde_json::to_string_pretty(r).unwrap() + "\n"
}

/// Each fixture's response with default options, computed once for all tests: (pretty, compact, value).
fn computed(name: &str) -> &'static (String, String, Value) {
    static CACHE: OnceLock<Vec<(String, String, Value)>> = OnceLock::new();
    let all = CACHE.get_or_init(|| {
        FIXTURES
            .iter()
            .map(|n| {
                let r = value(&fixture(n));
                (
                    pretty(&r),
                    serde_json::to_string(&r).unwrap(),
                    serde_json::to_value(&r).unwrap(),
                )
            })
            .collect()
    });
    &all[FIXTURES.iter().position(|n| *n == name).unwrap()]
}

#[test]
fn golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    for name in FIXTURES {
        let got = &computed(name).0;
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/valuation_{name}.json"));
        if update {
            std::fs::write(&path, got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1 to create it)", path.display()));
        if *got != want {
            let line = got
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!(
                "{name}: the valuation differs from {} from line {} on:\n  got:  {}\n  want: {}\n\
                 If the change is intended, run UPDATE_GOLDEN=1 cargo test -p pve-api --test valuation",
                path.display(),
                line + 1,
                got.lines().nth(line).unwrap_or(""),
                want.lines().nth(line).unwrap_or("")
            );
        }
    }
}

/// Every note and not-valued entry of both fixtures is `{code, params, message}` with a catalogued code and
/// exactly the catalogue's parameter names, in order.
#[test]
fn every_message_is_catalogued() {
    fn check(id: &str, m: &Value) {
        let code = m["code"]
            .as_str()
            .unwrap_or_else(|| panic!("{id}: no code in {m}"));
        let names = pve_engine::message::CATALOGUE
            .iter()
            .find(|(c, _)| *c == code)
            .unwrap_or_else(|| panic!("{id}: {code} is not in the catalogue"))
            .1;
        let params: Vec<&str> = m["params"]
            .as_object()
            .unwrap_or_else(|| panic!("{id}: params of {code}"))
            .keys()
            .map(String::as_str)
            .collect();
        let mut want: Vec<&str> = names.to_vec();
        let mut got = params.clone();
        want.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, want, "{id}: params of {code}");
        assert!(
            !m["message"].as_str().unwrap().is_empty(),
            "{id}: {code} has no message"
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    for name in FIXTURES {
        let r = &computed(name).2;
        for n in r["notes"].as_array().unwrap() {
            check(name, n);
            seen.insert(n["code"].as_str().unwrap().to_owned());
        }
        for item in r["items"].as_array().unwrap() {
            let id = format!("{name} #{}", item["id"]);
            let pots = ["potential", "additional_potential"].map(|k| &item[k]["notes"]);
            for n in item["not_valued"]
                .as_array()
                .unwrap()
                .iter()
                .chain(pots.iter().filter_map(|n| n.as_array()).flatten())
            {
                check(&id, n);
                seen.insert(n["code"].as_str().unwrap().to_owned());
            }
        }
    }
    assert!(seen.len() >= 5, "the fixtures reach only {seen:?}");
}

/// The test: no item is silently 0. Every kind of every item is valued (a mean > 0, or a 0 with its
/// `zero_reason`) or has a `not_valued` entry of that kind with a reason code and a message.
#[test]
fn no_item_is_silently_zero() {
    for name in FIXTURES {
        let r = &computed(name).2;
        let items = r["items"].as_array().unwrap();
        assert!(items.len() >= 24, "{name}");
        for item in items {
            let id = format!("{name} #{} {} {}", item["id"], item["slot"], item["name"]);
            for (kind, mean) in [
                ("starforce", "mean_mesos"),
                ("potential", "mean"),
                ("additional_potential", "mean"),
                ("flame", "mean_flames"),
            ] {
                let reported: Vec<&Value> = item["not_valued"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|n| n["kind"] == kind)
                    .collect();
                for n in &reported {
                    assert!(
                        !n["reason_code"].as_str().unwrap().is_empty()
                            && !n["message"].as_str().unwrap().is_empty()
                    );
                }
                let v = &item[kind];
                if v.is_null() {
                    assert!(
                        !reported.is_empty(),
                        "{id}: {kind} is neither valued nor reported"
                    );
                    continue;
                }
                let m = v[mean]
                    .as_f64()
                    .unwrap_or_else(|| panic!("{id}: {kind}.{mean} is not a number"));
                assert!(m.is_finite() && m >= 0.0, "{id}: {kind} = {m}");
                if m == 0.0 {
                    assert!(
                        v["zero_reason"]["code"].is_string() && v["zero_reason"]["message"].is_string(),
                        "{id}: {kind} is 0 without a zero_reason {{code, params, message}}"
                    );
                } else {
                    assert!(v.get("zero_reason").is_none_or(Value::is_null), "{id}: {kind}");
                }
            }
        }
    }
}

/// The test: every item with potential has every line either parsed or reported.
#[test]
fn every_potential_line_is_parsed_or_reported() {
    let mut lines_seen = 0;
    for name in FIXTURES {
        let input = raw(name);
        let r = &computed(name).2;
        for set in r["sets"].as_array().unwrap() {
            let key = match set["set"].as_str().unwrap() {
                "equipped" => "item_equipment".to_owned(),
                "dragon" => "dragon_equipment".to_owned(),
                "mechanic" => "mechanic_equipment".to_owned(),
                p => format!("item_equipment_{p}"),
            };
            let raw_items = input[&key].as_array().unwrap();
            let entries = set["items"].as_array().unwrap();
            assert_eq!(raw_items.len(), entries.len(), "{name} {key}");
            for (raw_item, entry) in raw_items.iter().zip(entries) {
                let item = &r["items"][entry["item"].as_u64().unwrap() as usize];
                assert_eq!(item["name"], raw_item["item_name"]);
                for (kind, prefix) in [("potential", ""), ("additional_potential", "additional_")] {
                    if raw_item[format!("{prefix}potential_option_grade")].is_null() {
                        continue;
                    }
                    for i in 1..=3 {
                        let Some(line) = raw_item[format!("{prefix}potential_option_{i}")].as_str() else {
                            continue;
                        };
                        lines_seen += 1;
                        let parsed = item[kind]["lines"]
                            .as_array()
                            .is_some_and(|ls| ls.iter().any(|l| l["text"] == line && !l["parsed"].is_null()));
                        let reported = item["not_valued"].as_array().unwrap().iter().any(|n| {
                            n["kind"] == kind
                                && n["reason_code"] == "unparsed_line"
                                && n["message"].as_str().unwrap().contains(&format!("{line:?}"))
                        });
                        assert!(
                            parsed || reported,
                            "{name} {key} {}: {line}",
                            raw_item["item_name"]
                        );
                    }
                }
            }
        }
    }
    assert!(lines_seen > 300, "{lines_seen}");
}

#[test]
fn both_request_shapes_give_the_same_bytes() {
    let name = "mechanic";
    let plain = &computed(name).1;
    for wrapped in [
        json!({"equipment": raw(name)}),
        json!({"equipment": raw(name), "options": {}}),
    ] {
        assert_eq!(
            serde_json::to_string(&value(&wrapped.to_string())).unwrap(),
            *plain,
            "{name}"
        );
    }
}

#[cfg(feature = "bundled-data")]
#[test]
fn the_operation_is_the_same_computation() {
    let name = "evan";
    let via_op = pve_api::handle(pve_api::Operation::Valuation, &fixture(name)).unwrap();
    // `handle` serializes through a `serde_json::Value`, as every operation does.
    assert!(
        via_op == serde_json::to_string(&computed(name).2).unwrap(),
        "pve valuation differs from handle_with"
    );
    assert_eq!(
        pve_api::Operation::parse("valuation"),
        Some(pve_api::Operation::Valuation)
    );
}

fn check_error(request: Value, code: ErrorCode, mentions: &str) {
    let e = handle_with(&request.to_string(), data())
        .err()
        .unwrap_or_else(|| panic!("accepted: {}", request.get("options").unwrap_or(&request)));
    assert_eq!(e.code, code, "{request}: {}", e.message);
    assert!(
        e.message.contains(mentions),
        "{request}: {:?} does not mention {mentions:?}",
        e.message
    );
}

fn small() -> Value {
    let mut r = raw("evan");
    for key in [
        "item_equipment_preset_1",
        "item_equipment_preset_2",
        "item_equipment_preset_3",
        "dragon_equipment",
    ] {
        r[key] = json!([]);
    }
    r["item_equipment"] = json!([r["item_equipment"][0].clone()]);
    r
}

fn with_options(options: Value) -> Value {
    json!({"equipment": small(), "options": options})
}

#[test]
fn request_errors() {
    use ErrorCode::*;
    let e = handle_with("{\"equipment\": ", data()).unwrap_err();
    assert_eq!(e.code, MalformedJson);
    check_error(json!({"equipment": small(), "extra": 1}), UnknownField, "extra");
    check_error(json!({"options": {}}), MissingField, "equipment");
    check_error(with_options(json!({"potenial": {}})), UnknownField, "potenial");
    check_error(
        with_options(json!({"potential": {"rest": "black"}})),
        UnknownField,
        "rest",
    );
    check_error(
        with_options(json!({"flame": {"kind": "eternal"}})),
        UnknownField,
        "kind",
    );
    check_error(
        with_options(json!({"potential": {"reset": "gold"}})),
        UnknownVariant,
        "gold",
    );
    check_error(
        with_options(json!({"potential": {"reset": "additional"}})),
        InvalidCombination,
        "additional",
    );
    check_error(
        with_options(json!({"additional_potential": {"reset": "red"}})),
        InvalidCombination,
        "red",
    );
    check_error(
        with_options(json!({"potential": {"start_grade": "mythic"}})),
        UnknownVariant,
        "mythic",
    );
    check_error(
        with_options(json!({"potential": {"cube_price_mesos": -1}})),
        OutOfRange,
        "cube_price_mesos",
    );
    check_error(
        with_options(json!({"flame": {"price_mesos": -5}})),
        OutOfRange,
        "price_mesos",
    );
    check_error(
        with_options(json!({"flame": {"flame": "blue"}})),
        UnknownVariant,
        "blue",
    );
    check_error(
        with_options(json!({"flame": {"unknown_boss": "maybe"}})),
        UnknownVariant,
        "maybe",
    );
    check_error(
        with_options(json!({"flame": {"assumptions": {"line_counts": "jms"}}})),
        UnknownVariant,
        "jms",
    );
    check_error(
        with_options(json!({"starforce": {"starcatch": true}})),
        UnknownField,
        "starcatch",
    );
    check_error(
        with_options(json!({"starforce": {"events": {"half_off": true}}})),
        UnknownField,
        "half_off",
    );
    check_error(
        with_options(json!({"starforce": {"ruleset": "jms"}})),
        UnknownVariant,
        "jms",
    );
    check_error(
        with_options(json!({"starforce": {"mvp": "platinum"}})),
        UnknownVariant,
        "platinum",
    );
    check_error(
        with_options(json!({"starforce": {"spare_cost": -1}})),
        OutOfRange,
        "spare_cost",
    );
    check_error(
        with_options(json!({"starforce": {"star_catch": "yes"}})),
        InvalidType,
        "",
    );
    check_error(json!([]), InvalidType, "item-equipment");
    check_error(json!({"equipment": 3}), InvalidType, "item-equipment");
    let mut r = small();
    r.as_object_mut().unwrap().remove("item_equipment");
    check_error(r, MissingField, "item_equipment");
    let mut r = small();
    r.as_object_mut().unwrap().remove("character_class");
    check_error(r, MissingField, "character_class");
    let mut r = small();
    r["character_class"] = json!(3);
    check_error(r, InvalidType, "character_class");
    let mut r = small();
    r["item_equipment_preset_1"] = json!({"a": 1});
    check_error(r, InvalidType, "item_equipment_preset_1");
    let mut r = small();
    r["preset_no"] = json!(7);
    check_error(r, OutOfRange, "preset_no");
}

/// Upstream data: unknown fields are tolerated; an unusable value makes only what depends on it not valued,
/// with the field named.
#[test]
fn upstream_values_are_validated_per_item() {
    fn reasons(r: Value) -> Vec<(String, String, String)> {
        let out = serde_json::to_value(value(&r.to_string())).unwrap();
        out["items"][0]["not_valued"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["kind"].as_str().unwrap().to_owned(),
                    n["reason_code"].as_str().unwrap().to_owned(),
                    n["message"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
    fn check(edit: impl Fn(&mut Value), expect: &[(&str, &str, &str)]) {
        let mut r = small();
        edit(&mut r["item_equipment"][0]);
        let got = reasons(r);
        assert_eq!(got.len(), expect.len(), "{got:?}");
        for ((k, c, m), (ek, ec, em)) in got.iter().zip(expect) {
            assert_eq!((k.as_str(), c.as_str()), (*ek, *ec), "{m}");
            assert!(m.contains(em), "{m:?} does not mention {em:?}");
        }
    }
    check(|_| {}, &[]);
    check(|i| i["some_new_upstream_field"] = json!({"x": 1}), &[]);
    check(|i| i["starforce"] = json!(22), &[]);
    check(
        |i| i["starforce"] = json!("x"),
        &[("starforce", "invalid_input", "starforce")],
    );
    check(
        |i| i["starforce"] = json!("-1"),
        &[("starforce", "invalid_input", "starforce")],
    );
    check(
        |i| i["starforce_scroll_flag"] = json!("?"),
        &[("starforce", "invalid_input", "starforce_scroll_flag")],
    );
    check(
        |i| i["item_add_option"]["int"] = json!("1.5"),
        &[("flame", "invalid_input", "item_add_option.int")],
    );
    check(
        |i| i["item_add_option"] = Value::Null,
        &[("flame", "invalid_input", "item_add_option")],
    );
    check(
        |i| i["potential_option_grade"] = json!("신화"),
        &[("potential", "invalid_input", "potential_option_grade")],
    );
    check(
        |i| i["additional_potential_option_2"] = json!(12),
        &[(
            "additional_potential",
            "invalid_input",
            "additional_potential_option_2",
        )],
    );
    check(
        |i| i["potential_option_3"] = json!("완전히 새로운 옵션 +1%"),
        &[("potential", "unparsed_line", "완전히 새로운 옵션 +1%")],
    );
    check(
        |i| i["item_base_option"]["base_equipment_level"] = json!("high"),
        &[
            ("starforce", "invalid_input", "base_equipment_level"),
            ("potential", "invalid_input", "base_equipment_level"),
            ("additional_potential", "invalid_input", "base_equipment_level"),
            ("flame", "invalid_input", "base_equipment_level"),
        ],
    );
    check(
        |i| {
            i.as_object_mut().unwrap().remove("item_equipment_slot");
        },
        &[
            ("starforce", "invalid_input", "item_equipment_slot"),
            ("potential", "invalid_input", "item_equipment_slot"),
            ("additional_potential", "invalid_input", "item_equipment_slot"),
            ("flame", "invalid_input", "item_equipment_slot"),
        ],
    );
}

/// Options reach the engines and are echoed with every default filled in.
#[test]
fn options_are_applied_and_echoed() {
    let run = |options: Value| serde_json::to_value(value(&with_options(options).to_string())).unwrap();
    let default = run(json!({}));
    let hat = |r: &Value, path: &[&str]| path.iter().fold(&r["items"][0], |v, k| &v[*k]).clone();
    let catch = run(json!({"starforce": {"star_catch": true, "spare_cost": 1e9, "quantiles": true}}));
    let no_catch = run(json!({"starforce": {"star_catch": false}}));
    assert_eq!(catch["options"]["starforce"]["star_catch"], true);
    // Issue 15: star catch is on by default, as players enhance.
    assert_eq!(default["options"]["starforce"]["star_catch"], true);
    assert_eq!(no_catch["options"]["starforce"]["star_catch"], false);
    assert_eq!(default["options"]["starforce"]["ruleset"], "kms");
    let attempts = |r: &Value| hat(r, &["starforce", "mean_attempt_mesos"]).as_f64().unwrap();
    assert!(attempts(&catch) < attempts(&no_catch));
    assert_eq!(attempts(&catch), attempts(&default));
    let sf = hat(&catch, &["starforce"]);
    let spare = sf["mean_mesos"].as_f64().unwrap() - sf["mean_attempt_mesos"].as_f64().unwrap();
    assert!((spare - 1e9 * sf["mean_booms"].as_f64().unwrap()).abs() < 1.0);
    assert!(sf["quantiles_attempt_mesos"]["p90"].is_number());
    assert!(hat(&default, &["starforce", "quantiles_attempt_mesos"]).is_null());

    let cubes =
        run(json!({"potential": {"reset": "black", "cube_price_mesos": 2e7}, "flame": {"price_mesos": 1e6}}));
    assert_eq!(hat(&cubes, &["potential", "unit"]), "cubes");
    let p = hat(&cubes, &["potential"]);
    assert_eq!(
        p["mean_mesos"].as_f64().unwrap(),
        p["mean"].as_f64().unwrap() * 2e7
    );
    let f = hat(&cubes, &["flame"]);
    assert_eq!(
        f["mean_mesos"].as_f64().unwrap(),
        f["mean_flames"].as_f64().unwrap() * 1e6
    );
    assert_eq!(cubes["total"]["mesos_exclude"], json!([]));
    assert_eq!(default["total"]["mesos_exclude"], json!(["flame"]));

    let start = run(json!({"additional_potential": {"start_grade": "레전드리"}}));
    assert_eq!(hat(&start, &["additional_potential", "start_grade"]), "레전드리");
    let add = |r: &Value| hat(r, &["additional_potential", "mean"]).as_f64().unwrap();
    assert!(add(&start) != add(&default));
}

/// Found by schemathesis (issue 14): `spare_cost` above its documented maximum was accepted when no item
/// could be star-forced (an empty equipment list), because only the items' star force checked it.
#[test]
fn spare_cost_above_its_maximum_is_refused_even_with_no_items() {
    let empty = |spare: f64| {
        json!({"equipment": {"character_class": null, "item_equipment": [], "preset_no": 1},
               "options": {"starforce": {"spare_cost": spare}}})
    };
    check_error(
        empty(1_000_000_000_000_001.0),
        ErrorCode::OutOfRange,
        "spare_cost",
    );
    handle_with(&empty(1e15).to_string(), data()).expect("the maximum itself is accepted");
}
