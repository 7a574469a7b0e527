//! The tiered cache in front of the Nexon Open API: what is cached, how it is keyed and stamped, and which
//! tier answers ([`tier::decide`]). The Worker's `cache/` does only the I/O a [`tier::Step`] names.
//!
//! A lookup tries, in order: **L1** (an isolate's memory, [`l1`]), **L2** (Workers KV, value + [`Meta`]
//! `{version, kind, fetched_at, fresh_until, stale_until, hash, generation}`), then the **single-flight**
//! Durable Object of the key, whose leader is the only caller of the upstream and the only writer of KV.
//! Past `fresh_until` but within the stale-while-revalidate window, a copy is answered at once and refreshed
//! in the background; when a load fails, a copy within `stale_until` answers (stale-if-error). Unknown
//! characters are cached as `not_found` entries for a short time; upstream 429s, 5xx and timeouts are never
//! cached.
pub mod canonical;
pub mod isolate;
pub mod l1;
pub mod lookup;
pub mod tier;

use crate::config::Config;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::rc::Rc;

/// Bump when the meaning of cached bytes changes: older entries are then ignored.
pub const FORMAT_VERSION: u32 = 1;
/// KV refuses expiration TTLs below 60 s.
pub const KV_MIN_TTL_S: u64 = 60;
/// Derived values (engine answers, valuations) stay in KV this long; their keys carry every version.
pub const DERIVED_TTL_MS: u64 = 7 * 86_400_000;

/// SHA-256 of `data`, in lower-case hex: content hashes and the base of ETags.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// The engine reports no version for a module with game data: in the Worker (bundled data) that is a
/// build defect, and a cache key without it would mix answers of different data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataVersionError {
    pub module: &'static str,
}

impl fmt::Display for DataVersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the engine reports no {} data version", self.module)
    }
}

impl std::error::Error for DataVersionError {}

/// The version of the engine's game data as one string, `flame:…,potential:…` (module names sorted):
/// part of derived cache keys and of answers.
///
/// # Errors
/// [`DataVersionError`] when a module has no version (its data is not installed): never a placeholder
/// in a key.
pub fn data_version(v: &pve_api::Version) -> Result<String, DataVersionError> {
    let potential = v
        .data_versions
        .potential
        .ok_or(DataVersionError { module: "potential" })?;
    Ok(format!("flame:{},potential:{potential}", v.data_versions.flame))
}

/// The engine + data part of the keys of derived values (engine answers, valuations).
pub fn engine_tag(data_version: &str) -> String {
    format!("{}+{data_version}", pve_api::ENGINE_VERSION)
}

thread_local! {
    /// The engine reports one data version per module with game data (`pve_api::version`): all of them,
    /// read once (they cannot change while the module lives).
    static BUNDLED: Result<String, DataVersionError> = data_version(&pve_api::version());
}

/// The version of the game data of the engine this build runs, as one string ([`data_version`]): part of
/// derived cache keys and of answers.
///
/// # Errors
/// `Internal` when the engine reports no version for a module (the bundled data did not decode: a build
/// defect). Never a placeholder: a key without the data version would mix answers of different data.
pub fn bundled_data_version() -> Result<String, crate::error::EdgeError> {
    BUNDLED.with(|v| {
        v.clone()
            .map_err(|e| crate::error::EdgeError::internal(e.to_string()))
    })
}

/// The engine + data part of the keys of derived values (engine answers, valuations) for the engine this
/// build runs.
///
/// # Errors
/// As [`bundled_data_version`].
pub fn bundled_engine_tag() -> Result<String, crate::error::EdgeError> {
    Ok(engine_tag(&bundled_data_version()?))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Found,
    /// The upstream said this character does not exist (negative cache entry, empty body).
    NotFound,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Found => "found",
            Kind::NotFound => "not_found",
        }
    }
}

/// What KV stores next to the value (its `metadata`, well under KV's 1 KiB limit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub version: u32,
    pub kind: Kind,
    pub fetched_at: u64,
    pub fresh_until: u64,
    pub stale_until: u64,
    /// SHA-256 (hex) of the body: the content hash, and the base of ETags.
    pub hash: String,
    /// The character's purge generation the load was started under ([`crate::purge`]); 0 before any
    /// purge and in entries written before purges existed.
    #[serde(default)]
    pub generation: u64,
}

impl Meta {
    pub fn new(kind: Kind, fetched_at: u64, fresh_until: u64, stale_until: u64, hash: String) -> Meta {
        Meta {
            version: FORMAT_VERSION,
            kind,
            fetched_at,
            fresh_until,
            stale_until,
            hash,
            generation: 0,
        }
    }
}

