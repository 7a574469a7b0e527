//! `POST /v1/{starforce,potential,flame}`: the engine, through the one JSON schema of `pve-api`.
//!
//! The engine is deterministic, so answers are cached (L1 + KV) by a hash of the canonical request and
//! the engine version. A body without a canonical form (not JSON, duplicate keys) goes straight to the
//! engine, which answers with the precise error; errors are never cached.
use crate::cache::{self, canonical, Entry, How, Served};
use crate::context::{now_ms, TaskContext};
use crate::error::EdgeError;
use crate::error::Platform;
use crate::routes::{cached_json, CacheHeaders, Reply};
use pve_api::Operation;
use std::rc::Rc;
use worker::{Context, Env, Request};

pub use pve_edge::request::{max_body_bytes, MAX_BODY_BYTES};

pub async fn compute(
    req: &mut Request,
    env: &Env,
    ctx: &Context,
    op: Operation,
    task: &TaskContext,
) -> Result<Reply, EdgeError> {
    let body = read_body_up_to(req, max_body_bytes(op)).await?;
    let cfg = crate::config::get(env)?;
    let tag = cache::engine_tag()?;
    let key = canonical::canonicalize(body.as_bytes())
        .ok()
        .map(|c| pve_edge::cache::engine_key(op.as_str(), &tag, &c));
    let cached = match &key {
        Some(key) => cache::get_derived(env, &cfg, task, key).await,
        None => None,
    };
    let served = match cached {
        Some(served) => served,
        None => {
            let started = task.elapsed_ms();
            let json = pve_api::handle(op, &body)?;
            let engine_ms = task.elapsed_ms().saturating_sub(started);
            task.record("engine_ms", engine_ms);
            crate::metrics::observe(
                crate::metrics::ENGINE_SECONDS,
                &[("op", op.as_str())],
                engine_ms as f64 / 1000.0,
            );
            match &key {
                Some(key) => cache::put_derived(env, ctx, &cfg, key, json.into_bytes()),
                None => Served {
                    entry: Rc::new(Entry::found(json.into_bytes(), now_ms(), 0, 0)),
                    how: How::Computed,
                },
            }
        }
    };
    let headers = CacheHeaders::engine(&served.entry.meta.hash, served.how.cache_status(None, now_ms()));
    cache::answered(task, served.how, None);
    cached_json(req, served.entry.body.clone(), &headers)
}

/// The body as UTF-8, refused when longer than [`MAX_BODY_BYTES`].
pub async fn read_body(req: &mut Request) -> Result<String, EdgeError> {
    read_body_up_to(req, MAX_BODY_BYTES).await
}

pub async fn read_body_up_to(req: &mut Request, limit: usize) -> Result<String, EdgeError> {
    let declared = req.headers().get("content-length").platform()?;
    pve_edge::request::check_len(declared.as_deref(), None, limit)?;
    let bytes = req.bytes().await.platform()?;
    pve_edge::request::check_len(None, Some(bytes.len()), limit)?;
    pve_edge::request::utf8(bytes)
}
