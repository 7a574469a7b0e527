//! `GET /openapi.json`: the OpenAPI 3.1 description of every route and error code. The document
//! (`worker/src/openapi.json`) is generated from the code by `cargo run -q -p pve-openapi` (the route
//! table of `pve_edge::routes`, pve-api's JSON Schemas, the error codes); `scripts/test.sh` fails when the
//! committed copy differs from a fresh generation by one byte.
use pve_edge::http::{Reply, JSON_UTF8};

const SPEC: &str = include_str!("../openapi.json");

pub fn openapi() -> Reply {
    Reply::new(200, Some(SPEC.as_bytes().to_vec()))
        .header("content-type", JSON_UTF8)
        .header("cache-control", "public, max-age=300")
}
