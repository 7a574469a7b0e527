//! The typed Wasm API, tested inside Wasm (under node) against pve-api's JSON entry point (`handle`, the
//! CLI's and the HTTP API's path, enabled for these tests only): for the same request, the JS object a
//! function returns equals `JSON.parse` of the JSON response (every number the same f64, `Object.is`;
//! `null` where JSON has null; plain objects and arrays), and a bad request throws a JS `Error` with the same
//! `code` as the JSON path.
use js_sys::{Array, Object, Reflect, JSON};
use pve_api::Operation;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

type Typed = fn(JsValue) -> Result<JsValue, JsValue>;

fn typed(op: Operation) -> Typed {
    match op {
        Operation::Starforce => pve_wasm::starforce,
        Operation::Potential => pve_wasm::potential,
        Operation::Flame => pve_wasm::flame,
        Operation::Valuation => pve_wasm::valuation,
    }
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap()
}

fn error_code(e: &JsValue) -> String {
    assert!(e.is_instance_of::<js_sys::Error>(), "not a JS Error: {e:?}");
    get(e, "code").as_string().unwrap()
}

/// Structural equality as the page sees it: arrays and plain objects by content (any key order),
/// everything else by `Object.is` (so -0 ≠ 0, and `undefined` ≠ `null`).
fn same(a: &JsValue, b: &JsValue, path: &str) -> Result<(), String> {
    if Array::is_array(a) || Array::is_array(b) {
        let (a, b) = (Array::from(a), Array::from(b));
        if !Array::is_array(&b) || a.length() != b.length() {
            return Err(format!("{path}: arrays differ in length"));
        }
        for i in 0..a.length() {
            same(&a.get(i), &b.get(i), &format!("{path}[{i}]"))?;
        }
        return Ok(());
    }
    if a.is_object() && b.is_object() {
        for v in [a, b] {
            let proto = Object::get_prototype_of(v);
            if !Object::is(&proto, &Object::get_prototype_of(&Object::new())) {
                return Err(format!("{path}: not a plain object"));
            }
        }
        let keys = |v: &JsValue| {
            let mut k: Vec<String> = Object::keys(&Object::from(v.clone()))
                .iter()
                .map(|k| k.as_string().unwrap())
                .collect();
            k.sort();
            k
        };
        let (ka, kb) = (keys(a), keys(b));
        if ka != kb {
            return Err(format!("{path}: keys {ka:?} != {kb:?}"));
        }
        for k in ka {
            same(&get(a, &k), &get(b, &k), &format!("{path}.{k}"))?;
        }
        return Ok(());
    }
    if Object::is(a, b) {
        Ok(())
    } else {
        Err(format!("{path}: {a:?} != {b:?}"))
    }
}

/// The typed function's answer equals `JSON.parse` of `pve_api::handle`'s.
fn check_same(op: Operation, request: &str) {
    let json = pve_api::handle(op, request).unwrap_or_else(|e| panic!("{request}: {e}"));
    let expected = JSON::parse(&json).unwrap();
    let got = typed(op)(JSON::parse(request).unwrap())
        .unwrap_or_else(|e| panic!("{request}: {}", get(&e, "message").as_string().unwrap()));
    if let Err(diff) = same(&got, &expected, "$") {
        panic!("{request}: {diff}");
    }
}

/// The same bad request (valid JSON, parsed by JS) fails with the same code on both paths.
fn check_code(op: Operation, request: &str, expect: &str) {
    let json = pve_api::handle(op, request).expect_err(request);
    assert_eq!(json.code.as_str(), expect, "JSON path, {request}: {json}");
    let e = typed(op)(JSON::parse(request).unwrap()).expect_err(request);
    assert_eq!(
        error_code(&e),
        expect,
        "typed path, {request}: {:?}",
        get(&e, "message")
    );
}

#[wasm_bindgen_test]
fn starforce_equals_the_json_path() {
    for request in [
        r#"{"item_level":200,"from_star":0,"to_star":22}"#,
        r#"{"item_level":200,"from_star":0,"to_star":30,"star_catch":true,"safeguard":true}"#,
        r#"{"item_level":160,"from_star":12,"to_star":21,"ruleset":"gms","star_catch":true,"spare_cost":1e9}"#,
        r#"{"item_level":200,"from_star":7,"to_star":7,"star_catch":true,"safeguard":true,"events":{"thirty_off":true},"mvp":"red","spare_cost":5}"#,
        r#"{"item_level":200,"from_star":10,"to_star":12,"events":{"plus_one":true}}"#,
        r#"{"item_level":200,"from_star":24,"to_star":25,"ruleset":"pre_savior"}"#,
        r#"{"item_level":200,"from_star":0,"to_star":25,"ruleset":"savior"}"#,
        r#"{"item_level":200,"from_star":12,"to_star":22,"plan":{"budget_mesos":2e10,"spares":1}}"#,
    ] {
        check_same(Operation::Starforce, request);
    }
}

