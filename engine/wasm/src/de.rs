//! Reading a request from a JS value exactly as the CLI and the HTTP API read the value's JSON text: the
//! value is written as JSON text by the JS engine's own `JSON.stringify`, and that text is parsed by
//! pve-api's [`parse_request`](pve_api::parse_request), the one strict parser every JSON edge uses (the same
//! serde derives, the same error classification). So a request gets the same result and the same error
//! code on every edge by construction, not by imitation.
//!
//! Why text and not a tree: walking the JS object from Wasm (one boundary call per key and value, into a
//! `serde_json::Value`, then `from_value`) cost more than the valuation itself (the Evan fixture is 357 KB
//! of JSON: 13.6 ms per call, of which the engine's part is about 3 ms), and the tree's deserializer code
//! was larger than serde_json's text parser. `JSON.stringify` is native code, and typed parsing skips the
//! fields a request type ignores without building them.
//!
//! Why not `serde_wasm_bindgen::from_value` (its serializer is used for responses): its deserializer reads
//! only the fields a struct declares, so `#[serde(deny_unknown_fields)]` never fires and an unknown field
//! is silently ignored instead of `unknown_field`; and it reports a negative number for an unsigned field
//! as a type mismatch (`invalid_type`) where serde_json reports an invalid value (`out_of_range`).
//!
//! Values with no JSON form are what `JSON.stringify` makes of them: an object key whose value is
//! `undefined` (or a function) is absent, `undefined` in an array is `null`, a non-finite number is `null`,
//! a `Map` is `{}`. A value `JSON.stringify` refuses (a `BigInt`, a cycle) or cannot write (`undefined`
//! itself) is `invalid_type`.
use js_sys::JSON;
use pve_api::{ApiError, ErrorCode};
use wasm_bindgen::{JsCast, JsValue};

/// Deserialize `T` from a JS value.
pub fn from_value<T: serde::de::DeserializeOwned>(value: &JsValue) -> Result<T, ApiError> {
    pve_api::parse_request(&json_text(value)?)
}

/// The JSON text of a JS value, as `JSON.stringify` writes it.
pub fn json_text(value: &JsValue) -> Result<String, ApiError> {
    let no_json = |why: &str| {
        ApiError::new(
            ErrorCode::InvalidType,
            format!("invalid type: a JS value with no JSON form ({why})"),
        )
    };
    let text = JSON::stringify(value).map_err(|e| {
        no_json(
            &e.dyn_ref::<js_sys::Error>()
                .map_or_else(String::new, |e| e.message().into()),
        )
    })?;
    // `JSON.stringify(undefined)` (or of a function or symbol) is `undefined`, not a string.
    text.as_string().ok_or_else(|| no_json("undefined"))
}
