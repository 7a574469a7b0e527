//! Reading a request from a JS value exactly as serde_json reads the value's JSON text (`JSON.stringify` of
//! it), so a request gets the same result and the same error code on every edge: the JS value becomes a
//! `serde_json::Value` (the tree the JSON text parses to), and the request type is deserialized from that
//! with serde_json's own `from_value`, whose failures are classified as the JSON path classifies them.
//!
//! Why not `serde_wasm_bindgen::from_value` (its serializer is used for responses): its deserializer reads
//! only the fields a struct declares, so `#[serde(deny_unknown_fields)]` never fires and an unknown field
//! is silently ignored instead of `unknown_field`; and it reports a negative number for an unsigned field
//! as a type mismatch (`invalid_type`) where serde_json reports an invalid value (`out_of_range`).
//!
//! A number becomes what serde_json parses from its shortest JSON text: a non-negative integer a `u64`, a
//! negative one an `i64`, anything else an `f64`. What a JS value cannot tell apart from JSON text stays as
//! JS has it: `200.0` and `2e2` are the integer 200, as `JSON.parse` gives them. Values with no JSON form are
//! treated as `JSON.stringify` treats them: an object key whose value is `undefined` (or a function) is
//! absent, `undefined` elsewhere is `null`, a non-finite number is `null`. Anything else that is not JSON
//! data (a `BigInt`, a symbol, a `Map`) is `invalid_type`.
use js_sys::{Array, Object, Reflect};
use pve_api::{ApiError, ErrorCode};
use serde_json::{Map, Number, Value};
use wasm_bindgen::{JsCast, JsValue};

/// The largest integer every f64 below it represents exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// Deserialize `T` from a JS value.
pub fn from_value<T: serde::de::DeserializeOwned>(value: &JsValue) -> Result<T, ApiError> {
    serde_json::from_value(json_value(value)?).map_err(|e| ApiError::from_deserialize(e.to_string()))
}

fn is_absent(v: &JsValue) -> bool {
    v.is_undefined() || v.is_function() || v.is_symbol()
}

/// The JSON tree of a JS value.
pub fn json_value(v: &JsValue) -> Result<Value, ApiError> {
    Ok(if v.is_null() || is_absent(v) {
        Value::Null
    } else if let Some(b) = v.as_bool() {
        Value::Bool(b)
    } else if let Some(x) = v.as_f64() {
        let integer = x.fract() == 0.0 && x.abs() <= MAX_SAFE && !(x == 0.0 && x.is_sign_negative());
        if integer && x >= 0.0 {
            Value::Number(Number::from(x as u64))
        } else if integer {
            Value::Number(Number::from(x as i64))
        } else {
            Number::from_f64(x).map_or(Value::Null, Value::Number)
        }
    } else if let Some(s) = v.as_string() {
        Value::String(s)
    } else if Array::is_array(v) {
        let array: &Array = v.unchecked_ref();
        let mut items = Vec::with_capacity(array.length() as usize);
        for item in array.iter() {
            items.push(json_value(&item)?);
        }
        Value::Array(items)
    } else if v.is_object() && is_plain(v) {
        let mut map = Map::new();
        for key in Object::keys(v.unchecked_ref::<Object>()).iter() {
            let item = Reflect::get(v, &key).unwrap_or(JsValue::UNDEFINED);
            if !is_absent(&item) {
                map.insert(key.as_string().unwrap_or_default(), json_value(&item)?);
            }
        }
        Value::Object(map)
    } else {
        return Err(ApiError::new(
            ErrorCode::InvalidType,
            "invalid type: a JS value with no JSON form (a BigInt, a Map, a class instance, ...)",
        ));
    })
}

/// A plain object (`{…}` or `Object.create(null)`), not a `Map`, `Date` or class instance.
fn is_plain(v: &JsValue) -> bool {
    let proto = Object::get_prototype_of(v);
    proto.is_null() || Object::is(&proto, &Object::get_prototype_of(&Object::new()))
}
