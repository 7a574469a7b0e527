//! `options.potential.quantiles` / `options.additional_potential.quantiles` = false (issue 16): the
//! valuation without the tier-up chains' quantile walks. On both real Open API fixtures the response is the
//! default response with every item's `quantiles_attempts` null and `quantiles: false` echoed in the
//! options, and nothing else changed: the means and every sum are the same bits (compared as JSON values,
//! whose numbers round-trip exactly).
use pve_api::valuation::handle_with;
use pve_engine::potential::Data;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::OnceLock;

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| Data::decode(include_bytes!("../../data/potential.tsv")).expect("the data decodes"))
}

fn fixture(name: &str) -> Value {
    let shared = std::env::var_os("PVE_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let path = shared.join(format!("fixtures/nexon/{name}_equip.json"));
    serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap()
}

fn run(request: &Value) -> Value {
    let r = handle_with(&request.to_string(), data()).unwrap_or_else(|e| panic!("{e}"));
    serde_json::to_value(&r).unwrap()
}

fn check(name: &str, main: bool, additional: bool) {
    let equipment = fixture(name);
    let full = run(&json!({"equipment": equipment, "options": {}}));
    let mut options = json!({});
    if !main {
        options["potential"] = json!({"quantiles": false});
    }
    if !additional {
        options["additional_potential"] = json!({"quantiles": false});
    }
    let lean = run(&json!({"equipment": equipment, "options": options}));

    let mut expect = full.clone();
    let mut nulled = 0;
    for (key, asked) in [("potential", main), ("additional_potential", additional)] {
        if asked {
            continue;
        }
        expect["options"][key]["quantiles"] = json!(false);
        for item in expect["items"].as_array_mut().unwrap() {
            if let Some(p) = item.get_mut(key).filter(|p| p.is_object()) {
                assert!(
                    p["quantiles_attempts"].is_object(),
                    "{name}: default has quantiles"
                );
                p["quantiles_attempts"] = Value::Null;
                nulled += 1;
            }
        }
    }
    assert!(
        nulled > 0 || (main && additional),
        "{name}: some potential was valued"
    );
    assert_eq!(lean, expect, "{name} main={main} additional={additional}");
    // The totals, explicitly: the same bits.
    assert_eq!(lean["total"], full["total"]);
    assert_eq!(lean["sets"], full["sets"]);
}

#[test]
fn totals_only_changes_nothing_but_the_quantiles() {
    for name in ["evan", "mechanic"] {
        check(name, false, false);
        check(name, false, true);
        check(name, true, false);
    }
}

#[test]
fn the_default_asks_for_quantiles_and_true_is_the_default() {
    let equipment = fixture("evan");
    let default = run(&json!({"equipment": equipment}));
    let explicit = run(&json!({"equipment": equipment, "options": {
        "potential": {"quantiles": true}, "additional_potential": {"quantiles": true}}}));
    assert_eq!(default, explicit);
    assert!(
        default["options"]["potential"].get("quantiles").is_none(),
        "true is not echoed"
    );
}
