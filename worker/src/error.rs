//! The edge error lives in `pve-edge` (one status/code/message table), and so does every answer's shape
//! ([`Reply`]); this module turns a `Reply` into a `worker::Response` and platform errors into `EdgeError`.
pub use pve_edge::error::*;
use pve_edge::http::Reply;
use worker::{Headers, Response};

/// The platform response of `reply`: exactly its status, headers and body.
pub fn respond(reply: Reply) -> worker::Result<Response> {
    let headers = Headers::new();
    for (name, value) in &reply.headers {
        headers.set(name, value)?;
    }
    let resp = match reply.body {
        Some(body) => Response::from_bytes(body)?,
        None => Response::empty()?,
    };
    Ok(resp.with_status(reply.status).with_headers(headers))
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