#[derive(Debug, PartialEq)]
pub struct Entry {
    pub meta: Meta,
    pub body: Vec<u8>,
}

impl Entry {
    pub fn found(body: Vec<u8>, now: u64, fresh_ms: u64, stale_ms: u64) -> Entry {
        let hash = sha256_hex(&body);
        Entry {
            meta: Meta::new(
                Kind::Found,
                now,
                now + fresh_ms,
                now + stale_ms.max(fresh_ms),
                hash,
            ),
            body,
        }
    }

    pub fn not_found(now: u64, ttl_ms: u64) -> Entry {
        Entry {
            meta: Meta::new(Kind::NotFound, now, now + ttl_ms, now + ttl_ms, String::new()),
            body: Vec::new(),
        }
    }

    /// What a KV read gave, as an entry: a missing value, missing metadata or another format version is
    /// a miss.
    pub fn from_kv(body: Option<Vec<u8>>, meta: Option<Meta>) -> Option<Entry> {
        match (body, meta) {
            (Some(body), Some(meta)) if meta.version == FORMAT_VERSION => Some(Entry { meta, body }),
            _ => None,
        }
    }

    /// KV's expiration TTL for this entry written at `now`: until `stale_until`, at least KV's minimum.
    pub fn kv_ttl_s(&self, now: u64) -> u64 {
        self.meta
            .stale_until
            .saturating_sub(now)
            .div_ceil(1000)
            .max(KV_MIN_TTL_S)
    }

    pub fn is_fresh(&self, now: u64) -> bool {
        now < self.meta.fresh_until
    }

    /// Within the error window: may answer when the upstream cannot.
    pub fn is_usable_stale(&self, now: u64) -> bool {
        now < self.meta.stale_until
    }
}

/// Something loaded from the upstream, and its cache key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Resource {
    /// name → ocid (`GET /maplestory/v1/id?character_name=`).
    Ocid { name: String },
    /// ocid → item equipment (`GET /maplestory/v1/character/item-equipment?ocid=`).
    Equipment { ocid: String },
}

impl Resource {
    /// The cache key: also the KV key and the name of the single-flight Durable Object.
    pub fn key(&self) -> String {
        match self {
            Resource::Ocid { name } => format!("v{FORMAT_VERSION}:ocid:{name}"),
            Resource::Equipment { ocid } => format!("v{FORMAT_VERSION}:equipment:{ocid}"),
        }
    }

    /// The key of character `name`'s ocid: also the name of the object that holds its purge generation.
    pub fn ocid_key(name: &str) -> String {
        Resource::Ocid {
            name: name.to_owned(),
        }
        .key()
    }

    /// (fresh, stale) windows in milliseconds.
    pub fn windows(&self, cfg: &Config) -> (u64, u64) {
        match self {
            Resource::Ocid { .. } => (cfg.ocid_fresh_ms, cfg.ocid_stale_ms),
            Resource::Equipment { .. } => (cfg.equipment_fresh_ms, cfg.equipment_stale_ms),
        }
    }

    /// Whether the single-flight object of this resource is the authority of the character's purge
    /// generation (a name's ocid object), so a load needs not be told it.
    pub fn is_generation_authority(&self) -> bool {
        matches!(self, Resource::Ocid { .. })
    }
}

/// The key prefix of a character's derived valuations (deleted by a purge).
pub fn valuation_prefix(ocid: &str) -> String {
    format!("v{FORMAT_VERSION}:valuation:{ocid}:")
}

/// The key of a derived valuation: ocid, equipment content hash, engine + data versions, set.
pub fn valuation_key(ocid: &str, equipment_hash: &str, engine_tag: &str, set: &str) -> String {
    format!("{}{equipment_hash}:{engine_tag}:{set}", valuation_prefix(ocid))
}

/// The key of a derived engine answer: operation, engine + data versions, hash of the canonical request.
pub fn engine_key(op: &str, engine_tag: &str, canonical_request: &[u8]) -> String {
    format!(
        "v{FORMAT_VERSION}:engine:{op}:{engine_tag}:{}",
        sha256_hex(canonical_request)
    )
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    Normal,
    /// `refresh=true`: skip the cached copy; accept only a copy fetched at or after `requested_at` minus the
    /// refresh window (so concurrent and repeated refreshes share one upstream call). When the load fails,
    /// a stale copy answers only if `stale_if_error` (the watch sweep wants the current copy or the error).
    Refresh {
        requested_at: u64,
        stale_if_error: bool,
    },
}

