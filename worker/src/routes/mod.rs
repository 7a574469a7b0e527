//! HTTP handlers: free `async fn`s, one module per area.
pub mod admin;
pub mod engine;
pub mod health;
pub mod metrics;
pub mod watches;

use crate::error::EdgeError;
use pve_api::{ApiError, ErrorCode};
use serde::de::DeserializeOwned;

/// Parses a JSON request body, with the same error codes as the engine routes (`malformed_json`,
/// `unknown_field`, `missing_field`, `invalid_type`).
pub fn parse_json<T: DeserializeOwned>(body: &str) -> Result<T, EdgeError> {
    use serde_json::error::Category;
    serde_json::from_str(body).map_err(|e| {
        let msg = e.to_string();
        let code = match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => ErrorCode::MalformedJson,
            Category::Data if msg.starts_with("unknown field") => ErrorCode::UnknownField,
            Category::Data if msg.starts_with("missing field") => ErrorCode::MissingField,
            Category::Data if msg.starts_with("unknown variant") => ErrorCode::UnknownVariant,
            Category::Data => ErrorCode::InvalidType,
        };
        EdgeError::Api(ApiError::new(code, msg))
    })
}

/// A JSON answer with `cache-control: no-store`.
pub fn json<T: serde::Serialize>(value: &T, status: u16) -> Result<worker::Response, EdgeError> {
    let resp = worker::Response::from_json(value)?.with_status(status);
    resp.headers().set("cache-control", "no-store")?;
    Ok(resp)
}

/// The bearer token of an `Authorization` header, if any.
pub fn bearer(req: &worker::Request) -> Option<String> {
    let value = req.headers().get("authorization").ok().flatten()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}
