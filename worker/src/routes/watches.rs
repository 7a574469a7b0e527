//! `POST /v1/watches`, `GET /v1/watches/{id}`, `DELETE /v1/watches/{id}`.
use crate::error::Platform;
use worker::{Context, Env, Request};

use super::{bearer, parse_json, Reply};
use crate::context::TaskContext;
use crate::error::EdgeError;
use crate::outbox::relay;
use crate::routes::engine::read_body;
use crate::watches;
use pve_edge::request::CreateWatch;

/// Creates a watch. Requires `Idempotency-Key`; a repeat with the same key and body gets the same
/// answer (with `idempotent-replayed: true`), a different body gets 409 `idempotency_key_reused`.
pub async fn create(
    req: &mut Request,
    env: &Env,
    ctx: &Context,
    task: &TaskContext,
) -> Result<Reply, EdgeError> {
    let key = pve_edge::validate::idempotency_key(req.headers().get("idempotency-key").platform()?)?;
    let body = read_body(req).await?;
    let create: CreateWatch = parse_json(&body)?;
    let stored = watches::create(env, &key, create).await?;
    task.record("idempotent_replay", stored.replayed);
    if !stored.replayed {
        relay::kick(ctx, env);
    }
    Ok(stored.reply())
}

/// The watch token: `Authorization: Bearer <token>` or `X-Watch-Token: <token>`.
fn watch_token(req: &Request) -> Option<String> {
    bearer(req).or_else(|| {
        req.headers()
            .get("x-watch-token")
            .ok()
            .flatten()
            .filter(|t| !t.is_empty())
    })
}

pub async fn get(req: &Request, env: &Env, id: &str) -> Result<Reply, EdgeError> {
    Reply::json(&watches::get(env, id, watch_token(req).as_deref()).await?, 200)
}

pub async fn delete(req: &Request, env: &Env, id: &str) -> Result<Reply, EdgeError> {
    Reply::json(&watches::delete(env, id, watch_token(req).as_deref()).await?, 200)
}
