//! `GET /openapi.json`: the OpenAPI 3.1 description of every route and error code. It is a checked-in
//! document (`worker/src/openapi.json`); `tests/e2e/openapi.test.mjs` keeps it in sync with the route table
//! and the error codes.
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
