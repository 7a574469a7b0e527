//! `POST /v1/{starforce,potential,flame}`: the engine, through the one JSON schema of `pve-api`.
use crate::context::TaskContext;
use crate::error::EdgeError;
use pve_api::Operation;
use worker::{Headers, Request, Response};

/// Requests larger than this are refused before parsing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub async fn compute(req: &mut Request, op: Operation, task: &TaskContext) -> Result<Response, EdgeError> {
    let body = read_body(req).await?;
    let started = task.elapsed_ms();
    let json = pve_api::handle(op, &body)?;
    let engine_ms = task.elapsed_ms().saturating_sub(started);
    task.record("engine_ms", engine_ms);
    crate::metrics::observe(
        crate::metrics::ENGINE_SECONDS,
        &[("op", op.as_str())],
        engine_ms as f64 / 1000.0,
    );
    json_response(json)
}

pub async fn read_body(req: &mut Request) -> Result<String, EdgeError> {
    if let Some(len) = req
        .headers()
        .get("content-length")?
        .and_then(|v| v.parse::<usize>().ok())
    {
        if len > MAX_BODY_BYTES {
            return Err(EdgeError::PayloadTooLarge {
                limit: MAX_BODY_BYTES,
            });
        }
    }
    let bytes = req.bytes().await?;
    if bytes.len() > MAX_BODY_BYTES {
        return Err(EdgeError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    String::from_utf8(bytes).map_err(|_| {
        EdgeError::Api(pve_api::ApiError::new(
            pve_api::ErrorCode::MalformedJson,
            "the body is not valid UTF-8",
        ))
    })
}

pub fn json_response(body: String) -> Result<Response, EdgeError> {
    let headers = Headers::new();
    headers.set("content-type", "application/json; charset=utf-8")?;
    Ok(Response::ok(body)?.with_headers(headers))
}
