//! The browser's Wasm API: a thin facade over `pve_api::handle`. JSON string in, JSON string out, so the
//! bytes equal the CLI's and the HTTP API's. Errors are thrown as a JS `Error` whose `code` and `message`
//! properties carry the API error (`{code, message}`); this is the only place that maps them to JS.
use pve_api::{ApiError, Operation};
use wasm_bindgen::prelude::*;

fn to_js_error(e: &ApiError) -> JsValue {
    let err = js_sys::Error::new(&e.message);
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(
        &err,
        &JsValue::from_str("code"),
        &JsValue::from_str(e.code.as_str()),
    );
    err.into()
}

/// Compute `op` ("starforce", ...) on a JSON request; returns the JSON response.
#[wasm_bindgen]
pub fn compute(op: &str, request_json: &str) -> Result<String, JsValue> {
    let op = Operation::parse(op).ok_or_else(|| {
        to_js_error(&ApiError::new(
            pve_api::ErrorCode::UnknownVariant,
            format!("unknown operation {op:?}"),
        ))
    })?;
    pve_api::handle(op, request_json).map_err(|e| to_js_error(&e))
}

/// Install the potential line tables (the bytes of `engine/data/potential.tsv`, which the page serves as a
/// static asset instead of compiling them into this module). Until then `potential` answers `data_not_loaded`.
/// Installing the same data again is a no-op.
#[wasm_bindgen]
pub fn install_potential_data(bytes: &[u8]) -> Result<(), JsValue> {
    pve_api::potential::install_potential_data(bytes).map_err(|e| to_js_error(&e))
}

/// The engine and data versions as JSON.
#[wasm_bindgen]
pub fn version() -> String {
    pve_api::version_json()
}
