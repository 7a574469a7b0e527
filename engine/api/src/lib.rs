//! # pve-api
//!
//! The single request/response schema of the product. The CLI (`pve`), the Worker's HTTP API and the
//! browser's Wasm API all call [`handle`] with the same JSON and get the same bytes back.
//!
//! This crate owns serialization (serde DTOs) and validation: a DTO becomes a validated engine value with
//! `TryFrom`, and every failure is an [`ApiError`] with a stable machine-readable `code`. It knows JSON but
//! nothing about HTTP or JavaScript; mapping an error to a status code is the Worker's job.

mod error;
pub mod flame;
pub mod message;
pub mod potential;
#[cfg(feature = "schema")]
pub mod schema;
pub mod starforce;
pub mod strict;
pub mod valuation;

pub use error::{ApiError, ErrorCode};

/// The engine computations that the edges expose. The string form is the CLI subcommand and the last
/// segment of the HTTP route (`POST /v1/<op>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Starforce,
    Potential,
    Flame,
    Valuation,
}

impl Operation {
    pub const ALL: &'static [Operation] = &[
        Operation::Starforce,
        Operation::Potential,
        Operation::Flame,
        Operation::Valuation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Starforce => "starforce",
            Operation::Potential => "potential",
            Operation::Flame => "flame",
            Operation::Valuation => "valuation",
        }
    }

    pub fn parse(s: &str) -> Option<Operation> {
        Self::ALL.iter().copied().find(|op| op.as_str() == s)
    }

    /// One line for `pve --help`.
    pub fn summary(self) -> &'static str {
        match self {
            Operation::Starforce => "expected cost, risk and distribution of star force enhancement",
            Operation::Potential => "probability and cost of reaching potential lines with cubes / resets",
            Operation::Flame => "probability and expected number of flames to reach a flame score",
            Operation::Valuation => "what a character's equipment cost to make (Nexon item-equipment JSON)",
        }
    }
}

/// Parse `request_json`, compute, and serialize the response (each operation's `handle`, which is its
/// `compute` on the strictly parsed request). Deterministic: the same input gives the
/// same output bytes on every platform.
///
/// # Errors
/// [`ApiError`] with a specific code for malformed JSON, unknown or mistyped fields and out-of-range values.
#[cfg(feature = "json")]
pub fn handle(op: Operation, request_json: &str) -> Result<String, ApiError> {
    let value = match op {
        Operation::Starforce => to_value(starforce::handle(request_json)?)?,
        Operation::Potential => to_value(potential::handle(request_json)?)?,
        Operation::Flame => to_value(flame::handle(request_json)?)?,
        Operation::Valuation => to_value(valuation::handle(request_json)?)?,
    };
    serde_json::to_string(&value).map_err(ApiError::serialize)
}

#[cfg(feature = "json")]
fn to_value<T: serde::Serialize>(v: T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(v).map_err(ApiError::serialize)
}

/// Deserialize a request strictly (every struct from an object, never from an array: [`strict`]), mapping
/// serde's failures onto our error codes. Public so that every edge parses every JSON body with this one
/// classification (the Worker's own bodies included), and the same bad body gets the same code on every
/// route.
///
/// # Errors
/// [`ApiError`]: `malformed_json` when the text is not JSON at all (checked first), else `unknown_field`,
/// `missing_field`, `unknown_variant`, `out_of_range` (serde's "invalid value") or `invalid_type`.
#[cfg(feature = "json")]
pub fn parse_request<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, ApiError> {
    strict::from_str(json).map_err(|e| {
        // Typed deserialization stops at the first mismatch, which may come before a syntax error further
        // on; and serde_json reports some type mismatches (a number where an enum's string belongs) as
        // syntax errors. So the JSON itself decides between malformed and misshapen.
        if let Err(syntax) = serde_json::from_str::<serde::de::IgnoredAny>(json) {
            return ApiError::new(ErrorCode::MalformedJson, syntax.to_string());
        }
        let err = ApiError::from_json(e);
        if err.code == ErrorCode::MalformedJson {
            ApiError::new(ErrorCode::InvalidType, err.message)
        } else {
            err
        }
    })
}

/// Version string of the engine semantics, reported in every response.
pub const ENGINE_VERSION: &str = pve_engine::ENGINE_VERSION;

/// The error body every edge sends: `{"error":{"code":"…","message":"…"}}`.
#[cfg(feature = "json")]
pub fn error_json(e: &ApiError) -> String {
    serde_json::json!({"error": {"code": e.code.as_str(), "message": e.message}}).to_string()
}

/// `{"engine_version", "data_versions": {"potential", "flame"}}`: what `pve version`, `/healthz` and the
/// Wasm `version()` report. The potential version is `null` while its data is not loaded (browser).
#[cfg(feature = "json")]
pub fn version_json() -> String {
    let v = version();
    serde_json::json!({
        "engine_version": v.engine_version,
        "data_versions": {
            "potential": v.data_versions.potential,
            "flame": v.data_versions.flame,
        },
    })
    .to_string()
}

/// What [`version_json`] reports, as a value (the Wasm API's `version()`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Version {
    pub engine_version: &'static str,
    pub data_versions: DataVersions,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct DataVersions {
    /// `None` while the potential data is not installed (browser).
    pub potential: Option<&'static str>,
    pub flame: &'static str,
}

pub fn version() -> Version {
    Version {
        engine_version: ENGINE_VERSION,
        data_versions: DataVersions {
            potential: potential::data_version(),
            flame: pve_engine::flame::DATA_VERSION,
        },
    }
}
