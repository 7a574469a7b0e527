//! The character routes' answers as typed values: the body (`Serialize` with [`RawValue`] members, so the
//! cached equipment and the engine's valuation pass through byte for byte, with no byte surgery), the
//! validator behind the ETag, and `Cache-Control`.
use crate::cache::{sha256_hex, How, Meta};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A derived valuation as cached: one set of it (`equipped` or `preset_N`) and the whole valuation.
#[derive(Debug, Serialize, Deserialize)]
pub struct Valued<'a> {
    #[serde(borrow)]
    pub set: &'a RawValue,
    #[serde(borrow)]
    pub valuation: &'a RawValue,
}

/// The body of `GET /v1/characters/{name}/equipment` and `…/valuation`. Members in this (alphabetical)
/// order, the payload last.
#[derive(Debug, Serialize)]
pub struct Answer<'a> {
    pub character_name: &'a str,
    pub data_version: &'a str,
    pub engine_version: &'a str,
    pub equipment_hash: &'a str,
    pub fetched_at: String,
    pub ocid: &'a str,
    /// The valuation route only: the preset asked for (`null` for the equipped set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<Option<u8>>,
    #[serde(skip_serializing_if = "Option::is_none", borrow)]
    pub equipment: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none", borrow)]
    pub set: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none", borrow)]
    pub valuation: Option<&'a RawValue>,
}

/// What a character answer's ETag covers: who, which copy, which engine and data, and `extra` (the
/// valuation's own hash). A strong ETag of 32 hex characters.
pub fn etag(
    name: &str,
    ocid: &str,
    meta: &Meta,
    engine: &str,
    data_version: &str,
    extra: Option<&str>,
) -> String {
    let validator = format!(
        "{name}\n{ocid}\n{}\n{}\n{engine}\n{data_version}\n{}",
        meta.hash,
        meta.fetched_at,
        extra.unwrap_or("")
    );
    format!("\"{}\"", &sha256_hex(validator.as_bytes())[..32])
}

/// `Cache-Control` of a character answer: a stale answer must be revalidated; otherwise the copy's
/// remaining freshness, the stale-while-revalidate window and its stale-if-error window.
pub fn cache_control(how: How, meta: &Meta, stale_while_revalidate_ms: u64, now: u64) -> String {
    match how {
        How::StaleRevalidating | How::StaleOnError => "public, max-age=0, must-revalidate".to_owned(),
        _ => format!(
            "public, max-age={}, stale-while-revalidate={}, stale-if-error={}",
            meta.fresh_until.saturating_sub(now) / 1000,
            stale_while_revalidate_ms / 1000,
            meta.stale_until.saturating_sub(meta.fresh_until) / 1000
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Kind;

    fn raw(s: &str) -> &RawValue {
        serde_json::from_str(s).unwrap()
    }

    /// The bytes equal what the Worker assembled by hand before (a `serde_json::Map` printed, its closing
    /// brace cut, the payload appended): the payload's bytes pass through exactly, floats included.
    #[test]
    fn answers_pass_payloads_through_byte_for_byte() {
        let equipment = r#"{"item_equipment":[{"x":0.30000000000000004}],"a":1e300}"#;
        let base = || Answer {
            character_name: "에반",
            data_version: "flame:f,potential:p",
            engine_version: "e1",
            equipment_hash: "h",
            fetched_at: "2026-12-02T00:00:00.000Z".into(),
            ocid: "abc",
            preset: None,
            equipment: None,
            set: None,
            valuation: None,
        };
        let old_envelope = |preset: Option<Option<u8>>| {
            let mut m = serde_json::Map::new();
            m.insert("character_name".into(), "에반".into());
            m.insert("ocid".into(), "abc".into());
            if let Some(p) = preset {
                m.insert("preset".into(), p.into());
            }
            m.insert("equipment_hash".into(), "h".into());
            m.insert("fetched_at".into(), "2026-12-02T00:00:00.000Z".into());
            m.insert("engine_version".into(), "e1".into());
            m.insert("data_version".into(), "flame:f,potential:p".into());
            let mut out = serde_json::Value::Object(m).to_string();
            out.pop();
            out
        };
        let got = serde_json::to_string(&Answer {
            equipment: Some(raw(equipment)),
            ..base()
        })
        .unwrap();
        assert_eq!(got, format!("{},\"equipment\":{equipment}}}", old_envelope(None)));

        let valuation = r#"{"sets":[{"set":"equipped","total":1.5}],"x":[]}"#;
        let cached = serde_json::to_string(&Valued {
            set: raw(r#"{"set":"equipped","total":1.5}"#),
            valuation: raw(valuation),
        })
        .unwrap();
        assert_eq!(
            cached,
            format!("{{\"set\":{{\"set\":\"equipped\",\"total\":1.5}},\"valuation\":{valuation}}}")
        );
        let v: Valued = serde_json::from_str(&cached).unwrap();
        for preset in [None, Some(2)] {
            let got = serde_json::to_string(&Answer {
                preset: Some(preset),
                set: Some(v.set),
                valuation: Some(v.valuation),
                ..base()
            })
            .unwrap();
            assert_eq!(got, format!("{},{}", old_envelope(Some(preset)), &cached[1..]));
        }
    }

    #[test]
    fn etags_and_cache_control() {
        let meta = Meta::new(Kind::Found, 1_000, 61_000, 361_000, "h".into());
        let a = etag("n", "o", &meta, "e", "d", None);
        assert_eq!(a.len(), 34);
        assert_eq!(a, format!("\"{}\"", &sha256_hex(b"n\no\nh\n1000\ne\nd\n")[..32]));
        assert_ne!(a, etag("n", "o", &meta, "e", "d", Some("v")));
        assert_ne!(a, etag("n", "o", &meta, "e", "d2", None));
        assert_eq!(
            cache_control(How::L1, &meta, 30_000, 1_000),
            "public, max-age=60, stale-while-revalidate=30, stale-if-error=300"
        );
        assert_eq!(
            cache_control(How::StaleOnError, &meta, 30_000, 1_000),
            "public, max-age=0, must-revalidate"
        );
        assert_eq!(
            cache_control(How::StaleRevalidating, &meta, 30_000, 1_000),
            "public, max-age=0, must-revalidate"
        );
        // past fresh but answered from the origin: no negative max-age
        assert!(cache_control(How::L2, &meta, 0, 100_000).starts_with("public, max-age=0,"));
    }
}
