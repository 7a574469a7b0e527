//! `valuation::parse` (issue 16) keeps only the fields the valuation reads. Reference: the full JSON tree
//! (`serde_json::from_str::<Value>`, what `handle_with` parsed before), valued by the same `compute_with`.
//! On both real Open API fixtures, wrapped and raw, and on requests broken in every field the valuation
//! reads (and in fields it does not), the response is the same bytes, or the error the same code and
//! message.
use pve_api::valuation::{compute_with, handle_with};
use pve_engine::potential::Data;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::OnceLock;

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| Data::decode(include_bytes!("../../data/potential.bin")).expect("the data decodes"))
}

fn fixture_text(name: &str) -> String {
    let shared = std::env::var_os("PVE_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let path = shared.join(format!("fixtures/nexon/{name}_equip.json"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The answer as text: the response's JSON, or `error code: message`.
fn answer(r: Result<pve_api::valuation::ValuationResponse, pve_api::ApiError>) -> String {
    match r {
        Ok(r) => serde_json::to_string(&r).unwrap(),
        Err(e) => format!("error {}: {}", e.code.as_str(), e.message),
    }
}

fn check(what: &str, text: &str) {
    let reference = match serde_json::from_str::<Value>(text) {
        Ok(tree) => answer(compute_with(tree, data())),
        Err(e) => format!("error malformed_json: {e}"),
    };
    let got = answer(handle_with(text, data()));
    assert!(
        got == reference,
        "{what}:\n got {:.300}\nwant {:.300}",
        got,
        reference
    );
}

/// A change to one item.
type Edit = fn(&mut Value);

#[test]
fn parse_reads_what_the_full_tree_reads() {
    for name in ["evan", "mechanic"] {
        let text = fixture_text(name);
        check(&format!("{name} as published"), &text);
        let raw: Value = serde_json::from_str(&text).unwrap();
        let wrapped = |options: Value| json!({"equipment": raw, "options": options}).to_string();
        check(&format!("{name} wrapped"), &wrapped(json!({})));
        check(
            &format!("{name} totals only"),
            &wrapped(
                json!({"potential": {"quantiles": false}, "additional_potential": {"quantiles": false}}),
            ),
        );

        // Broken items: each one changes what the valuation reads of one item, or what it does not read.
        let items = raw["item_equipment"].as_array().unwrap().len();
        assert!(items >= 10, "{name}: {items} items");
        let item_edits: Vec<(&str, Edit)> = vec![
            ("item not an object", |i| *i = json!("x")),
            ("item an array", |i| *i = json!([{"item_name": 1}])),
            ("base option a string", |i| i["item_base_option"] = json!("bad")),
            ("base option an array", |i| {
                i["item_base_option"] = json!([1, {"a": 2}])
            }),
            ("level text", |i| {
                i["item_base_option"]["base_equipment_level"] = json!("abc")
            }),
            ("no level", |i| {
                i["item_base_option"]
                    .as_object_mut()
                    .unwrap()
                    .remove("base_equipment_level");
            }),
            ("attack power", |i| {
                i["item_base_option"]["attack_power"] = json!(-4)
            }),
            ("base option extra", |i| {
                i["item_base_option"]["nope"] = json!({"deep": [1, 2]})
            }),
            ("stars negative", |i| i["starforce"] = json!(-1)),
            ("stars text", |i| i["starforce"] = json!("17")),
            ("scroll flag", |i| i["starforce_scroll_flag"] = json!(true)),
            ("add option array", |i| i["item_add_option"] = json!([1, 2])),
            ("add option stat", |i| i["item_add_option"]["str"] = json!("x")),
            ("no name", |i| {
                i.as_object_mut().unwrap().remove("item_name");
            }),
            ("grade number", |i| i["potential_option_grade"] = json!(5)),
            ("line number", |i| i["additional_potential_option_3"] = json!(5)),
            ("no lines", |i| {
                for k in ["potential_option_1", "potential_option_2", "potential_option_3"] {
                    i[k] = Value::Null;
                }
            }),
            ("ring level", |i| i["special_ring_level"] = json!(2.5)),
            ("icon number", |i| i["item_icon"] = json!(7)),
            ("unread field of any shape", |i| {
                i["item_total_option"] = json!([[[{"x": null}]], 1e300, "\u{d7a3}"])
            }),
        ];
        for (k, (edit_name, edit)) in item_edits.iter().enumerate() {
            let mut broken = raw.clone();
            edit(&mut broken["item_equipment"][k % items]);
            if let Some(preset) = broken
                .get_mut("item_equipment_preset_2")
                .and_then(Value::as_array_mut)
            {
                if let Some(item) = preset.first_mut() {
                    edit(item);
                }
            }
            check(&format!("{name}: {edit_name}"), &broken.to_string());
            check(
                &format!("{name} wrapped: {edit_name}"),
                &json!({"equipment": broken}).to_string(),
            );
        }
    }
}

#[test]
fn parse_refuses_what_the_full_tree_refuses() {
    let evan = fixture_text("evan");
    let raw: Value = serde_json::from_str(&evan).unwrap();
    let with = |key: &str, v: Value| {
        let mut r = raw.clone();
        r[key] = v;
        r.to_string()
    };
    let without = |key: &str| {
        let mut r = raw.clone();
        r.as_object_mut().unwrap().remove(key);
        r.to_string()
    };
    for (what, text) in [
        ("class a number", with("character_class", json!(5))),
        ("class null", with("character_class", Value::Null)),
        ("no class", without("character_class")),
        ("items an object", with("item_equipment", json!({"a": 1}))),
        ("no items", without("item_equipment")),
        (
            "preset list a string",
            with("item_equipment_preset_1", json!("x")),
        ),
        ("dragon list empty", with("dragon_equipment", json!([]))),
        ("preset_no 7", with("preset_no", json!(7))),
        ("preset_no text", with("preset_no", json!("2"))),
        ("unread top field", with("date", json!({"x": [1]}))),
        (
            "wrapper, unknown field",
            json!({"equipment": raw, "nope": {"a": [1]}}).to_string(),
        ),
        (
            "wrapper, raw field",
            json!({"equipment": raw, "item_equipment": []}).to_string(),
        ),
        ("wrapper, options only", json!({"options": {}}).to_string()),
        ("wrapper, equipment a number", json!({"equipment": 3}).to_string()),
        (
            "wrapper, bad option",
            json!({"equipment": raw, "options": {"flame": {"flame": "x"}}}).to_string(),
        ),
        (
            "wrapper, option unknown field",
            json!({"equipment": raw, "options": {"x": 1}}).to_string(),
        ),
        ("an array", "[1, {\"item_equipment\": []}]".to_string()),
        ("a string", "\"x\"".to_string()),
        ("null", "null".to_string()),
        ("cut in half", evan[..evan.len() / 2].to_string()),
        ("trailing text", format!("{evan} x")),
        (
            "bad escape in an unread field",
            with("date", json!("x")).replace("\"date\":\"x\"", "\"date\":\"\\q\""),
        ),
        ("empty", String::new()),
    ] {
        check(what, &text);
    }
}
