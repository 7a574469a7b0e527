//! `GET /v1/characters/{name}/equipment` and `GET /v1/characters/{name}/valuation?preset=&refresh=`.
//!
//! The name is validated before any lookup; then name → ocid and ocid → equipment go through the cache
//! tiers ([`crate::cache::lookup`]); the valuation is keyed by (ocid, equipment content hash, engine
//! version, preset), so it is recomputed only when the equipment or the engine changes.
use crate::cache::{self, Entry, How, Meta, Mode};
use crate::characters::{lookup, valued, Character};
use crate::config::Config;
use crate::context::{new_request_id, now_ms, Outcome, TaskContext};
use crate::error::EdgeError;
use crate::error::Platform;
use crate::inbound;
use crate::routes::{cached_json, CacheHeaders};
use crate::watches::Noticed;
use pve_api::ENGINE_VERSION;
use pve_edge::character::{self, Answer, Valued};
use pve_edge::time::iso8601;
use serde_json::value::RawValue;
use std::rc::Rc;
use worker::{Context, Env, Request, Response};

#[derive(Debug, Default, PartialEq)]
struct Query {
    preset: Option<u8>,
    refresh: bool,
}

impl Query {
    /// The query string; unknown parameters, repeats and bad values are errors.
    fn parse(req: &Request, allowed: &[&str]) -> Result<Query, EdgeError> {
        let url = req.url().platform()?;
        let params = pve_edge::http::Query::parse(url.query_pairs(), allowed)?;
        let refresh = match params.get("refresh") {
            None | Some("false" | "0" | "") => false,
            Some("true" | "1") => true,
            Some(_) => return Err(EdgeError::InvalidQuery("refresh must be true or false".into())),
        };
        let preset = match params.get("preset") {
            None | Some("") => None,
            Some("1") => Some(1),
            Some("2") => Some(2),
            Some("3") => Some(3),
            Some(_) => return Err(EdgeError::InvalidQuery("preset must be 1, 2 or 3".into())),
        };
        Ok(Query { preset, refresh })
    }
}

async fn character(
    req: &Request,
    env: &Env,
    ctx: &Context,
    task: &TaskContext,
    raw_name: &str,
    allowed_query: &[&str],
) -> Result<(Character, Query, Rc<Config>), EdgeError> {
    let name = pve_edge::validate::character_name_segment(raw_name)?;
    let query = Query::parse(req, allowed_query)?;
    task.set_key(name.clone());
    let cfg = crate::config::get(env)?;
    let now = now_ms();
    let deadline = now + cfg.request_deadline_ms;
    let mode = if query.refresh {
        inbound::check_refresh(env, &cfg, &inbound::client_key(req)).await?;
        Mode::Refresh {
            requested_at: now,
            stale_if_error: true,
        }
    } else {
        Mode::Normal
    };
    let c = lookup(env, ctx, &cfg, task, name, mode, deadline).await?;
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
) -> Result<Response, EdgeError> {
    let (c, _, cfg) = character(req, env, ctx, task, raw_name, &["refresh"]).await?;
    let meta = &c.equipment.entry.meta;
    let equipment = std::str::from_utf8(&c.equipment.entry.body)
        .ok()
        .and_then(|b| serde_json::from_str::<&RawValue>(b).ok())
        .ok_or_else(|| EdgeError::internal("cached equipment is not JSON"))?;
    let data_version = cache::data_version()?;
    let body = body(Answer {
        equipment: Some(equipment),
        ..envelope(&c, &data_version, None)
    })?;
    let now = now_ms();
    let headers = character_headers(&cfg, &c, c.equipment.how, None, now)?;
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
) -> Result<Response, EdgeError> {
    let (c, query, cfg) = character(req, env, ctx, task, raw_name, &["preset", "refresh"]).await?;
    let set = query
        .preset
        .map_or_else(|| "equipped".to_owned(), |p| format!("preset_{p}"));
    let valued = valued(env, ctx, &cfg, task, &c, &set).await?;
    if matches!(c.equipment.how, How::Origin { .. }) {
        // Equipment just loaded from the origin: a watch of this character may need to hear of it.
        notice_in_background(env, ctx, &c.name, c.equipment.entry.clone());
    }
    let how = c.equipment.how.worst(valued.how);
    let cached = std::str::from_utf8(&valued.entry.body)
        .ok()
        .and_then(|b| serde_json::from_str::<Valued>(b).ok())
        .ok_or_else(|| EdgeError::internal("cached valuation is not {set, valuation}"))?;
    let data_version = cache::data_version()?;
    let body = body(Answer {
        set: Some(cached.set),
        valuation: Some(cached.valuation),
        ..envelope(&c, &data_version, Some(query.preset))
    })?;
    let headers = character_headers(&cfg, &c, how, Some(&valued.entry.meta.hash), now_ms())?;
    cache::answered(task, how, Some(&c.equipment.entry.meta));
    cached_json(req, body, &headers)
}

/// After the response: if `name` is watched, value its freshly loaded `equipment` and record the equipped
/// set's valuation and, if it changed, send the `valuation.changed` events at once. Failures go to this
/// task's own log line, never to the client's answer.
fn notice_in_background(env: &Env, ctx: &Context, name: &str, equipment: Rc<Entry>) {
    let (env, name) = (env.clone(), name.to_owned());
    ctx.wait_until(async move {
        let task = TaskContext::new(new_request_id(), "watches", "notice_valuation");
        task.set_key(name.clone());
        match crate::watches::notice_valuation(&env, &task, &name, &equipment.body).await {
            Ok(Noticed::Recorded(recorded)) => {
                match serde_json::to_value(&recorded) {
                    Ok(v) => task.record("recorded", v),
                    Err(e) => task.record("recorded_error", e.to_string()),
                }
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

/// The answer's members about the character and the copy, without a payload.
fn envelope<'a>(c: &'a Character, data_version: &'a str, preset: Option<Option<u8>>) -> Answer<'a> {
    let meta = &c.equipment.entry.meta;
    Answer {
        character_name: &c.name,
        data_version,
        engine_version: ENGINE_VERSION,
        equipment_hash: &meta.hash,
        fetched_at: iso8601(meta.fetched_at),
        ocid: &c.ocid,
        preset,
        equipment: None,
        set: None,
        valuation: None,
    }
}

fn body(answer: Answer) -> Result<Vec<u8>, EdgeError> {
    serde_json::to_vec(&answer).map_err(|e| EdgeError::internal(format!("character answer: {e}")))
}

fn character_headers(
    cfg: &Config,
    c: &Character,
    how: How,
    extra: Option<&str>,
    now: u64,
) -> Result<CacheHeaders, EdgeError> {
    let meta: &Meta = &c.equipment.entry.meta;
    Ok(CacheHeaders {
        etag: character::etag(
            &c.name,
            &c.ocid,
            meta,
            ENGINE_VERSION,
            &cache::data_version()?,
            extra,
        ),
        cache_status: how.cache_status(Some(meta), now),
        cache_control: character::cache_control(how, meta, cfg.stale_while_revalidate_ms, now),
        age_s: Some(now.saturating_sub(meta.fetched_at) / 1000),
    })
}
