//! HTTP handlers: free `async fn`s, one module per area.
pub mod admin;
pub mod characters;
pub mod engine;
pub mod health;
pub mod metrics;
pub mod openapi;
pub mod watches;

use crate::error::EdgeError;
use crate::error::Platform;
pub use pve_edge::http::CacheHeaders;
use serde::de::DeserializeOwned;
use worker::{Headers, Request, Response};

/// Parses a JSON request body with pve-api's strict parser ([`pve_edge::request::parse`]): the same
/// codes as the engine routes for the same bad body.
pub fn parse_json<T: DeserializeOwned>(body: &str) -> Result<T, EdgeError> {
    pve_edge::request::parse(body)
}

/// A JSON answer with `cache-control: no-store`.
pub fn json<T: serde::Serialize>(value: &T, status: u16) -> Result<worker::Response, EdgeError> {
    let resp = worker::Response::from_json(value).platform()?.with_status(status);
    resp.headers().set("cache-control", "no-store").platform()?;
    Ok(resp)
}

/// A JSON answer with its caching headers, or `304 Not Modified` when `If-None-Match` names its ETag.
pub fn cached_json(req: &Request, body: Vec<u8>, cache: &CacheHeaders) -> Result<Response, EdgeError> {
    let headers = Headers::new();
    headers
        .set("content-type", "application/json; charset=utf-8")
        .platform()?;
    headers.set("etag", &cache.etag).platform()?;
    headers.set("cache-status", &cache.cache_status).platform()?;
    headers.set("cache-control", &cache.cache_control).platform()?;
    if let Some(age) = cache.age_s {
        headers.set("age", &age.to_string()).platform()?;
    }
    let if_none_match = req.headers().get("if-none-match").platform()?;
    if if_none_match.is_some_and(|v| pve_edge::http::etag_matches(&v, &cache.etag)) {
        return Ok(Response::empty()
            .platform()?
            .with_status(304)
            .with_headers(headers));
    }
    Ok(Response::from_bytes(body).platform()?.with_headers(headers))
}
