//! A struct is a JSON object, never an array. serde's derived `Deserialize` for a struct also takes the
//! sequence of its field values, and serde_json offers it one (`deserialize_struct` calls `visit_seq` on
//! `[`): `{"options": {"starforce": []}}` would be read as default star force options, and `[200, 0, 22]`
//! as a star force request. Neither is what the document declares (`type: object`), and neither is a
//! request anyone means. serde has no switch for this (serde-rs/serde#1587, serde-rs/json#1059), so
//! [`Strict`] wraps any deserializer and refuses a sequence wherever a struct (or a struct variant) is
//! asked for, at every depth: `invalid type: sequence, expected struct …`, with serde_json's position.
//!
//! And an integer is a number with no fractional part, as JSON Schema counts it: `194.0` and `1e2` are the
//! integers 194 and 100 wherever an integer is asked for (serde_json alone refuses them: `invalid type:
//! floating point`), so a request the document admits is a request the engine reads. A fractional or
//! non-finite number is forwarded as it is, and refused as before.
//!
//! Everything else is forwarded untouched, so every other answer and message is serde_json's own.
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Unexpected, VariantAccess, Visitor,
};
use std::fmt;

/// A deserializer that reads structs only from maps (module docs).
pub struct Strict<D>(pub D);

/// What the type being read asked for, where that changes how a value is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    Any,
    /// A struct: a map, never a sequence.
    Struct,
    /// An integer: a whole float is read as the integer it is.
    Integer,
}

/// A visitor whose nested values are read through [`Strict`], applying [`Want`].
struct Wrap<V> {
    inner: V,
    want: Want,
}

fn wrap<V>(inner: V) -> Wrap<V> {
    Wrap {
        inner,
        want: Want::Any,
    }
}

fn struct_only<V>(inner: V) -> Wrap<V> {
    Wrap {
        inner,
        want: Want::Struct,
    }
}

fn integer<V>(inner: V) -> Wrap<V> {
    Wrap {
        inner,
        want: Want::Integer,
    }
}

