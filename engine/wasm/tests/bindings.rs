//! The Wasm facade, tested inside Wasm (under node): same bytes as pve-api natively computes for the
//! same request, and errors thrown as JS errors carrying `{code, message}`.
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

fn error_code(e: &JsValue) -> String {
    js_sys::Reflect::get(e, &JsValue::from_str("code"))
        .unwrap()
        .as_string()
        .unwrap()
}

#[wasm_bindgen_test]
fn starforce_matches_the_shared_schema() {
    let req = r#"{"item_level":200,"from_star":0,"to_star":22}"#;
    let via_binding = pve_wasm::compute("starforce", req).unwrap();
    let direct = pve_api::handle(pve_api::Operation::Starforce, req).unwrap();
    assert_eq!(via_binding, direct);
    let v: serde_json::Value = serde_json::from_str(&via_binding).unwrap();
    assert!(v["mean_cost"].as_f64().unwrap() > 0.0);
}

#[wasm_bindgen_test]
fn errors_carry_code_and_message() {
    let e = pve_wasm::compute("starforce", "{").unwrap_err();
    assert_eq!(error_code(&e), "malformed_json");
    let e = pve_wasm::compute(
        "starforce",
        r#"{"item_level":200,"from_star":0,"to_star":22,"x":1}"#,
    )
    .unwrap_err();
    assert_eq!(error_code(&e), "unknown_field");
    let e = pve_wasm::compute("nope", "{}").unwrap_err();
    assert_eq!(error_code(&e), "unknown_variant");
    let msg = js_sys::Reflect::get(&e, &JsValue::from_str("message"))
        .unwrap()
        .as_string()
        .unwrap();
    assert!(msg.contains("nope"), "{msg}");
}

#[wasm_bindgen_test]
fn version_is_json() {
    let v: serde_json::Value = serde_json::from_str(&pve_wasm::version()).unwrap();
    assert_eq!(v["engine_version"], pve_api::ENGINE_VERSION);
}

/// The page's path for potential: `data_not_loaded` until the data asset is installed, then the same bytes
/// as the schema computes; garbage is `invalid_data`. (One test: the installed data is process-global.)
#[wasm_bindgen_test]
fn potential_after_installing_the_data_asset() {
    let req =
        r#"{"cube":"black","part":"무기","level":200,"grade":"레전드리","goal":{"at_least":{"att_pct":21}}}"#;
    let e = pve_wasm::compute("potential", req).unwrap_err();
    assert_eq!(error_code(&e), "data_not_loaded");
    let e = pve_wasm::install_potential_data(b"not the data").unwrap_err();
    assert_eq!(error_code(&e), "invalid_data");
    pve_wasm::install_potential_data(include_bytes!("../../data/potential.tsv")).unwrap();
    pve_wasm::install_potential_data(include_bytes!("../../data/potential.tsv")).unwrap();
    let via_binding = pve_wasm::compute("potential", req).unwrap();
    assert_eq!(
        via_binding,
        pve_api::handle(pve_api::Operation::Potential, req).unwrap()
    );
    let v: serde_json::Value = serde_json::from_str(&via_binding).unwrap();
    assert!(v["p_per_attempt"].as_f64().unwrap() > 0.0, "{via_binding}");
}