/// How a lookup was answered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum How {
    L1,
    L2,
    /// Loaded through the single-flight Durable Object: `collapsed` when another request's load (or its
    /// just-finished result) answered; `forced` for `refresh=true`.
    Origin {
        collapsed: bool,
        forced: bool,
    },
    /// Past fresh, within the stale-while-revalidate window: answered at once, refreshed in the background.
    StaleRevalidating,
    /// The load failed; a copy within the error window answered.
    StaleOnError,
    /// A derived value computed by this request.
    Computed,
}

impl How {
    /// The tier name used in `Cache-Status` and in the log line.
    pub fn tier(self) -> &'static str {
        match self {
            How::L1 => "l1",
            How::L2 => "l2",
            How::Origin { .. } | How::Computed => "origin",
            How::StaleRevalidating | How::StaleOnError => "stale",
        }
    }

    fn rank(self) -> u8 {
        match self {
            How::L1 => 0,
            How::L2 => 1,
            How::Origin { .. } | How::Computed => 2,
            How::StaleRevalidating => 3,
            How::StaleOnError => 4,
        }
    }

    /// Of two lookups behind one answer, the one that says most (stale over origin over L2 over L1).
    pub fn worst(self, other: How) -> How {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }

    /// An RFC 9211 `Cache-Status` value. `ttl` is the remaining freshness in seconds (negative: stale).
    pub fn cache_status(self, entry_meta: Option<&Meta>, now: u64) -> String {
        let ttl = entry_meta
            .filter(|m| m.fresh_until < u64::MAX / 2)
            .map(|m| format!("; ttl={}", (m.fresh_until as i64 - now as i64).div_euclid(1000)))
            .unwrap_or_default();
        let params = match self {
            How::L1 | How::L2 | How::StaleRevalidating => format!("hit{ttl}"),
            How::Origin { collapsed, forced } => format!(
                "fwd={}; stored{}{ttl}",
                if forced { "request" } else { "miss" },
                if collapsed { "; collapsed" } else { "" }
            ),
            How::StaleOnError => format!("fwd=stale{ttl}"),
            How::Computed => "fwd=miss; stored".to_owned(),
        };
        format!("pve; {params}; detail={}", self.tier())
    }
}

/// An entry and how it was obtained.
#[derive(Debug, Clone)]
pub struct Served {
    pub entry: Rc<Entry>,
    pub how: How,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(fresh_until: u64) -> Meta {
        Meta::new(Kind::Found, 0, fresh_until, fresh_until + 10_000, "h".into())
    }

    #[test]
    fn cache_status_values() {
        let m = meta(61_000);
        assert_eq!(
            How::L1.cache_status(Some(&m), 1_000),
            "pve; hit; ttl=60; detail=l1"
        );
        assert_eq!(
            How::L2.cache_status(Some(&m), 1_000),
            "pve; hit; ttl=60; detail=l2"
        );
        assert_eq!(
            How::Origin {
                collapsed: false,
                forced: false
            }
            .cache_status(Some(&m), 1_000),
            "pve; fwd=miss; stored; ttl=60; detail=origin"
        );
        assert_eq!(
            How::Origin {
                collapsed: true,
                forced: true
            }
            .cache_status(Some(&m), 1_000),
            "pve; fwd=request; stored; collapsed; ttl=60; detail=origin"
        );
        assert_eq!(
            How::StaleRevalidating.cache_status(Some(&m), 63_500),
            "pve; hit; ttl=-3; detail=stale"
        );
        assert_eq!(
            How::StaleOnError.cache_status(Some(&m), 63_500),
            "pve; fwd=stale; ttl=-3; detail=stale"
        );
        assert_eq!(
            How::Computed.cache_status(None, 0),
            "pve; fwd=miss; stored; detail=origin"
        );
    }

    #[test]
    fn worst_prefers_what_says_most() {
        let origin = How::Origin {
            collapsed: false,
            forced: false,
        };
        assert_eq!(How::L1.worst(How::L2), How::L2);
        assert_eq!(How::L2.worst(How::L1), How::L2);
        assert_eq!(origin.worst(How::L2), origin);
        assert_eq!(How::Computed.worst(How::StaleOnError), How::StaleOnError);
        assert_eq!(How::StaleOnError.worst(How::StaleRevalidating), How::StaleOnError);
    }

