//! A serde `Deserializer` over a JS value that reads it the way `serde_json` reads the value's JSON text
//! (`JSON.stringify` of it), so a request gets the same result and the same error code on every edge.
//!
//! Why not `serde_wasm_bindgen::from_value` (its serializer is used for responses): its deserializer reads
//! only the fields a struct declares, so `#[serde(deny_unknown_fields)]` never fires and an unknown field
//! is silently ignored instead of `unknown_field`; and it reports a negative number for an unsigned field
//! as a type mismatch (`invalid_type`) where serde_json reports an invalid value (`out_of_range`). This one
//! is self-describing, like serde_json: every object is visited as a map of all its keys, and every number
//! is visited as serde_json visits the shortest JSON text of it (a non-negative integer as `u64`, a negative
//! one as `i64`, anything else as `f64`). What a JS value cannot tell apart from JSON text stays as JS has
//! it: `200.0` and `2e2` are the integer 200, as `JSON.parse` gives them.
//!
//! Values with no JSON form are treated as `JSON.stringify` treats them: an object key whose value is
//! `undefined` is absent; `undefined` elsewhere is `null`. Anything else that is not JSON data (a function,
//! a `BigInt`, a `Map`, a symbol) is the wrong type.
use js_sys::{Array, Object, Reflect};
use serde::de::{self, DeserializeSeed, IntoDeserializer, Unexpected, Visitor};
use std::fmt;
use wasm_bindgen::{JsCast, JsValue};

/// A deserialization failure: serde's message, classified by `pve_api::ApiError::from_deserialize`.
#[derive(Debug)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

/// Deserialize `T` from a JS value.
pub fn from_value<T: de::DeserializeOwned>(value: JsValue) -> Result<T, Error> {
    T::deserialize(Deserializer(value))
}

/// The largest integer every f64 below it represents exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

pub struct Deserializer(JsValue);

impl Deserializer {
    fn is_plain_object(&self) -> bool {
        self.0.is_object() && !self.0.is_function() && {
            let proto = Object::get_prototype_of(&self.0);
            proto.is_null() || Object::is(&proto, &Object::get_prototype_of(&Object::new()))
        }
    }
}

impl<'de> de::Deserializer<'de> for Deserializer {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let v = &self.0;
        if v.is_null() || v.is_undefined() {
            visitor.visit_unit()
        } else if let Some(b) = v.as_bool() {
            visitor.visit_bool(b)
        } else if let Some(x) = v.as_f64() {
            let integer = x.fract() == 0.0 && x.abs() <= MAX_SAFE && !(x == 0.0 && x.is_sign_negative());
            if integer && x >= 0.0 {
                visitor.visit_u64(x as u64)
            } else if integer {
                visitor.visit_i64(x as i64)
            } else {
                visitor.visit_f64(x)
            }
        } else if let Some(s) = v.as_string() {
            visitor.visit_string(s)
        } else if Array::is_array(v) {
            let array: Array = v.clone().unchecked_into();
            visitor.visit_seq(SeqAccess { array, index: 0 })
        } else if self.is_plain_object() {
            let keys = Object::keys(v.unchecked_ref::<Object>());
            visitor.visit_map(MapAccess {
                object: self.0,
                keys,
                index: 0,
                value: None,
            })
        } else {
            Err(de::Error::invalid_type(
                Unexpected::Other("a JS value with no JSON form"),
                &visitor,
            ))
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.0.is_null() || self.0.is_undefined() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    /// serde_json's forms: `"Variant"` for a unit variant, `{"Variant": payload}` otherwise.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if let Some(s) = self.0.as_string() {
            visitor.visit_enum(s.into_deserializer())
        } else if self.is_plain_object() {
            let keys = Object::keys(self.0.unchecked_ref::<Object>());
            if keys.length() != 1 {
                return Err(de::Error::invalid_value(
                    Unexpected::Map,
                    &"an object with exactly one key (the variant)",
                ));
            }
            visitor.visit_enum(de::value::MapAccessDeserializer::new(MapAccess {
                object: self.0,
                keys,
                index: 0,
                value: None,
            }))
        } else {
            self.deserialize_any(visitor)
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

struct SeqAccess {
    array: Array,
    index: u32,
}

impl<'de> de::SeqAccess<'de> for SeqAccess {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        if self.index >= self.array.length() {
            return Ok(None);
        }
        let v = self.array.get(self.index);
        self.index += 1;
        seed.deserialize(Deserializer(v)).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some((self.array.length() - self.index) as usize)
    }
}

struct MapAccess {
    object: JsValue,
    keys: Array,
    index: u32,
    value: Option<JsValue>,
}

impl<'de> de::MapAccess<'de> for MapAccess {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        while self.index < self.keys.length() {
            let key = self.keys.get(self.index);
            self.index += 1;
            let value = Reflect::get(&self.object, &key).unwrap_or(JsValue::UNDEFINED);
            // JSON.stringify leaves such a key out.
            if value.is_undefined() {
                continue;
            }
            self.value = Some(value);
            let key = key.as_string().unwrap_or_default();
            return seed.deserialize(key.into_deserializer()).map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let value = self.value.take().unwrap_or(JsValue::UNDEFINED);
        seed.deserialize(Deserializer(value))
    }
}
