//! Canonical JSON: object keys sorted, no insignificant whitespace, numbers as serde_json prints them.
//! Two documents that mean the same get the same bytes, so a hash of the canonical form is a cache key
//! (engine requests) or a content hash (equipment). A document with a duplicate key has no canonical form
//! (the engine's strict parser may treat it differently from the de-duplicated one), so it is refused.
//! Hashes are [`super::sha256_hex`].
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// Canonical bytes of `json`, or why it has none (not JSON, or a duplicate key).
pub fn canonicalize(json: &[u8]) -> Result<Vec<u8>, String> {
    let value: Canon = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    serde_json::to_vec(&value).map_err(|e| e.to_string())
}

enum Canon {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Canon>),
    Object(BTreeMap<String, Canon>),
}

impl<'de> Deserialize<'de> for Canon {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Canon, D::Error> {
        d.deserialize_any(CanonVisitor)
    }
}

struct CanonVisitor;

impl<'de> Visitor<'de> for CanonVisitor {
    type Value = Canon;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Canon, E> {
        Ok(Canon::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Canon, E> {
        Ok(Canon::Bool(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Canon, E> {
        Ok(Canon::Number(v.into()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Canon, E> {
        Ok(Canon::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Canon, E> {
        serde_json::Number::from_f64(v)
            .map(Canon::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Canon, E> {
        Ok(Canon::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Canon, E> {
        Ok(Canon::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Canon, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Canon::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Canon, A::Error> {
        let mut object = BTreeMap::new();
        while let Some((key, value)) = map.next_entry::<String, Canon>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate key {key:?}")));
            }
            object.insert(key, value);
        }
        Ok(Canon::Object(object))
    }
}

impl Serialize for Canon {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Canon::Null => s.serialize_unit(),
            Canon::Bool(b) => s.serialize_bool(*b),
            Canon::Number(n) => n.serialize(s),
            Canon::String(v) => s.serialize_str(v),
            Canon::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Canon::Object(object) => {
                let mut map = s.serialize_map(Some(object.len()))?;
                for (k, v) in object {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expect: Result<&str, ()>) {
        let got = canonicalize(input.as_bytes())
            .map(|b| String::from_utf8(b).unwrap())
            .map_err(|_| ());
        assert_eq!(got.as_deref().map_err(|_| ()), expect, "input {input}");
    }

    #[test]
    fn cases() {
        check(
            r#"{"b":1, "a":[true,null,"x"]}"#,
            Ok(r#"{"a":[true,null,"x"],"b":1}"#),
        );
        check(r#" { "z" : { "y":2,"x":1 } } "#, Ok(r#"{"z":{"x":1,"y":2}}"#));
        check(r#"{"level":200}"#, Ok(r#"{"level":200}"#));
        check(r#"{"level":200.0}"#, Ok(r#"{"level":200.0}"#));
        check(r#"{"level":-3}"#, Ok(r#"{"level":-3}"#));
        check(r#""에반""#, Ok(r#""에반""#));
        check(r#"{"a":1,"a":2}"#, Err(()));
        check(r#"{"a":1"#, Err(()));
        check("", Err(()));
    }
}