#[wasm_bindgen_test]
fn flame_equals_the_json_path() {
    for request in [
        r#"{"flame":"eternal","item":{"level":200,"boss":true,"kind":"armor"},"score":{"class":"hero"},"target_score":120}"#,
        r#"{"flame":"abyss","item":{"level":200,"boss":false,"kind":"zero_weapon","base_attack":297},"score":{"class":"zero"},"target_score":1}"#,
        r#"{"flame":"powerful","item":{"level":160,"boss":false,"kind":"weapon","base_attack":150},"score":{"class":"hero"},"target_score":2}"#,
    ] {
        check_same(Operation::Flame, request);
    }
}

#[wasm_bindgen_test]
fn errors_have_the_json_paths_codes() {
    use Operation::*;
    let base = r#""item_level":200,"from_star":0,"to_star":22"#;
    for (op, request, code) in [
        (Starforce, format!("{{{base},\"x\":1}}"), "unknown_field"),
        (Starforce, format!("{{{base},\"events\":{{\"nope\":true}}}}"), "unknown_field"),
        (Starforce, r#"{"item_level":200,"from_star":0}"#.to_string(), "missing_field"),
        (Starforce, format!("{{{base},\"ruleset\":\"tms\"}}"), "unknown_variant"),
        (Starforce, format!("{{{base},\"ruleset\":5}}"), "invalid_type"),
        (Starforce, format!("{{{base},\"ruleset\":null}}"), "invalid_type"),
        (Starforce, format!("{{{base},\"mvp\":true}}"), "invalid_type"),
        (Starforce, format!("{{{base},\"star_catch\":\"yes\"}}"), "invalid_type"),
        (Starforce, format!("{{{base},\"spare_cost\":-1}}"), "out_of_range"),
        (Starforce, r#"{"item_level":-3,"from_star":0,"to_star":22}"#.to_string(), "out_of_range"),
        (Starforce, r#"{"item_level":1.5,"from_star":0,"to_star":22}"#.to_string(), "invalid_type"),
        (Starforce, r#"{"item_level":"200","from_star":0,"to_star":22}"#.to_string(), "invalid_type"),
        (Starforce, r#"{"item_level":5000000000,"from_star":0,"to_star":22}"#.to_string(), "out_of_range"),
        (Starforce, r#"{"item_level":200,"from_star":0,"to_star":22,"events":5}"#.to_string(), "invalid_type"),
        (Starforce, r#"{"item_level":301,"from_star":0,"to_star":22}"#.to_string(), "out_of_range"),
        (Starforce, r#"{"item_level":200,"from_star":22,"to_star":12}"#.to_string(), "invalid_combination"),
        (Starforce, "[1,2]".to_string(), "invalid_type"),
        (Starforce, "null".to_string(), "invalid_type"),
        (Flame, r#"{"flame":7,"item":{"level":200,"boss":true,"kind":"armor"},"score":{"class":"hero"},"target_score":120}"#.to_string(), "invalid_type"),
        (Flame, r#"{"flame":"eternal","item":{"level":200,"boss":true,"kind":"armor"},"score":{"class":"hero"}}"#.to_string(), "missing_field"),
        (Flame, r#"{"flame":"eternal","item":{"level":200,"boss":true,"kind":"hat"},"score":{"class":"hero"},"target_score":1}"#.to_string(), "unknown_variant"),
    ] {
        check_code(op, &request, code);
    }
}

/// Values with no JSON form are read as `JSON.stringify` writes them: a key whose value is `undefined`
/// is absent; a `Map` is `{}`, the wrong type for a number.
#[wasm_bindgen_test]
fn js_only_values_read_as_json_stringify_writes_them() {
    let req = JSON::parse(r#"{"item_level":200,"from_star":0,"to_star":22}"#).unwrap();
    Reflect::set(&req, &"mvp".into(), &JsValue::UNDEFINED).unwrap();
    let with_undefined = pve_wasm::starforce(req.clone()).unwrap();
    let plain = pve_wasm::starforce(JSON::parse(r#"{"item_level":200,"from_star":0,"to_star":22}"#).unwrap())
        .unwrap();
    same(&with_undefined, &plain, "$").unwrap();
    Reflect::set(&req, &"to_star".into(), &JsValue::UNDEFINED).unwrap();
    assert_eq!(
        error_code(&pve_wasm::starforce(req.clone()).unwrap_err()),
        "missing_field"
    );
    Reflect::set(&req, &"to_star".into(), &js_sys::Map::new().into()).unwrap();
    assert_eq!(error_code(&pve_wasm::starforce(req).unwrap_err()), "invalid_type");
}

#[wasm_bindgen_test]
fn version_equals_the_json_path() {
    let expected = JSON::parse(&pve_api::version_json()).unwrap();
    same(&pve_wasm::version().unwrap(), &expected, "$").unwrap();
    assert_eq!(
        get(&pve_wasm::version().unwrap(), "engine_version"),
        pve_api::ENGINE_VERSION
    );
}

/// The page's path for potential and valuation: `data_not_loaded` until the data asset is installed, then
/// the JSON path's answers; garbage is `invalid_data`. (One test: the installed data is process-global.)
#[wasm_bindgen_test]
fn potential_and_valuation_after_installing_the_data_asset() {
    let req =
        r#"{"cube":"black","part":"무기","level":200,"grade":"레전드리","goal":{"at_least":{"att_pct":21}}}"#;
    let e = pve_wasm::potential(JSON::parse(req).unwrap()).unwrap_err();
    assert_eq!(error_code(&e), "data_not_loaded");
    let e = pve_wasm::install_potential_data(b"not the data").unwrap_err();
    assert_eq!(error_code(&e), "invalid_data");
    pve_wasm::install_potential_data(include_bytes!("../../data/potential.tsv")).unwrap();
    pve_wasm::install_potential_data(include_bytes!("../../data/potential.tsv")).unwrap();
    check_same(Operation::Potential, req);
    check_same(
        Operation::Potential,
        r#"{"cube":"red","part":"모자","level":150,"grade":"유니크","goal":{"at_least":{"str_pct":9}}}"#,
    );
    check_code(
        Operation::Potential,
        r#"{"cube":5,"part":"무기","level":200,"grade":"레전드리","goal":{"at_least":{"att_pct":21}}}"#,
        "invalid_type",
    );
    check_code(
        Operation::Potential,
        r#"{"cube":"black","part":"무기","level":200,"grade":"레전드리"}"#,
        "missing_field",
    );

    let evan = include_str!("../../../../shared/fixtures/nexon/evan_equip.json");
    let mechanic = include_str!("../../../../shared/fixtures/nexon/mechanic_equip.json");
    check_same(Operation::Valuation, evan);
    check_same(Operation::Valuation, mechanic);
    check_same(
        Operation::Valuation,
        &format!(r#"{{"equipment":{evan},"options":{{"starforce":{{"star_catch":true}}}}}}"#),
    );
    check_code(
        Operation::Valuation,
        &format!(r#"{{"equipment":{evan},"nope":1}}"#),
        "unknown_field",
    );
    check_code(Operation::Valuation, r#"{"item_equipment":[]}"#, "missing_field");
}

/// What `JSON.stringify` refuses or cannot write (a `BigInt`, a cycle, `undefined` itself) is `invalid_type`
/// (issue 16: requests are read from `JSON.stringify`'s text).
#[wasm_bindgen_test]
fn values_json_stringify_refuses_are_invalid_type() {
    let req = JSON::parse(r#"{"item_level":200,"from_star":0,"to_star":22}"#).unwrap();
    Reflect::set(&req, &"item_level".into(), &js_sys::BigInt::from(200u32).into()).unwrap();
    assert_eq!(error_code(&pve_wasm::starforce(req).unwrap_err()), "invalid_type");
    let cyclic = JSON::parse(r#"{"item_level":200,"from_star":0,"to_star":22}"#).unwrap();
    Reflect::set(&cyclic, &"events".into(), &cyclic).unwrap();
    assert_eq!(
        error_code(&pve_wasm::starforce(cyclic.clone()).unwrap_err()),
        "invalid_type"
    );
    assert_eq!(
        error_code(&pve_wasm::valuation(cyclic).unwrap_err()),
        "invalid_type"
    );
    assert_eq!(
        error_code(&pve_wasm::starforce(JsValue::UNDEFINED).unwrap_err()),
        "invalid_type"
    );
    assert_eq!(
        error_code(&pve_wasm::valuation(JsValue::UNDEFINED).unwrap_err()),
        "invalid_type"
    );
}
