//! `GET /openapi.json`: the OpenAPI 3.1 description of every route and error code. The document
//! (`worker/src/openapi.json`) is generated from the code by `cargo run -q -p pve-openapi` (the route
//! table of `pve_edge::routes`, pve-api's JSON Schemas, the error codes); `scripts/test.sh` fails when the
//! committed copy differs from a fresh generation by one byte.
use crate::error::EdgeError;
use crate::error::Platform;
use worker::{Headers, Response};

const SPEC: &str = include_str!("../openapi.json");

pub fn openapi() -> Result<Response, EdgeError> {
    let headers = Headers::new();
    headers
        .set("content-type", "application/json; charset=utf-8")
        .platform()?;
    headers.set("cache-control", "public, max-age=300").platform()?;
    Ok(Response::ok(SPEC).platform()?.with_headers(headers))
}