    #[test]
    fn keys_carry_the_format_version() {
        assert_eq!(
            Resource::Ocid {
                name: "에반".into()
            }
            .key(),
            "v1:ocid:에반"
        );
        assert_eq!(Resource::ocid_key("에반"), "v1:ocid:에반");
        assert_eq!(
            Resource::Equipment { ocid: "abc".into() }.key(),
            "v1:equipment:abc"
        );
        assert_eq!(
            valuation_key("abc", "h", "e+d", "preset_2"),
            "v1:valuation:abc:h:e+d:preset_2"
        );
        assert!(valuation_key("abc", "h", "t", "equipped").starts_with(&valuation_prefix("abc")));
        assert_eq!(
            engine_key("starforce", "e+d", b"{}"),
            format!("v1:engine:starforce:e+d:{}", sha256_hex(b"{}"))
        );
    }

    #[test]
    fn entries_know_fresh_and_stale() {
        let e = Entry::found(b"{}".to_vec(), 1000, 10, 100);
        assert!(e.is_fresh(1009) && !e.is_fresh(1010));
        assert!(e.is_usable_stale(1099) && !e.is_usable_stale(1100));
        let n = Entry::not_found(1000, 50);
        assert!(n.is_fresh(1049) && !n.is_usable_stale(1050));
        // the stale window is never shorter than the fresh one
        let e = Entry::found(b"x".to_vec(), 0, 100, 10);
        assert_eq!(e.meta.stale_until, 100);
    }

    #[test]
    fn sha256_hex_is_the_standard_digest() {
        // FIPS 180-2 test vector "abc".
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            Entry::found(b"abc".to_vec(), 0, 1, 1).meta.hash,
            sha256_hex(b"abc")
        );
    }

    #[test]
    fn kv_reads_and_ttls() {
        let m = meta(5_000);
        assert_eq!(
            Entry::from_kv(Some(b"x".to_vec()), Some(m.clone())),
            Some(Entry {
                meta: m.clone(),
                body: b"x".to_vec()
            })
        );
        assert_eq!(Entry::from_kv(None, Some(m.clone())), None);
        assert_eq!(Entry::from_kv(Some(b"x".to_vec()), None), None);
        let other = Meta {
            version: FORMAT_VERSION + 1,
            ..m
        };
        assert_eq!(Entry::from_kv(Some(b"x".to_vec()), Some(other)), None);
        // KV's TTL: until stale_until, rounded up to seconds, never below KV's minimum
        let e = Entry::found(b"x".to_vec(), 0, 1_000, 600_001);
        assert_eq!(e.kv_ttl_s(0), 601);
        assert_eq!(e.kv_ttl_s(600_000), KV_MIN_TTL_S);
        assert_eq!(e.kv_ttl_s(10_000_000), KV_MIN_TTL_S);
    }

    #[test]
    fn data_version_names_every_module_or_fails() {
        let v = pve_api::Version {
            engine_version: pve_api::ENGINE_VERSION,
            data_versions: pve_api::DataVersions {
                potential: Some("p1"),
                flame: "f1",
            },
        };
        assert_eq!(data_version(&v).as_deref(), Ok("flame:f1,potential:p1"));
        assert_eq!(
            engine_tag("flame:f1,potential:p1"),
            format!("{}+flame:f1,potential:p1", pve_api::ENGINE_VERSION)
        );
        let unloaded = pve_api::Version {
            data_versions: pve_api::DataVersions {
                potential: None,
                flame: "f1",
            },
            ..v
        };
        assert_eq!(
            data_version(&unloaded),
            Err(DataVersionError { module: "potential" })
        );
    }

    #[test]
    fn the_bundled_version_is_the_engines_report_once_its_data_is_installed() {
        pve_api::potential::install_potential_data(include_bytes!("../../../engine/data/potential.bin"))
            .unwrap();
        let expected = data_version(&pve_api::version()).unwrap();
        assert_eq!(bundled_data_version().unwrap(), expected);
        assert_eq!(bundled_engine_tag().unwrap(), engine_tag(&expected));
    }

    /// The string is the one the Worker built from `pve version`'s JSON before (every module of
    /// `data_versions`, sorted, `module:version`), so existing cache keys keep their meaning.
    #[test]
    fn data_version_matches_the_engines_version_report() {
        pve_api::potential::install_potential_data(include_bytes!("../../../engine/data/potential.bin"))
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&pve_api::version_json()).unwrap();
        let from_json = v["data_versions"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(module, version)| format!("{module}:{}", version.as_str().unwrap()))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(data_version(&pve_api::version()).unwrap(), from_json);
    }
}
