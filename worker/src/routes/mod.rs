//! HTTP handlers: free `async fn`s, one module per area.
pub mod admin;
pub mod characters;
pub mod engine;
pub mod health;
pub mod metrics;
pub mod openapi;
pub mod watches;

use crate::error::EdgeError;
use pve_api::{ApiError, ErrorCode};
use serde::de::DeserializeOwned;
use worker::{Headers, Request, Response};

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

/// The caching headers of a JSON answer.
pub struct CacheHeaders {
    /// A strong validator, quoted (`"…"`).
    pub etag: String,
    /// RFC 9211 `Cache-Status`.
    pub cache_status: String,
    pub cache_control: String,
    /// Seconds since the data was fetched from the origin, when that is meaningful.
    pub age_s: Option<u64>,
}

/// A JSON answer with its caching headers, or `304 Not Modified` when `If-None-Match` names its ETag.
pub fn cached_json(req: &Request, body: Vec<u8>, cache: &CacheHeaders) -> Result<Response, EdgeError> {
    let headers = Headers::new();
    headers.set("content-type", "application/json; charset=utf-8")?;
    headers.set("etag", &cache.etag)?;
    headers.set("cache-status", &cache.cache_status)?;
    headers.set("cache-control", &cache.cache_control)?;
    if let Some(age) = cache.age_s {
        headers.set("age", &age.to_string())?;
    }
    let if_none_match = req.headers().get("if-none-match")?;
    if if_none_match.is_some_and(|v| etag_matches(&v, &cache.etag)) {
        return Ok(Response::empty()?.with_status(304).with_headers(headers));
    }
    Ok(Response::from_bytes(body)?.with_headers(headers))
}

/// RFC 9110 weak comparison of an `If-None-Match` list against our ETag.
fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

#[cfg(test)]
mod tests {
    use super::etag_matches;

    #[test]
    fn if_none_match_lists() {
        assert!(etag_matches("\"abc\"", "\"abc\""));
        assert!(etag_matches("\"x\", W/\"abc\"", "\"abc\""));
        assert!(etag_matches("*", "\"abc\""));
        assert!(!etag_matches("\"abd\"", "\"abc\""));
        assert!(!etag_matches("", "\"abc\""));
    }
}