macro_rules! forward_deserialize {
    ($how:ident: $($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            self.0.$method($($arg,)* $how(visitor))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<D> {
    type Error = D::Error;

    forward_deserialize! { integer:
        deserialize_i8(); deserialize_i16(); deserialize_i32(); deserialize_i64(); deserialize_u8();
        deserialize_u16(); deserialize_u32(); deserialize_u64();
    }

    forward_deserialize! { wrap:
        deserialize_any(); deserialize_bool(); deserialize_i128(); deserialize_u128(); deserialize_f32();
        deserialize_f64(); deserialize_char();
        deserialize_str(); deserialize_string(); deserialize_bytes(); deserialize_byte_buf();
        deserialize_option(); deserialize_unit(); deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str); deserialize_seq(); deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize); deserialize_map();
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        deserialize_identifier(); deserialize_ignored_any();
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct(name, fields, struct_only(visitor))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

macro_rules! forward_visit {
    ($($method:ident($ty:ty);)*) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    forward_visit! {
        visit_bool(bool); visit_i8(i8); visit_i16(i16); visit_i32(i32); visit_i64(i64); visit_i128(i128);
        visit_u8(u8); visit_u16(u16); visit_u32(u32); visit_u64(u64); visit_u128(u128); visit_f32(f32);
        visit_char(char); visit_str(&str); visit_borrowed_str(&'de str);
        visit_string(String); visit_bytes(&[u8]); visit_borrowed_bytes(&'de [u8]);
        visit_byte_buf(Vec<u8>);
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<V::Value, E> {
        // A whole float is exactly an integer; within u64's (or, negative, i64's) range `as` keeps it.
        if self.want == Want::Integer && v.fract() == 0.0 {
            if (0.0..18_446_744_073_709_551_616.0).contains(&v) {
                return self.inner.visit_u64(v as u64);
            }
            if (-9_223_372_036_854_775_808.0..0.0).contains(&v) {
                return self.inner.visit_i64(v as i64);
            }
        }
        self.inner.visit_f64(v)
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        self.inner.visit_some(Strict(d))
    }

    fn visit_newtype_struct<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        self.inner.visit_newtype_struct(Strict(d))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        if self.want == Want::Struct {
            return Err(de::Error::invalid_type(Unexpected::Seq, &self));
        }
        self.inner.visit_seq(Access(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(Access(map))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(Access(data))
    }
}

/// A seed whose value is read through [`Strict`].
struct Seed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Strict(d))
    }
}

/// A sequence, map, enum or variant access whose elements are read through [`Strict`].
struct Access<A>(A);

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Access<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Seed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Access<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(Seed(seed))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.0.next_value_seed(Seed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Access<A> {
    type Error = A::Error;
    type Variant = Access<A::Variant>;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, Self::Variant), A::Error> {
        let (value, variant) = self.0.variant_seed(Seed(seed))?;
        Ok((value, Access(variant)))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Access<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.0.newtype_variant_seed(Seed(seed))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, wrap(visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.0.struct_variant(fields, struct_only(visitor))
    }
}

/// `T` from JSON text, strictly ([`Strict`]), with nothing but whitespace after it.
///
/// # Errors
/// serde_json's error, or a sequence where a struct belongs.
#[cfg(feature = "json")]
pub fn from_str<T: serde::de::DeserializeOwned>(json: &str) -> serde_json::Result<T> {
    let mut de = serde_json::Deserializer::from_str(json);
    let value = T::deserialize(Strict(&mut de))?;
    de.end()?;
    Ok(value)
}

/// `T` from a JSON tree, strictly ([`Strict`]).
///
/// # Errors
/// serde_json's error, or an array where a struct belongs.
#[cfg(feature = "json")]
pub fn from_value<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> serde_json::Result<T> {
    T::deserialize(Strict(value))
}

#[cfg(all(test, feature = "json"))]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        #[serde(default)]
        a: u32,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        inner: Option<Inner>,
        #[serde(default)]
        list: Vec<Inner>,
        #[serde(default)]
        pair: Option<(u32, String)>,
        #[serde(default)]
        choice: Option<Choice>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Choice {
        Plain,
        Wrapped(Inner),
        Shape { b: u32 },
    }

    #[test]
    fn serde_json_alone_reads_a_struct_from_an_array() {
        // The behaviour this module exists for: if serde_json ever refuses it, Strict is no longer needed.
        let lax: Outer = serde_json::from_str(r#"{"inner": []}"#).unwrap();
        assert_eq!(lax.inner, Some(Inner { a: 0 }));
    }

    #[test]
    fn a_struct_at_any_depth_must_be_an_object() {
        for json in [
            r#"[null]"#,
            r#"{"inner": []}"#,
            r#"{"inner": [5]}"#,
            r#"{"list": [{"a": 1}, []]}"#,
            r#"{"choice": {"wrapped": []}}"#,
            r#"{"choice": {"shape": [1]}}"#,
        ] {
            let e = from_str::<Outer>(json).unwrap_err();
            assert!(
                e.to_string()
                    .starts_with("invalid type: sequence, expected struct"),
                "{json}: {e}"
            );
            assert!(e.to_string().contains("at line 1 column"), "{json}: {e}");
            let e = from_value::<Outer>(serde_json::from_str(json).unwrap()).unwrap_err();
            assert!(
                e.to_string()
                    .starts_with("invalid type: sequence, expected struct"),
                "{json}: {e}"
            );
        }
    }

    #[test]
    fn everything_else_reads_as_before() {
        let json =
            r#"{"inner": {"a": 3}, "list": [{}, {"a": 2}], "pair": [1, "x"], "choice": {"shape": {"b": 4}}}"#;
        let strict: Outer = from_str(json).unwrap();
        assert_eq!(strict, serde_json::from_str::<Outer>(json).unwrap());
        assert_eq!(strict.pair, Some((1, "x".to_owned())));
        assert_eq!(
            from_str::<Outer>(r#"{"choice": "plain"}"#).unwrap().choice,
            Some(Choice::Plain)
        );
        for bad in [
            r#"{"inner": {"b": 1}}"#,
            r#"{"inner": {"a": -1}}"#,
            r#"{"inner": {"a": 1}} x"#,
            r#"{"#,
        ] {
            assert_eq!(
                from_str::<Outer>(bad).unwrap_err().to_string(),
                serde_json::from_str::<Outer>(bad).unwrap_err().to_string(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_whole_float_is_an_integer() {
        #[derive(Debug, Deserialize)]
        struct N {
            a: u32,
            b: i64,
            c: Option<u8>,
        }
        let n: N = from_str(r#"{"a": 194.0, "b": -3e2, "c": 2.0}"#).unwrap();
        assert_eq!((n.a, n.b, n.c), (194, -300, Some(2)));
        for (json, code) in [
            (
                r#"{"a": 1.5, "b": 0}"#,
                "invalid type: floating point `1.5`, expected u32",
            ),
            (
                r#"{"a": -1.0, "b": 0}"#,
                "invalid value: integer `-1`, expected u32",
            ),
            (
                r#"{"a": 5e9, "b": 0}"#,
                "invalid value: integer `5000000000`, expected u32",
            ),
            (
                r#"{"a": 1e300, "b": 0}"#,
                "invalid type: floating point `1e+300`, expected u32",
            ),
            (
                r#"{"a": 0, "b": 1e19}"#,
                "invalid value: integer `10000000000000000000`, expected i64",
            ),
            (
                r#"{"a": 0, "b": 0, "c": 256.0}"#,
                "invalid value: integer `256`, expected u8",
            ),
        ] {
            let e = from_str::<N>(json).unwrap_err().to_string();
            assert!(e.starts_with(code), "{json}: {e}");
        }
        // A float field still takes a float, and a whole one stays a float.
        #[derive(Debug, Deserialize)]
        struct F {
            x: f64,
        }
        assert_eq!(
            from_str::<F>(r#"{"x": 2.0}"#).unwrap().x.to_bits(),
            2.0f64.to_bits()
        );
    }

    #[test]
    fn requests_refuse_arrays_for_objects() {
        use crate::ErrorCode;
        let e = crate::parse_request::<crate::starforce::StarforceRequest>("[200, 0, 22]").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidType, "{e}");
        let e = crate::parse_request::<crate::starforce::StarforceRequest>(
            r#"{"item_level": 200, "from_star": 0, "to_star": 22, "events": []}"#,
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidType, "{e}");
        // The valuation's wrapper is read from a tree (`from_value`): its options are objects too.
        let e = crate::valuation::parse(r#"{"equipment": {}, "options": {"starforce": []}}"#)
            .and_then(|v| crate::valuation::split(v).map(|_| ()))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidType, "{e}");
        assert!(e.message.contains("sequence"), "{e}");
    }
}
