//! The character routes' answers as typed values: the body (`Serialize` with [`RawValue`] members, so the
//! cached equipment and the engine's valuation pass through byte for byte, with no byte surgery), the
//! validator behind the ETag, and `Cache-Control`.
use crate::cache::{sha256_hex, How, Meta};
use crate::error::EdgeError;
use crate::http::CacheHeaders;
use pve_api::valuation::ValuationResponse;
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

/// The derived valuation to cache for `set` (`equipped` or `preset_N`): `{"set":…,"valuation":…}`, the
/// set picked from the engine's typed answer (by its `set` member, not by reading JSON text back), and
/// both written as [`pve_api::handle`] writes the answer (through `serde_json::Value`, keys sorted), so
/// the `valuation` member is byte for byte the CLI's and the engine route's answer.
///
/// # Errors
/// `InvalidQuery` if the character has no such set; `Internal` if the answer does not serialize.
pub fn valued(response: &ValuationResponse, set: &str) -> Result<Vec<u8>, EdgeError> {
    let chosen = response
        .sets
        .iter()
        .find(|s| s.set == set)
        .ok_or_else(|| EdgeError::InvalidQuery(format!("this character has no {set} equipment")))?;
    let internal = |e: serde_json::Error| EdgeError::internal(format!("valuation output: {e}"));
    #[derive(Serialize)]
    struct Computed {
        set: serde_json::Value,
        valuation: serde_json::Value,
    }
    serde_json::to_vec(&Computed {
        set: serde_json::to_value(chosen).map_err(internal)?,
        valuation: serde_json::to_value(response).map_err(internal)?,
    })
    .map_err(internal)
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

/// The query of the character routes: `refresh` (both) and `preset` (the valuation).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    pub preset: Option<u8>,
    pub refresh: bool,
}

/// The parameters `GET …/equipment` takes.
pub const EQUIPMENT_PARAMS: [&str; 1] = ["refresh"];
/// The parameters `GET …/valuation` takes.
pub const VALUATION_PARAMS: [&str; 2] = ["preset", "refresh"];

impl Query {
    /// The parameters as parsed by [`crate::http::Query::parse`] (unknown and repeated ones refused there).
    ///
    /// # Errors
    /// `InvalidQuery` for a `refresh` other than true/false/1/0/empty, or a `preset` other than 1, 2, 3.
    pub fn parse(params: &crate::http::Query) -> Result<Query, EdgeError> {
        let refresh = match params.get("refresh") {
            None | Some("false" | "0" | "") => false,
            Some("true" | "1") => true,
            Some(_) => return Err(EdgeError::InvalidQuery("refresh must be true or false".into())),
        };
        let preset = match params.get("preset") {
            None | Some("") => None,
            Some("1") => Some(1),
            Some("2") => Some(2),
            Some("3") => Some(3),
            Some(_) => return Err(EdgeError::InvalidQuery("preset must be 1, 2 or 3".into())),
        };
        Ok(Query { preset, refresh })
    }

    /// The lookup mode of a client's request: `refresh=true` skips the cached copy, and a stale one still
    /// answers if the load fails.
    pub fn mode(&self, now: u64) -> crate::cache::Mode {
        if self.refresh {
            crate::cache::Mode::Refresh {
                requested_at: now,
                stale_if_error: true,
            }
        } else {
            crate::cache::Mode::Normal
        }
    }

    /// The set the valuation route answers: `equipped`, or `preset_N`.
    pub fn set(&self) -> String {
        self.preset
            .map_or_else(|| "equipped".to_owned(), |p| format!("preset_{p}"))
    }
}

/// A character as a route answers it: who, the copy of its equipment, and the engine's data version.
#[derive(Debug, Clone, Copy)]
pub struct Character<'a> {
    pub name: &'a str,
    pub ocid: &'a str,
    pub meta: &'a Meta,
    pub engine_version: &'a str,
    pub data_version: &'a str,
}

impl<'a> Character<'a> {
    /// The answer's members about the character and the copy, without a payload (`preset` only on the
    /// valuation route).
    pub fn answer(&self, preset: Option<Option<u8>>) -> Answer<'a> {
        Answer {
            character_name: self.name,
            data_version: self.data_version,
            engine_version: self.engine_version,
            equipment_hash: &self.meta.hash,
            fetched_at: crate::time::iso8601(self.meta.fetched_at),
            ocid: self.ocid,
            preset,
            equipment: None,
            set: None,
            valuation: None,
        }
    }

    /// The caching headers of an answer about this copy served `how`; `extra` (the valuation's own hash)
    /// is part of the ETag.
    pub fn headers(
        &self,
        how: How,
        extra: Option<&str>,
        stale_while_revalidate_ms: u64,
        now: u64,
    ) -> CacheHeaders {
        CacheHeaders {
            etag: etag(
                self.name,
                self.ocid,
                self.meta,
                self.engine_version,
                self.data_version,
                extra,
            ),
            cache_status: how.cache_status(Some(self.meta), now),
            cache_control: cache_control(how, self.meta, stale_while_revalidate_ms, now),
            age_s: Some(now.saturating_sub(self.meta.fetched_at) / 1000),
        }
    }
}

fn to_body(answer: &Answer) -> Result<Vec<u8>, EdgeError> {
    serde_json::to_vec(answer).map_err(|e| EdgeError::internal(format!("character answer: {e}")))
}

