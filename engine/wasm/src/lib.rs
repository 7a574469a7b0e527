//! The browser's Wasm API: one function per operation over pve-api's typed entry points
//! (`starforce::compute`, …), JS values in and out.
//!
//! A request is read as the CLI and the HTTP API read theirs: the JS value is written as JSON text by
//! `JSON.stringify` and parsed by pve-api's strict parser ([`de`], which says why not a tree walk or
//! serde-wasm-bindgen's deserializer), so the same bad input gets the same error code. pve-api's JSON
//! printers are never called here, so they are not linked. A response is serialized by serde-wasm-bindgen
//! with [`Serializer::json_compatible`]: plain objects for maps, numbers for integers, `null` for `None`,
//! so it equals `JSON.parse` of the CLI's output (every `f64` crosses as the same bits; JSON's shortest
//! round-trip text parses back to them).
//!
//! Errors are thrown as a JS `Error` whose `code` and `message` properties carry the API error
//! (`{code, message}`); this is the only place that maps them to JS. The TypeScript signatures name the
//! pve-api types of `pve-api.d.ts` (generated from the same Rust types by `scripts/build.sh web`).
//!
//! Two modules are built from this crate for the page (issue 16): the full one, and with the
//! `all-operations` feature off, a star force module (`starforce` and `version` only) that the star force
//! tab loads first. Both run the same `starforce::compute`, so their answers are the same bits.
pub mod de;

#[cfg(feature = "all-operations")]
use pve_api::{flame, potential, valuation};
use pve_api::{starforce, ApiError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_wasm_bindgen::Serializer;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
import type {
  StarforceRequest, StarforceResponse, PotentialRequest, PotentialResponse, FlameRequest, FlameResponse,
  OptionsDto, ValuationResponse,
} from './pve-api.js';
export type {
  StarforceRequest, StarforceResponse, PotentialRequest, PotentialResponse, FlameRequest, FlameResponse,
  OptionsDto, ValuationResponse,
} from './pve-api.js';
/** The Nexon item-equipment response, bare or wrapped as `{equipment, options}`. */
export type ValuationRequest = { equipment: unknown; options?: OptionsDto } | Record<string, unknown>;
/** `{engine_version, data_versions: {potential, flame}}`; `potential` is null until its data is installed. */
export interface Version {
  engine_version: string;
  data_versions: { potential: string | null; flame: string };
}
/** What every function throws: a JS `Error` carrying the API error code. */
export interface EngineError extends Error { code: string }
"#;

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

/// The text of a serde-wasm-bindgen (serializer) error (a JS `Error`; its `Display` would prefix "Error: ").
fn message(e: serde_wasm_bindgen::Error) -> String {
    JsValue::from(e)
        .unchecked_into::<js_sys::Error>()
        .message()
        .into()
}

fn from_js<T: DeserializeOwned>(request: JsValue) -> Result<T, JsValue> {
    de::from_value(&request).map_err(|e| to_js_error(&e))
}

fn to_js<T: Serialize>(response: &T) -> Result<JsValue, JsValue> {
    response
        .serialize(&Serializer::json_compatible())
        .map_err(|e| to_js_error(&ApiError::new(pve_api::ErrorCode::Internal, message(e))))
}

fn run<Req: DeserializeOwned, Resp: Serialize>(
    request: JsValue,
    compute: fn(Req) -> Result<Resp, ApiError>,
) -> Result<JsValue, JsValue> {
    let response = compute(from_js(request)?).map_err(|e| to_js_error(&e))?;
    to_js(&response)
}

/// Star force: expected cost, risk and distribution.
#[wasm_bindgen(unchecked_return_type = "StarforceResponse")]
pub fn starforce(
    #[wasm_bindgen(unchecked_param_type = "StarforceRequest")] request: JsValue,
) -> Result<JsValue, JsValue> {
    run(request, starforce::compute)
}

#[cfg(feature = "all-operations")]
/// Potential: probability and cost of reaching potential lines (needs `install_potential_data` first).
#[wasm_bindgen(unchecked_return_type = "PotentialResponse")]
pub fn potential(
    #[wasm_bindgen(unchecked_param_type = "PotentialRequest")] request: JsValue,
) -> Result<JsValue, JsValue> {
    run(request, potential::compute)
}

#[cfg(feature = "all-operations")]
/// Flames: probability and expected number of flames to reach a flame score.
#[wasm_bindgen(unchecked_return_type = "FlameResponse")]
pub fn flame(
    #[wasm_bindgen(unchecked_param_type = "FlameRequest")] request: JsValue,
) -> Result<JsValue, JsValue> {
    run(request, flame::compute)
}

#[cfg(feature = "all-operations")]
/// Valuation of a character's equipment (needs `install_potential_data` first).
#[wasm_bindgen(unchecked_return_type = "ValuationResponse")]
pub fn valuation(
    #[wasm_bindgen(unchecked_param_type = "ValuationRequest")] request: JsValue,
) -> Result<JsValue, JsValue> {
    let text = de::json_text(&request).map_err(|e| to_js_error(&e))?;
    let request = valuation::parse(&text).map_err(|e| to_js_error(&e))?;
    to_js(&valuation::compute(request).map_err(|e| to_js_error(&e))?)
}

#[cfg(feature = "all-operations")]
/// Install the potential line tables (the bytes of the data asset the page serves next to this module,
/// instead of compiling them in). Until then `potential` and `valuation` answer `data_not_loaded`.
/// Installing the same data again is a no-op.
#[wasm_bindgen]
pub fn install_potential_data(bytes: &[u8]) -> Result<(), JsValue> {
    potential::install_potential_data(bytes).map_err(|e| to_js_error(&e))
}

/// The engine and data versions.
#[wasm_bindgen(unchecked_return_type = "Version")]
pub fn version() -> Result<JsValue, JsValue> {
    to_js(&pve_api::version())
}
