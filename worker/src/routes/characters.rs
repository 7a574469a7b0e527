//! `GET /v1/characters/{name}/equipment` and `GET /v1/characters/{name}/valuation?preset=&refresh=`.
//!
//! The name is validated before any lookup; then name → ocid and ocid → equipment go through the cache
//! tiers ([`crate::cache::lookup`]); the valuation is keyed by (ocid, equipment content hash, engine
//! version, preset), so it is recomputed only when the equipment or the engine changes.
use crate::cache::{self, Entry, How};
use crate::characters::{lookup, valued, Character};
use crate::config::Config;
use crate::context::{now_ms, Outcome, TaskContext};
use crate::error::EdgeError;
use crate::error::Platform;
use crate::inbound;
use crate::routes::{cached_json, Reply};
use crate::watches::Noticed;
use pve_api::ENGINE_VERSION;
use pve_edge::character::{self, Query, EQUIPMENT_PARAMS, VALUATION_PARAMS};
use std::rc::Rc;
use worker::{Context, Env, Request};

async fn character(
    req: &Request,
    env: &Env,
    ctx: &Context,
    task: &TaskContext,
    raw_name: &str,
    allowed_query: &[&str],
) -> Result<(Character, Query, Rc<Config>), EdgeError> {
    let name = pve_edge::validate::character_name_segment(raw_name)?;
    let url = req.url().platform()?;
    let query = Query::parse(&pve_edge::http::Query::parse(url.query_pairs(), allowed_query)?)?;
    task.set_key(name.clone());
    let cfg = crate::config::get(env)?;
    let now = now_ms();
    let deadline = now + cfg.request_deadline_ms;
    if query.refresh {
        inbound::check_refresh(env, &cfg, &inbound::client_key(req)).await?;
    }
    let c = lookup(env, ctx, &cfg, task, name, query.mode(now), deadline).await?;
    Ok((c, query, cfg))
}

/// `GET /v1/characters/{name}/equipment`: the item equipment (canonical JSON of Nexon's answer) with the
/// ocid, content hash, fetch time and engine version.
pub async fn equipment(
    req: &Request,
    env: &Env,
    ctx: &Context,
    task: &TaskContext,
    raw_name: &str,
) -> Result<Reply, EdgeError> {
    let (c, _, cfg) = character(req, env, ctx, task, raw_name, &EQUIPMENT_PARAMS).await?;
    let meta = &c.equipment.entry.meta;
    let data_version = cache::data_version()?;
    let copy = shown(&c, &data_version);
    let body = copy.equipment_body(&c.equipment.entry.body)?;
    let headers = copy.headers(c.equipment.how, None, cfg.stale_while_revalidate_ms, now_ms());
    cache::answered(task, c.equipment.how, Some(meta));
    task.record("equipment_hash", meta.hash.clone());
    cached_json(req, body, &headers)
}

/// `GET /v1/characters/{name}/valuation`: the engine's valuation of the equipment, cached by (ocid,
/// equipment hash, engine version, preset).
pub async fn valuation(
    req: &Request,
    env: &Env,
    ctx: &Context,
    task: &TaskContext,
    raw_name: &str,
) -> Result<Reply, EdgeError> {
    let (c, query, cfg) = character(req, env, ctx, task, raw_name, &VALUATION_PARAMS).await?;
    let valued = valued(env, ctx, &cfg, task, &c, &query.set()).await?;
    if matches!(c.equipment.how, How::Origin { .. }) {
        // Equipment just loaded from the origin: a watch of this character may need to hear of it.
        notice_in_background(env, ctx, &c.name, c.equipment.entry.clone());
    }
    let how = c.equipment.how.worst(valued.how);
    let data_version = cache::data_version()?;
    let copy = shown(&c, &data_version);
    let body = copy.valuation_body(query.preset, &valued.entry.body)?;
    let extra = Some(valued.entry.meta.hash.as_str());
    let headers = copy.headers(how, extra, cfg.stale_while_revalidate_ms, now_ms());
    cache::answered(task, how, Some(&c.equipment.entry.meta));
    cached_json(req, body, &headers)
}

/// After the response: if `name` is watched, value its freshly loaded `equipment` and record the equipped
/// set's valuation and, if it changed, send the `valuation.changed` events at once. Failures go to this
/// task's own log line, never to the client's answer.
fn notice_in_background(env: &Env, ctx: &Context, name: &str, equipment: Rc<Entry>) {
    let (env, name) = (env.clone(), name.to_owned());
    ctx.wait_until(async move {
        let task = crate::context::background("watches", "notice_valuation", name.clone());
        match crate::watches::notice_valuation(&env, &task, &name, &equipment.body).await {
            Ok(Noticed::Recorded(recorded)) => {
                task.record_json("recorded", &recorded);
                if recorded.has_events() {
                    crate::outbox::relay::run_after_write(&env).await;
                }
                task.finish(Outcome::Ok, None);
            }
            // The engine refusing the equipment is a refusal, not an internal error (LookupError::outcome).
            Ok(Noticed::NotValued(e)) => task.finish(e.outcome(), None),
            Err(e) => task.finish(Outcome::of(&e), None),
        }
    });
}

/// The character and its equipment's copy, as the answers show them.
fn shown<'a>(c: &'a Character, data_version: &'a str) -> character::Character<'a> {
    character::Character {
        name: &c.name,
        ocid: &c.ocid,
        meta: &c.equipment.entry.meta,
        engine_version: ENGINE_VERSION,
        data_version,
    }
}