impl Character<'_> {
    /// `GET …/equipment`'s body: the envelope and the cached equipment (`body`), passed through as is.
    ///
    /// # Errors
    /// `Internal` when the cached equipment is not JSON (we cached it).
    pub fn equipment_body(&self, body: &[u8]) -> Result<Vec<u8>, EdgeError> {
        let equipment = std::str::from_utf8(body)
            .ok()
            .and_then(|b| serde_json::from_str::<&RawValue>(b).ok())
            .ok_or_else(|| EdgeError::internal("cached equipment is not JSON"))?;
        to_body(&Answer {
            equipment: Some(equipment),
            ..self.answer(None)
        })
    }

    /// `GET …/valuation`'s body: the envelope with the preset asked for, and the cached `{set, valuation}`
    /// ([`valued`]) passed through as is.
    ///
    /// # Errors
    /// `Internal` when the cached valuation is not `{set, valuation}` (we cached it).
    pub fn valuation_body(&self, preset: Option<u8>, cached: &[u8]) -> Result<Vec<u8>, EdgeError> {
        let cached = std::str::from_utf8(cached)
            .ok()
            .and_then(|b| serde_json::from_str::<Valued>(b).ok())
            .ok_or_else(|| EdgeError::internal("cached valuation is not {set, valuation}"))?;
        to_body(&Answer {
            set: Some(cached.set),
            valuation: Some(cached.valuation),
            ..self.answer(Some(preset))
        })
    }
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

    #[test]
    fn the_query_of_the_character_routes() {
        let q = |pairs: &[(&str, &str)]| {
            crate::http::Query::parse(pairs.iter().copied(), &VALUATION_PARAMS).and_then(|p| Query::parse(&p))
        };
        assert_eq!(q(&[]).unwrap(), Query::default());
        assert_eq!(
            q(&[("refresh", "1"), ("preset", "2")]).unwrap(),
            Query {
                preset: Some(2),
                refresh: true
            }
        );
        assert_eq!(q(&[("refresh", "")]).unwrap(), Query::default());
        assert_eq!(q(&[("preset", "4")]).unwrap_err().code(), "invalid_query");
        assert_eq!(q(&[("refresh", "yes")]).unwrap_err().code(), "invalid_query");
        assert_eq!(Query::default().set(), "equipped");
        assert_eq!(
            Query {
                preset: Some(3),
                refresh: false
            }
            .set(),
            "preset_3"
        );
    }

    fn character(meta: &crate::cache::Meta) -> Character<'_> {
        Character {
            name: "a",
            ocid: "o",
            meta,
            engine_version: "e",
            data_version: "d",
        }
    }

    #[test]
    fn the_bodies_pass_cached_json_through_and_refuse_what_is_not() {
        let meta = crate::cache::Entry::found(b"{}".to_vec(), 10_000, 60_000, 120_000).meta;
        let c = character(&meta);
        let body = c.equipment_body(br#"{"item_equipment": [ 1.50 ]}"#).unwrap();
        let text = String::from_utf8(body).unwrap();
        assert!(
            text.ends_with(r#""equipment":{"item_equipment": [ 1.50 ]}}"#),
            "{text}"
        );
        assert_eq!(c.equipment_body(b"not json").unwrap_err().code(), "internal");
        let v: serde_json::Value = serde_json::from_slice(
            &c.valuation_body(Some(2), br#"{"set":{"set":"preset_2"},"valuation":{"x":1}}"#)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            (v["preset"].clone(), v["set"]["set"].clone()),
            (serde_json::json!(2), serde_json::json!("preset_2"))
        );
        assert_eq!(c.valuation_body(None, b"{}").unwrap_err().code(), "internal");
        assert_eq!(
            Query {
                preset: None,
                refresh: true
            }
            .mode(5),
            crate::cache::Mode::Refresh {
                requested_at: 5,
                stale_if_error: true
            }
        );
        assert_eq!(Query::default().mode(5), crate::cache::Mode::Normal);
    }

    #[test]
    fn a_copy_answers_with_its_envelope_and_headers() {
        let meta = crate::cache::Entry::found(b"{}".to_vec(), 10_000, 60_000, 120_000).meta;
        let c = character(&meta);
        let answer = serde_json::to_value(c.answer(Some(None))).unwrap();
        assert_eq!(answer["preset"], serde_json::Value::Null);
        assert_eq!(answer["equipment_hash"], meta.hash.as_str());
        assert!(serde_json::to_value(c.answer(None))
            .unwrap()
            .get("preset")
            .is_none());
        let h = c.headers(How::L1, None, 30_000, 13_500);
        assert_eq!(h.etag, etag("a", "o", &meta, "e", "d", None));
        assert_eq!(h.age_s, Some(3));
        assert_ne!(c.headers(How::L1, Some("v"), 30_000, 13_500).etag, h.etag);
    }

    /// Regression (issue 12): the set is picked from pve-api's typed answer, and what is cached is the
    /// engine's own bytes: the `valuation` member equals `pve_api::handle`'s answer byte for byte, the
    /// `set` member its `equipped` set; a missing preset is `invalid_query`.
    #[test]
    fn the_cached_valuation_is_the_engine_answer_and_its_set_picked_by_type() {
        let request = crate::valuation::one_item_character();
        let typed = pve_api::valuation::handle(request).unwrap();
        let bytes = valued(&typed, "equipped").unwrap();
        let cached: Valued = serde_json::from_slice(&bytes).unwrap();
        let engine = pve_api::handle(pve_api::Operation::Valuation, request).unwrap();
        assert_eq!(cached.valuation.get(), engine);
        let sets: serde_json::Value = serde_json::from_str(&engine).unwrap();
        let equipped = sets["sets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["set"] == "equipped")
            .unwrap();
        assert_eq!(cached.set.get(), serde_json::to_string(equipped).unwrap());
        assert_eq!(valued(&typed, "preset_3").unwrap_err().code(), "invalid_query");
    }

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
