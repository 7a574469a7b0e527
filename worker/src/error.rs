//! The edge error lives in `pve-edge` (one status/code/message table); this module turns it into a
//! `worker::Response` and turns platform errors into it.
pub use pve_edge::error::*;
use worker::{Headers, Response};

/// The error answer: `{"error":{"code","message","request_id"}}` with `cache-control: no-store`.
pub fn response(e: &EdgeError, request_id: &str) -> worker::Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "application/json; charset=utf-8")?;
    headers.set("cache-control", "no-store")?;
    for (name, value) in e.extra_headers() {
        headers.set(name, &value)?;
    }
    Ok(Response::ok(e.body(request_id))?
        .with_status(e.status())
        .with_headers(headers))
}

/// `?` for results of platform calls (KV, D1, Durable Objects, fetch, CSPRNG): a failure becomes
/// [`EdgeError::Platform`] with its detail for the log line.
pub trait Platform<T> {
    fn platform(self) -> Result<T, EdgeError>;
}

impl<T, E: std::fmt::Display> Platform<T> for Result<T, E> {
    fn platform(self) -> Result<T, EdgeError> {
        self.map_err(EdgeError::platform)
    }
}
