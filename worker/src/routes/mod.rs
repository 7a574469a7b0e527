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
pub use pve_edge::http::{CacheHeaders, Reply};
use serde::de::DeserializeOwned;
use worker::Request;

/// Parses a JSON request body with pve-api's strict parser ([`pve_edge::request::parse`]): the same
/// codes as the engine routes for the same bad body.
pub fn parse_json<T: DeserializeOwned>(body: &str) -> Result<T, EdgeError> {
    pve_edge::request::parse(body)
}

/// A JSON answer with its caching headers, or `304 Not Modified` when `If-None-Match` names its ETag.
pub fn cached_json(req: &Request, body: Vec<u8>, cache: &CacheHeaders) -> Result<Reply, EdgeError> {
    let if_none_match = req.headers().get("if-none-match").platform()?;
    Ok(Reply::cached(body, cache, if_none_match.as_deref()))
}
